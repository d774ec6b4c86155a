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
  ``SCRATCH/out/<key>/``; reply what the answer is (``identity``) and whether it called the
  course's answer while it ran (``used``).
* ``{"op": "bind", "key": ..., "name": ..., "use": "answer" | "reference"}``: what later cells
  see under ``name``: the learner's function (it passed) or the course's.

The replies are data for the grader, which decides everything; a learner who forges one can only
make their own exercise fail.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import sys

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
    """Notes a call of the course's answer to the exercise being recorded (see :func:`_watch`)."""

    key: str | None = None
    names: dict[str, set[str]] = {}
    used: set[str] = set()


def _watch(exercises) -> None:
    """Wrap each course function that is an exercise's answer, before any learner code runs."""
    import importlib
    import inspect

    from course_utils.tools import grade_protocol

    wrapped: dict[tuple[str, str], object] = {}
    for key, exercise in exercises.items():
        names = grade_protocol.answer_names(exercise)
        _Watch.names[key] = names
        for mod_name in ("losses", "models", "train", "layers"):
            mod = importlib.import_module(f"course_utils.{mod_name}")
            for name in names:
                fn = vars(mod).get(name)
                if inspect.isfunction(fn) and (mod_name, name) not in wrapped:
                    wrapped[(mod_name, name)] = _spy(fn, name)
                    setattr(mod, name, wrapped[(mod_name, name)])
        ref = exercise.reference
        if inspect.isfunction(ref):
            object.__setattr__(exercise, "reference", _spy(ref, ref.__name__))


_SAVED_KEYS: list = []


@contextlib.contextmanager
def _unwatched():
    """No call of the course's answer is noted in the block (the checker's own run of the reference)."""
    _SAVED_KEYS.append(_Watch.key)
    _Watch.key = None
    try:
        yield
    finally:
        _Watch.key = _SAVED_KEYS.pop()


@contextlib.contextmanager
def _rewatched():
    """Inside an unwatched block: the calls are noted again (the learner's own step, run by the checker)."""
    key = _Watch.key
    _Watch.key = _SAVED_KEYS[-1] if _SAVED_KEYS else key
    try:
        yield
    finally:
        _Watch.key = key


def _spy(fn, name):
    @functools.wraps(fn)
    def spy(*args, **kwargs):
        if _Watch.key is not None and name in _Watch.names.get(_Watch.key, ()):
            _Watch.used.add(name)
        return fn(*args, **kwargs)
    spy.__course_spy__ = fn
    return spy


def main(scratch: str) -> None:
    reply = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.makedirs(os.path.join(scratch, ".grader"), exist_ok=True)
    log = os.open(os.path.join(scratch, ".grader", "output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
    sys.stderr = sys.stdout

    def send(**fields) -> None:
        reply.write(json.dumps(fields) + "\n")
        reply.flush()

    from IPython.core.interactiveshell import InteractiveShell

    from course_utils.tools.grade_kernel import GUARD

    shell = InteractiveShell.instance(colors="NoColor")
    shell.run_cell("%matplotlib agg", store_history=False, silent=True)
    space: dict = {}
    exec(GUARD, space)                                        # friendly refusals first; the sandbox is the wall
    space["__course_guard"](scratch, 0)
    from course_utils.tools import grade_protocol
    from course_utils.lessons.exercises import EXERCISES

    _watch(EXERCISES)
    grade_protocol.unwatched = _unwatched
    grade_protocol.rewatched = _rewatched
    answers: dict[str, object] = {}
    send(op="ready", pid=os.getpid())
    for line in requests:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        op = req.get("op")
        if op == "cell":
            out = _Capped(OUTPUT_CAP)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                result = shell.run_cell(req.get("code", ""), store_history=False)
            error = result.error_before_exec or result.error_in_exec
            if error is None:
                send(status="ok", stdout=out.text())
            else:
                send(status="error", stdout=out.text(), ename=type(error).__name__, evalue=str(error)[:2000])
        elif op == "record":
            key, name = req["key"], req["name"]
            answer = shell.user_ns.get(name)
            answers[key] = answer
            if answer is None:
                send(status="missing")
                continue
            exercise = EXERCISES[key]
            out = _Capped(OUTPUT_CAP)
            _Watch.key, _Watch.used = key, set()
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    if "keras" in sys.modules:   # the same random weights on every run, whatever ran before
                        sys.modules["keras"].utils.set_random_seed(int(req.get("seed", 0)) % 2**31)
                    note = grade_protocol.record(exercise, answer, int(req.get("seed", 0)),
                                                 __import__("pathlib").Path(scratch) / "out" / key)
                    ident = grade_protocol.identity(exercise, _unspied(answer))
            except BaseException as exc:  # noqa: BLE001 - reported, judged by the grader
                send(status="error", ename=type(exc).__name__, evalue=str(exc)[:2000], stdout=out.text())
                continue
            finally:
                used, _Watch.key = sorted(_Watch.used), None
            send(status="ok", note=note, identity=ident, used=used, stdout=out.text())
        elif op == "bind":
            key, name = req["key"], req["name"]
            use = req.get("use")
            answer = answers.get(key, shell.user_ns.get(name))
            if use == "answer" and answer is not None:
                shell.user_ns[name] = answer
            else:
                shell.user_ns[name] = _unspied(EXERCISES[key].reference)
            send(status="ok")
        elif op == "quit":
            send(status="ok")
            break
        else:
            send(status="error", ename="ValueError", evalue=f"unknown request {op!r}")
    os._exit(0)


def _unspied(fn):
    return getattr(fn, "__course_spy__", fn)


if __name__ == "__main__":
    main(sys.argv[1])
