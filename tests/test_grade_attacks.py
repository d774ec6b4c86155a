"""Issue 34: a learner attacking the grader, each attack of the issue's table in a real lesson 01 notebook.

One class is graded once (the module fixture below) and each test asserts one row of the table from
its gradebook, feedback and the files around it. The attacks:

| row | attack | where |
| 1 | ``np.allclose`` and the checkers' ``run`` replaced, in an unsolved notebook | forger |
| 2 | a forked ``setsid`` process that waits to rewrite ``grades.csv`` | forger |
| 3 | ``os.open``/``rename``/``unlink`` with ``dir_fd``: a classmate's hand-in, a planted file, the package | forger |
| 4 | ``/proc/<ppid>/cmdline``, files, environment raised as an error | leaker |
| 5 | ``ctypes.CDLL(None).system(...)`` | forger |
| 6 | the course's reference returned as the answer (plainly and hidden) | copier |
| 7 | an endless loop in a helper cell | its own small notebook (short time limit) |
| 8 | a flood of prints; forking many children | forger, leaker |
| 9 | an honest error in exercise 1's cell | leaker (its exercise 4 must still pass) |
| 10-13 | a non-UTF-8 name, a dot-file, ``=HYPERLINK(...)``, symbolic links | files of the class |
| more | the log quoted when a sandbox dies linked to the instructor's file; the recorded folder a link; a
  ``Lambda`` layer in the saved network | sneaky |

Set ``COURSE_REQUIRE_SANDBOX=1`` (CI does) to fail instead of skipping where bubblewrap is missing.
"""

import csv
import hashlib
import os
import time
from pathlib import Path

import nbformat
import pytest

from course_utils import grade, grade_report, grade_sandbox
from course_utils.lessons.exercises import EXERCISES

from test_grade import ROOT, cell_defining, keys_of, need_sandbox, versions  # noqa: E402 - the tests' helpers

pytestmark = pytest.mark.slow
SECRET = "TOPSECRET-9f2c41"          # in the instructor's file, never in any notebook
ENV_SECRET = "ENVSECRET-77ab10"      # in the grader's environment
CLASSMATE = "CLASSMATE-MARKER-5521"  # in a classmate's code


