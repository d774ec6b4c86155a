"""Checkers for the lessons' "your turn" exercises.

A learner edits a function in the notebook; a checker calls it and the course's
reference on the same random inputs and answers in words:

>>> check_function(my_loss, reference_loss, inputs=[...], name="discriminator_loss",
...                hint="Did you label the real logits 1 and the fake ones 0?")
✅ discriminator_loss matches the reference on 5 random inputs.

Checkers never print a traceback at the learner for a wrong answer: they explain
what differed (value, shape, dtype, parameter count) and give the hint. They
raise :class:`ExerciseError` (an ``AssertionError``) so that a wrong answer also
stops ``make check-notebooks``. Each returns True on success.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class ExerciseError(AssertionError):
    """A learner's answer differs from the reference; the message says how."""


def _as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, (tuple, list)):
        return [_as_numpy(v) for v in x]  # type: ignore[return-value]
    return np.asarray(x, dtype=np.float64) if not hasattr(x, "numpy") else np.asarray(x.numpy(), np.float64)


def _fail(name: str, what: str, hint: str | None) -> None:
    message = f"❌ {name}: {what}"
    if hint:
        message += f"\n💡 Hint: {hint}"
    raise ExerciseError(message)


def _compare(name: str, got: Any, want: Any, rtol: float, atol: float, hint: str | None, case: str) -> None:
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            _fail(name, f"{case}: expected {len(want)} results, got {got!r:.80}", hint)
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(name, g, w, rtol, atol, hint, f"{case}, result {i}")
        return
    if got is None:
        _fail(name, f"{case}: returned None. Did you forget `return`?", hint)
    g, w = _as_numpy(got), _as_numpy(want)
    if g.shape != w.shape:
        _fail(name, f"{case}: shape {g.shape}, expected {w.shape}.", hint)
    if not np.all(np.isfinite(g)):
        _fail(name, f"{case}: the result has NaN or inf values.", hint)
    if not np.allclose(g, w, rtol=rtol, atol=atol):
        err = np.max(np.abs(g - w))
        show = (f"got {g.item():.6g}, expected {w.item():.6g}" if g.size == 1
                else f"largest difference {err:.3g}")
        _fail(name, f"{case}: {show}.", hint)


def check_function(
    fn: Callable,
    reference: Callable,
    inputs: Sequence[Sequence[Any]] | Callable[[np.random.Generator], Sequence[Any]],
    name: str | None = None,
    hint: str | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    trials: int = 5,
    seed: int = 0,
) -> bool:
    """Compare ``fn(*args)`` with ``reference(*args)`` on several inputs.

    ``inputs`` is a list of argument tuples, or a function ``rng -> args`` that
    makes random ones (called ``trials`` times).
    """
    name = name or getattr(fn, "__name__", "your function")
    rng = np.random.default_rng(seed)
    cases = [inputs(rng) for _ in range(trials)] if callable(inputs) else list(inputs)
    for i, args in enumerate(cases):
        try:
            got = fn(*args)
        except NotImplementedError:
            _fail(name, "not written yet: replace `raise NotImplementedError` with your code.", hint)
        except Exception as exc:  # the learner's code failed: say how, briefly
            _fail(name, f"input {i + 1} raised {type(exc).__name__}: {exc}", hint)
        _compare(name, got, reference(*args), rtol, atol, hint, f"input {i + 1}")
    print(f"✅ {name} matches the reference on {len(cases)} inputs.")
    return True


def check_model_builder(
    build: Callable[..., Any],
    reference: Callable[..., Any],
    input_shapes: Sequence[tuple[int, ...]],
    name: str | None = None,
    hint: str | None = None,
    seed: int = 0,
) -> bool:
    """Compare a learner's Keras block or model with the reference.

    ``build(*inputs)`` and ``reference(*inputs)`` take Keras input tensors of
    ``input_shapes`` (without the batch axis) and return an output tensor. The
    checker compares parameter counts and output shapes, then copies the
    reference's weights into the learner's model (when their shapes line up) and
    compares outputs on random inputs.
    """
    import keras

    name = name or getattr(build, "__name__", "your block")

    def make(fn):
        ins = [keras.Input(s) for s in input_shapes]
        out = fn(*ins)
        return keras.Model(ins if len(ins) > 1 else ins[0], out)

    try:
        mine = make(build)
    except NotImplementedError:
        _fail(name, "not written yet: replace `raise NotImplementedError` with your code.", hint)
    except Exception as exc:
        _fail(name, f"building it raised {type(exc).__name__}: {exc}", hint)
    ref = make(reference)
    if mine.output_shape != ref.output_shape:
        _fail(name, f"output shape {mine.output_shape}, expected {ref.output_shape}.", hint)
    if mine.count_params() != ref.count_params():
        _fail(name, f"{mine.count_params():,} parameters, expected {ref.count_params():,}.", hint)
    mine_shapes = sorted(tuple(w.shape) for w in mine.weights)
    ref_shapes = sorted(tuple(w.shape) for w in ref.weights)
    if mine_shapes == ref_shapes and [tuple(w.shape) for w in mine.weights] == [tuple(w.shape) for w in ref.weights]:
        mine.set_weights(ref.get_weights())
        rng = np.random.default_rng(seed)
        xs = [rng.normal(size=(2, *s)).astype("float32") for s in input_shapes]
        xs = xs if len(xs) > 1 else xs[0]
        _compare(name, mine(xs, training=False), ref(xs, training=False), 1e-4, 1e-5, hint,
                 "with the reference's weights")
        print(f"✅ {name}: same shape, {ref.count_params():,} parameters and same outputs as the reference.")
    else:
        print(f"✅ {name}: same output shape and {ref.count_params():,} parameters as the reference "
              "(layer order differs, so outputs were not compared).")
    return True
