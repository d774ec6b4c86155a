"""The grader's data-only protocol: the sandbox records what the learner's answer produces, the
grader decides.

A registered exercise (:class:`course_utils.lessons.checkers.Exercise`) checks an answer through three
primitives of :mod:`course_utils.lessons.checkers`: :func:`~course_utils.lessons.checkers.check_function` (a
function on inputs), :func:`~course_utils.lessons.checkers.check_model_builder` (a Keras block or model)
and :func:`~course_utils.lessons.checkers.check_same_update` (a training step). The exercise's own ``run``
is executed twice, each time with those three names replaced, in every module that uses them:

* :func:`record` runs in the sandbox, next to the learner's code. Each primitive produces data
  only, and never a verdict: the learner's function's outputs on inputs drawn from a per-run
  secret seed (``outputs.npz`` + ``calls.json``); the learner's network as a Keras file
  (``callN.keras``); a training step's starting weights, logs and updated weights. It also
  notes what the answer is (its module and code file) and whether it called the course's own
  answer while it ran.
* :func:`verify` runs in the grader, which never imports or executes learner code. Each
  primitive, called again by the same ``run`` on a stand-in for the answer, reads the recorded
  data and runs the real comparison of :mod:`course_utils.lessons.checkers` against the course's
  reference: a function's recorded outputs are handed to ``check_function`` in place of calls; a
  network is loaded with ``keras.saving.load_model(..., safe_mode=True)`` (no ``Lambda`` layer,
  no class the course does not register) and compared by ``check_model_builder``; a step's
  reference update is taken from the recorded starting weights and compared with the learner's.

Nothing the learner does inside the sandbox (patching NumPy, the checkers or the registry) then
changes a verdict: at worst it changes the data, which are compared outside. A check that calls
the answer itself on a Keras tensor (``03.my_residual_block``'s initialiser check) gets the block
recorded for that call (fresh weights and all). One that builds an object of the learner's class and
uses it (``03.image_pool``'s stateful pool) gets, in the sandbox, the object behind a recorder that
notes every attribute read and method call in order, with what it returned (numbers only) and a
digest of what it was given; in the grader, a replay of those records in the same order stands in
for the object, so the course's check (statistics and the exact draws of ``train.ImagePool``) runs
here on what the learner's object did. The ``seed=`` such a check builds the object with is mixed
with the run's secret seed, for the learner's class and the course's reference alike
(:data:`SEEDED`), so the draws to match are new every run. A check that asks the replay for
anything the sandbox did not record (a check changed inside the sandbox) fails; nothing is decided
in the sandbox.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

PRIMITIVES = ("check_function", "check_model_builder", "check_same_update", "check_training_step")

#: Exercises whose check builds the learner's object with ``seed=``: the grader mixes that seed with the
#: run's secret one (:func:`mixed_seed`), for the answer and for the course's reference, which the check
#: names in its module (see the module doc).
SEEDED = ("03.image_pool",)

#: Course functions a reference calls that are tools the lessons hand the learner, not the answer.
HELPERS = {"bce_with_logits", "as_numpy", "init", "norm_layer", "activation_layer", "conv_block"}


class NeedsSandbox(BaseException):
    """The check called the answer itself: it cannot be replayed from data in the grader."""


class RecordedError(Exception):
    """What the learner's code raised inside the sandbox (its type's name and message)."""


# --------------------------------------------------------------------------- shared helpers
def _modules():
    """Every module that holds one of :data:`PRIMITIVES` by name (checkers and each lesson's set)."""
    import importlib
    import pkgutil

    from course_utils.lessons import checkers, exercise_sets

    mods = [checkers]
    for info in pkgutil.iter_modules(exercise_sets.__path__):
        mods.append(importlib.import_module(f"course_utils.lessons.exercise_sets.{info.name}"))
    return mods


@contextlib.contextmanager
def _patched(replacements: dict[str, Callable]):
    saved = []
    for mod in _modules():
        for name, fn in replacements.items():
            if name in vars(mod):
                saved.append((mod, name, vars(mod)[name]))
                setattr(mod, name, fn)
    try:
        yield
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)


