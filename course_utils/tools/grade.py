"""Grade a class: run every submitted notebook's exercises safely and write a gradebook.

    python -m course_utils grade SUBMISSIONS --out GRADES        (or: make grade SUBMISSIONS=...)

``SUBMISSIONS`` is a folder or a ``.zip`` of learner notebooks: one ``.ipynb`` per learner (any
file name; the learner is the file name), or one folder per learner holding the notebook. Read
it in this order:

1. :func:`collect`: the submissions, one per learner; files that are not notebooks are kept
   too, so that the gradebook has a line for them.
2. :func:`plan`: in one notebook, each exercise's cell found by the function name its check
   cell uses (``fn = exercises.check("01.fn", fn)``), whatever cells were moved, added or
   deleted, and the earlier cells it reads from (:func:`course_utils.lessons.notebook_cells.cells_needed`).
3. :func:`grade_notebook`: those cells run in a sandbox of the notebook's own
   (:mod:`course_utils.tools.grade_sandbox`: bubblewrap, or Docker/Podman; smoke profile, scratch
   folder, no network, nothing of the instructor's in view, memory, process and time limits),
   each cell within a time limit, the whole notebook within another; after each exercise cell the
   sandbox records what the learner's function produces (:mod:`course_utils.tools.grade_protocol`) and
   this process, which never runs learner code, decides the verdict from those data with the
   exercise's checker from the registry (:data:`course_utils.lessons.exercises.EXERCISES`). A sandbox that
   dies or runs out of time is replaced by a new one, which replays the cells before (each graded
   exercise bound to the learner's function if it passed, else to the course's), and grading goes
   on with the next exercise.
4. :func:`grade_class`: every submission (a bad one never stops the others), then
   ``grades.csv``, ``feedback/<learner>.html`` and ``summary.html`` (:mod:`course_utils.tools.grade_report`).

Each exercise ends in one status (:data:`STATUSES`); only ``passed`` earns its points.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import shutil
import stat
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

from course_utils.lessons import notebook_cells
from course_utils.tools.grade_report import STATUSES

IGNORED = {".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX"}


@dataclasses.dataclass
class Result:
    """One exercise of one learner."""

    key: str
    status: str
    points: int
    out_of: int
    message: str = ""
    code: str = ""


@dataclasses.dataclass
class Submission:
    """One learner's hand-in: a notebook (or a file that should have been one) and, once graded, its results."""

    learner: str
    path: Path | None
    shown: str                      # the path as the instructor knows it, relative to SUBMISSIONS
    problem: str = ""               # why it could not be graded at all (then every exercise is 0)
    results: dict[str, Result] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    sha256: str = ""                # of the notebook graded (or the file handed in)

    @property
    def total(self) -> int:
        return sum(r.points for r in self.results.values())


# =========================================================================== 1. collecting
def unpack(submissions: Path, into: Path) -> Path:
    """``submissions`` itself if it is a folder; a ``.zip`` unpacked into ``into`` (paths checked) otherwise."""
    if submissions.is_dir():
        return submissions
    if not submissions.exists():
        raise FileNotFoundError(f"{submissions}: no such folder or .zip of submissions")
    if submissions.suffix.lower() != ".zip":
        raise ValueError(f"{submissions}: expected a folder or a .zip of learner notebooks")
    try:
        with zipfile.ZipFile(submissions) as archive:
            for member in archive.namelist():
                parts = Path(member).parts
                if member.startswith("/") or ".." in parts:
                    raise ValueError(f"{submissions}: the archive holds an unsafe path {member!r}; unzip it yourself "
                                     "and pass the folder")
            archive.extractall(into)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{submissions}: not a readable .zip ({exc}); pass the folder instead") from None
    entries = [p for p in into.iterdir() if p.name not in IGNORED and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]   # a zip of the submissions folder itself (a class is more than one learner)
    return into


def _visible(folder: Path) -> list[Path]:
    """Every entry but the operating systems' own clutter (dot-files too: each gets a row)."""
    return sorted(p for p in folder.iterdir() if p.name not in IGNORED and p.name not in SKIPPED)


SKIPPED = {"__pycache__", ".ipynb_checkpoints"}


def printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 shown as U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


#: How deep the grader looks for a notebook inside a learner's folder (deeper folders are reported).
MAX_DEPTH = 12


