"""course_utils.tools.grade: a class of submissions built from the real lesson notebooks, graded exactly.

The notebooks are generated at test time from notebooks/NN_name.py (scripts/check_notebooks.py),
so the tests follow the lessons as they change: the exercises the tests control are the keys
below (whose function names stay); every other registered exercise of a lesson is held to a rule
(solved notebook: passed; learner's notebook: not attempted).
"""

import csv
import importlib.util
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from course_utils import grade, grade_report, notebook_cells
from course_utils.lessons.exercises import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_notebooks", ROOT / "scripts" / "check_notebooks.py")
cn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cn)

LESSON_PY = {p.stem[:2]: p for p in (ROOT / "notebooks").glob("0*.py") if not p.stem.endswith("_further")}
CONTROLLED = ["01.discriminator_loss", "01.generator_loss", "02.upsample_with_skip", "02.receptive_field",
              "02.generator_loss", "03.cycle_loss", "03.identity_term", "03.my_residual_block", "04.linear_decay",
              "04.update_loss_scale"]
WRONG_D_LOSS = '''def discriminator_loss(real_logits, fake_logits):
    """Labels swapped: a known mistake."""
    return bce_from_logits(tf.zeros_like(real_logits), real_logits) + bce_from_logits(tf.ones_like(fake_logits), fake_logits)
'''


def versions(lesson: str):
    """(learner's notebook: nothing solved, solution notebook: everything solved) of a lesson, fresh."""
    learner, solution, _ = cn.lesson_versions(LESSON_PY[lesson])
    return learner, solution


def cell_defining(nb, name: str) -> int:
    """Index (in nb.cells) of the last code cell that defines ``name`` outside a check line."""
    found = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and notebook_cells.defines(notebook_cells.strip_checks(c.source), name)]
    assert found, f"no cell defines {name}"
    return found[-1]


def replace_function(nb, name: str, source: str) -> None:
    """Replace a function's cell with ``source``, keeping a check line that shared the cell."""
    i = cell_defining(nb, name)
    checks = [ln for ln in nb.cells[i].source.splitlines() if "exercises.check(" in ln]
    nb.cells[i].source = source + ("\n\n" + "\n".join(checks) if checks else "")


def keys_of(lesson: str) -> list[str]:
    return [k for k in EXERCISES if k.startswith(lesson + ".")]


def need_sandbox():
    """Skip where the grader has no sandbox (bubblewrap) to run notebooks in; fail with COURSE_REQUIRE_SANDBOX=1 (CI)."""
    import os

    from course_utils import grade_sandbox

    if grade_sandbox.find_backend() is None:
        reason = "no sandbox for the grader here (install bubblewrap: apt-get install bubblewrap)"
        if os.environ.get("COURSE_REQUIRE_SANDBOX", "") not in ("", "0"):
            pytest.fail(f"COURSE_REQUIRE_SANDBOX=1 but {reason}")
        pytest.skip(reason)


# --------------------------------------------------------------------------- planning, no kernel
@pytest.mark.parametrize("lesson", ["01", "02", "03", "04"])
def test_plan_finds_every_registered_exercise_of_the_real_notebooks(lesson):
    learner, solution = versions(lesson)
    keys, points = grade.lesson_keys(lesson)
    assert set(CONTROLLED) & set(keys) <= set(keys) and all(k.startswith(lesson) for k in keys)
    for nb in (learner, solution):
        plan = grade.plan(nb, keys, points, {})
        assert plan.early == {} and sorted(plan.cell_of) == sorted(keys)
        graded = [what for kind, what in plan.steps if kind == "grade"]
        assert sorted(graded) == sorted(keys)
        # every graded exercise runs after its own cell, and no check call is run
        cells = [what for kind, what in plan.steps if kind == "cell"]
        assert not any("exercises.check(" in (plan.sources[i] or "") for i in cells)
        for key in keys:   # graded right after its cell (only other grades in between)
            at, cell = plan.steps.index(("grade", key)), plan.steps.index(("cell", plan.cell_of[key]))
            assert cell < at and all(kind == "grade" for kind, _ in plan.steps[cell + 1:at])


