"""Inside the sandbox: run one notebook's cells on request, and record data, never verdicts.

Started by :class:`course_utils.tools.grade_sandbox.Sandbox` as ``python -m course_utils.tools.grade_driver
SCRATCH``. It reads one JSON request per line on its standard input and answers each with one JSON
line on a private copy of its standard output (file descriptors 1 and 2 then go to a log file in
the scratch folder, so that the learner's prints never reach the grader except through the
capped ``stdout`` field of a reply). Requests:

* ``{"op": "cell", "code": ..., "label": ...}``: run a cell (IPython's shell: magics and
  ``display`` work as in Jupyter). Reply ``status`` ``ok`` or ``error`` (``ename``, ``evalue``)
  and ``stdout`` (at most :data:`OUTPUT_CAP` characters, with a note when cut).
* ``{"op": "record", "key": ..., "name": ..., "seed": ...}``: record what the learner's
  ``name`` produces for the exercise ``key`` (:func:`course_utils.tools.grade_protocol.record`) into
  ``SCRATCH/out/<key>/`` with the exercise's own ``seed`` (sent only now); reply what the answer is
  (``identity``) and whether the learner's code called the course's answer while it ran (``used``,
  :func:`_watch`). The driver calls its own references to the recorder and the registry, taken
  before any learner code ran.
* ``{"op": "bind", "key": ..., "name": ..., "use": "answer" | "reference"}``: what later cells
  see under ``name``: the learner's function (it passed) or the course's.

The replies are data for the grader, which decides everything; a learner who forges one can only
make their own exercise fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

OUTPUT_CAP = 20_000


class _Capped(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int):
        self.cap, self.kept, self.dropped = cap, [], 0
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.kept.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        out = "".join(self.kept)
        if self.dropped:
            out += f"\n[... the grader kept the first {self.cap:,} characters of this cell's output; " \
                   f"{self.dropped:,} more were cut]"
        return out


class _Watch:
    """Notes a call of the course's answer to the exercise being recorded, made from the learner's code
    (see :func:`_watch`)."""

    key: str | None = None
    used: set[str] = set()
    targets: list[tuple[Any, str, set[str]]] = []   # (the function with its own code, its name, exercise keys)
    index: dict[int, int] = {}                      # id(a watched function) -> its target
    trusted: tuple[str, ...] = ()                   # where the course's, Python's and the libraries' code lives


_getframe = sys._getframe   # the driver's own, taken before any learner code runs


def _codes_of(obj) -> list:
    """The plain functions behind a course function or class (its methods, a property's getter)."""
    import inspect

    obj = inspect.unwrap(obj) if inspect.isfunction(obj) else obj
    if inspect.isfunction(obj):
        return [obj]
    if inspect.isclass(obj) and obj.__module__.startswith("course_utils"):
        members = [getattr(m, "fget", getattr(m, "__func__", m)) for m in vars(obj).values()]
        return [m for m in members if inspect.isfunction(m)]
    return []


def _watch(exercises) -> None:
    """Watch each course function that is (or is called by) an exercise's answer, before any learner code
    runs: the function object's own code is replaced by a trampoline that notes the call, then runs a copy
    with the original code. Every way to it (the module's name, ``EXERCISES[...].reference``,
    ``__wrapped__``, a closure, a lesson's alias) then reaches the watch."""
    import importlib
    import inspect
    import types

    from course_utils.tools import grade_protocol, grade_sandbox

    roots = {*grade_sandbox.package_paths(), *map(Path, (sys.prefix, sys.base_prefix, sys.exec_prefix))}
    _Watch.trusted = tuple({str(q) + "/" for p in roots for q in (p, p.resolve())}) + ("<frozen ", "<course watch")
    seen = _Watch.index
    for key, exercise in exercises.items():
        objs = [exercise.reference]
        for mod_name in ("losses", "models", "train", "layers"):
            mod = importlib.import_module(f"course_utils.core.{mod_name}")
            objs += [vars(mod)[n] for n in grade_protocol.answer_names(exercise) if n in vars(mod)]
        for fn in (f for obj in objs for f in _codes_of(obj)):
            if id(fn) in seen:
                _Watch.targets[seen[id(fn)]][2].add(key)
                continue
            copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
            copy.__kwdefaults__ = fn.__kwdefaults__
            seen[id(fn)] = len(_Watch.targets)
            _Watch.targets.append((copy, fn.__name__, {key}))
            free = fn.__code__.co_freevars
            src = ("def _outer():\n" + "".join(f"    {v} = None\n" for v in free) + "    def _t(*args, **kwargs):\n"
                   + (f"        ({', '.join(free)},)\n" if free else "")
                   + f"        return __course_watch__({seen[id(fn)]}, args, kwargs)\n    return _t\n")
            space: dict = {}
            exec(compile(src, f"<course watch {fn.__name__}>", "exec"), space)
            fn.__signature__ = inspect.signature(copy)
            fn.__globals__["__course_watch__"] = _called
            fn.__code__ = space["_outer"]().__code__


def _called(index: int, args, kwargs):
    copy, name, keys = _Watch.targets[index]
    if _Watch.key in keys:
        frame = _getframe(2)
        while frame is not None:
            if not frame.f_code.co_filename.startswith(_Watch.trusted):   # the learner's code called it
                _Watch.used.add(name)
                break
            frame = frame.f_back
    return copy(*args, **kwargs)


def _plain(fn):
    """The course's function with its own code, unwatched (what a failed exercise is bound to)."""
    index = _Watch.index.get(id(fn))
    return fn if index is None else _Watch.targets[index][0]


def main(scratch: str) -> None:
    reply = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    shell = _setup(scratch)
    from course_utils.tools import grade_protocol
    from course_utils.lessons.exercises import EXERCISES

    _watch(EXERCISES)
    # The driver's own references, taken before any learner code runs: a cell that replaces the module's
    # recorder, or the registry's entries, changes nothing the driver calls.
    mine = {"record": grade_protocol.record, "identity": grade_protocol.identity, "exercises": dict(EXERCISES),
            "answers": {}, "scratch": scratch, "send": lambda **fields: _send(reply, fields)}
    mine["send"](op="ready", pid=os.getpid())
    for line in requests:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        op = req.get("op")
        if op in _OPS:
            _OPS[op](shell, req, mine)
        elif op == "quit":
            mine["send"](status="ok")
            break
        else:
            mine["send"](status="error", ename="ValueError", evalue=f"unknown request {op!r}")
    os._exit(0)


def _send(reply, fields: dict) -> None:
    reply.write(json.dumps(fields) + "\n")
    reply.flush()


def _setup(scratch: str):
    """Standard streams to the log file, the IPython shell, the guard: before any learner code."""
    os.makedirs(os.path.join(scratch, ".grader"), exist_ok=True)
    log = os.open(os.path.join(scratch, ".grader", "output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
    sys.stderr = sys.stdout
    from IPython.core.interactiveshell import InteractiveShell

    from course_utils.tools.grade_kernel import GUARD

    shell = InteractiveShell.instance(colors="NoColor")
    shell.run_cell("%matplotlib agg", store_history=False, silent=True)
    space: dict = {}
    exec(GUARD, space)                                        # friendly refusals first; the sandbox is the wall
    space["__course_guard"](scratch, 0)
    return shell


def _cell(shell, req: dict, mine: dict) -> None:
    out = _Capped(OUTPUT_CAP)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = shell.run_cell(req.get("code", ""), store_history=False)
    error = result.error_before_exec or result.error_in_exec
    if error is None:
        mine["send"](status="ok", stdout=out.text())
    else:
        mine["send"](status="error", stdout=out.text(), ename=type(error).__name__, evalue=str(error)[:2000])


def _record(shell, req: dict, mine: dict) -> None:
    key, name, seed = req["key"], req["name"], int(req.get("seed", 0))
    answer = shell.user_ns.get(name)
    mine["answers"][key] = answer
    if answer is None:
        mine["send"](status="missing")
        return
    exercise = mine["exercises"][key]
    out = _Capped(OUTPUT_CAP)
    _Watch.key, _Watch.used = key, set()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            if "keras" in sys.modules:   # the same random weights on every run, whatever ran before
                sys.modules["keras"].utils.set_random_seed(seed % 2**31)
            note = mine["record"](exercise, answer, seed, Path(mine["scratch"]) / "out" / key)
            ident = mine["identity"](exercise, answer)
    except BaseException as exc:  # noqa: BLE001 - reported, judged by the grader
        mine["send"](status="error", ename=type(exc).__name__, evalue=str(exc)[:2000], stdout=out.text())
        return
    finally:
        used, _Watch.key = sorted(_Watch.used), None
    mine["send"](status="ok", note=note, identity=ident, used=used, stdout=out.text())


def _bind(shell, req: dict, mine: dict) -> None:
    key, name = req["key"], req["name"]
    answer = mine["answers"].get(key, shell.user_ns.get(name))
    if req.get("use") == "answer" and answer is not None:
        shell.user_ns[name] = answer
    else:
        shell.user_ns[name] = _plain(mine["exercises"][key].reference)
    mine["send"](status="ok")


_OPS = {"cell": _cell, "record": _record, "bind": _bind}


if __name__ == "__main__":
    main(sys.argv[1])