def _notebooks_in(folder: Path) -> tuple[list[Path], list[str]]:
    """The notebooks under ``folder`` (at most :data:`MAX_DEPTH` levels), never through a symbolic link;
    and what was passed over (links, folders too deep)."""
    found, skipped = [], []
    stack = [(folder, "", 0)]
    while stack:
        here, shown, depth = stack.pop()
        for path in sorted(here.iterdir(), reverse=True):
            if path.name in IGNORED or path.name in SKIPPED:
                continue
            name = shown + printable(path.name)
            if path.is_symlink():
                skipped.append(f"{name} (a symbolic link)")
            elif path.is_dir() and depth + 1 >= MAX_DEPTH:
                skipped.append(f"{name}/ (more than {MAX_DEPTH} folders deep)")
            elif path.is_dir():
                stack.append((path, name + "/", depth + 1))
            elif path.suffix.lower() == ".ipynb" and path.is_file():
                found.append(path)
    return sorted(found), sorted(skipped)


def collect(root: Path) -> list[Submission]:
    """One :class:`Submission` per top-level file (learner = file name) or folder (learner = folder name).

    Every entry gets one (a dot-file too); a symbolic link is reported, never followed, and a name
    that is not valid UTF-8 is reported (shown with U+FFFD) and not graded.
    """
    found: list[Submission] = []
    for entry in _visible(root):
        shown = printable(entry.name)
        bad_name = shown != entry.name
        if entry.is_symlink():
            sub = Submission(shown, None, shown,
                             problem=f"a symbolic link: {shown} points elsewhere and the grader does not follow "
                                     "links; hand in the notebook itself")
        elif entry.is_dir():
            notebooks, links = _notebooks_in(entry)
            sub = Submission(shown, None, shown + "/")
            if not notebooks:
                sub.problem = f"no notebook: the folder {shown}/ holds no .ipynb file" + (
                    f" (symbolic links not followed, folders past {MAX_DEPTH} levels not searched: "
                    f"{', '.join(links[:5])})" if links else "")
            sub.candidates = notebooks   # type: ignore[attr-defined]
        else:
            learner = shown[: -len(".ipynb")] if shown.lower().endswith(".ipynb") else shown
            sub = Submission(learner, entry, shown)
        if bad_name and not sub.problem:
            sub.problem = (f"the file name is not valid UTF-8 (shown here as {shown!r}); rename it and grade again")
        found.append(sub)
    names = collections.Counter(s.learner for s in found)
    for sub in found:   # the same learner as a file and as a folder: keep the rows apart
        if names[sub.learner] > 1:
            sub.learner = sub.shown.rstrip("/")
    return found


