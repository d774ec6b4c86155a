"""The checkers behind the lessons' "your turn" exercises.

A learner writes a function in the notebook; a checker calls it and the course's
reference on the same random inputs and answers in words:

>>> check_function(my_loss, reference_loss, inputs=[...], name="discriminator_loss",
...                hint="Look at which label goes with which logits.")
✅ discriminator_loss matches the reference on 5 inputs.

Checkers never print a traceback at the learner for a wrong answer: they explain
what differed (value, shape, layer order, parameter count) and give a hint that
says where to look, never the answer. They raise :class:`ExerciseError` (an
``AssertionError``) so that a wrong answer also stops ``make check-notebooks``.

Read it in this order:

1. :func:`check_function`: a function against its reference on several inputs, with the
   mistakes learners are known to make recognised by their own hints, and the generic ones
   (:func:`generic_mistake`) computed from the reference itself.
2. :func:`check_model_builder`: a Keras block or model against the reference, layer by layer,
   in inference and training mode, with weights that make mistakes visible; the order of a
   concatenation is free (:func:`_canonical_concatenations`), and the first differing layer is named
   with the one expected there (:func:`_first_difference`).
3. :func:`check_same_update`: a training step against the course's on twin networks (losses
   and every updated weight), one step; :func:`check_training_step`, what the exercises use: several
   steps, known mistakes and the other update order recognised, a missing tape or drawn noise named,
   a network cut off from its loss named, and the training flag of a network made with
   :func:`watch_training_flag` checked.
4. :func:`structure` / :func:`print_structure`: the shape-changing layers of a network.
5. :class:`Exercise`: one registered exercise (reference, inputs or builds, hint, mistakes).

The course's exercises themselves (one module a lesson in :mod:`course_utils.lessons.exercise_sets`)
and :func:`course_utils.lessons.exercises.check`, which a lesson calls, live in
:mod:`course_utils.lessons.exercises`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course_utils.core import images


class ExerciseError(AssertionError):
    """A learner's answer differs from the reference; the message says how."""


class NotWrittenYet(ExerciseError):
    """The learner's function still raises ``NotImplementedError``."""


def _as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, (tuple, list)):
        return [_as_numpy(v) for v in x]  # type: ignore[return-value]
    return images.as_numpy(x, np.float64)


def _fail(name: str, what: str, hint: str | None, error: type[ExerciseError] = ExerciseError) -> None:
    message = f"❌ {name}: {what}"
    if hint:
        message += f"\n💡 Hint: {hint}"
    raise error(message)


def _matches(got: Any, want: Any, rtol: float, atol: float) -> bool:
    """Whether ``got`` equals ``want`` (nested tuples allowed) within tolerance; never raises."""
    try:
        if isinstance(want, (tuple, list)):
            return (isinstance(got, (tuple, list)) and len(got) == len(want)
                    and all(_matches(g, w, rtol, atol) for g, w in zip(got, want)))
        g, w = _as_numpy(got), _as_numpy(want)
        return g.shape == w.shape and bool(np.allclose(g, w, rtol=rtol, atol=atol))
    except Exception:
        return False


def _compare(name: str, got: Any, want: Any, rtol: float, atol: float, hint: str | None, case: str,
             note: str | None = None) -> None:
    """Fail with what differs between ``got`` and ``want`` (nothing if they agree); ``note``, what the
    difference means when known, follows the numbers."""
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            _fail(name, f"{case}: expected {len(want)} results, got {got!r:.80}", hint)
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(name, g, w, rtol, atol, hint, f"{case}, result {i}", note)
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
        _fail(name, f"{case}: {show}." + (f"\n   {note}" if note else ""), hint)


NOT_WRITTEN = "not written yet: replace `raise NotImplementedError` with your code."


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
    mistakes: Sequence[tuple[Callable, str]] = (),
) -> bool:
    """Compare ``fn(*args)`` with ``reference(*args)`` on several inputs.

    ``inputs`` is a list of argument tuples, or a function ``rng -> args`` that
    makes random ones (called ``trials`` times). ``mistakes`` lists known wrong
    answers with their own hint: when the learner's result equals one of them on
    the failing input, that hint is shown instead of the general one; failing that,
    a generic transform of the reference (:func:`generic_mistake`: the opposite sign,
    a sum for a mean, two arguments swapped, a number written in for an argument) is
    named after the numbers, the general hint kept.
    An error between shapes that a missing ``keepdims`` explains is said so.
    """
    name = name or getattr(fn, "__name__", "your function")
    rng = np.random.default_rng(seed)
    cases = [inputs(rng) for _ in range(trials)] if callable(inputs) else list(inputs)
    for i, args in enumerate(cases):
        try:
            got = fn(*args)
        except NotImplementedError:
            _fail(name, NOT_WRITTEN, hint, NotWrittenYet)
        except Exception as exc:  # the learner's code failed: say how, briefly
            _fail(name, f"input {i + 1} raised {type(exc).__name__}: {explain_shape_error(exc) or exc}", hint)
        want = reference(*args)
        if not _matches(got, want, rtol, atol):
            specific = next((h for wrong, h in mistakes if _matches(got, _safe_call(wrong, args), rtol, atol)), None)
            note = None if specific else generic_mistake(got, want, reference, args, cases, rtol, atol)
            _compare(name, got, want, rtol, atol, specific or hint, f"input {i + 1}", note)
    print(f"✅ {name} matches the reference on {len(cases)} inputs.")
    return True


def _safe_call(fn: Callable, args: Sequence[Any]) -> Any:
    try:
        return fn(*args)
    except Exception:
        return None


# --------------------------------------------------------------------------- generic mistakes
# Transforms of the reference that fit any exercise: each is computed from the reference itself and
# compared with the learner's result, so one mechanism names these mistakes for every function exercise.

def _parts(got: Any, want: Any) -> list[tuple[str, Any, Any]]:
    """``(where, got part, wanted part)`` for a result or each result of a tuple."""
    if isinstance(want, (tuple, list)) and isinstance(got, (tuple, list)) and len(got) == len(want):
        return [(f"Your result {k} (of {len(want)}) ", g, w) for k, (g, w) in enumerate(zip(got, want))]
    return [("Your result ", got, want)]


def _element_counts(args: Sequence[Any]) -> dict[int, str]:
    """How many values an average over some axes of an array argument takes: ``count -> what it is``."""
    import itertools
    counts: dict[int, str] = {}
    for k, a in enumerate(args):
        shape = np.shape(a) if isinstance(a, np.ndarray) or hasattr(a, "shape") else ()
        for r in range(len(shape), 0, -1):
            for axes in itertools.combinations(range(len(shape)), r):
                n = int(np.prod([shape[i] for i in axes]))
                what = ("all the values" if r == len(shape) else
                        "the pixels of each image" if axes == tuple(range(1, len(shape))) else f"axes {axes}")
                counts.setdefault(n, f"{what} of input {k + 1} (shape {tuple(shape)})")
    return counts