def _cases(inputs, trials: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [inputs(rng) for _ in range(trials)] if callable(inputs) else list(inputs)


def answer_names(exercise) -> set[str]:
    """Names of the course's functions that *are* this exercise's answer: the reference, and each
    course function it calls by name (less the lessons' tools, :data:`HELPERS`)."""
    import importlib

    import inspect

    ref = exercise.reference
    found = {getattr(ref, "__name__", "")}
    codes = [getattr(ref, "__code__", None)]
    if inspect.isclass(ref):   # a class (the pool): what its methods call, e.g. train.ImagePool
        for member in vars(ref).values():
            member = getattr(member, "fget", member)
            codes.append(getattr(member, "__code__", None))
    for name in (n for code in codes if code is not None for n in code.co_names):
        if name in HELPERS or name.startswith("_"):
            continue
        for mod in ("losses", "models", "train", "layers"):
            obj = getattr(importlib.import_module(f"course_utils.core.{mod}"), name, None)
            if callable(obj) and getattr(obj, "__module__", "").startswith("course_utils"):
                found.add(name)
    return {n for n in found if n}


def source_uses_reference(source: str, exercise) -> str:
    """What in an exercise cell's source reaches for the course's answer ('' when nothing does)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    names = answer_names(exercise)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ("EXERCISES",):
            return "EXERCISES"
        if isinstance(node, ast.Attribute) and (node.attr in ("reference", "EXERCISES", "exercise_sets")
                                                or node.attr in names or node.attr.startswith("_ref_")):
            return f".{node.attr}"
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course_utils"):
            for alias in node.names:
                if alias.name in names or alias.name in ("EXERCISES", "exercise_sets") or alias.name.startswith("_ref_"):
                    return f"import of {alias.name}"
            if "exercise_sets" in node.module or node.module.endswith("exercises"):
                return f"import from {node.module}"
        if isinstance(node, ast.Name) and node.id.startswith("_ref_"):
            return node.id
    return ""


# --------------------------------------------------------------------------- in the sandbox
def _to_data(value: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """A JSON description of ``value``, its arrays stored in ``arrays`` (numbers only: no pickles)."""
    if isinstance(value, (tuple, list)):
        return {"seq": [_to_data(v, arrays, f"{prefix}_{i}") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {"dict": {str(k): _to_data(v, arrays, f"{prefix}_{i}") for i, (k, v) in enumerate(value.items())}}
    if value is None:
        return {"none": True}
    try:
        if hasattr(value, "numpy") and callable(value.numpy):
            value = value.numpy()
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(array.dtype)
    except Exception:  # noqa: BLE001 - not numbers: keep what it was, shortly
        return {"other": type(value).__name__, "repr": repr(value)[:200]}
    arrays[prefix] = array
    return {"array": prefix}


def _from_data(desc: Any, arrays) -> Any:
    if not isinstance(desc, dict):
        return None
    if "seq" in desc:
        return [_from_data(d, arrays) for d in desc["seq"]]
    if "dict" in desc:
        return {k: _from_data(d, arrays) for k, d in desc["dict"].items()}
    if "array" in desc:
        return arrays[desc["array"]]
    if "other" in desc:
        return _Opaque(desc.get("other", "?"), desc.get("repr", ""))
    return None


class _Opaque:
    """A recorded value that was not numbers (a string, an object): compared as such, it fails."""

    def __init__(self, kind: str, text: str):
        self.kind, self.text = kind, text

    def __repr__(self) -> str:
        return self.text


def _error(exc: BaseException) -> dict:
    from course_utils.lessons.checkers import ExerciseError, NotWrittenYet

    kind = ("not written" if isinstance(exc, (NotImplementedError, NotWrittenYet)) else
            "exercise error" if isinstance(exc, ExerciseError) else "raised")
    return {"error": kind, "type": type(exc).__name__, "message": str(exc)[:2000]}


def exercise_seed(secret: int, key: str) -> int:
    """The seed one exercise is recorded and checked with: derived in the grader from the run's secret seed,
    sent to the sandbox only with that exercise's record request (no cell can draw its inputs before)."""
    import zlib

    state = np.random.SeedSequence([int(secret) % 2**32, zlib.crc32(key.encode())]).generate_state(1)
    return int(state[0] % 2**31)


def mixed_seed(secret: int, seed: Any) -> Any:
    """``seed`` (an int a check builds an object with) mixed with the run's secret seed: an int below 2**31
    that nobody can know before the run. Anything that is not an int is left as it was."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        return seed
    state = np.random.SeedSequence([int(secret) % 2**32, int(seed) % 2**32]).generate_state(1)
    return int(state[0] % 2**31)


@contextlib.contextmanager
def _seeded_reference(exercise, secret: int):
    """For an exercise of :data:`SEEDED`: the course's reference, wherever a checker module names it, gets
    its ``seed=`` mixed with the secret one as the learner's object does (:func:`mixed_seed`)."""
    ref = exercise.reference
    if exercise.key not in SEEDED:
        yield
        return

    def seeded(*args, **kwargs):
        if "seed" in kwargs:
            kwargs["seed"] = mixed_seed(secret, kwargs["seed"])
        return ref(*args, **kwargs)

    saved = []
    for mod in _modules():
        for name, value in list(vars(mod).items()):
            if value is ref:
                saved.append((mod, name))
                setattr(mod, name, seeded)
    try:
        yield
    finally:
        for mod, name in saved:
            setattr(mod, name, ref)


def _digest(args: tuple, kwargs: dict) -> str:
    """A digest of what a call was given (numbers by shape, type and bytes; anything else by a short repr):
    the grader's replay checks that the check asks what the sandbox was asked."""
    import hashlib

    h = hashlib.sha256()

    def feed(v: Any) -> None:
        if isinstance(v, (tuple, list)):
            h.update(b"[%d" % len(v))
            for x in v:
                feed(x)
            h.update(b"]")
            return
        if isinstance(v, dict):
            h.update(b"{%d" % len(v))
            for k in sorted(v, key=str):
                h.update(str(k).encode() + b":")
                feed(v[k])
            h.update(b"}")
            return
        try:
            a = np.asarray(v.numpy() if hasattr(v, "numpy") and callable(v.numpy) else v)
            if a.dtype.kind in "biuf":
                h.update(f"{a.shape}{a.dtype.str}".encode())
                h.update(np.ascontiguousarray(a).tobytes())
                return
        except Exception:  # noqa: BLE001 - not numbers
            pass
        h.update(f"{type(v).__name__}:{repr(v)[:200]}".encode())

    feed(list(args))
    feed(dict(kwargs))
    return h.hexdigest()


class _Recorder:
    """The learner's object as a check uses it in the sandbox: every attribute read and method call is
    noted in order (what it was given, as a digest; what it returned, as numbers) and the check gets the
    recorded numbers back, exactly what the grader's :class:`_Replay` will hand out."""

    __slots__ = ("_obj", "_events", "_arrays", "_prefix")

    def __init__(self, obj: Any, events: list, arrays: dict, prefix: str):
        for name, value in zip(self.__slots__, (obj, events, arrays, prefix)):
            object.__setattr__(self, name, value)

    def _note(self, event: dict, value: Any) -> Any:
        event["value"] = _to_data(value, self._arrays, f"{self._prefix}e{len(self._events) - 1}")
        if "other" in event["value"]:
            return value
        return _from_data(event["value"], self._arrays)

    def __getattr__(self, attr: str) -> Any:
        events = self._events
        try:
            value = getattr(self._obj, attr)
        except BaseException as exc:
            events.append({"attr": attr, **_error(exc)})
            raise
        if not callable(value):
            events.append({"attr": attr})
            return self._note(events[-1], value)

        def method(*args, **kwargs):
            event = {"attr": attr, "call": _digest(args, kwargs)}
            events.append(event)
            try:
                result = value(*args, **kwargs)
            except BaseException as exc:
                event.update(_error(exc))
                raise
            return self._note(event, result)

        return method


class _Replay:
    """In the grader: the learner's object as recorded in the sandbox (:class:`_Recorder`). Each attribute
    read or method call takes the next record, which must be of the same name (and, for a call, of the
    same arguments); anything else fails the check: the sandbox's check was not the grader's."""

    def __init__(self, events: list, arrays, name: str):
        object.__setattr__(self, "_state", {"events": events, "at": 0, "arrays": arrays, "name": name})

    def _take(self, attr: str, call: str | None) -> dict:
        from course_utils.lessons.checkers import ExerciseError

        state = self._state
        events, i = state["events"], state["at"]
        if i >= len(events) or events[i].get("attr") != attr or events[i].get("call") != call:
            raise ExerciseError(f"❌ {state['name']}: the check's use number {i + 1} of your object (`.{attr}`) is "
                                "not what the sandbox recorded (did the cell change the course's checkers?).")
        state["at"] = i + 1
        event = events[i]
        if "error" in event:
            _raise_recorded(event, state["name"])
        return _from_data(event.get("value"), state["arrays"])

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        state = self._state
        events, i = state["events"], state["at"]
        if i < len(events) and events[i].get("attr") == attr and events[i].get("call") is not None:
            return lambda *args, **kwargs: self._take(attr, _digest(args, kwargs))
        return self._take(attr, None)


def record(exercise, answer: Any, seed: int, out: Path) -> dict:
    """Run ``exercise``'s check in record mode on ``answer``: write its data into ``out``; return what was noted.

    Runs in the sandbox. Never raises for anything the answer does.
    """
    out.mkdir(parents=True, exist_ok=True)
    rec = _Recording(exercise, answer, seed, out)
    if not callable(answer):
        note = {"callable": False, "type": type(answer).__name__}
    else:
        note = {"callable": True}
        try:
            with _patched({"check_function": rec.primitive(_kw_seed(rec.function)),
                           "check_model_builder": rec.primitive(_kw_seed(rec.builder)),
                           "check_same_update": rec.primitive(rec.update),
                           "check_training_step": rec.primitive(rec.training)}), \
                    _seeded_reference(exercise, seed), contextlib.redirect_stdout(io.StringIO()):
                exercise.run(rec.direct)
        except BaseException as exc:  # noqa: BLE001 - e.g. an extra check calling the answer itself
            note["run"] = _error(exc)
    np.savez(out / "outputs.npz", **rec.arrays)
    (out / "calls.json").write_text(json.dumps({"calls": rec.calls, "note": note}), encoding="utf-8")
    return note


class _Recording:
    """The recorders of :func:`record`: each primitive's data for one answer, in the order the check calls them."""

    def __init__(self, exercise, answer: Any, seed: int, out: Path):
        self.exercise, self.answer, self.seed, self.out = exercise, answer, seed, out
        self.calls: list[dict] = []
        self.arrays: dict[str, np.ndarray] = {}
        self.depth = 0   # > 0 while a primitive runs: calls of the answer from there are its own business
        from course_utils.lessons import checkers

        self.real_training = checkers.check_training_step   # taken before the primitives are replaced

    def primitive(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            self.depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
        return wrapper

    def function(self, fn, reference, inputs, name=None, hint=None, rtol=1e-4, atol=1e-5, trials=5, seed_=0,
                 mistakes=(), **_):
        calls, arrays = self.calls, self.arrays
        entry: dict[str, Any] = {"kind": "function", "name": name, "outputs": []}
        for j, args in enumerate(_cases(inputs, trials, self.seed)):
            try:
                entry["outputs"].append({"value": _to_data(fn(*args), arrays, f"c{len(calls)}_{j}")})
            except BaseException as exc:  # noqa: BLE001 - recorded, judged in the grader
                entry["outputs"].append(_error(exc))
                break
        calls.append(entry)
        return True

    def builder(self, build, reference, input_shapes, name=None, hint=None, seed_=0, **_):
        import keras

        entry: dict[str, Any] = {"kind": "model", "name": name}
        try:
            ins = [keras.Input(s) for s in input_shapes]
            model = keras.Model(ins if len(ins) > 1 else ins[0], build(*ins))
            path = self.out / f"call{len(self.calls)}.keras"
            model.save(path)
            entry["file"] = path.name
        except BaseException as exc:  # noqa: BLE001
            entry.update(_error(exc))
        self.calls.append(entry)
        return True

    def update(self, step, reference, make_players, name, rtol=1e-4, atol=1e-5, **_):
        import keras

        arrays = self.arrays
        entry: dict[str, Any] = {"kind": "step", "name": name}
        i = len(self.calls)
        try:
            players = tuple(make_players())
            nets = [p for p in players if isinstance(p, keras.Model)]
            before = [w for net in nets for w in net.get_weights()]
            entry["nets"] = [len(net.get_weights()) for net in nets]
            for j, w in enumerate(before):
                arrays[f"s{i}_before_{j}"] = np.asarray(w)
            logs = step(*players)
            entry["logs"] = {str(k): float(np.mean(np.asarray(v.numpy() if hasattr(v, "numpy") else v, np.float64)))
                             for k, v in dict(logs).items()}
            for j, w in enumerate(w for net in nets for w in net.get_weights()):
                arrays[f"s{i}_after_{j}"] = np.asarray(w)
            entry["weights"] = len(before)
        except BaseException as exc:  # noqa: BLE001
            entry.update(_error(exc))
        self.calls.append(entry)
        return True

    def training(self, step, reference, make_players, batches, name, hint=None, mistakes=(), rtol=1e-4, atol=1e-5,
                 **kwargs):
        """A multi-step check (:func:`checkers.check_training_step`), run here as written, for its words (the
        feedback only): its first run of the learner's step is recorded as it goes by, from the course's starting
        weights (the origin), with the logs, weights and pool counters after each step (the checker stops it at
        the first step that differs from the reference's). The grader decides from that trace."""
        from course_utils.lessons import checkers

        calls, arrays, real_training = self.calls, self.arrays, self.real_training
        entry: dict[str, Any] = {"kind": "training", "name": name}
        i = len(calls)
        seen: dict[str, Any] = {}
        real_trace = checkers._trace

        def spy(step_, make_players_, origin_, batches_, upto, *args, **kw):
            if step_ is not step or "origin" in seen:
                return real_trace(step_, make_players_, origin_, batches_, upto, *args, **kw)
            seen["origin"] = origin_
            try:
                seen["trace"] = real_trace(step_, make_players_, origin_, batches_, upto, *args, **kw)
            except BaseException as exc:
                seen["error"] = exc
                raise
            return seen["trace"]

        checkers._trace = spy
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                real_training(step, reference, make_players, batches, name=name, hint=hint, mistakes=mistakes,
                              rtol=rtol, atol=atol, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - the checker's message, shown when the grader finds a difference
            entry["message"] = str(exc)[:4000]
            seen.setdefault("failure", exc)
        finally:
            checkers._trace = real_trace
        if "trace" in seen:
            entry["origin"] = [len(ws) for ws in seen["origin"]]
            for n_, ws in enumerate(seen["origin"]):
                for j, w in enumerate(ws):
                    arrays[f"o{i}_{n_}_{j}"] = np.asarray(w)
            entry["steps"] = []
            for k, (logs, weights, counters, *_) in enumerate(seen["trace"]):   # (flags: feedback only)
                for j, w in enumerate(weights):
                    arrays[f"t{i}_{k}_{j}"] = np.asarray(w)
                entry["steps"].append({"logs": {str(a): float(b) for a, b in logs.items()}, "weights": len(weights),
                                       "counters": {str(a): int(b) for a, b in counters.items()}})
        else:
            entry.update(_error(seen.get("error") or seen.get("failure")
                                or RuntimeError("the check did not run your step")))
        calls.append(entry)
        return True

    def direct(self, *args, **kwargs):
        """The answer, as a check calls it itself: on a Keras tensor, the block it builds is saved
        (fresh weights and all) for the grader's stand-in to hand back; on anything else (a class the
        check builds an object of), what it returns is recorded, an object behind a :class:`_Recorder`."""
        import keras

        answer, calls, arrays, seed, out = self.answer, self.calls, self.arrays, self.seed, self.out
        if self.depth:
            return answer(*args, **kwargs)
        if not args or not isinstance(args[0], keras.KerasTensor):
            entry: dict[str, Any] = {"kind": "object", "call": _digest(args, kwargs), "events": []}
            calls.append(entry)
            if self.exercise.key in SEEDED and "seed" in kwargs:
                kwargs = {**kwargs, "seed": mixed_seed(seed, kwargs["seed"])}
            try:
                made = answer(*args, **kwargs)
            except BaseException as exc:
                entry.update(_error(exc))
                raise
            desc = _to_data(made, arrays, f"p{len(calls) - 1}")
            if "other" not in desc:   # numbers: kept as such
                entry["value"] = desc
                return _from_data(desc, arrays)
            return _Recorder(made, entry["events"], arrays, f"p{len(calls) - 1}")
        result = answer(*args, **kwargs)
        entry: dict[str, Any] = {"kind": "direct"}
        try:
            path = out / f"call{len(calls)}.keras"
            keras.Model(args[0], result).save(path)
            entry["file"] = path.name
        except BaseException as exc:  # noqa: BLE001
            entry.update(_error(exc))
        calls.append(entry)
        return result


def _kw_seed(fn):
    """The checkers' ``seed=`` keyword, renamed so that the recorders use the run's secret seed."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "seed" in kwargs:
            kwargs["seed_"] = kwargs.pop("seed")
        return fn(*args, **kwargs)
    return wrapper


def identity(exercise, answer: Any) -> dict:
    """What the answer is: the course's reference itself, or code that lives in the course's package."""
    import inspect

    ref, target = exercise.reference, answer
    while isinstance(target, functools.partial):
        target = target.func
    info: dict[str, Any] = {"is_reference": target is ref}
    code = getattr(target, "__code__", None) or getattr(getattr(target, "__func__", None), "__code__", None)
    info["file"] = code.co_filename if code is not None else ""
    info["module"] = str(getattr(target, "__module__", "") or "")
    if inspect.isclass(target):
        bases = [c for c in target.__mro__[1:] if c.__module__.startswith("course_utils")]
        info["course_bases"] = [f"{c.__module__}.{c.__qualname__}" for c in bases]
        info["is_reference"] = info["is_reference"] or (inspect.isclass(ref) and issubclass(target, ref))
    return info


# --------------------------------------------------------------------------- in the grader
class _Records:
    """The recorded calls of one exercise, handed out in order: after a pass the next one, after a
    failure the same one again (a checker then tries the known mistakes on the same answer)."""

    def __init__(self, folder: Path):
        meta = json.loads((folder / "calls.json").read_text(encoding="utf-8"))
        self.calls, self.note, self.folder = meta["calls"], meta["note"], folder
        check_arrays_file(folder / "outputs.npz")
        with np.load(folder / "outputs.npz", allow_pickle=False) as data:
            self.arrays = {k: data[k] for k in data.files}
        self.cursor, self.last_ok = -1, True

    def take(self, kind: str) -> dict:
        if self.last_ok:
            self.cursor += 1
        self.last_ok = False
        if self.cursor >= len(self.calls) or self.calls[self.cursor].get("kind") != kind:
            raise NeedsSandbox(f"no recorded {kind} call at {self.cursor}")
        return self.calls[self.cursor]

    def passed(self, result):
        self.last_ok = True
        return result


def _raise_recorded(entry: dict, name: str) -> None:
    from course_utils.lessons.checkers import ExerciseError

    if entry["error"] == "not written":
        raise NotImplementedError
    if entry["error"] == "exercise error":
        raise ExerciseError(entry.get("message", ""))
    kind = re.sub(r"\W", "", entry.get("type", "")) or "Error"
    raise type(kind, (RecordedError,), {})(entry.get("message", ""))


def _stand_in_layers() -> dict:
    """Classes the lessons ask the learner to write, for loading a learner's network in the grader: the
    course's own class stands in (lesson 03's ``InstanceNormalization`` is graded by its own exercise, and
    its code never runs here). Only the arguments the course's class knows are read from the file."""
    from course_utils.core import layers as course_layers

    class InstanceNormalization(course_layers.InstanceNormalization):   # the name the checkers compare
        @classmethod
        def from_config(cls, config):
            known = {k: config[k] for k in ("name", "trainable", "dtype", "epsilon", "affine") if k in config}
            return cls(**known)

    return {"InstanceNormalization": InstanceNormalization}


#: The most a learner's saved network may hold or declare, in bytes: the files of its ``.keras`` archive
#: (declared, uncompressed), the weights ``model.weights.h5`` declares, the weights its layers create
#: when the grader rebuilds it, and one sample's outputs of all its layers. The course's largest smoke
#: network holds a few MB; a file past these is refused before it can fill the grader's memory.
NETWORK_BYTES = 256 * 2**20
_CONFIG_BYTES = 16 * 2**20
_KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")


class NetworkTooLarge(ValueError):
    """A learner's network file that holds or declares more than :data:`NETWORK_BYTES`."""


def check_arrays_file(path: Path, cap: int = NETWORK_BYTES) -> None:
    """Refuse recorded arrays (``.npz``) before NumPy reads them: the members' sizes once uncompressed (the
    zip's headers), or the arrays' shapes times their types' sizes (each ``.npy`` header, read alone), past
    ``cap`` in all (a few MB of deflated zeros can declare GBs)."""
    import zipfile

    fmt = np.lib.format
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        unpacked, arrays = sum(i.file_size for i in infos), 0
        for info in infos if unpacked <= cap else ():
            with zf.open(info) as member:
                major, _ = fmt.read_magic(member)
                header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
                shape, _, dtype = header(member)
            arrays += _count(shape) * dtype.itemsize
    if max(unpacked, arrays) > cap:
        raise NetworkTooLarge(f"your answer's recorded results declare {max(unpacked, arrays) / 2**20:,.0f} MB: "
                              f"more than the grader reads ({cap / 2**20:,.0f} MB)")


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= max(int(d), 0) if d is not None else 1
    return n


def check_network_file(path: Path, cap: int = NETWORK_BYTES) -> None:
    """Refuse a ``.keras`` file before Keras reads it: members other than Keras's three, a member or a
    total past ``cap`` once uncompressed (a zip bomb: Python's zip reader stops at the declared size),
    or weights in ``model.weights.h5`` whose declared shapes add up past ``cap`` (read by h5py without
    reading the data)."""
    import zipfile

    import h5py

    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        odd = [i.filename for i in infos if i.filename not in _KERAS_MEMBERS]
        if odd:
            raise NetworkTooLarge(f"the network's file holds files Keras does not write ({', '.join(odd[:3])})")
        total = sum(i.file_size for i in infos)
        config = sum(i.file_size for i in infos if i.filename == "config.json")
        if total > cap or config > _CONFIG_BYTES:
            raise NetworkTooLarge(f"the network's file unpacks to {total / 2**20:,.0f} MB (config "
                                  f"{config / 2**20:,.1f} MB): more than the grader reads")
        if "model.weights.h5" not in {i.filename for i in infos}:
            return
        data = zf.read("model.weights.h5")   # at most `cap` bytes, checked above
    declared = 0

    def visit(_name, obj):
        nonlocal declared
        if isinstance(obj, h5py.Dataset):
            declared += _count(obj.shape or ()) * obj.dtype.itemsize

    with h5py.File(io.BytesIO(data), "r") as h5:
        h5.visititems(visit)
    if declared > cap:
        raise NetworkTooLarge(f"the network's weights file declares {declared / 2**20:,.0f} MB of weights")


@contextlib.contextmanager
def _weights_capped(cap: int):
    """While a network is rebuilt from its file: every weight a layer adds is counted (4 bytes a number at
    least) before it is made, and past ``cap`` in all the build stops (a huge declared shape)."""
    import keras

    real = keras.layers.Layer.add_weight
    made = [0]

    def add_weight(self, *args, shape=None, **kwargs):
        dims = shape if shape is not None else next((a for a in args if isinstance(a, (tuple, list))), ())
        made[0] += _count(dims) * 4
        if made[0] > cap:
            raise NetworkTooLarge(f"the network's layers declare more than {cap / 2**20:,.0f} MB of weights")
        return real(self, *args, shape=shape, **kwargs)

    keras.layers.Layer.add_weight = add_weight
    try:
        yield
    finally:
        keras.layers.Layer.add_weight = real


def _check_outputs(model, cap: int) -> None:
    """Every input's shape known (but the batch) and one sample's outputs of all layers within ``cap``
    (4 bytes a number): a network that would fill the grader's memory when the check runs it is refused."""
    import keras

    for tensor in model.inputs:
        if any(d is None for d in tuple(tensor.shape)[1:]):
            raise NetworkTooLarge(f"the network's input has an unknown size ({tuple(tensor.shape)})")
    total = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for node in getattr(layer, "_inbound_nodes", ()):
            for out in keras.tree.flatten(getattr(node, "output_tensors", ())):
                total += _count(tuple(out.shape)[1:]) * 4
    if total > cap:
        raise NetworkTooLarge(f"one image through the network's layers makes {total / 2**20:,.0f} MB of outputs")


def _load_network(path: Path, cap: int = NETWORK_BYTES):
    """A learner's network from its Keras file, in safe mode (no Lambda layer, no code of theirs), its sizes
    checked before, while and after it is rebuilt (:data:`NETWORK_BYTES`)."""
    import keras

    check_network_file(path, cap)
    with _weights_capped(cap):
        model = keras.saving.load_model(path, compile=False, safe_mode=True, custom_objects=_stand_in_layers())
    _check_outputs(model, cap)
    return model


_REFERENCE_TRACES: dict[tuple, list] = {}


def _reference_trace(key: str, name: str, reference, make_players, origin: list, batches) -> list:
    """The reference's trace from ``origin`` over ``batches``, kept for the next notebook of the class: the
    sandboxes draw the same starting weights from the run's seed, so it is computed once per run, not
    once per notebook (keyed by the starting weights' bytes, so other weights get their own)."""
    import hashlib

    from course_utils.lessons import checkers

    digest = hashlib.sha256()
    for ws in origin:
        for w in ws:
            digest.update(f"{w.shape}{w.dtype.str}".encode())
            digest.update(np.ascontiguousarray(w).tobytes())
    cache_key = (key, name, digest.hexdigest(), tuple(str(label) for _, label in batches))
    if cache_key not in _REFERENCE_TRACES:
        if len(_REFERENCE_TRACES) >= 8:
            _REFERENCE_TRACES.clear()
        _REFERENCE_TRACES[cache_key] = checkers._trace(reference, make_players, origin, batches, len(batches))
    return _REFERENCE_TRACES[cache_key]


def verify(exercise, folder: Path, seed: int) -> None:
    """The verdict on recorded data: returns when the answer passed, raises as ``exercise.run`` would.

    Runs in the grader: reads ``folder`` (numbers, JSON and Keras files loaded in safe mode) and runs
    the course's references; never imports or runs learner code.
    """
    from course_utils.lessons import checkers

    ver = _Verifying(exercise, folder, seed)
    note = ver.records.note
    if not note.get("callable", False):
        raise checkers.ExerciseError(f"❌ {exercise.name}: expected your function, got {note.get('type', '?')}.")
    with _patched({"check_function": _kw_seed(ver.function), "check_model_builder": _kw_seed(ver.builder),
                   "check_same_update": ver.update, "check_training_step": ver.training}), \
            _seeded_reference(exercise, seed), contextlib.redirect_stdout(io.StringIO()):
        exercise.run(ver.stand_in)


class _Verifying:
    """The grader's side of each primitive (see :func:`verify`): the recorded data against the course's checks."""

    def __init__(self, exercise, folder: Path, seed: int):
        from course_utils.lessons import checkers

        self.exercise, self.folder, self.seed = exercise, folder, seed
        self.records = _Records(folder)
        self.real_function, self.real_builder = checkers.check_function, checkers.check_model_builder

    def function(self, fn, reference, inputs, name=None, hint=None, rtol=1e-4, atol=1e-5, trials=5, seed_=0,
                 mistakes=(), **_):
        records, seed = self.records, self.seed
        entry = records.take("function")
        outputs = iter(entry["outputs"])

        def replay(*args):
            got = next(outputs, None)
            if got is None:
                raise NeedsSandbox("fewer recorded outputs than inputs")
            if "error" in got:
                _raise_recorded(got, name or "")
            return _from_data(got["value"], records.arrays)

        with contextlib.redirect_stdout(io.StringIO()):
            return records.passed(self.real_function(replay, reference, inputs, name=name, hint=hint, rtol=rtol,
                                                     atol=atol, trials=trials, seed=seed, mistakes=mistakes))

    def builder(self, build, reference, input_shapes, name=None, hint=None, seed_=0, **_):
        from course_utils.lessons import checkers

        records, folder, exercise, seed = self.records, self.folder, self.exercise, self.seed
        entry = records.take("model")
        if "error" in entry:   # the checker words it as it words a build that raises
            def failing(*tensors):
                _raise_recorded(entry, name or "")
            with contextlib.redirect_stdout(io.StringIO()):
                return records.passed(self.real_builder(failing, reference, input_shapes, name=name, hint=hint))
        try:
            loaded = _load_network(folder / entry["file"])
        except Exception as exc:  # noqa: BLE001 - a Lambda layer, an unknown class, a damaged file
            checkers._fail(name or exercise.name,
                           f"the grader could not load your network safely ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:300] if str(exc) else ''}). Build it from Keras's and the "
                           "course's layers, without Lambda layers or classes of your own.", hint)

        def rebuilt(*tensors):
            return loaded(list(tensors) if len(tensors) > 1 else tensors[0])

        with contextlib.redirect_stdout(io.StringIO()):
            return records.passed(self.real_builder(rebuilt, reference, input_shapes, name=name, hint=hint, seed=seed))

    def update(self, step, reference, make_players, name, rtol=1e-4, atol=1e-5, **_):
        import keras

        from course_utils.lessons import checkers

        records = self.records
        entry = records.take("step")
        if "error" in entry:
            _raise_recorded(entry, name)
        theirs = tuple(make_players())
        nets = [p for p in theirs if isinstance(p, keras.Model)]
        if [len(n.get_weights()) for n in nets] != entry["nets"]:
            raise checkers.ExerciseError(f"❌ {name}: the recorded networks do not match the course's players.")
        before = [records.arrays[f"s{records.cursor}_before_{j}"] for j in range(entry["weights"])]
        start = 0
        for net in nets:
            n = len(net.get_weights())
            net.set_weights(before[start:start + n])
            start += n
        logs_b = reference(*theirs)
        logs_a = entry["logs"]
        shared = [k for k in logs_a if k in logs_b]
        if not shared:
            checkers._fail(name, f"your step's logs ({', '.join(logs_a) or 'none'}) share no name with the "
                                 f"reference's ({', '.join(logs_b)}).",
                           "Return the losses in a dict with the names the lesson uses.")
        for key in shared:
            got = logs_a[key]
            want = float(np.mean(np.asarray(logs_b[key].numpy() if hasattr(logs_b[key], "numpy") else logs_b[key],
                                            np.float64)))
            if not np.isfinite(got) or not np.isclose(got, want, rtol=rtol, atol=atol):
                checkers._fail(name, f"{key} is {got:.6f}, the reference's is {want:.6f}.",
                               "Compare which outputs each loss is computed from with the table above.")
        after_a = [records.arrays[f"s{records.cursor}_after_{j}"] for j in range(entry["weights"])]
        after_b = [w for net in nets for w in net.get_weights()]
        if [a.shape for a in after_a] != [b.shape for b in after_b]:
            raise checkers.ExerciseError(f"❌ {name}: the recorded weights do not match the course's players.")
        gap = max(float(np.max(np.abs(a - b))) for a, b in zip(after_a, after_b))
        if not all(np.allclose(a, b, rtol=rtol, atol=atol) for a, b in zip(after_a, after_b)):
            checkers._fail(name, f"same losses, but the weights after the update differ by up to {gap:.2e}.",
                           "Check which loss each network's gradient comes from, and which variables each "
                           "optimizer updates.")
        if all(np.array_equal(a, b) for a, b in zip(after_a, before)):
            checkers._fail(name, "the step did not change any weight.", "Apply the gradients with the optimizers.")
        return records.passed(True)

    def training(self, step, reference, make_players, batches, name, hint=None, rtol=1e-4, atol=1e-5, **_):
        import keras

        from course_utils.lessons import checkers

        records, exercise = self.records, self.exercise
        entry = records.take("training")
        if "error" in entry:
            _raise_recorded(entry, name)
        i = records.cursor
        ours = [net.get_weights() for net in make_players() if isinstance(net, keras.Model)]
        # The starting weights the sandbox drew (the players' initialisers are not seeded); the reference
        # starts from them too. Only their shapes must be the course's players'.
        origin = [[records.arrays[f"o{i}_{n}_{j}"] for j in range(count)] for n, count in enumerate(entry["origin"])]
        if [[w.shape for w in ws] for ws in origin] != [[w.shape for w in ws] for ws in ours]:
            raise checkers.ExerciseError(f"❌ {name}: the recorded networks do not match the course's players.")
        mine = [(step_["logs"], [records.arrays[f"t{i}_{k}_{j}"] for j in range(step_["weights"])],
                 {int(a): b for a, b in step_["counters"].items()}) for k, step_ in enumerate(entry["steps"])]
        if not mine or len(mine) > len(batches):
            raise checkers.ExerciseError(f"❌ {name}: the recorded steps do not match the check's.")
        want = _reference_trace(exercise.key, name, reference, make_players, origin, batches)
        gap = checkers._first_gap(mine, want, rtol, atol)
        if gap is None and [m[2] for m in mine] != [w[2] for w in want[:len(mine)]]:
            gap = (next(k for k, (m, w) in enumerate(zip(mine, want)) if m[2] != w[2]),
                   "the image pools were queried another number of times than the reference's")
        if gap is None and len(mine) < len(batches):   # the sandbox's check stopped early, yet nothing differs
            raise checkers.ExerciseError(f"❌ {name}: the recorded steps do not match the check's.")
        if gap is None:
            if all(np.array_equal(a, b) for a, b in zip(mine[0][1], [w for ws in origin for w in ws])):
                checkers._fail(name, "the step did not change any weight.", "Apply the gradients with the optimizers.")
            return records.passed(True)
        said = entry.get("message", "")   # the checker's words in the sandbox: feedback, never the verdict
        k, what = gap
        if said.startswith("❌"):
            raise checkers.ExerciseError(said)
        checkers._fail(name, f"step {k + 1} of {len(batches)}: {what}.", hint)

    def stand_in(self, *args, **kwargs):
        """The answer as a check calls it itself: on a Keras tensor, the block recorded for that call; on
        anything else, what the sandbox recorded it returned (an object: its :class:`_Replay`)."""
        import keras

        from course_utils.lessons import checkers

        records, folder, exercise = self.records, self.folder, self.exercise
        if not args or not isinstance(args[0], keras.KerasTensor):
            entry = records.take("object")
            records.passed(None)
            if entry.get("call") != _digest(args, kwargs):
                raise checkers.ExerciseError(f"❌ {exercise.name}: the check built your object with other arguments "
                                             "than the sandbox recorded (did the cell change the course's checkers?).")
            if "error" in entry:
                _raise_recorded(entry, exercise.name)
            if "value" in entry:
                return _from_data(entry["value"], records.arrays)
            return _Replay(entry["events"], records.arrays, exercise.name)
        entry = records.take("direct")
        records.passed(None)
        if "error" in entry:
            _raise_recorded(entry, exercise.name)
        loaded = _load_network(folder / entry["file"])
        return loaded(args[0])