def append_to(nb, name: str, code: str) -> None:
    """Add ``code`` after the definition of ``name`` in its exercise cell."""
    cell = nb.cells[cell_defining(nb, name)]
    lines = cell.source.splitlines()
    checks = [ln for ln in lines if "exercises.check(" in ln]
    rest = [ln for ln in lines if "exercises.check(" not in ln]
    cell.source = "\n".join(rest) + "\n\n" + code + ("\n\n" + "\n".join(checks) if checks else "")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def comm_names() -> set[str]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found.add(Path(f"/proc/{entry}/comm").read_text().strip())
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    need_sandbox()
    tmp = tmp_path_factory.mktemp("attacks")
    root, out, home = tmp / "submissions", tmp / "grades", tmp / "home"
    root.mkdir()
    home.mkdir()
    (home / "secret.txt").write_text(SECRET)
    out.mkdir()
    (out / "grades.csv").write_text("previous gradebook\n")
    package_file = ROOT / "course_utils" / "lessons" / "exercise_sets" / "lesson01.py"
    before = {"package": sha(package_file)}

    classmate = versions("01")[1]
    append_to(classmate, "discriminator_loss", f"# {CLASSMATE}")
    nbformat.write(classmate, root / "classmate.ipynb")
    before["classmate"] = sha(root / "classmate.ipynb")

    forger = versions("01")[0]                    # nothing solved
    append_to(forger, "discriminator_loss", f'''
import numpy as np
from course_utils import checkers, exercises as _ex
from course_utils.lessons.exercise_sets import lesson01 as _l1
np.allclose = lambda *a, **k: True                                   # row 1
np.isclose = lambda *a, **k: True
for _cls in {{type(e) for e in _ex.EXERCISES.values()}} | {{checkers.Exercise, _l1._NetworkExercise, _l1._StepExercise}}:
    _cls.run = lambda self, answer: True
checkers.check_function = checkers.check_model_builder = checkers.check_same_update = lambda *a, **k: True
checkers.check_step = lambda *a, **k: True
''')
    append_to(forger, "generator_loss", f'''
import ctypes, os, time
for _ in range(200000):                                              # row 8: a flood of prints
    print("flood")
_libc = ctypes.CDLL(None)
_libc.system(b"touch {root}/planted_by_system.ipynb {tmp}/ctypes_was_here")   # row 5
for _path, _name in (("{root}", "classmate.ipynb"), ("{package_file.parent}", "lesson01.py")):   # row 3
    try:
        _fd = os.open(_path, os.O_RDONLY)
        _w = os.open(_name, os.O_WRONLY | os.O_APPEND, dir_fd=_fd)
        os.write(_w, b"\\nprint('owned')\\n")
        os.rename(_name, "renamed", src_dir_fd=_fd, dst_dir_fd=_fd)
    except OSError:
        pass
    try:
        os.close(os.open("planted_by_dir_fd.ipynb", os.O_WRONLY | os.O_CREAT, dir_fd=os.open(_path, os.O_RDONLY)))
    except OSError:
        pass
if os.fork() == 0:                                                   # row 2
    os.setsid()
    _libc.prctl(15, b"evilchild", 0, 0, 0)
    for _ in range(120):
        time.sleep(0.5)
        for _target in ("{out}/grades.csv", "{root}/classmate.ipynb"):
            try:
                with open(_target, "a") as _f:
                    _f.write("FORGED")
            except OSError:
                pass
    os._exit(0)
''')
    nbformat.write(forger, root / "forger.ipynb")

    leaker = versions("01")[1]                    # everything solved but exercise 1 (an honest error: row 9)
    cell = leaker.cells[cell_defining(leaker, "discriminator_loss")]
    cell.source = "scale = undefined_name_in_my_cell\n" + cell.source
    append_to(leaker, "generator_loss", f'''
import os, glob
_found = []
for _pid in ("1", str(os.getppid()), "self"):                       # row 4
    try:
        _found.append(open(f"/proc/{{_pid}}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
    except OSError as e:
        _found.append(repr(e))
for _path in ("{home}/secret.txt", "{root}/classmate.ipynb", "{out}/grades.csv", "/root/.bashrc"):
    try:
        _found.append(open(_path).read()[-3000:])
    except OSError as e:
        _found.append(repr(e))
for _folder in ("{ROOT}/solutions", "{root}", "{home}"):
    try:
        _found.append(" ".join(os.listdir(_folder)))
    except OSError as e:
        _found.append(repr(e))
_found.append(" ".join(f"{{k}}={{v}}" for k, v in os.environ.items()))
_kids = 0
for _ in range(1000):                                                # row 8: no process-count limit?
    try:
        if os.fork() == 0:
            import time
            time.sleep(30)
            os._exit(0)
        _kids += 1
    except OSError:
        break
_found.append(f"forked {{_kids}} children")
raise RuntimeError(" | ".join(_found))
''')
    nbformat.write(leaker, root / "leaker.ipynb")

    copier = versions("01")[1]                    # row 6
    cell = copier.cells[cell_defining(copier, "discriminator_loss")]
    cell.source = ('def discriminator_loss(real_logits, fake_logits):\n'
                   '    from course_utils.lessons.exercises import EXERCISES\n'
                   '    return EXERCISES["01.discriminator_loss"].reference(real_logits, fake_logits)\n\n'
                   'discriminator_loss = exercises.check("01.discriminator_loss", discriminator_loss)\n')
    cell = copier.cells[cell_defining(copier, "generator_loss")]
    cell.source = ('def generator_loss(fake_logits):\n'
                   '    return losses.generator_loss(fake_logits)\n')
    cell = copier.cells[cell_defining(copier, "build_generator")]
    cell.source = ('def build_generator(latent_dim=100, filters=256):\n'
                   '    module = __import__("course_utils.mod" + "els", fromlist=["x"])\n'
                   '    return getattr(module, "dcgan_" + "generator")(latent_dim, base_filters=filters)\n')
    nbformat.write(copier, root / "copier.ipynb")

    # A second set, against what the sandbox and the data-only protocol add: the folder the sandbox records
    # an exercise into replaced by a symbolic link, and a network with a Lambda layer (code inside the file).
    sneaky = versions("01")[1]
    append_to(sneaky, "discriminator_loss", f'''
import ctypes, os
os.remove("/scratch/.grader/output.log")            # the log the grader quotes when a sandbox dies...
os.symlink("{home}/secret.txt", "/scratch/.grader/output.log")   # ...made a link to the instructor's file
ctypes.string_at(0)                                  # and the sandbox crashes
''')
    append_to(sneaky, "generator_loss", '''
import os
os.makedirs("/scratch/elsewhere", exist_ok=True)
os.makedirs("/scratch/out", exist_ok=True)
os.symlink("/scratch/elsewhere", "/scratch/out/01.train_step")
''')
    append_to(sneaky, "build_generator", '''
_honest_build_generator = build_generator
def build_generator(latent_dim=100, filters=256):
    net = _honest_build_generator(latent_dim, filters)
    return keras.Sequential([net, keras.layers.Lambda(lambda t: t * 1.0)])
''')
    nbformat.write(sneaky, root / "sneaky.ipynb")

    # A wrong training step (it takes every update twice) that also forges the multi-step checker and NumPy:
    # the grader compares its recorded trace with the reference's, so the step fails all the same.
    doubler = versions("01")[1]
    append_to(doubler, "gan_train_step", '''
import numpy as np
from course_utils import checkers
_right_step = gan_train_step
def gan_train_step(*args, **kwargs):
    _right_step(*args, **kwargs)
    return _right_step(*args, **kwargs)
checkers.check_training_step = lambda *a, **k: True
np.allclose = np.isclose = lambda *a, **k: True
''')
    nbformat.write(doubler, root / "doubler.ipynb")

    (root / ".late_submission.ipynb").write_text('{"cells": [', encoding="utf-8")       # row 11
    (root / '=HYPERLINK("evil.example","click").ipynb').write_text("{}", encoding="utf-8")   # row 12
    os.symlink(home / "secret.txt", root / "linked.ipynb")                              # row 13
    (root / "folder_with_link").mkdir()
    os.symlink(root / "classmate.ipynb", root / "folder_with_link" / "mine.ipynb")
    bad = os.fsencode(str(root)) + b"/bad\xff\xfename.ipynb"                            # row 10
    with open(bad, "wb") as f:
        f.write(b"{}")

    os.environ["COURSE_TEST_INSTRUCTOR_SECRET"] = ENV_SECRET
    limits = grade.Limits(exercise_seconds=600, notebook_seconds=1800, memory_gb=6)
    try:
        line = grade.grade_class(root, out, lesson="01", limits=limits, workers=2, progress=False)
    finally:
        del os.environ["COURSE_TEST_INSTRUCTOR_SECRET"]
    ended = time.monotonic()
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        rows = {r["learner"]: r for r in csv.DictReader(f)}
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (out / "feedback").iterdir()}
    return {"line": line, "rows": rows, "pages": pages, "root": root, "out": out, "tmp": tmp, "home": home,
            "before": before, "package_file": package_file, "ended": ended, "comms": comm_names()}