def test_plan_survives_moved_added_and_deleted_cells_and_names_a_syntax_error():
    _, nb = versions("01")
    keys, points = grade.lesson_keys("01")
    d = cell_defining(nb, "discriminator_loss")
    moved = nb.cells.pop(d)
    nb.cells.append(moved)                                      # the answer moved to the end
    nb.cells.insert(3, nbformat.v4.new_code_cell("my_note = 'added by the learner'"))
    del nb.cells[cell_defining(nb, "generator_loss")]           # the cell deleted
    plan = grade.plan(nb, keys, points, {})
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[plan.cell_of["01.discriminator_loss"]].source == moved.source
    assert plan.early["01.generator_loss"].status == "missing"
    assert "no cell defines `generator_loss`" in plan.early["01.generator_loss"].message
    assert ("bind", "01.generator_loss") in plan.steps          # later cells get the course's function

    _, nb = versions("01")
    nb.cells[cell_defining(nb, "generator_loss")].source = "def generator_loss(fake_logits):\n    return (1 +\n"
    plan = grade.plan(nb, keys, points, {})
    assert plan.early["01.generator_loss"].status == "syntax error"
    assert plan.early["01.generator_loss"].message.startswith("SyntaxError on line 2")


def test_check_lines_are_found_and_stripped_whatever_the_cell_holds_around_them():
    source = 'def f(x):\n    return x\n\n\nf = exercises.check("03.f", f)   # check it\nprint(1)\n'
    assert notebook_cells.checks(source) == [("03.f", "f")]
    assert notebook_cells.strip_checks(source) == "def f(x):\n    return x\n\n\nprint(1)\n"
    assert notebook_cells.strip_checks('f = exercises.check("01.f", f)').strip() == ""


# --------------------------------------------------------------------------- reading submissions
def test_collect_reads_files_folders_and_zips_and_names_what_is_not_a_notebook(tmp_path):
    learner, _ = versions("01")
    root = tmp_path / "class"
    (root / "dave").mkdir(parents=True)
    nbformat.write(learner, root / "alice.ipynb")
    nbformat.write(learner, root / "dave" / "Lesson 1 (copy).ipynb")
    (root / "bob.pdf").write_bytes(b"%PDF-1.4")
    (root / "carol.ipynb").write_text('{"cells": [', encoding="utf-8")
    (root / "erin.ipynb").write_text('{"hello": 1}', encoding="utf-8")
    (root / ".DS_Store").write_bytes(b"")
    subs = grade.collect(root)
    assert [s.learner for s in subs] == ["alice", "bob.pdf", "carol", "dave", "erin"]
    read = grade._pick_notebooks(subs)
    assert sorted(read) == ["alice"]
    by = {s.learner: s.problem for s in subs}
    assert by["bob.pdf"].startswith("not a notebook: bob.pdf is not a Jupyter notebook (.ipynb)")
    assert by["carol"].startswith("not JSON: carol.ipynb is damaged")
    assert by["erin"].startswith("not a notebook: erin.ipynb is JSON but not a Jupyter notebook")
    assert by["dave"] == "" and [p.name for p, _ in subs[3].options] == ["Lesson 1 (copy).ipynb"]
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(root / "alice.ipynb", "class/alice.ipynb")
        z.write(root / "bob.pdf", "class/bob.pdf")
    unpacked = grade.unpack(archive, tmp_path / "unzipped")
    assert [s.learner for s in grade.collect(unpacked)] == ["alice", "bob.pdf"]
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("../escape.ipynb", "{}")
    with pytest.raises(ValueError, match="unsafe path '../escape.ipynb'"):
        grade.unpack(tmp_path / "evil.zip", tmp_path / "evil")


def test_lesson_of_and_choose_lesson():
    assert grade.lesson_of(versions("01")[0]) == "01" and grade.lesson_of(versions("03")[1]) == "03"
    assert grade.choose_lesson(["01", "01", "02", None]) == "01"
    with pytest.raises(ValueError, match="split between lesson 01 \\(1\\), lesson 02 \\(1\\): say which"):
        grade.choose_lesson(["01", "02"])
    with pytest.raises(ValueError, match="lesson '07' has no registered exercise"):
        grade.lesson_keys("07")