def _names(reference: Callable, n: int) -> list[str]:
    import inspect
    try:
        names = list(inspect.signature(reference).parameters)
    except (TypeError, ValueError):
        names = []
    return (names + [f"argument {k + 1}" for k in range(len(names), n)])[:n]


def generic_mistake(got: Any, want: Any, reference: Callable, args: Sequence[Any], cases: Sequence[Sequence[Any]],
                    rtol: float = 1e-4, atol: float = 1e-5) -> str | None:
    """Words for a wrong result that is a generic transform of the reference's (None if it is none of them).

    In turn: the opposite sign; a sum where the formula takes a mean (the result times a count of values
    of an input); two arguments of the same shape swapped; a number written in where an argument should
    be used (the result the reference gives with that argument set to its default, or to a value it
    takes in another case).
    """
    for where, g, w in _parts(got, want):
        if _matches(g, w, rtol, atol):
            continue
        w_np = _as_numpy(w) if not isinstance(w, (tuple, list)) else None
        if w_np is not None and np.max(np.abs(w_np), initial=0.0) > 10 * atol and _matches(g, -w_np, rtol, atol):
            return (f"{where}has the opposite sign of the expected value: a loss must be small when its network does "
                    "well, since the optimizer minimises it. Look for a minus sign too many (or one missing) in "
                    "front of your loss or one of its terms.")
        try:
            ratio = float(np.asarray(_as_numpy(g)).item()) / float(w_np.item())
        except Exception:
            continue
        for n, what in sorted(_element_counts(args).items()):
            if n > 4 and abs(ratio - n) <= 1e-3 * n:
                return (f"{where}is {n} times the expected value, {n} being the number of {what}: you sum over "
                        "those values where the formula takes their mean. Average them (`tf.reduce_mean`, "
                        "`ops.mean`) instead of summing.")
    names = _names(reference, len(args))
    arrays = [k for k, a in enumerate(args) if isinstance(a, np.ndarray) or hasattr(a, "shape")]
    for i in arrays:
        for j in (j for j in arrays if j > i and np.shape(args[j]) == np.shape(args[i])):
            swapped = list(args)
            swapped[i], swapped[j] = args[j], args[i]
            if _matches(got, _safe_call(reference, swapped), rtol, atol):
                return (f"Your result is the reference's with `{names[i]}` and `{names[j]}` swapped: look at where "
                        f"you use each of them (and in which order you pass them on).")
    return _constant_for_argument(got, reference, args, cases, names, rtol, atol)