def test_row1_patching_numpy_and_the_checkers_forges_nothing(attacked):
    row = attacked["rows"]["forger"]
    assert row["total"] == "0" and all(row[k] == "0" for k in keys_of("01")), row
    # The cell that patches names the registry (so it counts as reaching for the reference); the checks after
    # it find no results, since its patched `run` no longer calls the checkers: nothing passes either way.
    assert row["note"] == ("used the course's reference: 01.discriminator_loss; failed: 01.generator_loss, "
                           "01.build_generator, 01.train_step"), row["note"]
    assert "the check found no results of your answer to compare" in attacked["pages"]["forger"]


def test_a_wrong_step_that_forges_the_step_checker_still_fails(attacked):
    row = attacked["rows"]["doubler"]
    assert row["01.train_step"] == "0" and row["total"] == "3", row
    assert "failed: 01.train_step" in row["note"], row["note"]


def test_row2_no_process_outlives_the_grader_and_the_gradebook_stays(attacked):
    assert "evilchild" not in attacked["comms"]        # gone when grading returned
    time.sleep(max(0.0, attacked["ended"] + 8 - time.monotonic()))
    assert "evilchild" not in comm_names()
    text = (attacked["out"] / "grades.csv").read_text(encoding="utf-8")
    assert "FORGED" not in text and "previous gradebook" not in text


