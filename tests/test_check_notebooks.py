"""scripts/check_notebooks.py: learner and solution notebooks from one .py, and the stale check."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_notebooks", ROOT / "scripts" / "check_notebooks.py")
cn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cn)

CELL = '''def loss(a, b):
    """Two numbers -> one."""
    # BEGIN SOLUTION: return the sum of a and b
    total = a + b
    return total
    # END SOLUTION

print(loss(1, 2))'''

LESSON = '''# %% [markdown]
# # 09 A lesson

# %%
''' + CELL + "\n"


def test_learner_version_has_a_stub_that_says_what_to_write_and_no_answer():
    source, count = cn.split_solutions(CELL, "cell", learner=True)
    assert count == 1
    assert "a + b" not in source and "total" not in source
    assert '    # TODO: return the sum of a and b\n    raise NotImplementedError\n\nprint(loss(1, 2))' in source
    namespace = {}
    exec(source.replace("print(loss(1, 2))", ""), namespace)
    with pytest.raises(NotImplementedError):
        namespace["loss"](1, 2)


def test_solution_version_keeps_the_answer_and_drops_the_markers():
    source, count = cn.split_solutions(CELL, "cell", learner=False)
    assert count == 1 and "BEGIN" not in source and "END SOLUTION" not in source
    namespace = {}
    exec(source.replace("print(loss(1, 2))", ""), namespace)
    assert namespace["loss"](1, 2) == 3


@pytest.mark.parametrize("bad,message", [
    ("# BEGIN SOLUTION: x\nx = 1", "never closed"),
    ("x = 1\n# END SOLUTION", "without a # BEGIN SOLUTION"),
    ("# BEGIN SOLUTION: a\n# BEGIN SOLUTION: b\n# END SOLUTION", "inside another solution"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "write what the learner should write"),
])
def test_bad_markers_are_errors_that_name_the_cell_and_line(bad, message):
    with pytest.raises(cn.MarkerError, match=message) as info:
        cn.split_solutions(bad, "09_x.py, cell 3", learner=True)
    assert "09_x.py, cell 3, line" in str(info.value)


@pytest.fixture
def course(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "09_a.py").write_text(LESSON, encoding="utf-8")
    monkeypatch.setattr(cn, "ROOT", tmp_path)
    monkeypatch.setattr(cn, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(cn, "SOLUTIONS", tmp_path / "solutions")
    return tmp_path


def test_sync_writes_both_notebooks_and_check_passes(course):
    assert cn.check()   # nothing generated yet
    cn.sync()
    assert cn.check() == []
    learner = nbformat.read(course / "notebooks" / "09_a.ipynb", as_version=4)
    solution = nbformat.read(course / "solutions" / "09_a.ipynb", as_version=4)
    assert "raise NotImplementedError" in learner.cells[1].source and "a + b" not in learner.cells[1].source
    assert "Instructor's copy" in solution.cells[0].source and "a + b" in solution.cells[2].source


def test_check_fails_on_a_stale_or_hand_edited_notebook(course):
    cn.sync()
    path = course / "solutions" / "09_a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("a + b", "a - b")
    nbformat.write(nb, path)
    assert any("solutions/09_a.ipynb is stale or was edited by hand" in p for p in cn.check())
    cn.sync()
    (course / "notebooks" / "09_a.py").write_text(LESSON.replace("a + b", "b + a"), encoding="utf-8")
    problems = cn.check()
    assert any("solutions/09_a.ipynb is stale" in p for p in problems)
    assert not any("notebooks/09_a.ipynb" in p for p in problems)   # the learner's copy has no answer to go stale


def test_check_fails_on_outputs_and_on_an_orphan_solution(course):
    cn.sync()
    path = course / "notebooks" / "09_a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].execution_count = 3
    nbformat.write(nb, path)
    (course / "solutions" / "10_gone.ipynb").write_text("{}", encoding="utf-8")
    problems = cn.check()
    assert any("has outputs" in p for p in problems)
    assert any("solutions/10_gone.ipynb has no notebooks/10_gone.py" in p for p in problems)


def test_solution_runs_keep_the_checks_and_what_they_read_and_nothing_else(course):
    lesson = ("# %%\nfrom helpers import exercises\nimport numpy as np\n\n"
              "# %%\nOFFSET = 1\n\n"
              "# %%\ntrain_for_an_hour(np)\n\n"
              "# %%\n" + CELL.replace("a + b", "a + b + OFFSET - OFFSET") + "\n\n"
              "# %%\nloss = exercises.check(\"09.loss\", loss)\n\n"
              "# %%\nprint('after the last check', loss(1, 2))\n")
    (course / "notebooks" / "09_a.py").write_text(lesson, encoding="utf-8")
    cn.sync()
    [path] = cn.write_solution_runs(course / "runs")
    sources = [c.source for c in nbformat.read(path, as_version=4).cells]
    assert "Instructor's copy" in sources[0]
    assert sources[1].startswith("from helpers import exercises") and sources[2] == "OFFSET = 1"
    assert "a + b + OFFSET" in sources[3] and "exercises.check(" in sources[4] and len(sources) == 5
    assert not any("train_for_an_hour" in s or "after the last check" in s for s in sources)


def test_the_course_notebooks_are_in_sync():
    assert cn.check() == []


def test_a_lesson_that_uses_the_package_must_start_with_the_setup_cell(course):
    (course / "notebooks" / "09_a.py").write_text(LESSON + "\n# %%\nfrom course_utils import config\n", encoding="utf-8")
    cn.sync()
    assert any("must start with the setup cell" in p for p in cn.check())
    from course_utils import config
    with_setup = LESSON.replace("# %%\n", "# %%\n" + config.setup_cell() + "\n# %%\n", 1)
    (course / "notebooks" / "09_a.py").write_text(with_setup, encoding="utf-8")
    cn.sync()
    assert not any("setup cell" in p for p in cn.check())


def test_sync_marks_exercise_and_check_cells_for_nbgrader_and_check_sees_stale_marks(course):
    lesson = LESSON + '\n# %%\nloss = exercises.check("09.loss", loss)\n'
    (course / "notebooks" / "09_a.py").write_text(lesson, encoding="utf-8")
    cn.sync()
    path = course / "notebooks" / "09_a.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].metadata["nbgrader"] == {"grade": False, "grade_id": "ex09_loss", "locked": False,
                                                "schema_version": 3, "solution": True, "task": False}
    assert nb.cells[2].metadata["nbgrader"] == {"grade": True, "grade_id": "ex09_loss_check", "locked": True,
                                                "points": 1, "schema_version": 3, "solution": False, "task": False}
    solution = nbformat.read(course / "solutions" / "09_a.ipynb", as_version=4)
    assert not any("nbgrader" in c.metadata for c in solution.cells)
    assert cn.check() == []
    del nb.cells[2].metadata["nbgrader"]
    nbformat.write(nb, path)
    assert any("notebooks/09_a.ipynb is stale" in p for p in cn.check())