def test_the_cli_refuses_a_bad_lesson_and_a_missing_folder(tmp_path, capsys):
    from course_utils import cli

    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "g"), "--lesson", "1"]) == 2
    assert "--lesson takes a lesson's two digits" in capsys.readouterr().err
    assert cli.main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "g")]) == 1
    assert "nowhere: no such folder or .zip of submissions" in capsys.readouterr().err


# --------------------------------------------------------------------------- nbgrader metadata
def test_sync_writes_nbgrader_metadata_on_every_exercise_and_check_cell():
    for lesson in ("01", "02", "03", "04"):
        learner, solution = versions(lesson)
        marks = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in learner.cells
                 if "nbgrader" in c.metadata}
        assert not any("nbgrader" in c.metadata for c in solution.cells)
        for key in keys_of(lesson):
            gid = cn.grade_id(key)
            graded = marks.get(gid + "_check") or marks[gid]   # a separate check cell, or one shared with the answer
            assert graded["grade"] is True and graded["points"] == EXERCISES[key].points
            assert marks[gid]["solution"] is True and marks[gid]["schema_version"] == 3
    learner, _ = versions("01")
    check = learner.cells[cell_defining(learner, "discriminator_loss") + 2]
    assert check.metadata["nbgrader"] == {"grade": True, "grade_id": "ex01_discriminator_loss_check", "locked": True,
                                          "points": 1, "schema_version": 3, "solution": False, "task": False}