def _constant_for_argument(got, reference, args, cases, names, rtol, atol) -> str | None:
    """Words for a result that is the reference's with one numeric argument replaced by a fixed number."""
    import inspect
    try:
        defaults = {k: p.default for k, p in enumerate(inspect.signature(reference).parameters.values())
                    if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        defaults = {}
    for k, a in enumerate(args):
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            continue
        others = {c[k] for c in cases if len(c) > k and isinstance(c[k], (int, float))} | (
            {defaults[k]} if isinstance(defaults.get(k), (int, float)) else set())
        for v in sorted(o for o in others if o != a):
            changed = list(args)
            changed[k] = v
            if _matches(got, _safe_call(reference, changed), rtol, atol):
                return (f"Your result is what `{names[k]}` = {v:g} gives, where this input's `{names[k]}` is {a:g}: "
                        f"your code uses a number written in instead of `{names[k]}` (the argument, or the "
                        "attribute that holds it). Use the value it is given.")
    return None


def explain_shape_error(exc: BaseException) -> str:
    """For an error between two shapes where one is the other with axes dropped: the error said in a few
    words and what `keepdims` does ('' for any other error)."""
    import re
    text = str(exc)
    found = (re.search(r"\[([\d, ]*)\] vs\. \[([\d, ]*)\]", text)
             or re.search(r"shapes \(([\d, ]*),?\) \(([\d, ]*),?\)", text))
    if not found:
        return ""
    a, b = ([int(v) for v in re.findall(r"\d+", part)] for part in found.groups())
    big, small = (a, b) if len(a) > len(b) else (b, a)
    rest = iter(big)
    if len(big) == len(small) or not all(any(s == v for v in rest) for s in small):
        return ""
    return (f"incompatible shapes {found.group(0)}. A statistic of shape {small} meets values of shape {big}: "
            "the reduction that made it dropped the "
            "axes it reduced over, so it no longer lines up with the values it should be subtracted from or "
            "divide. Keep them with `keepdims=True` (`ops.mean`, `ops.var`, `ops.moments`, `tf.reduce_mean`): then "
            "its shape has a 1 on each reduced axis and it broadcasts.")


# --------------------------------------------------------------------------- models

_NORMS = {"batchnormalization", "instancenormalization", "layernormalization", "groupnormalization"}
_ACTIVATIONS = {"relu": "ReLU", "leakyrelu": "LeakyReLU", "leaky_relu": "LeakyReLU", "tanh": "tanh",
                "sigmoid": "sigmoid", "elu": "ELU", "gelu": "GELU", "softmax": "softmax"}


def _operations(model) -> list:
    """The model's operations in graph order, nested models expanded, inputs left out."""
    import keras

    ops = []
    for op in getattr(model, "operations", model.layers):
        if isinstance(op, keras.Model):
            ops += _operations(op)
        elif type(op).__name__ != "InputLayer":
            ops.append(op)
    return ops


def _describe(op) -> list[str]:
    """Words for one operation: ``Conv2DTranspose 4x4 stride 2``, ``BatchNormalization``, ``ReLU``..."""
    cls = type(op).__name__
    low = cls.lower()
    if low in ("leakyrelu", "leaky_relu") and isinstance(getattr(op, "negative_slope", None), (int, float)):
        return [f"LeakyReLU({op.negative_slope:g})"]
    if low in _ACTIVATIONS:
        return [_ACTIVATIONS[low]]
    if low == "activation":
        act = getattr(op.activation, "__name__", str(op.activation))
        return [_ACTIVATIONS.get(act, act)]
    if low == "dropout":
        return [f"Dropout({op.rate:g})"] if op.rate else []   # a rate of 0 is no dropout at all
    if low == "groupnormalization" and _one_group_per_channel(op):
        return ["InstanceNormalization"]     # the same computation as course_utils.core.layers.InstanceNormalization
    words = [cls]
    if hasattr(op, "kernel_size") and hasattr(op, "strides"):
        k, s = tuple(op.kernel_size), tuple(op.strides)
        words = [f"{cls} {'x'.join(map(str, k))} stride {s[0] if len(set(s)) == 1 else 'x'.join(map(str, s))}"]
    act = getattr(op, "activation", None)
    act_name = getattr(act, "__name__", None)
    if act_name and act_name != "linear" and low not in _NORMS:
        words.append(_ACTIVATIONS.get(act_name, act_name))
    return words


def _one_group_per_channel(op) -> bool:
    """Whether a ``GroupNormalization`` is instance norm: ``groups=-1``, or as many groups as channels."""
    try:
        return op.groups in (-1, op.input.shape[op.axis])
    except (AttributeError, ValueError, IndexError):
        return op.groups == -1


def layer_sequence(model) -> list[str]:
    """The operations of a Keras model in order, as words (activations inside a layer listed after it).

    A ReLU or LeakyReLU right before a dropout is listed after it: dropout scales each value by 0 or
    1 / (1 - rate), neither of which changes its sign, so the two orders compute the same thing.
    """
    words = [w for op in _operations(model) for w in _describe(op)]
    for i in range(len(words) - 1):
        if words[i + 1].startswith("Dropout(") and (words[i] == "ReLU" or words[i].startswith("LeakyReLU")):
            words[i], words[i + 1] = words[i + 1], words[i]
    return words


def _concatenations(model) -> list:
    """The model's concatenations (``layers.Concatenate`` or ``keras.ops.concatenate``), nested models expanded."""
    return [op for op in _operations(model) if type(op).__name__ == "Concatenate"]


def _input_positions(model, found: dict | None = None) -> dict:
    """``id(input tensor) -> its position`` for the model's inputs and those of the models nested in it."""
    import keras

    found = {} if found is None else found
    for i, t in enumerate(keras.tree.flatten(model.inputs)):
        found.setdefault(id(t), i)
    for op in getattr(model, "operations", []):
        if isinstance(op, keras.Model):
            _input_positions(op, found)
    return found


def _tensor_key(tensor, positions: dict, memo: dict) -> tuple[int, int]:
    """Where a symbolic tensor sits in its graph: (longest path from an input, which input it starts from)."""
    key = memo.get(id(tensor))
    if key is not None:
        return key
    history = getattr(tensor, "_keras_history", None)
    node = None
    if history is not None and history.operation is not None and type(history.operation).__name__ != "InputLayer":
        nodes = getattr(history.operation, "_inbound_nodes", [])
        node = nodes[history.node_index] if history.node_index < len(nodes) else None
    parents = list(getattr(node, "input_tensors", []) or []) if node is not None else []
    if not parents:
        key = (0, positions.get(id(tensor), 0))
    else:
        keys = [_tensor_key(p, positions, memo) for p in parents]
        key = (1 + max(k[0] for k in keys), min(k[1] for k in keys))
    memo[id(tensor)] = key
    return key


def _canonical_concatenations(model) -> None:
    """Make every concatenation of ``model`` join its inputs in one canonical order.

    The order of a concatenation changes nothing a network can learn (the next layer's kernel
    only sees its input channels permuted), so ``[skip, x]`` and ``[x, skip]``, or a pair joined
    ``[target, input]``, are the same answer. Each concatenation's inputs are sorted by how deep
    they sit in the graph (the encoder's skip before the decoder's output; model inputs by their
    position): the learner's model and the reference's then compute in the same channel order, and
    the reference's weights copy straight across.
    """
    positions, memo = _input_positions(model), {}
    for op in _concatenations(model):
        try:
            inputs = list(op._inbound_nodes[0].input_tensors)
        except (AttributeError, IndexError):
            continue
        order = sorted(range(len(inputs)), key=lambda i: _tensor_key(inputs[i], positions, memo))
        if order == list(range(len(inputs))) or getattr(op, "_course_order", None) is not None:
            continue
        original = op.call

        def call(xs, *args, _order=tuple(order), _original=original, **kwargs):
            return _original([xs[i] for i in _order], *args, **kwargs)

        op._course_order = order
        op.call = call


def _is_activation(word: str) -> bool:
    return word in _ACTIVATIONS.values() or word.startswith("LeakyReLU")


def _why(w: str, g: str) -> str:
    """What finding ``g`` where the reference has ``w`` usually means ('' for nothing there)."""
    if w == "Concatenate":
        return "the reference joins a skip connection here (a concatenation along the channels); yours does not"
    if g == "Concatenate":
        return "you join something here (a concatenation) where the reference does not: check which skip goes where"
    if w == "Add":
        return "the reference adds the block's input back here (the residual skip connection); yours does not"
    if g == "Add":
        return "you add a skip connection where the reference does not"
    if g == "sigmoid" and not w:
        return "a sigmoid where the reference outputs logits: the losses apply the sigmoid themselves"
    if _is_activation(w) and _is_activation(g) and not (w.startswith("LeakyReLU(") and g.startswith("LeakyReLU(")):
        return f"another activation: `{g}` where the reference has `{w}`"
    if w and g and w.split(" ")[0] == g.split(" ")[0] and " " in w and " " in g:
        (wk, ws), (gk, gs) = (x.split(" ")[1:4:2] for x in (w, g))
        what = "kernel size" if wk != gk else "stride" if ws != gs else "activation"
        return f"the same kind of layer with another {what}"
    if "stride 2" in w or "stride 2" in g:
        return ("count the stride-2 layers: yours halves or doubles the size another number of times, or at "
                "another place")
    if w.startswith("Dropout") or g.startswith("Dropout"):
        return "check where dropout goes, with which rate, and in which blocks"
    if w.startswith("LeakyReLU(") and g.startswith("LeakyReLU("):
        return "another LeakyReLU slope (Keras's default is 0.3)"
    if "Normalization" in w and "Normalization" in g:
        return f"another normalisation: `{g}` where the reference has `{w}`"
    if w == "BatchNormalization":
        return "check which blocks have batch norm"
    if g == "BatchNormalization":
        return "check which blocks have batch norm"
    if "Padding" in w and "Padding" in g:
        return "another kind of padding"
    if "Normalization" in w and "Normalization" in g:
        return "another normalisation"
    if w and g and w.split(" ")[0] == g.split(" ")[0]:
        return "the same kind of layer with another kernel size, stride or activation"
    if _is_activation(w) or _is_activation(g):
        return "another activation, or one missing or extra"
    return ""


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def _ordinal(n: int) -> str:
    """``1 -> "first"``, ``2 -> "second"``... ``11 -> "11th"``."""
    if 1 <= n <= len(_ORDINALS):
        return _ORDINALS[n - 1]
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _place(seq: list[str], i: int) -> str:
    """Where position ``i`` of a layer chain sits, counted in convolutions from the input:
    ``"after the first convolution"`` (``"after the Dense layer"`` before any; ``""`` before anything)."""
    n = sum(w.startswith("Conv2D") for w in seq[:i])   # Conv2D and Conv2DTranspose alike
    if n:
        return f"after the {_ordinal(n)} convolution"
    return "after the Dense layer" if any(w.startswith("Dense") for w in seq[:i]) else ""


def _first_difference(got: list[str], want: list[str]) -> str:
    """``layer N: expected `X` (after the `Y`), found `Z`: <what that usually means>``, and both chains there."""
    i = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    after = f" (after the `{want[i - 1]}`)" if 0 < i <= len(want) else " (the first layer)" if i == 0 else ""
    if i >= len(got):
        head = f"layer {i + 1}: expected `{want[i]}`{after}, found nothing: yours stops there and the reference goes on"
        why = "the output activation is missing" if i == len(want) - 1 and _is_activation(want[i]) else _why(want[i], "")
    elif i >= len(want):
        head = f"layer {i + 1}: yours goes on with `{got[i]}` after the reference's last layer, `{want[-1]}`"
        why = _why("", got[i])
    else:
        head = f"layer {i + 1}: expected `{want[i]}`{after}, found `{got[i]}`"
        w, g = want[i], got[i]
        missing = got[i:i + 4] == want[i + 1:i + 5]
        extra = got[i + 1:i + 5] == want[i:i + 4]
        reordered = next((m for m in (2, 3, 4) if sorted(got[i:i + m]) == sorted(want[i:i + m])), 0)
        if missing:
            place = _place(want, i)
            why = f"yours has no `{w}` here{', ' + place if place else ''}; " + _why(w, "")
        elif extra:
            place = _place(got, i)
            why = f"yours has an extra `{g}` here{', ' + place if place else ''}; " + _why("", g)
        elif reordered:
            why = (f"the same {reordered} layers in another order: `{' -> '.join(got[i:i + reordered])}` where the "
                   f"reference has `{' -> '.join(want[i:i + reordered])}`")
        else:
            why = _why(w, g)
        why = why.strip().rstrip(";")
    lo = max(0, i - 2)

    def window(seq):
        part = " -> ".join(seq[lo:i + 3]) or "(nothing)"
        return ("... -> " if lo else "") + part + (" -> ..." if len(seq) > i + 3 else "")

    return (f"{head}{': ' + why if why else ''}.\n"
            f"   yours:     {window(got)}\n"
            f"   reference: {window(want)}" + _count_note(got, want))


def _count_note(got: list[str], want: list[str]) -> str:
    """Say when the number of downsamplings, upsamplings or residual blocks differs."""
    notes = []
    for what, test in (("stride-2 convolutions", lambda w: w.startswith("Conv2D ") and "stride 2" in w),
                       ("stride-2 transposed convolutions", lambda w: w.startswith("Conv2DTranspose") and "stride 2" in w),
                       ("residual blocks (`Add`)", lambda w: w == "Add"),
                       ("skip connections (`Concatenate`)", lambda w: w == "Concatenate")):
        a, b = sum(map(test, got)), sum(map(test, want))
        if a != b:
            notes.append(f"yours has {a} {what}, the reference {b}: count the blocks")
    return ("\n   " + "; ".join(notes) + ".") if notes else ""


def _shape_cause(mine, ref) -> str:
    """Words for an output shape that differs: channels, height and width, or the same values in another shape."""
    got, want = tuple(mine.output_shape), tuple(ref.output_shape)
    if len(got) == len(want) and got[:-1] == want[:-1]:
        joins = any(w == "Concatenate" for w in layer_sequence(ref))
        return ("the number of channels differs: check the widths" +
                (" and what is joined to what (the skip connections)." if joins else ", and the last layer's."))
    if (len(got) == len(want) and None not in got[1:] and None not in want[1:]
            and int(np.prod(got[1:])) == int(np.prod(want[1:]))):
        return "the same number of values in another shape: check the axis you join (or reshape) along."
    got_seq, want_seq = layer_sequence(mine), layer_sequence(ref)
    first = _first_difference(got_seq, want_seq).split("\n")[0] if got_seq != want_seq else ""
    note = _count_note(got_seq, want_seq).strip()
    return ("the height and width differ: check each layer's stride and padding, and how many blocks "
            "change the size." + (" " + note if note else "") + (f"\n   The first layer that differs: {first}" if first else ""))


def _parameter_difference(mine, ref) -> str:
    """The first layer whose parameter count differs from the reference's, in words (a bias named)."""
    for n, (a, b) in enumerate(zip(_layers(mine), _layers(ref))):
        na, nb = a.count_params() if a.built else 0, b.count_params() if b.built else 0
        if na != nb:
            what = " ".join(_describe(a))
            bias = getattr(a, "bias", None)
            extra = (": it has a bias the reference's has not (a layer followed by batch norm needs none)"
                     if bias is not None and getattr(b, "bias", None) is None and na - nb == int(np.prod(bias.shape))
                     else ": it has no bias where the reference's has one"
                     if bias is None and getattr(b, "bias", None) is not None else ": check its width")
            return f" Your `{what}` (weighted layer {n + 1}) has {na:,} parameters, the reference's {nb:,}{extra}."
    return ""


def _layers(model) -> list:
    return [op for op in _operations(model) if hasattr(op, "weights")]


def _randomise(model, rng: np.random.Generator) -> None:
    """Give every weight a value that makes mistakes visible.

    Kernels ~ N(0, 1/fan_in), biases and betas ~ N(0, 0.3), gammas of both signs in
    [0.5, 1.5], moving means ~ N(0, 0.5) and moving variances in [0.5, 2]. With a
    negative gamma, batch norm no longer commutes with ReLU, and with statistics
    away from (0, 1) it is no longer close to the identity.
    """
    for v in model.weights:
        shape, kind = tuple(v.shape), v.name.split("/")[-1].split(":")[0]
        if kind == "gamma":
            value = rng.uniform(0.5, 1.5, shape) * np.where(np.arange(int(np.prod(shape))).reshape(shape) % 2, -1, 1)
        elif kind in ("beta", "bias"):
            value = rng.normal(0, 0.3, shape)
        elif kind == "moving_mean":
            value = rng.normal(0, 0.5, shape)
        elif kind == "moving_variance":
            value = rng.uniform(0.5, 2.0, shape)
        elif len(shape) >= 2:
            value = rng.normal(0, 1 / np.sqrt(max(1, int(np.prod(shape[:-1])))), shape)
        else:
            continue
        v.assign(value.astype(v.dtype if isinstance(v.dtype, str) else "float32"))


def _unused_inputs(mine, ref, input_shapes: Sequence[tuple[int, ...]]) -> list[int]:
    """The inputs (by position) that the reference's output depends on and the learner's does not.

    Each input in turn gets other random values, the others staying put: an output that stays exactly
    the same never used that input. Empty for a model of one input, or when a model cannot be run."""
    if len(input_shapes) < 2:
        return []
    rng = np.random.default_rng(1)
    base = [rng.normal(size=(2, *s)).astype("float32") for s in input_shapes]
    try:
        before = [_as_numpy(m(base, training=False)) for m in (mine, ref)]
        unused = []
        for k, shape in enumerate(input_shapes):
            xs = list(base)
            xs[k] = rng.normal(size=(2, *shape)).astype("float32")
            after = [_as_numpy(m(xs, training=False)) for m in (mine, ref)]
            if np.array_equal(after[0], before[0]) and not np.array_equal(after[1], before[1]):
                unused.append(k)
        return unused
    except Exception:
        return []


def check_model_builder(
    build: Callable[..., Any],
    reference: Callable[..., Any],
    input_shapes: Sequence[tuple[int, ...]],
    name: str | None = None,
    hint: str | None = None,
    seed: int = 0,
    input_names: Sequence[str] = (),
) -> bool:
    """Compare a learner's Keras block or model with the reference.

    ``build(*inputs)`` and ``reference(*inputs)`` take Keras input tensors of
    ``input_shapes`` (without the batch axis) and return an output tensor. In
    turn the checker compares: the output shape; whether each input reaches the output (one that
    never does is named: by ``input_names``, what each input is, when given); the order of the layers (so a
    ReLU before its batch norm, or dropout in the wrong place or with the wrong
    rate, is named); the parameter count; each layer's kernel initialiser (by what it draws, which
    copied weights cannot show); then it gives the reference non-trivial
    weights (batch-norm gammas of both signs, moving statistics away from 0 and
    1), copies them into the learner's model and compares the outputs in
    inference mode and in training mode (batch statistics; dropout switched off
    in both models for that pass, its place having been checked above). When the
    weights cannot be copied across it fails: it never passes without comparing.
    """
    import keras

    name = name or getattr(build, "__name__", "your block")

    def make(fn):
        ins = [keras.Input(s) for s in input_shapes]
        out = fn(*ins)
        return keras.Model(ins if len(ins) > 1 else ins[0], out)

    mine = _build_learner(make, build, len(input_shapes), name, hint)
    ref = make(reference)
    if mine.output_shape != ref.output_shape:
        _fail(name, f"output shape {mine.output_shape}, expected {ref.output_shape}: "
                    + _shape_cause(mine, ref), hint)
    for k in _unused_inputs(mine, ref, input_shapes)[:1]:
        what = f", {input_names[k]}" if k < len(input_names) else ""
        _fail(name, f"your network never uses its {_ordinal(k + 1)} input{what}: its output stays exactly the same "
                    f"whatever that input holds, where the reference's changes. Every input must reach the output: "
                    f"look at what you join (or pass on) from each of the {len(input_shapes)} inputs.", hint)
    got_seq, want_seq = layer_sequence(mine), layer_sequence(ref)
    if got_seq != want_seq:
        _fail(name, _first_difference(got_seq, want_seq), hint)
    if mine.count_params() != ref.count_params():
        _fail(name, f"{mine.count_params():,} parameters, expected {ref.count_params():,}."
                    + _parameter_difference(mine, ref), hint)
    if [tuple(w.shape) for w in mine.weights] != [tuple(w.shape) for w in ref.weights]:
        _fail(name, "your layers hold their weights in another order than the reference's, so the checker "
                    "cannot copy the reference's weights in and compare outputs. Build the layers in the order "
                    "the description gives.", hint)
    initialiser = _initialiser_difference(mine, ref)
    if initialiser:
        _fail(name, initialiser, hint)
    _compare_outputs(mine, ref, input_shapes, seed, name, hint)
    print(f"✅ {name}: same output shape, layers, {ref.count_params():,} parameters, and same outputs "
          "as the reference in inference and training mode.")
    return True


def _build_learner(make: Callable, build: Callable, n_inputs: int, name: str, hint: str | None):
    """The learner's model; a stub becomes :class:`NotWrittenYet`, an error while building a message."""
    try:
        return make(build)
    except NotImplementedError:
        _fail(name, NOT_WRITTEN, hint, NotWrittenYet)
    except Exception as exc:
        text = str(exc).strip()
        if "Concatenate" in text and "matching shapes" in text:
            text = ("a concatenation joins tensors of different heights and widths: each skip must be joined to "
                    "the tensor of its own size. (" + text.splitlines()[0] + ")")
        elif "input" in text and ("expects" in text or "expected" in text):
            text = (f"your network does not take the inputs the exercise gives it ({n_inputs} "
                    f"image{'s' if n_inputs > 1 else ''}). (" + text.splitlines()[0] + ")")
        _fail(name, f"building it raised {type(exc).__name__}: {explain_shape_error(exc) or text}", hint)


def _initialiser_difference(mine, ref) -> str:
    """Words for the first layer whose kernel initialiser draws from another distribution than the reference's.

    The outputs are compared with the reference's weights copied in, so they cannot show how a layer
    starts; each pair of initialisers draws a 3x3 kernel of 8 to 8 channels instead, and their spreads
    (and means) are compared. Any spelling of the same distribution passes.
    """
    for n, (a, b) in enumerate(zip(_layers(mine), _layers(ref))):
        init_a, init_b = getattr(a, "kernel_initializer", None), getattr(b, "kernel_initializer", None)
        if init_a is None or init_b is None:
            continue
        try:
            draw_a, draw_b = (np.asarray(init((3, 3, 8, 8)), np.float64) for init in (init_a, init_b))
        except Exception:
            continue
        std_a, std_b = float(np.std(draw_a)), float(np.std(draw_b))
        if 0.67 < std_a / max(std_b, 1e-12) < 1.5 and abs(np.mean(draw_a) - np.mean(draw_b)) < 0.5 * std_b:
            continue
        config = getattr(init_b, "get_config", dict)()
        shown = ", ".join(f"{k}={v:g}" for k, v in config.items() if k in ("mean", "stddev") and v is not None)
        return (f"your `{' '.join(_describe(a))}` (weighted layer {n + 1}) starts from other random weights than the "
                f"reference's: its kernel initialiser, `{type(init_a).__name__}`, draws values with standard deviation "
                f"{std_a:.3f} (for a 3x3 kernel, 8 channels to 8), the reference's, `{type(init_b).__name__}"
                f"{'(' + shown + ')' if shown else ''}`, {std_b:.3f}. The checker copies the reference's weights in "
                "to compare outputs, so they cannot show it; training starts from these draws. Give the layer the "
                "initialiser the description asks for (`kernel_initializer=INIT`, the paper's normal of standard "
                "deviation 0.02, where the lesson defines `INIT`).")
    return ""


def _compare_outputs(mine, ref, input_shapes, seed: int, name: str, hint: str | None) -> None:
    """The reference's weights made visible (:func:`_randomise`) and copied into the learner's model; the
    outputs compared in inference mode, then in training mode with every dropout switched off."""
    _canonical_concatenations(mine)
    _canonical_concatenations(ref)
    rng = np.random.default_rng(seed)
    _randomise(ref, rng)
    mine.set_weights(ref.get_weights())
    xs = [rng.normal(size=(2, *s)).astype("float32") for s in input_shapes]   # 2: batch statistics need two
    xs = xs if len(xs) > 1 else xs[0]
    want = _as_numpy(ref(xs, training=False))
    atol = 1e-4 * max(1.0, float(np.max(np.abs(want))))
    _compare(name, mine(xs, training=False), want, 1e-3, atol, hint,
             "inference mode, with the reference's weights")
    dropouts = [op for op in _layers(mine) + _layers(ref) if type(op).__name__ == "Dropout"]
    rates = [op.rate for op in dropouts]
    try:
        for op in dropouts:
            op.rate = 0.0
        want = _as_numpy(ref(xs, training=True))
        got = mine(xs, training=True)
    finally:
        for op, rate in zip(dropouts, rates):
            op.rate = rate
    _compare(name, got, want, 1e-3, 1e-4 * max(1.0, float(np.max(np.abs(want)))), hint,
             "training mode (batch statistics), with the reference's weights")


def check_same_update(
    step: Callable[..., Any],
    reference: Callable[..., Any],
    make_players: Callable[[], Sequence[Any]],
    name: str,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> bool:
    """Check that a learner's training step takes the same update as the course's, in one line.

    ``make_players()`` returns what one step needs, in the order both steps take it: the networks
    (``keras.Model``), fresh optimizers, image pools... It is called twice, and the networks of
    the second set get the weights of the first, so the two steps start from the same point (make
    the networks without dropout: it would make the two passes differ at random).
    ``step(*players)`` and ``reference(*players)`` each take one update and return their logs, a
    dict of scalars. The logs they share must agree, every weight must agree afterwards, and the
    update must have changed the weights. Prints one line, or raises :class:`ExerciseError`
    saying what differed.
    """
    import keras

    ours, theirs = tuple(make_players()), tuple(make_players())
    nets_a = [p for p in ours if isinstance(p, keras.Model)]
    nets_b = [p for p in theirs if isinstance(p, keras.Model)]
    if not nets_a or len(nets_a) != len(nets_b):
        raise ValueError(f"{name}: make_players() must return the same networks (keras.Model) every time; "
                         f"got {len(nets_a)} and {len(nets_b)}.")
    for a, b in zip(nets_a, nets_b):
        b.set_weights(a.get_weights())
    before = [w.copy() for net in nets_a for w in net.get_weights()]
    logs_a, logs_b = step(*ours), reference(*theirs)
    shared = [k for k in logs_a if k in logs_b]
    if not shared:
        _fail(name, f"your step's logs ({', '.join(logs_a) or 'none'}) share no name with the reference's "
                    f"({', '.join(logs_b)}).", "Return the losses in a dict with the names the lesson uses.")
    for key in shared:
        got, want = float(np.mean(_as_numpy(logs_a[key]))), float(np.mean(_as_numpy(logs_b[key])))
        if not np.isclose(got, want, rtol=rtol, atol=atol):
            _fail(name, f"{key} is {got:.6f}, the reference's is {want:.6f}.",
                  "Compare which outputs each loss is computed from with the table above.")
    after_a = [w for net in nets_a for w in net.get_weights()]
    after_b = [w for net in nets_b for w in net.get_weights()]
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(after_a, after_b))
    if not all(np.allclose(a, b, rtol=rtol, atol=atol) for a, b in zip(after_a, after_b)):
        _fail(name, f"same losses, but the weights after the update differ by up to {gap:.2e}.",
              "Check which loss each network's gradient comes from, and which variables each optimizer updates.")
    if all(np.array_equal(a, b) for a, b in zip(after_a, before)):
        _fail(name, "the step did not change any weight.", "Apply the gradients with the optimizers.")
    values = ", ".join(f"{k} {float(np.mean(_as_numpy(logs_a[k]))):.4f}" for k in shared)
    print(f"✅ {name}: same {values}, and the same weights after the update (largest difference {gap:.1e}).")
    return True


def structure(model) -> list[tuple[str, tuple, int]]:
    """The shape-changing layers of a conv network: ``(what, output shape, how many in a row)``.

    A convolution that keeps its input's shape belongs to a residual block and is not listed;
    each ``Add`` is one residual block. Equal rows in a row are counted once
    (``("residual block", (None, 16, 16, 256), 6)``).
    """
    import keras

    rows: list[list] = []
    for layer in _operations(model):
        if isinstance(layer, keras.layers.Add):
            what = "residual block"
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            if tuple(layer.input.shape) == tuple(layer.output.shape):
                continue
            k, s = layer.kernel_size[0], layer.strides[0]
            what = f"{'transposed conv' if isinstance(layer, keras.layers.Conv2DTranspose) else 'conv'} {k}x{k}/{s}"
        else:
            continue
        shape = tuple(layer.output.shape)
        if rows and rows[-1][:2] == [what, shape]:
            rows[-1][2] += 1
        else:
            rows.append([what, shape, 1])
    return [(what, shape, n) for what, shape, n in rows]


def print_structure(model, title: str | None = None) -> None:
    """Print :func:`structure` one row a line: ``6 x residual block -> (None, 16, 16, 256)``."""
    print(f"{title or model.name}:")
    for what, shape, n in structure(model):
        print(f"  {what if n == 1 else f'{n} x {what}':22s} -> {shape}")


# --------------------------------------------------------------------------- one registered exercise
@dataclasses.dataclass(frozen=True)
class Exercise:
    """One "your turn" of a lesson: what the checker compares the learner's answer with.

    A *function* exercise has ``inputs`` (``rng -> args``, or a list of argument tuples);
    a *model* exercise has ``builds``: ``(input_shapes, keyword arguments)`` pairs, each
    checked with :func:`check_model_builder`. ``mistakes`` are known wrong answers,
    each with a hint of its own; ``extra`` is a further check of the answer. ``points`` is what
    passing it is worth in the grader's gradebook (:mod:`course_utils.tools.grade`). ``input_names`` say
    what each input of a model exercise is, to name one the learner's model never uses.
    """

    key: str
    reference: Callable[..., Any]
    hint: str
    inputs: Any = None
    builds: tuple = ()
    mistakes: tuple = ()
    trials: int = 5
    extra: Callable[[Callable], None] | None = None
    points: int = 1
    input_names: tuple = ()

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    def run(self, answer: Callable) -> bool:
        """Check ``answer``; raise :class:`ExerciseError` (or :class:`NotWrittenYet`) if it is not right."""
        if not callable(answer):
            raise ExerciseError(f"❌ {self.name}: expected your function, got {type(answer).__name__}.")
        if self.builds:
            for shapes, kwargs in self.builds:
                label = f"{self.name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
                check_model_builder(lambda *t, kw=kwargs: answer(*t, **kw),
                                    lambda *t, kw=kwargs: self.reference(*t, **kw),
                                    input_shapes=shapes, name=label, hint=self.hint, input_names=self.input_names)
        else:
            check_function(answer, self.reference, self.inputs, name=self.name, hint=self.hint,
                           trials=self.trials, mistakes=self.mistakes)
        if self.extra is not None:
            self.extra(answer)
        return True


# --------------------------------------------------------------------------- a training step over several steps
def explain_step_error(exc: BaseException, players: Sequence[Any] = ()) -> str:
    """A learner's step raised ``exc``: one line that names the cause when it is a known one (for a network
    that got no gradient while another did, among ``players``, what cuts its path to its loss)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if "No gradients provided" in text:
        cut = _gradient_cut(exc, players)
        if cut:
            return cut
        return ("your step raised ValueError: No gradients provided for any variable. `tape.gradient` gave None "
                "for every weight: the tape only sees what runs inside its `with tf.GradientTape() as tape:` "
                "block, so the forward pass (the network calls) and the losses must be computed inside it, and "
                "each gradient asked of the tape that recorded them. (If they are, something cuts the path from a "
                "network's weights to its loss: a `tf.stop_gradient` on the fakes before the generator's loss.)")
    if "non-persistent" in text or ("persistent" in text and "GradientTape" in text):
        return (f"your step raised {type(exc).__name__}: {first} An ordinary tape gives one gradient only: "
                "use one tape per loss, or one `persistent=True` tape")
    if "optimizer" in text.lower() and ("variable" in text.lower() or "built" in text.lower()):
        return (f"your step raised {type(exc).__name__}: {first} An optimizer updates the network it was first "
                "used on: each network needs its own optimizer")
    return f"your step raised {type(exc).__name__}: {first}"


def _gradient_cut(exc: BaseException, players: Sequence[Any]) -> str:
    """When the optimizer that raised "No gradients provided" is a player's and another network did get its
    gradients in this run (so the tape recorded the step): the network cut off from its loss, in words."""
    import keras

    nets = [p for p in players if isinstance(p, keras.Model)]
    opts = [p for p in players if isinstance(p, keras.optimizers.Optimizer)]
    if len(nets) != len(opts):
        return ""
    tb, raising = exc.__traceback__, None
    while tb is not None and raising is None:
        me = tb.tb_frame.f_locals.get("self")
        raising = next((i for i, o in enumerate(opts) if me is o), None)
        tb = tb.tb_next
    if raising is None or not any(int(o.iterations) > 0 for i, o in enumerate(opts) if i != raising):
        return ""
    net = nets[raising].name
    return (f"your step raised ValueError: No gradients provided for any variable, for `{net}`: `tape.gradient` gave "
            f"None for every weight of `{net}`, while another network did get its gradients, so the tape recorded "
            f"the step. Something cuts the path from `{net}`'s weights to its own loss: most often a "
            f"`tf.stop_gradient` (PyTorch's `.detach()`) on what `{net}` made, before the discriminator judges it for "
            f"the generator's loss. Detach the fakes (if at all) only for the discriminator's loss, and check that "
            f"`{net}`'s loss is computed inside the tape from `{net}`'s own output")


def _watched_flags(players: Sequence[Any]) -> dict:
    """``position -> [training flag of each call]`` for the players made with :func:`watch_training_flag`."""
    return {i: list(p.course_flags.calls) for i, p in enumerate(players) if hasattr(p, "course_flags")}


class _Flags:
    """What a watched network's calls were given as ``training``, and what the flag switches in the lesson."""

    def __init__(self, why: str):
        self.calls: list = []
        self.why = why


def watch_training_flag(model, why: str):
    """``model`` wrapped so that each call's ``training`` flag is recorded, for a step check.

    A step check runs small twins of the lesson's networks, without dropout (it would make two runs
    differ at random); a network called with ``training=False`` then computes the same numbers. The
    wrapper records the flag so that :func:`check_training_step` can still name it; ``why`` says what
    the flag switches in the lesson's network (e.g. ``"dropout"``). Same weights, same outputs.
    """
    import keras

    class Watched(keras.Model):
        def __init__(self, inner):
            super().__init__(name=inner.name)
            self.inner = inner
            self.course_flags = _Flags(why)

        def call(self, inputs, training=None):
            self.course_flags.calls.append(training)
            return self.inner(inputs, training=training)

    return Watched(model)


def _flag_mistake(mine: list, want: list, players: Sequence[Any], batches: Sequence, n: int) -> str | None:
    """Words for the first watched network the learner's step calls out of training mode (None if none)."""
    def off(flag):
        try:
            return flag is None or not bool(flag)
        except Exception:
            return False
    for k, (entry, reference) in enumerate(zip(mine, want)):
        for i, calls in entry[3].items():
            if any(off(c) for c in calls) and not any(off(c) for c in reference[3].get(i, [])):
                where = f"step {k + 1} of {n} ({batches[k][1]})" if n > 1 else batches[k][1]
                flag = next(c for c in calls if off(c))
                return (f"{where}: your step calls `{players[i].name}` in inference mode (`training={flag}`; None means "
                        f"no `training` argument). The lesson's network has {players[i].course_flags.why}, which acts "
                        f"only in training mode: called this way while it learns, it trains without it (the "
                        f"checker's small copy has none, so it watches the flag). Call each network with "
                        f"`training=True` inside the step.")
    return None


def _scalar(v: Any) -> float:
    return float(np.mean(_as_numpy(v)))


def _trace(step: Callable, make_players: Callable, origin: list, batches: Sequence, upto: int,
           until_apart_from: list | None = None, rtol: float = 1e-4, atol: float = 1e-5,
           keep: list | None = None) -> list:
    """Run ``step(players, data)`` for the first ``upto`` batches on fresh players set to ``origin``:
    ``[(logs as floats, every network's weights), ...]``, one entry a step. With ``until_apart_from``
    (another trace) it stops after the first step that differs from that trace."""
    import keras

    players = tuple(make_players())
    if keep is not None:
        keep.append(players)
    nets = [p for p in players if isinstance(p, keras.Model)]
    for net, weights in zip(nets, origin):
        net.set_weights(weights)
    out = []
    for data, _ in batches[:upto]:
        for p in players:
            if hasattr(p, "course_flags"):
                p.course_flags.calls.clear()
        logs = step(players, data)
        if not isinstance(logs, dict):
            raise ExerciseError(f"your step returned {type(logs).__name__}, not a dict of losses.")
        counters = {i: int(np.asarray(p.queries)) for i, p in enumerate(players) if hasattr(p, "queries")}
        out.append(({k: _scalar(v) for k, v in logs.items()}, [w for net in nets for w in net.get_weights()],
                    counters, _watched_flags(players)))
        if until_apart_from is not None and _first_gap(out[-1:], until_apart_from[len(out) - 1:len(out)],
                                                       rtol, atol) is not None:
            break
    return out


def _first_gap(a: list, b: list, rtol: float, atol: float) -> tuple[int, str] | None:
    """The first step at which two traces differ, and how (None if they agree)."""
    for k, ((logs_a, w_a, *_), (logs_b, w_b, *_)) in enumerate(zip(a, b)):
        shared = [key for key in logs_a if key in logs_b]
        if not shared:
            return k, (f"your step's logs ({', '.join(logs_a) or 'none'}) share no name with the reference's "
                       f"({', '.join(logs_b)}): return the losses in a dict with the names the lesson uses")
        for key in shared:
            if not np.isclose(logs_a[key], logs_b[key], rtol=rtol, atol=atol):
                return k, f"{key} is {logs_a[key]:.6f}, the reference's is {logs_b[key]:.6f}"
        if len(w_a) != len(w_b) or not all(x.shape == y.shape and np.allclose(x, y, rtol=rtol, atol=atol)
                                           for x, y in zip(w_a, w_b)):
            gap = max((float(np.max(np.abs(x - y))) for x, y in zip(w_a, w_b) if x.shape == y.shape), default=np.inf)
            return k, f"same losses, but the weights after the update differ by up to {gap:.2e}"
    return None


def _optimizer_mix_up(players: Sequence[Any]) -> str | None:
    """When the players list networks then their optimizers in the same order: the first optimizer that
    updated another network than its own, in words (None if each updated its own, or cannot tell)."""
    import keras

    nets = [p for p in players if isinstance(p, keras.Model)]
    opts = [p for p in players if isinstance(p, keras.optimizers.Optimizer)]
    if len(nets) != len(opts):
        return None
    owner = {id(v): i for i, net in enumerate(nets) for v in net.trainable_variables}
    for i, opt in enumerate(opts):
        used = {owner.get(id(v)) for v in getattr(opt, "_trainable_variables", [])}
        if used and used != {i}:
            others = sorted(j for j in used if j is not None and j != i)
            whose = ", ".join(f"`{nets[j].name}`" for j in others) or "other variables"
            return (f"The optimizer meant for `{nets[i].name}` updated {whose}: each network should be updated "
                    "by its own optimizer (the step's arguments come in the same order as the networks).")
    return None


#: Traces of references and known mistakes, which do not depend on the learner's answer:
#: ``(cache_key, which, steps) -> trace`` and ``(cache_key, "origin") -> starting weights``.
_TRACES: dict = {}


def check_training_step(
    step: Callable,
    reference: Callable,
    make_players: Callable[[], Sequence[Any]],
    batches: Sequence[tuple[Any, str]],
    name: str,
    hint: str | None = None,
    mistakes: Sequence[tuple[Callable, str]] = (),
    random_hint: str = "use only what the step is given; draw nothing at random inside it",
    rtol: float = 1e-4,
    atol: float = 1e-5,
    cache_key: str | None = None,
) -> bool:
    """A learner's training step against the course's, over several steps on twin players.

    ``make_players()`` returns what a step needs (networks, optimizers, image pools already full...),
    the same every call except the networks' weights, which the checker sets. ``batches`` is a list of
    ``(data, label)``, one a step (different seeds, arguments...). ``step(players, data)`` and
    ``reference(players, data)`` take one update and return their logs. After every step the logs
    they share and every weight must agree. When they do not, the checker looks for the cause: each of
    ``mistakes`` (``(wrong_step, hint)``, e.g. the other update order) run up to the step that
    differed: if the learner's step takes exactly its updates, its hint is shown instead of ``hint``;
    failing that, a step that gives different results on the same inputs (noise drawn inside it) is
    named with ``random_hint``. A step that raises is answered in one line (a missing tape named, see
    :func:`explain_step_error`). With ``cache_key`` (a registered exercise), the starting weights and
    the reference's and the mistakes' runs are kept for the next check of the same exercise.
    """
    import keras

    def cached(which, compute):
        if cache_key is None:
            return compute()
        key = (cache_key, which, tuple(label for _, label in batches))
        if key not in _TRACES:
            _TRACES[key] = compute()
        return _TRACES[key]

    origin = cached("origin", lambda: [net.get_weights() for net in make_players() if isinstance(net, keras.Model)])
    n = len(batches)
    want = cached("reference", lambda: _trace(reference, make_players, origin, batches, n))

    kept: list = []

    def learner(upto, apart=None):
        try:
            return _trace(step, make_players, origin, batches, upto, apart, rtol, atol, kept)
        except NotImplementedError:
            _fail(name, NOT_WRITTEN, hint, NotWrittenYet)
        except ExerciseError as error:
            _fail(name, str(error).removeprefix("❌ ").split("\n💡")[0], hint)
        except Exception as exc:
            _fail(name, explain_step_error(exc, kept[-1] if kept else ()) + ".", hint)

    mine = learner(n, want)
    if all(np.array_equal(a, b) for a, b in zip(mine[0][1], [w for ws in origin for w in ws])):
        _fail(name, "the step did not change any weight.", "Apply the gradients with the optimizers.")
    gap = _first_gap(mine, want, rtol, atol)
    flags = _flag_mistake(mine, want, kept[0], batches, n)
    if gap is None and flags:   # the same numbers, only because the checker's networks lack what the flag switches
        _fail(name, flags, hint)
    if gap is None:
        largest = max(float(np.max(np.abs(a - b))) for a, b in zip(mine[-1][1], want[-1][1]))
        values = ", ".join(f"{k} {v:.4f}" for k, v in mine[-1][0].items() if k in want[-1][0])
        print(f"✅ {name}: the same losses and weights as the reference after each of {n} steps "
              f"({'; '.join(label for _, label in batches)}); last step: {values} (largest difference {largest:.1e}).")
        return True
    k, what = gap
    where = f"step {k + 1} of {n} ({batches[k][1]})" if n > 1 else batches[k][1]
    specific = (_optimizer_mix_up(kept[0]) or _pool_use(mine[k][2], want[k][2], k)
                or _matching_mistake(mine[:k + 1], mistakes, make_players, origin, batches, cached, rtol, atol))
    if specific is None and flags:
        _fail(name, flags, hint)
    if specific is None and _first_gap(mine[:k + 1], learner(k + 1), rtol, atol) is not None:
        _fail(name, f"{where}: your step gives different results on the same weights and inputs: it draws "
                    f"something at random (fresh noise?).", random_hint)
    _fail(name, f"{where}: {what}.", specific or hint)


def _matching_mistake(mine: list, mistakes: Sequence[tuple[Callable, str]], make_players: Callable, origin: list,
                      batches: Sequence, cached: Callable, rtol: float, atol: float) -> str | None:
    """The hint of the first known mistake whose run takes exactly the learner's steps so far (None if none)."""
    upto = len(mine)
    for i, (wrong, wrong_hint) in enumerate(mistakes):
        def run(wrong=wrong):
            try:
                return _trace(wrong, make_players, origin, batches, upto)
            except Exception:
                return None
        theirs = cached(f"mistake {i}, {upto} steps", run)
        if theirs is not None and _first_gap(mine, theirs[:upto], rtol, atol) is None:
            return wrong_hint
    return None


def _pool_use(got: dict, want: dict, k: int) -> str | None:
    """Words for a pool queried another number of times than the reference's (None if each was queried alike)."""
    if got == want:
        return None
    i = next(i for i in want if got.get(i) != want[i])
    got_n, want_n = got.get(i, 0), want[i]
    return (("Your step queries one of the pools less often than the reference (not at all, if the "
             "discriminators judge the newest fakes): their losses should judge the fakes the pools hand "
             "back. " if got_n < want_n else
             "Your step queries one of the pools more often than the reference: each query stores fakes and "
             "draws new coins, so query each pool once a step, with the new fakes. ")
            + f"(Its query counter reads {got_n} after step {k + 1}, the reference's {want_n}.)")