def test_row3_and_row5_no_write_outside_the_sandbox(attacked):
    root, tmp = attacked["root"], attacked["tmp"]
    assert sha(root / "classmate.ipynb") == attacked["before"]["classmate"]
    assert sha(attacked["package_file"]) == attacked["before"]["package"]
    assert not (root / "planted_by_system.ipynb").exists() and not (root / "planted_by_dir_fd.ipynb").exists()
    assert not (tmp / "ctypes_was_here").exists()
    assert not list(root.glob("renamed*")) and not list(attacked["package_file"].parent.glob("renamed*"))
    assert attacked["rows"]["classmate"]["total"] == str(sum(EXERCISES[k].points for k in keys_of("01")))


def test_row4_nothing_of_the_instructor_or_a_classmate_reaches_feedback(attacked):
    page = attacked["pages"]["leaker"]
    assert "RuntimeError" in page                      # the attack ran and its error is shown
    for leak in (SECRET, ENV_SECRET, CLASSMATE, "-m pytest", "--ro-bind", "course-grade-", "03_cyclegan.ipynb",
                 "classmate.ipynb ", "previous gradebook"):
        assert leak not in page, leak
    for page in attacked["pages"].values():
        assert SECRET not in page and ENV_SECRET not in page


def test_row6_the_course_reference_as_the_answer_scores_zero(attacked):
    row = attacked["rows"]["copier"]
    assert (row["01.discriminator_loss"], row["01.generator_loss"], row["01.build_generator"]) == ("0", "0", "0")
    assert row["01.train_step"] == str(EXERCISES["01.train_step"].points)
    assert row["note"].startswith(
        "used the course's reference: 01.discriminator_loss, 01.generator_loss, 01.build_generator"), row["note"]


def test_row8_forks_are_capped_and_output_is_capped(attacked):
    page = attacked["pages"]["leaker"]
    forked = int(page.split("forked ")[1].split(" children")[0])
    assert forked < 600, forked                        # the sandbox's process limit (threads count too)
    assert len(attacked["pages"]["forger"]) < 200_000


def test_row9_an_error_in_exercise_1_costs_only_exercise_1(attacked):
    row = attacked["rows"]["leaker"]
    assert row["01.discriminator_loss"] == "0" and row["01.generator_loss"] == "0"
    assert row["01.build_generator"] == "1" and row["01.train_step"] == "1", row["note"]
    assert row["note"] == "error: 01.discriminator_loss, 01.generator_loss"


def test_rows10_to_13_every_entry_gets_a_row_and_the_csv_is_safe(attacked):
    rows = attacked["rows"]
    assert rows[".late_submission"]["note"].startswith("not JSON")
    hyper = [k for k in rows if "HYPERLINK" in k]
    assert hyper == ["'=HYPERLINK(\"evil.example\",\"click\")"], hyper
    assert rows["linked.ipynb"]["note"].startswith("a symbolic link")
    assert "symbolic links not followed" in rows["folder_with_link"]["note"]
    bad = [k for k in rows if k.startswith("bad")]
    assert bad == ["bad\ufffd\ufffdname"] and "not valid UTF-8" in rows[bad[0]]["note"]
    assert all(len(r["sha256"]) == 64 for k, r in rows.items() if k in ("forger", "classmate", "leaker", "copier"))
    assert (attacked["out"] / "summary.html").stat().st_mtime >= (attacked["out"] / "grades.csv").stat().st_mtime - 5


def test_second_set_links_and_code_in_a_network_file_are_refused(attacked):
    """A link for the log quoted when a sandbox dies, for the recorded folder; a Lambda layer."""
    row = attacked["rows"]["sneaky"]
    assert row["01.generator_loss"] == "1", row["note"]
    assert row["note"] == "kernel died: 01.discriminator_loss; failed: 01.build_generator, 01.train_step", row["note"]
    page = attacked["pages"]["sneaky"]
    assert "the grader could not load your network safely" in page
    assert "the grader could not read your answer&#x27;s results" in page