# --------------------------------------------------------------------------- a class, graded for real
@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Nine submissions of lesson 01 (and things that are not), graded once for the tests below."""
    need_sandbox()
    tmp = tmp_path_factory.mktemp("grade")
    root = tmp / "submissions"
    root.mkdir()
    outside = tmp / "outside.txt"
    learner, solution = versions("01")
    nbformat.write(solution, root / "all_solved.ipynb")
    nbformat.write(learner, root / "none_solved.ipynb")
    (root / "ivan").mkdir()                                  # one folder per learner, any file name
    nbformat.write(learner, root / "ivan" / "Lesson one (copy).ipynb")
    nb = versions("01")[1]                                   # D wrong in a known way, a syntax error in G
    replace_function(nb, "discriminator_loss", WRONG_D_LOSS)
    replace_function(nb, "generator_loss", "def generator_loss(fake_logits):\n    return (1 +\n")
    nbformat.write(nb, root / "wrong_and_syntax.ipynb")
    nb = versions("01")[1]                                   # D moved to the end, cells added; G writes outside
    d = nb.cells.pop(cell_defining(nb, "discriminator_loss"))
    nb.cells += [nbformat.v4.new_markdown_cell("My answer, moved here."), nbformat.v4.new_code_cell("x = 1"), d]
    nb.cells[cell_defining(nb, "generator_loss")].source += f"\n\nopen({str(outside)!r}, 'w').write('escaped')\n"
    nbformat.write(nb, root / "moved_and_writes_outside.ipynb")
    nb = versions("01")[1]                                   # D's cell deleted
    del nb.cells[cell_defining(nb, "discriminator_loss")]
    nbformat.write(nb, root / "deleted_cell.ipynb")
    (root / "frank.pdf").write_bytes(b"%PDF-1.4 not a notebook")
    (root / "grace.ipynb").write_text('{"cells": [', encoding="utf-8")
    nbformat.write(versions("02")[1], root / "heidi.ipynb")     # another lesson's notebook
    # Limits the right answers meet on a machine three times slower and busy (no endless loop here: the
    # time limit has its own test below, on a notebook of one-line answers).
    limits = grade.Limits(exercise_seconds=600, notebook_seconds=1800, memory_gb=6)
    line = grade.grade_class(root, tmp / "grades", limits=limits, workers=2, progress=False)
    with open(tmp / "grades" / "grades.csv", encoding="utf-8") as f:
        rows = {r["learner"]: r for r in csv.DictReader(f)}
    return line, rows, tmp / "grades", outside


OTHER_01 = [k for k in keys_of("01") if k not in CONTROLLED]


def _expect(rows, learner, d_points, g_points, note, others):
    row = rows[learner]
    assert (row["01.discriminator_loss"], row["01.generator_loss"]) == (str(d_points), str(g_points)), row
    for key in OTHER_01:   # exercises added to lesson 01 after these tests were written
        assert row[key] == str(others * EXERCISES[key].points), (learner, key, row["note"])
    assert row["out_of"] == str(sum(EXERCISES[k].points for k in keys_of("01")))
    assert int(row["total"]) == sum(int(row[k]) for k in keys_of("01"))
    assert note(row["note"]), (learner, row["note"])


@pytest.mark.slow
def test_the_gradebook_of_a_class_is_exact(graded_class):
    line, rows, out, outside = graded_class
    assert sorted(rows) == ["all_solved", "deleted_cell", "frank.pdf", "grace", "heidi", "ivan",
                            "moved_and_writes_outside", "none_solved", "wrong_and_syntax"]
    _expect(rows, "all_solved", 1, 1, lambda n: n == "", 1)
    for learner in ("none_solved", "ivan"):
        _expect(rows, learner, 0, 0, lambda n: n == "not attempted: " + ", ".join(keys_of("01")), 0)
    assert rows["ivan"]["notebook"] == "ivan/Lesson one (copy).ipynb"
    _expect(rows, "wrong_and_syntax", 0, 0,
            lambda n: n == "failed: 01.discriminator_loss; syntax error: 01.generator_loss", 1)
    # This learner moved discriminator_loss's cell to the end, after the training step that calls it:
    # in a fresh top-to-bottom run (Jupyter's "Restart and run all") the step cannot find it, so the
    # step fails there as it does here; every other exercise of the notebook passes.
    moved = rows["moved_and_writes_outside"]
    assert (moved["01.discriminator_loss"], moved["01.generator_loss"], moved["01.train_step"]) == ("1", "0", "0")
    assert moved["note"] == "blocked: 01.generator_loss; failed: 01.train_step"
    for key in OTHER_01:
        if key != "01.train_step":
            assert moved[key] == str(EXERCISES[key].points), (key, moved["note"])
    _expect(rows, "deleted_cell", 0, 1, lambda n: n == "missing: 01.discriminator_loss", 1)
    _expect(rows, "frank.pdf", 0, 0, lambda n: n.startswith("not a notebook: frank.pdf is not a Jupyter notebook"), 0)
    _expect(rows, "grace", 0, 0, lambda n: n.startswith("not JSON: grace.ipynb is damaged"), 0)
    _expect(rows, "heidi", 0, 0, lambda n: n == "wrong lesson: heidi.ipynb is lesson 02's notebook; this class is "
                                               "graded on lesson 01", 0)
    assert not outside.exists()
    assert line["lesson"] == "01" and line["submissions"] == 9 and line["not_graded"] == 3
    # discriminator_loss: all_solved and moved_and_writes_outside; generator_loss: all_solved and deleted_cell
    assert line["pass_rate"]["01.discriminator_loss"] == line["pass_rate"]["01.generator_loss"] == round(2 / 9, 3)


@pytest.mark.slow
def test_feedback_says_why_with_the_checkers_hint_and_the_learners_code(graded_class):
    _, _, out, _ = graded_class
    page = (out / "feedback" / "wrong_and_syntax.html").read_text(encoding="utf-8")
    assert "01.discriminator_loss: <span class='bad'>failed</span> (0 / 1)" in page
    assert "look at which label goes with which logits" in page           # the known mistake's own hint
    assert "Labels swapped: a known mistake." in page                      # the learner's code
    assert "SyntaxError on line 2 of the cell" in page
    assert "no cell defines `discriminator_loss`" in (out / "feedback" / "deleted_cell.html").read_text("utf-8")
    page = (out / "feedback" / "moved_and_writes_outside.html").read_text(encoding="utf-8")
    assert "grader: writing to" in page and "outside.txt is not allowed while grading" in page
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert "9 submissions; 3 could not be graded" in summary and "data:image/png;base64," in summary
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_a_rerun_gives_the_same_grades(graded_class, tmp_path):
    _, rows, out, _ = graded_class
    root = tmp_path / "again"
    root.mkdir()
    nb = versions("01")[1]
    replace_function(nb, "discriminator_loss", WRONG_D_LOSS)
    replace_function(nb, "generator_loss", "def generator_loss(fake_logits):\n    return (1 +\n")
    nbformat.write(nb, root / "wrong_and_syntax.ipynb")
    nbformat.write(versions("01")[0], root / "none_solved.ipynb")
    grade.grade_class(root, tmp_path / "g", lesson="01", progress=False)
    with open(tmp_path / "g" / "grades.csv", encoding="utf-8") as f:
        again = {r["learner"]: r for r in csv.DictReader(f)}
    assert again == {k: rows[k] for k in again}


def grade_cells(d_source: str, g_source: str, limits, first: str = "", last: str = "") -> dict:
    """Grade a notebook of lesson 01's two loss exercises (``first`` and ``last`` cells around them);
    every other exercise of the lesson is missing from it, and nothing else is noted."""
    need_sandbox()
    sources = [first, d_source, 'discriminator_loss = exercises.check("01.discriminator_loss", discriminator_loss)',
               g_source, 'generator_loss = exercises.check("01.generator_loss", generator_loss)', last]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources if s]
    keys, points = grade.lesson_keys("01")
    results, notes = grade.grade_notebook(nb, keys, points, limits, {})
    assert all(results[k].status == "missing" for k in OTHER_01) and notes == []
    return results


@pytest.mark.slow
def test_an_endless_loop_costs_only_its_exercise_and_a_new_kernel_grades_the_next(tmp_path):
    results = grade_cells(
        "def discriminator_loss(r, f):\n    import time\n    while True:\n        time.sleep(1)",
        "def generator_loss(fake_logits):\n    return losses.bce_with_logits(tf.ones_like(fake_logits), fake_logits)",
        limits := grade.Limits(exercise_seconds=30, notebook_seconds=600, memory_gb=6),
        first="from course_utils import exercises, losses\nimport tensorflow as tf")
    # The loop sleeps until the limit; the one-line generator_loss and its check take well under a second
    # here, so 30 s holds on a machine many times slower (kernel start-up and imports are not counted in it).
    assert results["01.discriminator_loss"].status == "time limit"
    assert results["01.discriminator_loss"].message.startswith(
        "did not finish within the time limit (30 s per cell, 600 s per notebook): look for a loop")
    assert results["01.generator_loss"].status == "passed" and results["01.generator_loss"].points == 1
    keys, points = grade.lesson_keys("01")
    subs = [grade.Submission("loop", None, "loop.ipynb")]
    subs[0].results = results
    grade_report.write(tmp_path, subs, keys, points, "01", limits)
    row = next(csv.DictReader(open(tmp_path / "grades.csv", encoding="utf-8")))
    assert (row["01.discriminator_loss"], row["01.generator_loss"]) == ("0", "1")
    assert row["note"].startswith("time limit: 01.discriminator_loss")
    assert "did not finish within the time limit (30 s per cell" in (
        tmp_path / "feedback" / "loop.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_memory_and_a_dying_kernel_cost_only_their_exercise():
    results = grade_cells(
        "def discriminator_loss(r, f):\n    hoard = [bytearray(2**28) for _ in range(100)]   # 25 GB\n    return 0",
        "def generator_loss(f):\n    import ctypes\n    return ctypes.string_at(0)   # a crash",
        grade.Limits(exercise_seconds=60, notebook_seconds=300, memory_gb=2),
        last="def later(f):\n    return generator_loss(f)")
    assert results["01.discriminator_loss"].status == "failed"
    assert "raised MemoryError" in results["01.discriminator_loss"].message
    assert results["01.generator_loss"].status == "kernel died"
    assert results["01.generator_loss"].message.startswith("the kernel died while this ran: a crash, or memory")


def test_report_rows_are_sorted_and_file_names_safe(tmp_path):
    keys, points = ["01.a"], {"01.a": 2}
    subs = []
    for name, status in (("Zoë Smith", "passed"), ("adam", "failed"), ("zoë smith", "not attempted")):
        sub = grade.Submission(name, None, name + ".ipynb")
        sub.results = {"01.a": grade.Result("01.a", status, 2 if status == "passed" else 0, 2, "msg")}
        subs.append(sub)
    grade_report.write(tmp_path, subs, keys, points, "01", grade.Limits())
    lines = (tmp_path / "grades.csv").read_text(encoding="utf-8").splitlines()
    # A name that is not already a safe file name gets its slug and a short hash of the name (never a number
    # that another learner's name could be); the CSV names each learner's page.
    assert lines == ["learner,notebook,01.a,total,out_of,note,sha256,feedback",
                     "adam,adam.ipynb,0,0,2,failed: 01.a,,feedback/adam.html",
                     "Zoë Smith,Zoë Smith.ipynb,2,2,2,,,feedback/Zo_Smith-20d880d2.html",
                     "zoë smith,zoë smith.ipynb,0,0,2,not attempted: 01.a,,feedback/zo_smith-c73ec421.html"]
    assert sorted(p.name for p in (tmp_path / "feedback").iterdir()) == [
        "Zo_Smith-20d880d2.html", "adam.html", "zo_smith-c73ec421.html"]
    assert json.loads(json.dumps(grade_report.counts(subs, keys)))["01.a"] == {
        "passed": 1, "failed": 1, "not attempted": 1, "other problem": 0, "not graded": 0}


@pytest.mark.slow
def test_nbgraders_own_validator_accepts_the_learner_notebooks():
    """Runs when NBGRADER_PYTHON names a Python with nbgrader installed (nbgrader is not a dependency)."""
    import os
    import subprocess

    python = os.environ.get("NBGRADER_PYTHON")
    if not python:
        pytest.skip("set NBGRADER_PYTHON to a Python that has nbgrader (e.g. a throwaway venv)")
    script = ("import sys, nbformat\nfrom nbgrader.nbgraderformat import MetadataValidator, ValidationError\n"
              "v = MetadataValidator()\nfor p in sys.argv[1:]:\n"
              "    nb = nbformat.read(p, as_version=nbformat.NO_CONVERT)\n    v.validate_nb(nb)\n"
              "    print(p, sum('nbgrader' in c.metadata for c in nb.cells))\n"
              "bad = nbformat.read(sys.argv[2], as_version=nbformat.NO_CONVERT)\n"
              "next(c for c in bad.cells if c.metadata.get('nbgrader', {}).get('grade')).metadata.nbgrader.pop('points')\n"
              "try:\n    v.validate_nb(bad)\nexcept ValidationError:\n    print('rejected')\n")
    paths = [str(p) for p in sorted((ROOT / "notebooks").glob("0*.ipynb")) if not p.stem.endswith("_further")]
    out = subprocess.run([python, "-c", script, *paths], capture_output=True, text=True, check=True).stdout
    counts = {Path(line.split()[0]).name[:2]: int(line.split()[1]) for line in out.splitlines()[:-1]}
    assert out.splitlines()[-1] == "rejected"          # the validator can fail: a grade cell without points
    for lesson in ("01", "02", "03", "04"):
        assert counts[lesson] >= len(keys_of(lesson))   # a check cell, or one cell with the answer and its check


# --------------------------------------------------------------------------- 03.image_pool replayed from data
POOL_SOURCE = '''
class Pool:
    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.seed, self.images, self.queries = pool_size, seed, [], 0

    def query(self, images):
        u = tf.random.stateless_uniform((len(images), 2), seed=(self.seed, self.queries)).numpy()
        self.queries += 1
        coins, slots = u[:, 0], np.minimum((u[:, 1] * self.pool_size).astype(int), self.pool_size - 1)
        shown = []
        for i, image in enumerate(images):
            if len(self.images) < self.pool_size:
                self.images.append(image)
                shown.append(image)
            elif coins[i] < 0.5:
                shown.append(self.images[slots[i]])
                self.images[slots[i]] = image
            else:
                shown.append(image)
        return np.stack(shown)


class FixedSeed(Pool):
    """Right draws, but always seed 0 whatever it is given: matches the reference only for seed 0."""

    def __init__(self, pool_size=50, seed=0):
        super().__init__(pool_size, 0)
'''


def _pool_classes() -> dict:
    import numpy as np
    import tensorflow as tf

    space = {"np": np, "tf": tf}
    exec(POOL_SOURCE, space)
    return space


def _pool_verdict(answer, record_seed: int, verify_seed: int, tmp_path, tamper=None) -> str:
    from course_utils import grade_protocol

    folder = tmp_path / f"{answer.__name__}-{record_seed}-{verify_seed}"
    grade_protocol.record(EXERCISES["03.image_pool"], answer, record_seed, folder)
    if tamper is not None:
        meta = json.loads((folder / "calls.json").read_text())
        tamper(meta)
        (folder / "calls.json").write_text(json.dumps(meta))
    try:
        grade_protocol.verify(EXERCISES["03.image_pool"], folder, verify_seed)
    except BaseException as exc:  # noqa: BLE001 - the verdict's words (NeedsSandbox included)
        return f"{type(exc).__name__}: {exc}"
    return "passed"


@pytest.mark.slow
def test_the_pool_is_judged_in_the_grader_from_what_it_returned_under_a_secret_seed(tmp_path):
    from course_utils import grade_protocol

    pools = _pool_classes()
    assert _pool_verdict(pools["Pool"], 8151, 8151, tmp_path) == "passed"
    # The check's seeds (5, 0, 7) are mixed with the run's secret one: a pool that ignores its seed fails
    # (with secret 0 or any other), and records made under one secret do not pass under another.
    assert grade_protocol.mixed_seed(8151, 0) != 0 and grade_protocol.mixed_seed(8151, 0) != grade_protocol.mixed_seed(9, 0)
    fixed = _pool_verdict(pools["FixedSeed"], 8151, 8151, tmp_path)
    assert "your pool first differs from train.ImagePool" in fixed, fixed
    other = _pool_verdict(pools["Pool"], 8151, 4242, tmp_path)
    assert "your pool first differs from train.ImagePool" in other, other

    def swap_two_queries(meta):   # what the sandbox recorded is not what the grader's check asks
        events = next(c for c in meta["calls"] if c["kind"] == "object")["events"]
        events[3]["call"], events[4]["call"] = events[4]["call"], "0" * 64

    swapped = _pool_verdict(pools["Pool"], 8151, 8151, tmp_path, tamper=swap_two_queries)
    assert "is not what the sandbox recorded" in swapped, swapped

    def drop_calls(meta):          # a check that never ran in the sandbox: nothing to replay
        meta["calls"] = []

    assert "NeedsSandbox" in _pool_verdict(pools["Pool"], 8151, 8151, tmp_path, tamper=drop_calls)


@pytest.mark.slow
def test_a_scratch_folder_flood_is_stopped_with_a_note():
    """Many files, or one big file, in the scratch folder: the sandbox is stopped past the cap, and the
    exercise whose cell did it says so (caps lowered here: 40 MB, 2,000 files)."""
    limits = grade.Limits(exercise_seconds=60, notebook_seconds=600, memory_gb=6, scratch_mb=40, scratch_files=2000)
    results = grade_cells(
        "with open('big.bin', 'wb') as f:\n    for _ in range(100):\n        f.write(b'x' * 2**20)\n\n"
        "def discriminator_loss(r, f):\n    return 0",
        "import os\nfor i in range(5000):\n    open(f'f{i}', 'w').close()\n\n"
        "def generator_loss(fake_logits):\n    return 0",
        limits)
    for key, what in (("01.discriminator_loss", "more than 40 MB in it"),
                      ("01.generator_loss", "more than 2,000 files and folders in it")):
        assert results[key].status == "kernel died" and results[key].points == 0, results[key]
        assert results[key].message.startswith(f"the notebook filled its scratch folder: {what} (the cap)"), \
            results[key].message


# --------------------------------------------------------------------------- crafted network files
def _rewrite_keras(src, dst, config=None, weights=None) -> None:
    """A copy of the .keras file ``src`` with its config.json (a dict, or raw bytes) or weights file replaced."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "config.json" and config is not None:
                data = config if isinstance(config, bytes) else json.dumps(config).encode()
            if info.filename == "model.weights.h5" and weights is not None:
                data = weights
            zout.writestr(info.filename, data)