def read_notebook(path: Path) -> tuple[Any | None, str]:
    """(the notebook, "") or (None, why it is not one), never raising."""
    import nbformat

    if path.suffix.lower() != ".ipynb":
        return None, (f"not a notebook: {path.name} is not a Jupyter notebook (.ipynb); ask for the notebook "
                      "itself (File > Download > .ipynb)")
    try:
        text = _read_no_link(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"not readable: {path.name} ({type(exc).__name__}); ask for the notebook again"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {path.name} is damaged ({exc.msg} at line {exc.lineno}); ask for the notebook again"
    except (ValueError, RecursionError) as exc:   # e.g. nested deeper than the parser goes
        return None, f"not a readable notebook: {path.name} ({type(exc).__name__}); ask for the notebook again"
    try:
        nb = nbformat.reads(text, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no cells")
    except Exception as exc:  # noqa: BLE001 - any reason nbformat gives
        return None, f"not a notebook: {path.name} is JSON but not a Jupyter notebook ({str(exc)[:80]})"
    return nb, ""


def _read_no_link(path: Path, cap: int = 64 * 2**20) -> bytes:
    """A regular file's bytes (at most ``cap``), refusing a symbolic link."""
    import os

    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        data = os.read(fd, cap + 1)
        chunks = [data]
        while data and sum(map(len, chunks)) <= cap:
            data = os.read(fd, 2**20)
            chunks.append(data)
        if sum(map(len, chunks)) > cap:
            raise OSError(f"{path.name} is larger than {cap // 2**20} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def sha256_of(path: Path | None) -> str:
    import hashlib

    try:
        return hashlib.sha256(_read_no_link(path)).hexdigest() if path is not None else ""
    except OSError:
        return ""


def lesson_of(nb) -> str | None:
    """The lesson a notebook belongs to: from its check cells' keys, else its title ``# NN ·``."""
    keys = [key for cell in nb.cells if cell.get("cell_type") == "code"
            for key, _ in notebook_cells.checks(notebook_cells.source_of(cell))]
    if keys:
        return collections.Counter(k.split(".")[0] for k in keys).most_common(1)[0][0]
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            match = re.match(r"\s*#\s+(\d\d)\b", notebook_cells.source_of(cell))
            if match:
                return match.group(1)
    return None


# =========================================================================== 2. planning
def course_function_names() -> dict[str, str]:
    """Each exercise's function name in the course's own notebooks (when this is a checkout)."""
    folder = Path(__file__).resolve().parents[2] / "notebooks"
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        for cell in cells:
            for key, name in notebook_cells.checks(notebook_cells.source_of(cell)):
                found.setdefault(key, name)
    return found


@dataclasses.dataclass
class Plan:
    """What to run of one notebook: code cells in order, and where each exercise is graded."""

    steps: list[tuple[str, Any]]          # ("cell", index), ("grade", key) or ("bind", key): the course's function
    sources: list[str | None]             # every code cell, check calls taken out (None: not run)
    cell_of: dict[str, int]               # exercise key -> the cell that defines its function
    name_of: dict[str, str]               # exercise key -> the function's name
    early: dict[str, Result]              # exercises decided without running (missing, syntax error)


def plan(nb, keys: list[str], points: dict[str, int], default_names: dict[str, str]) -> Plan:
    """Find each exercise's cell by its function's name and the cells it reads from; see the module doc."""
    code = [notebook_cells.source_of(c) for c in nb.cells if c.get("cell_type") == "code"]
    check_at: dict[str, tuple[int, str]] = {}
    for i, source in enumerate(code):
        for key, name in notebook_cells.checks(source):
            check_at.setdefault(key, (i, name))
    sources: list[str | None] = []
    for source in code:
        stripped = notebook_cells.strip_checks(source)
        sources.append(stripped if stripped.strip() else None)
    cell_of, name_of, early = {}, {}, {}
    for key in keys:
        name = check_at.get(key, (None, None))[1] or default_names.get(key) or key.split(".", 1)[1]
        name_of[key] = name
        defining = [i for i, s in enumerate(sources) if s is not None and notebook_cells.defines(s, name)]
        before = [i for i in defining if key not in check_at or i < check_at[key][0]]
        chosen = (before or defining or [None])[-1]
        if chosen is None:
            early[key] = Result(key, "missing", 0, points[key],
                                f"no cell defines `{name}`: was the exercise cell deleted, or the function renamed? "
                                f"Keep `def {name}(...)` as the lesson gives it.")
            continue
        try:
            compile(sources[chosen] or "", f"cell {chosen}", "exec")
        except SyntaxError as exc:
            if notebook_cells.names(sources[chosen] or "") is None:
                early[key] = Result(key, "syntax error", 0, points[key],
                                    f"SyntaxError on line {exc.lineno} of the cell: {exc.msg}", code[chosen])
                continue
        cell_of[key] = chosen
    needed = notebook_cells.cells_needed(sources, set(cell_of.values()))
    # An exercise without a usable cell costs only its own points: later cells get the course's function.
    steps: list[tuple[str, Any]] = [("bind", key) for key in keys if key in early]
    for i in sorted(needed):
        steps.append(("cell", i))
        steps += [("grade", key) for key in keys if cell_of.get(key) == i]
    return Plan(steps, sources, cell_of, name_of, early)


# =========================================================================== 3. running one notebook
@dataclasses.dataclass
class Limits:
    """How long and how much: seconds per cell (exercise or not), per notebook; memory in GB."""

    exercise_seconds: float = 90.0
    notebook_seconds: float = 600.0
    memory_gb: float | None = 6.0
    scratch_mb: float = 1024.0      # what a notebook's scratch folder may hold (grade_sandbox.SCRATCH_BYTES)
    scratch_files: int = 20_000     # files and folders in it (grade_sandbox.SCRATCH_ENTRIES)

    def scratch(self) -> dict:
        """The scratch caps, as :class:`course_utils.tools.grade_sandbox.Sandbox` takes them."""
        return {"scratch_bytes": int(self.scratch_mb * 2**20), "scratch_entries": int(self.scratch_files)}


#: The note an answer gets when it is, or calls, the course's own reference.
USED_REFERENCE = "used the course's reference"
_VERIFY = threading.Lock()   # the grader's own checks run one at a time (Keras's global state)
_FILES = re.compile(r"^(calls\.json|outputs\.npz|call\d{1,4}\.keras)$")


def _copy_out(scratch: Path, key: str, into: Path, cap: int = 256 * 2**20) -> Path:
    """Copy what the sandbox wrote for ``key`` into the grader's own folder: regular files of the
    expected names only, never through a symbolic link, at most ``cap`` bytes in all."""
    import os

    into.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK   # no link followed, no FIFO waited on
    total = 0
    fds = [os.open(scratch, flags | os.O_DIRECTORY)]
    try:
        for part in ("out", key):
            fds.append(os.open(part, flags | os.O_DIRECTORY, dir_fd=fds[-1]))
        for name in os.listdir(fds[-1]):
            if not _FILES.match(name):
                continue
            fd = os.open(name, flags, dir_fd=fds[-1])
            try:
                info = os.fstat(fd)
                total += info.st_size
                if not stat.S_ISREG(info.st_mode) or total > cap:
                    continue
                with open(into / name, "wb") as target:
                    while chunk := os.read(fd, 2**20):
                        target.write(chunk)
            finally:
                os.close(fd)
    finally:
        for fd in fds:
            os.close(fd)
    return into


def _package_file(path: str) -> bool:
    from course_utils.tools import grade_sandbox

    return bool(path) and any(path.startswith(str(p) + "/") for p in grade_sandbox.package_paths())


def _verdict(key: str, folder: Path, seed: int) -> tuple[str, str]:
    """(status, message) of the recorded data in ``folder``, decided here (no learner code runs)."""
    from course_utils.tools import grade_protocol
    from course_utils.lessons.checkers import ExerciseError, NotWrittenYet
    from course_utils.lessons.exercises import EXERCISES

    with _VERIFY:
        try:
            grade_protocol.verify(EXERCISES[key], folder, seed)
        except grade_protocol.NeedsSandbox:
            return "failed", ("the check found no results of your answer to compare (did the cell change the "
                              "course's checkers?)")
        except (NotWrittenYet, NotImplementedError):
            return "not attempted", ""
        except ExerciseError as exc:
            return "failed", str(exc)
        except MemoryError:
            return "failed", "MemoryError while checking your answer's results"
        except Exception as exc:  # noqa: BLE001 - recorded data the checker cannot use
            return "failed", f"the check raised {type(exc).__name__}: {str(exc)[:500]}"
    return "passed", ""


class _Spare:
    """A sandbox started ahead, while the notebook before is graded (the second core starts its Python and
    TensorFlow): :meth:`take` waits until it is ready and hands it over, or None if it could not start.
    It is started from this thread: a sandbox dies with the thread that started it (``--die-with-parent``)."""

    def __init__(self, backend: str, memory: int | None, scratch: dict | None = None):
        import os

        from course_utils.tools import grade_sandbox

        self.work = Path(tempfile.mkdtemp(prefix="course-grade-spare-"))
        os.chmod(self.work, 0o700)
        (self.work / "sandbox").mkdir()
        try:
            self.box = grade_sandbox.Sandbox(self.work / "sandbox", backend, memory, wait=False, **(scratch or {}))
        except Exception:  # noqa: BLE001 - the notebook then starts its own
            self.box = None

    def take(self, into: Path):
        """The started sandbox, its files moved under ``into`` (removed with the notebook's own)."""
        if self.box is not None:
            try:
                self.box.wait_ready()
            except RuntimeError:
                self.box = None
        if self.box is None:
            shutil.rmtree(self.work, ignore_errors=True)
            return None
        self.work.rename(into / "spare")
        self.box.scratch = into / "spare" / "sandbox"
        self.box.log_path = into / "spare" / "sandbox.log"
        return self.box

    def close(self) -> None:
        if self.box is not None:
            self.box.close()
        shutil.rmtree(self.work, ignore_errors=True)


def grade_notebook(nb, keys: list[str], points: dict[str, int], limits: Limits,
                   default_names: dict[str, str] | None = None, sandbox: str | None = None,
                   seed: int | None = None, on_step: Callable[[str], None] | None = None,
                   spare: "_Spare | None" = None) -> tuple[dict[str, Result], list[str]]:
    """Grade one notebook's exercises ``keys`` in a fresh sandbox: (results by key, notes).

    The sandbox (:mod:`course_utils.tools.grade_sandbox`, backend ``sandbox`` or the best there is) runs
    the cells and records what each answer produces (:mod:`course_utils.tools.grade_protocol`); this
    process, which runs no learner code, decides each verdict from those data.
    """
    import secrets

    from course_utils.tools import grade_sandbox

    backend = grade_sandbox.find_backend(sandbox)
    if backend is None:
        raise grade_sandbox.SandboxMissing(grade_sandbox.MISSING)
    seed = secrets.randbits(31) if seed is None else seed
    the_plan = plan(nb, keys, points, default_names if default_names is not None else course_function_names())
    run = _NotebookRun(nb, the_plan, keys, points, limits, backend, seed, on_step, spare)
    try:
        run.run_all()
    finally:
        run.close()
    return run.finish()


class _NotebookRun:
    """One notebook in its sandbox(es): the steps of :func:`grade_notebook`, in order."""

    def __init__(self, nb, the_plan: Plan, keys, points, limits: Limits, backend: str, seed: int, on_step, spare):
        import os

        self.plan, self.keys, self.points, self.limits, self.backend = the_plan, keys, points, limits, backend
        self.seed, self.on_step, self.spare = seed, on_step, spare
        self.code = [notebook_cells.source_of(c) for c in nb.cells if c.get("cell_type") == "code"]
        self.results: dict[str, Result] = dict(the_plan.early)
        self.notes: list[str] = []
        self.deadline = time.monotonic() + limits.notebook_seconds
        self.work = Path(tempfile.mkdtemp(prefix="course-grade-"))
        os.chmod(self.work, 0o700)
        self.box, self.boxes = None, 0
        self.failed_cells: set[int] = set()
        self.done: list[tuple[str, Any]] = []
        self.started: dict[str, float] = {}
        self.memory = int(limits.memory_gb * 2**30) if limits.memory_gb else None

    def left(self, cap: float) -> float:
        return min(cap, self.deadline - time.monotonic())

    def bind(self, sb, key: str, passed: bool) -> None:
        sb.request({"op": "bind", "key": key, "name": self.plan.name_of[key],
                    "use": "answer" if passed else "reference"}, timeout=60)

    def cell_request(self, sb, what: int, timeout: float):
        return sb.request({"op": "cell", "code": self.plan.sources[what] or "", "label": f"cell {what + 1}"},
                          timeout=timeout)

    def fresh_box(self):
        from course_utils.tools import grade_sandbox

        self.boxes += 1
        sb = self.spare.take(self.work) if self.spare is not None and self.boxes == 1 else None
        if sb is None:
            scratch = self.work / f"sandbox{self.boxes}"
            scratch.mkdir()
            sb = grade_sandbox.Sandbox(scratch, self.backend, self.memory, **self.limits.scratch())
        for kind, what in self.done:   # replay what came before, quietly
            if kind == "cell" and what not in self.failed_cells:
                self.cell_request(sb, what, max(1.0, self.left(self.limits.exercise_seconds)))
            elif kind == "bind" or (kind == "grade" and what in self.plan.cell_of):
                self.bind(sb, what, kind == "grade" and what in self.results and self.results[what].status == "passed")
        return sb

    def drop_box(self) -> None:
        self.box.close()
        self.box = None

    def lost(self, outcome, owners: list[str], what: int | None) -> None:
        from course_utils.tools import grade_sandbox

        limits = self.limits
        status = "time limit" if outcome.status == "timeout" else "kernel died"
        message = (outcome.evalue if outcome.evalue.startswith(grade_sandbox.SCRATCH_NOTE) else
                   f"did not finish within the time limit ({limits.exercise_seconds:g} s per cell, "
                   f"{limits.notebook_seconds:g} s per notebook): look for a loop that never ends"
                   if status == "time limit" else
                   f"the kernel died while this ran: a crash, or memory past the limit ({limits.memory_gb or 0:g} GB)"
                   + (f": {outcome.evalue}" if outcome.evalue else ""))
        for key in owners:
            self.results[key] = Result(key, status, 0, self.points[key], message, self.code[self.plan.cell_of[key]])
        if not owners and what is not None:
            self.notes.append(f"code cell {what + 1} (not an exercise) {message}")

    def run_all(self) -> None:
        for kind, what in self.plan.steps:
            if time.monotonic() >= self.deadline:
                break
            if self.box is None:
                self.box = self.fresh_box()
            if kind == "bind" or (kind == "grade" and what in self.results):   # the course's stands in
                self.bind(self.box, what, False)
            elif kind == "cell":
                self.run_cell(what)
            else:
                self.grade(what)
            self.done.append((kind, what))

    def run_cell(self, what: int) -> None:
        owners = [k for k in self.keys if self.plan.cell_of.get(k) == what]
        if self.on_step is not None:
            self.on_step(", ".join(owners) if owners else f"cell {what + 1}")
        for key in owners:
            self.started[key] = time.monotonic()
        outcome = self.cell_request(self.box, what, self.left(self.limits.exercise_seconds))
        if outcome.status in ("timeout", "dead"):
            self.failed_cells.add(what)
            self.lost(outcome, owners, what)
            self.drop_box()
        elif outcome.status == "error":
            self.failed_cells.add(what)
            message = f"the cell raised {outcome.ename}: {outcome.evalue}"
            for key in owners:
                self.results[key] = Result(key, "blocked" if outcome.blocked else "error", 0, self.points[key],
                                           message, self.code[what])
            if not owners:
                self.notes.append(f"code cell {what + 1} (not an exercise) raised {outcome.ename}: {outcome.evalue}")

    def grade(self, key: str) -> None:
        """Record the answer in the sandbox (its own seed, sent only now), then decide here."""
        from course_utils.tools import grade_protocol
        from course_utils.lessons.exercises import EXERCISES

        if self.on_step is not None:
            self.on_step(key)
        exercise, source = EXERCISES[key], self.code[self.plan.cell_of[key]]
        seed = grade_protocol.exercise_seed(self.seed, key)
        spent = time.monotonic() - self.started.get(key, time.monotonic())
        outcome = self.box.request({"op": "record", "key": key, "name": self.plan.name_of[key], "seed": seed},
                                   timeout=self.left(self.limits.exercise_seconds - spent))
        if outcome.status in ("timeout", "dead"):
            self.lost(outcome, [key], None)
            self.drop_box()
            return
        if outcome.status == "missing":
            status, message = "missing", f"the cell ran but did not define `{self.plan.name_of[key]}`"
        elif outcome.status != "ok":
            status, message = "failed", f"recording your answer raised {outcome.ename}: {outcome.evalue}"
        else:
            status, message = self.judge(key, exercise, source, outcome.reply, seed)
        self.results[key] = Result(key, status, self.points[key] if status == "passed" else 0, self.points[key],
                                   message, source)
        self.bind(self.box, key, status == "passed")

    def judge(self, key: str, exercise, source: str, reply: dict, seed: int) -> tuple[str, str]:
        from course_utils.tools import grade_protocol

        used = grade_protocol.source_uses_reference(source, exercise)
        ident = reply.get("identity") or {}
        if not used and (ident.get("is_reference") or reply.get("used") or _package_file(str(ident.get("file", "")))
                         or str(ident.get("module", "")).startswith("course_utils")):
            used = "the course's function"
        if used:
            return USED_REFERENCE, f"{USED_REFERENCE} ({used}): the exercise asks for your own code, so it earns no points."
        try:
            folder = _copy_out(self.box.scratch, key, self.work / "checked" / key)
            status, message = _verdict(key, folder, seed)
        except OSError as exc:
            status, message = "failed", f"the grader could not read your answer's results ({exc.strerror})"
        if "grader:" in message and status != "passed":
            status = "blocked"
        return status, message

    def close(self) -> None:
        if self.box is not None:
            self.box.close()
        if self.spare is not None and self.boxes == 0:   # started for this notebook, never used
            self.spare.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def finish(self) -> tuple[dict[str, Result], list[str]]:
        for key in self.keys:
            if key not in self.results:
                self.results[key] = Result(
                    key, "not graded", 0, self.points[key], f"the notebook's time limit ({self.limits.notebook_seconds:g} "
                    "s) ran out before this exercise", self.code[self.plan.cell_of[key]] if key in self.plan.cell_of else "")
        return {key: self.results[key] for key in self.keys}, self.notes


# =========================================================================== 4. a class
def lesson_keys(lesson: str) -> tuple[list[str], dict[str, int]]:
    """The registered exercises of a lesson, in order, and their points."""
    from course_utils.lessons.exercises import EXERCISES

    keys = [k for k in EXERCISES if k.split(".")[0] == lesson]
    if not keys:
        lessons = sorted({k.split(".")[0] for k in EXERCISES})
        raise ValueError(f"lesson {lesson!r} has no registered exercise; lessons with exercises: {', '.join(lessons)}")
    return keys, {k: int(getattr(EXERCISES[k], "points", 1)) for k in keys}


def _pick_notebooks(subs: list[Submission]) -> dict[str, Any]:
    """Read each submission's notebook; for a learner folder, the one notebook of the most common lesson."""
    read: dict[str, Any] = {}
    for sub in subs:
        if sub.problem:
            continue
        if sub.path is not None:
            nb, why = read_notebook(sub.path)
            if nb is None:
                sub.problem = why
            else:
                read[sub.learner] = nb
        else:
            options = []
            for path in getattr(sub, "candidates", []):
                nb, _ = read_notebook(path)
                if nb is not None:
                    options.append((path, nb))
            if not options:
                sub.problem = f"no readable notebook in {sub.shown}"
            else:
                sub.options = options   # type: ignore[attr-defined]
    return read


def choose_lesson(lessons: list[str | None]) -> str:
    """The lesson most submissions belong to; a tie is an error that asks for ``--lesson``."""
    counts = collections.Counter(x for x in lessons if x)
    if not counts:
        raise ValueError("none of the submissions is a lesson notebook of this course; nothing to grade")
    top = counts.most_common()
    if len(top) > 1 and top[0][1] == top[1][1]:
        tied = ", ".join(f"lesson {lesson} ({n})" for lesson, n in top if n == top[0][1])
        raise ValueError(f"the submissions are split between {tied}: say which to grade with --lesson NN")
    return top[0][0]


def grade_class(submissions: Path, out: Path, lesson: str | None = None, limits: Limits | None = None,
                workers: int = 1, progress: bool = True,
                on_done: Callable[[Submission], None] | None = None, sandbox: str | None = None) -> dict[str, Any]:
    """Grade every submission and write the gradebook into ``out``; returns the JSON line's fields.

    ``sandbox``: the backend (:mod:`course_utils.tools.grade_sandbox`), ``"none"`` for none (only for
    notebooks you trust); by default the best one here, and an error when there is none.
    """
    import secrets

    from course_utils.tools import grade_report, grade_sandbox

    try:
        import IPython  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"grading needs {exc.name}: pip install 'course_utils[grade]'") from None
    backend = grade_sandbox.find_backend(sandbox)
    if backend is None:
        raise grade_sandbox.SandboxMissing(grade_sandbox.MISSING)
    seed = secrets.randbits(31)   # each exercise's inputs are drawn from a seed derived from it, never in a notebook
    # This process checks the recorded data with Keras: import it while the first sandbox starts (another core).
    threading.Thread(target=_warm_up, daemon=True).start()
    limits = limits or Limits()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="course-submissions-") as tmp:
        root = unpack(Path(submissions), Path(tmp))
        subs = collect(root)
        if not subs:
            raise ValueError(f"{submissions}: no submission in it (expected .ipynb files or one folder per learner)")
        read = _pick_notebooks(subs)
        lesson = _settle_lesson(subs, read, lesson, root)
        keys, points = lesson_keys(lesson)
        names = course_function_names()
        todo = [s for s in subs if not s.problem]

        def one(sub: Submission, spare: _Spare | None = None) -> Submission:
            begun = time.monotonic()
            try:
                sub.results, sub.notes = grade_notebook(
                    read[sub.learner], keys, points, limits, names, sandbox=backend, seed=seed,
                    on_step=lambda what: bar.set_postfix_str(grade_report.plain(f"{sub.learner}: {what}")[:60],
                                                             refresh=True), spare=spare)
            except Exception as exc:  # noqa: BLE001 - one bad notebook never stops the others
                sub.problem = f"could not be graded: {type(exc).__name__}: {exc}"
            sub.seconds = time.monotonic() - begun
            return sub

        bar = _progress(len(todo), progress)
        _grade_all(todo, one, workers, backend, limits, bar, on_done)
        bar.close()
        for sub in subs:
            sub.sha256 = sha256_of(sub.path)
            if sub.problem:
                sub.results = {k: Result(k, "not graded", 0, points[k], sub.problem) for k in keys}
        written = grade_report.write(out, subs, keys, points, lesson, limits)
    totals = [s.total for s in subs]
    return {"lesson": lesson, "submissions": len(subs), "graded": len(todo) - sum(1 for s in todo if s.problem),
            "not_graded": sum(1 for s in subs if s.problem), "out_of": sum(points.values()),
            "mean_total": round(sum(totals) / len(totals), 3),
            "pass_rate": {k: round(sum(s.results[k].status == "passed" for s in subs) / len(subs), 3) for k in keys},
            **{name: str(path) for name, path in written.items()}, "seconds": round(time.time() - started, 1)}


def _settle_lesson(subs: list[Submission], read: dict[str, Any], lesson: str | None, root: Path) -> str:
    """The lesson graded (``lesson``, or the one most notebooks belong to); each learner folder's notebook of
    it chosen; a notebook of another lesson, or of none, gets its problem."""
    folder_lessons = {s.learner: [lesson_of(nb) for _, nb in s.options] for s in subs if hasattr(s, "options")}
    found = [lesson_of(nb) for nb in read.values()] + [x for v in folder_lessons.values() for x in v]
    lesson = lesson or choose_lesson(found)
    for sub in subs:
        if hasattr(sub, "options"):
            mine = [(p, nb) for p, nb in sub.options if lesson_of(nb) == lesson]
            if len(mine) == 1:
                sub.path, sub.shown = mine[0][0], str(mine[0][0].relative_to(root))
                read[sub.learner] = mine[0][1]
            elif mine:
                sub.problem = (f"several notebooks of lesson {lesson} in {sub.shown}: "
                               f"{', '.join(p.name for p, _ in mine)}; keep one and grade again")
            else:
                sub.path = sub.options[0][0]
                read[sub.learner] = sub.options[0][1]
        nb = read.get(sub.learner)
        if nb is not None and not sub.problem and lesson_of(nb) != lesson:
            other = lesson_of(nb)
            sub.problem = (f"wrong lesson: {sub.shown} is lesson {other}'s notebook" if other else
                           f"not a lesson notebook: {sub.shown} has no exercise check of the course") + \
                          f"; this class is graded on lesson {lesson}"
    return lesson


def _grade_all(todo: list[Submission], one: Callable, workers: int, backend: str, limits: Limits, bar,
               on_done: Callable[[Submission], None] | None) -> None:
    """``one`` on every submission: ``workers`` at a time, or one after another with the next sandbox started
    ahead (:class:`_Spare`)."""
    if workers > 1 and len(todo) > 1:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(workers) as pool:
            for sub in pool.map(one, todo):
                bar.update(1)
                if on_done:
                    on_done(sub)
        return
    memory = int(limits.memory_gb * 2**30) if limits.memory_gb else None
    spare = None
    try:
        for i, sub in enumerate(todo):
            current, spare = spare, None
            if i + 1 < len(todo):   # the next notebook's sandbox starts while this one is graded
                spare = _Spare(backend, memory, limits.scratch())
            one(sub, current)
            bar.update(1)
            if on_done:
                on_done(sub)
    finally:
        if spare is not None:
            spare.close()


def _warm_up() -> None:
    try:
        from course_utils.tools import grade_protocol
        from course_utils.core import layers, losses, models, train# noqa: F401
    except Exception:  # noqa: BLE001 - the checks import them again and report
        pass


def _progress(total: int, show: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="grading notebooks", unit="notebook", disable=not show, leave=False)