def test_row7_an_endless_loop_in_a_helper_cell_costs_its_time_limit_only():
    need_sandbox()
    cells = ["from course_utils import exercises\nimport tensorflow as tf",
             "import time\nEPS = 0.0\nwhile True:\n    time.sleep(1)",
             "def discriminator_loss(r, f):\n    return tf.reduce_mean(r) * 0 + EPS",
             'discriminator_loss = exercises.check("01.discriminator_loss", discriminator_loss)',
             "def generator_loss(fake_logits):\n    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)\n"
             "    return bce(tf.ones_like(fake_logits), fake_logits)",
             'generator_loss = exercises.check("01.generator_loss", generator_loss)']
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in cells]
    keys, points = grade.lesson_keys("01")
    begun = time.monotonic()
    results, notes = grade.grade_notebook(nb, keys, points, grade.Limits(30, 900, 6), {})
    assert time.monotonic() - begun < 600
    assert notes == ["code cell 2 (not an exercise) did not finish within the time limit (30 s per cell, 900 s per "
                     "notebook): look for a loop that never ends"]
    assert results["01.discriminator_loss"].status == "failed" and "NameError" in results["01.discriminator_loss"].message
    assert results["01.generator_loss"].status == "passed"


def test_a_gradebook_is_never_lost_when_writing_fails(tmp_path):
    out = tmp_path / "g"
    out.mkdir()
    (out / "grades.csv").write_text("previous\n")
    (out / "feedback").mkdir()
    (out / "feedback" / "old.html").write_text("old")
    sub = grade.Submission("x", None, "x.ipynb")
    sub.results = {}                                   # no result for the key: writing fails half-way
    with pytest.raises(KeyError):
        grade_report.write(out, [sub], ["01.a"], {"01.a": 1}, "01", grade.Limits())
    assert (out / "grades.csv").read_text() == "previous\n" and (out / "feedback" / "old.html").exists()
    assert sorted(p.name for p in out.iterdir()) == ["feedback", "grades.csv"]


def test_the_grader_refuses_without_a_sandbox(tmp_path, monkeypatch):
    monkeypatch.setattr(grade_sandbox, "find_backend", lambda wanted=None: "none" if wanted == "none" else None)
    (tmp_path / "a.ipynb").write_text("{}")
    with pytest.raises(grade_sandbox.SandboxMissing, match="--no-sandbox grades without one"):
        grade.grade_class(tmp_path, tmp_path / "g", lesson="01", progress=False)


def test_the_driver_keeps_a_cells_output_to_its_cap():
    from course_utils.tools.grade_driver import _Capped

    out = _Capped(100)
    for _ in range(10_000):
        out.write("flood\n")
    assert len(out.text()) < 300 and "59,900 more were cut" in out.text()


FORGED_POOL = '''class MyImagePool:
    """Never hands out an old fake (wrong), and patches the pool's check to pass it anyway."""

    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.images = pool_size, []

    def query(self, images):
        for image in images:
            if len(self.images) < self.pool_size:
                self.images.append(image)
        return np.asarray(images)


import importlib
_sets = importlib.import_module("course_utils.lessons.exercise_sets.lesson03")
_sets._fail = lambda *a, **k: None                      # every failure of the pool's check silenced
setattr(_sets, "_Reference" + "Pool", MyImagePool)     # the exact comparison made against itself
np.array_equal = lambda *a, **k: True
np.any = lambda *a, **k: False
'''


def test_a_wrong_pool_that_patches_its_check_fails_in_the_grader():
    """03.image_pool: the sandbox records what the learner's pool returned to a secret-seeded check; the
    grader replays those records through the course's real check. Patching the check, NumPy and the
    reference inside the sandbox changes no verdict; the right pool of the solution still passes."""
    need_sandbox()
    key = "03.image_pool"
    solved = versions("03")[1]
    forged = versions("03")[1]
    i = cell_defining(forged, "MyImagePool")
    checks = [ln for ln in forged.cells[i].source.splitlines() if "exercises.check(" in ln]
    forged.cells[i].source = FORGED_POOL + ("\n\n" + "\n".join(checks) if checks else "")
    results = {}
    for who, nb in (("forged", forged), ("solved", solved)):
        got, notes = grade.grade_notebook(nb, [key], {key: 1}, grade.Limits(90, 600, 6), None)
        results[who] = got[key]
        assert notes == [], notes
    assert results["solved"].status == "passed", results["solved"].message
    forged_result = results["forged"]
    assert (forged_result.status, forged_result.points) == ("failed", 0), forged_result
    assert "once the pool is full, only 0% of the returned fakes come from the history" in forged_result.message