def test_a_crafted_network_file_cannot_fill_the_graders_memory(tmp_path):
    """A zip bomb, a weights file declaring terabytes, a layer declaring 32 GB of weights and a layer whose
    outputs would take 512 MB for one image: each refused before Keras makes them, in well under a
    second and without the grader's memory growing; an ordinary network still loads."""
    import io
    import resource
    import time

    import h5py
    import keras
    import numpy as np

    from course_utils import grade_protocol

    x = keras.Input((8, 8, 1))
    good = tmp_path / "good.keras"
    keras.Model(x, keras.layers.Conv2D(1, 1)(keras.layers.UpSampling2D(2)(keras.layers.Dense(4)(x)))).save(good)
    assert grade_protocol._load_network(good).count_params() > 0
    with zipfile.ZipFile(good) as zf:
        config = json.loads(zf.read("config.json"))

    def layer(cfg, kind):
        return next(item for item in cfg["config"]["layers"] if item["class_name"] == kind)

    bomb = tmp_path / "bomb.keras"       # 300 MB of JSON spaces, about 300 kB compressed
    _rewrite_keras(good, bomb, config=json.dumps(config).encode() + b" " * (300 * 2**20))
    assert bomb.stat().st_size < 5 * 2**20
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:     # 4 TB declared, nothing written: a tiny file
        h5.create_dataset("layers/dense/vars/0", shape=(2**20, 2**20), dtype="f4", chunks=(64, 64))
    declared = tmp_path / "declared.keras"
    _rewrite_keras(good, declared, weights=buf.getvalue())
    wide = json.loads(json.dumps(config))
    layer(wide, "Dense")["config"]["units"] = 2**30            # 8 inputs x 2**30 units: 32 GB of weights
    huge = tmp_path / "huge.keras"
    _rewrite_keras(good, huge, config=wide)
    tall = json.loads(json.dumps(config))
    layer(tall, "UpSampling2D")["config"]["size"] = [4096, 4096]   # 8 x 4096 x 4096 x 4 numbers for one image
    upsampled = tmp_path / "upsampled.keras"
    _rewrite_keras(good, upsampled, config=tall)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for path, words in ((bomb, "unpacks to 300 MB"), (declared, "declares 4,194,304 MB of weights"),
                        (huge, "layers declare more than 256 MB of weights"),
                        (upsampled, "one image through the network's layers makes")):
        begun = time.monotonic()
        with pytest.raises(grade_protocol.NetworkTooLarge, match=words):
            grade_protocol._load_network(path)
        assert time.monotonic() - begun < 30, path.name
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    assert grown < 200 * 2**20, f"the grader's peak memory grew by {grown / 2**20:.0f} MB"
    assert np.isfinite(grade_protocol._load_network(good).count_params())


# --------------------------------------------------------------------------- the Docker backend
def need_docker() -> str:
    """The image to grade in, or a skip that says why the Docker backend is not exercised here."""
    import os
    import shutil
    import subprocess

    if not shutil.which("docker"):
        pytest.skip("the Docker backend is not exercised here: no docker client")
    info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          timeout=120)
    if info.returncode != 0:
        last = (info.stderr.strip().splitlines() or ["?"])[-1][:200]
        pytest.skip(f"the Docker backend is not exercised here: no Docker daemon ({last})")
    image = os.environ.get("COURSE_GRADE_IMAGE", "")
    if not image:
        pytest.skip("the Docker backend is not exercised here: COURSE_GRADE_IMAGE is unset (an image holding the "
                    "system libraries of the grader's Python; see the README's guard section)")
    return image


@pytest.mark.slow
def test_the_docker_backend_grades_and_leaves_no_container():
    import subprocess

    image = need_docker()
    sources = ["from course_utils import exercises, losses\nimport tensorflow as tf",
               "def discriminator_loss(r, f):\n    import time\n    while True:\n        time.sleep(1)",
               'discriminator_loss = exercises.check("01.discriminator_loss", discriminator_loss)',
               "import os\nif os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(3600)\n\n"
               "def generator_loss(fake_logits):\n"
               "    return losses.bce_with_logits(tf.zeros_like(fake_logits), fake_logits)   # wrong label",
               'generator_loss = exercises.check("01.generator_loss", generator_loss)',
               "def build_generator(*a, **k):\n    return open('/work/secret', 'w')"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    keys, points = grade.lesson_keys("01")
    results, _ = grade.grade_notebook(nb, keys, points, grade.Limits(30, 600, 6), {}, sandbox="docker")
    assert results["01.discriminator_loss"].status == "time limit", results["01.discriminator_loss"]
    assert results["01.generator_loss"].status == "failed", results["01.generator_loss"]
    assert results["01.generator_loss"].message.startswith("❌ generator_loss"), results["01.generator_loss"].message
    left = subprocess.run(["docker", "ps", "-q", "--filter", f"ancestor={image}"], capture_output=True, text=True,
                          timeout=120).stdout.split()
    assert left == [], f"containers left running: {left}"
