"""Keep every lesson's generated notebooks honest.

    python scripts/check_notebooks.py          # check (used by `make test`)
    python scripts/check_notebooks.py --sync   # rebuild the notebooks from the .py files

``notebooks/NN_name.py`` (jupytext percent format) is the one file you edit. In it, the
answer to each exercise sits between two comment lines::

    # BEGIN SOLUTION: return L_D for these logits, with bce_from_logits
    ...the answer...
    # END SOLUTION

From it ``--sync`` writes two notebooks, never to be edited by hand:

  * ``notebooks/NN_name.ipynb``, the learner's (what Colab opens): each answer replaced by
    ``# TODO: <the text after BEGIN SOLUTION:>`` and ``raise NotImplementedError``;
  * ``solutions/NN_name.ipynb``, the instructor's, for lessons that have exercises: the
    answers in place and the marker lines removed.

The learner's notebook also carries nbgrader's cell metadata (``add_nbgrader_metadata``):
each exercise cell is a solution cell, each check cell a locked, graded test cell worth the
exercise's points, for an instructor who grades with nbgrader.

The check fails when
  * a ``notebooks/NN_name.py`` has no ``.ipynb`` twin or the reverse, or a solution notebook
    has no lesson (or a lesson with exercises has none),
  * a generated notebook differs from what its ``.py`` gives (an edit without ``make sync``,
    or a hand edit of a generated file),
  * the solution markers are unbalanced or a marker has no text saying what to write,
  * an ``.ipynb`` carries outputs or execution counts (lessons are committed clean),
  * an "Open in Colab" badge or a pip install line points anywhere but the
    repository URL and pinned ref in ``course_utils.lessons.config``,
  * the first cell of a lesson that uses the package is not the one setup cell
    (``config.setup_cell()``: the install that never touches Colab's TensorFlow, Keras or NumPy).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "solutions"
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
sys.path.insert(0, str(ROOT))
from course_utils import notebook_cells  # noqa: E402
from course_utils.lessons.config import PINNED_REF, REPO_URL, colab_url, setup_cell  # noqa: E402

BADGE_RE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s\"']+")
PIP_RE = re.compile(r"git\+(https://github\.com/[^@\s'\"]+)@([^\s'\"]+)")


def _cells(nb) -> list[tuple[str, str, object]]:
    return [(c.cell_type, c.source.strip(), c.get("metadata", {}).get("nbgrader")) for c in nb.cells]


def _clean(nb) -> None:
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


class MarkerError(ValueError):
    """Unbalanced or empty ``# BEGIN SOLUTION`` / ``# END SOLUTION`` markers in a lesson."""


def split_solutions(source: str, where: str, learner: bool) -> tuple[str, int]:
    """One cell's source as the learner's (stubs) or the instructor's (answers) version.

    Returns the new source and the number of solutions found in it.
    """
    out: list[str] = []
    inside, count = None, 0
    for n, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside is not None:
                raise MarkerError(f"{where}, line {n}: {BEGIN} inside another solution (opened on line {inside}).")
            task = stripped[len(BEGIN):].lstrip(":").strip()
            if not task:
                raise MarkerError(f"{where}, line {n}: write what the learner should write after the marker, "
                                  f"e.g. `{BEGIN}: return the loss for these logits`.")
            inside, count = n, count + 1
            if learner:
                indent = line[: len(line) - len(line.lstrip())]
                out += [f"{indent}# TODO: {task}", f"{indent}raise NotImplementedError"]
            continue
        if stripped.startswith(END):
            if inside is None:
                raise MarkerError(f"{where}, line {n}: {END} without a {BEGIN} before it.")
            inside = None
            continue
        if inside is None or not learner:
            out.append(line)
    if inside is not None:
        raise MarkerError(f"{where}, line {inside}: {BEGIN} is never closed by {END}.")
    return "\n".join(out), count


def lesson_versions(py: Path):
    """The learner's and the instructor's notebooks for one lesson, and how many exercises it has."""
    versions, count = [], 0
    for learner in (True, False):
        nb = jupytext.read(py)
        count, solution_cells = 0, set()
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                cell.source, found = split_solutions(cell.source, f"{py.name}, cell {i}", learner)
                count += found
                if found:
                    solution_cells.add(i)
            elif BEGIN in cell.source or END in cell.source:
                raise MarkerError(f"{py.name}, cell {i}: solution markers belong in code cells.")
        _clean(nb)
        nb.metadata.pop("jupytext", None)
        nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
        nb.metadata.setdefault("accelerator", "GPU")
        nb.metadata.setdefault("colab", {"provenance": [], "gpuType": "T4"})
        nb.nbformat, nb.nbformat_minor = 4, 4
        if learner:
            add_nbgrader_metadata(nb, py.stem[:2], solution_cells)
        else:
            note = nbformat.v4.new_markdown_cell(
                f"> **Instructor's copy, with the answers.** Generated from `notebooks/{py.name}` by "
                "`make sync`; do not edit it. Learners open `notebooks/" + py.stem + ".ipynb`.")
            note.pop("id", None)
            nb.cells.insert(0, note)
        versions.append(nb)
    return versions[0], versions[1], count


def grade_id(key: str) -> str:
    """nbgrader's id of an exercise's cell (letters, digits, ``_`` and ``-`` only): ``01.fn`` -> ``ex01_fn``."""
    return "ex" + key.replace(".", "_")


def add_nbgrader_metadata(nb, lesson: str, solution_cells: set[int]) -> None:
    """Mark a learner notebook's cells the way nbgrader does (schema version 3).

    Each cell that held a solution is an nbgrader *solution* cell, unlocked; each check cell
    (``fn = exercises.check("NN.fn", fn)``) is a locked *grade* cell (an autograder test) worth
    the exercise's points from the registry, and the solution cell it checks (the last one
    before it that defines ``fn``) takes the id of the exercise. nbgrader gives a test cell its
    points when it runs without an error: run it with ``COURSE_REQUIRE_SOLUTIONS=1`` so that a
    stub fails (README, "Grading a class"). A cell that holds both the answer and its check is
    a solution cell and a grade cell at once, which nbgrader treats as a manually graded answer
    (its output shows the check's verdict).
    """
    from course_utils.lessons.exercises import EXERCISES

    ids: dict[int, str] = {}
    checks: dict[int, str] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for key, name in notebook_cells.checks(cell.source):
            checks[i] = key
            mine = [j for j in sorted(solution_cells) if j < i and notebook_cells.defines(nb.cells[j].source, name)]
            if mine:
                ids.setdefault(mine[-1], grade_id(key))
    for n, i in enumerate(sorted(solution_cells), 1):
        nb.cells[i].metadata["nbgrader"] = {
            "grade": False, "grade_id": ids.get(i, f"solution{lesson}_{n}"), "locked": False,
            "schema_version": 3, "solution": True, "task": False}
    for i, key in checks.items():
        merged = i in solution_cells   # the answer and its check in one cell: a manually graded answer to nbgrader
        nb.cells[i].metadata["nbgrader"] = {
            "grade": True, "grade_id": grade_id(key) + ("" if merged else "_check"), "locked": not merged,
            "points": getattr(EXERCISES.get(key), "points", 1), "schema_version": 3, "solution": merged,
            "task": False}


def sync() -> None:
    SOLUTIONS.mkdir(exist_ok=True)
    for py in sorted(NOTEBOOKS.glob("*.py")):
        learner, solution, count = lesson_versions(py)
        out = py.with_suffix(".ipynb")
        nbformat.write(learner, out)   # the .py is never rewritten: it is the file you edit
        print(f"synced {out.relative_to(ROOT)}")
        if count:
            nbformat.write(solution, SOLUTIONS / out.name)
            print(f"synced {(SOLUTIONS / out.name).relative_to(ROOT)} ({count} solutions)")
        elif (SOLUTIONS / out.name).exists():
            (SOLUTIONS / out.name).unlink()


def solution_run(nb):
    """The cells a solution run needs: every exercise check, and the earlier cells each one reads from.

    A cell is kept when it holds an ``exercises.check(`` or defines a name that a kept cell reads
    (found with :mod:`symtable`, followed back to the first cell); unparsable cells are kept.
    What this leaves out (training, benchmarks, pictures) is what ``make check-notebooks`` runs
    in the learners' notebooks, with functions that passed the same checks. A missed dependency
    fails loudly (a NameError), it cannot make a check pass.
    """
    sources = [c.source if c.cell_type == "code" else None for c in nb.cells]
    checks = {i for i, source in enumerate(sources) if source is not None and "exercises.check(" in source}
    if not checks:
        raise MarkerError("a solution notebook without an `exercises.check(` cell")
    keep = notebook_cells.cells_needed(sources, checks)
    nb.cells = [nb.cells[0]] + [c for i, c in enumerate(nb.cells) if i in keep]
    return nb


def write_solution_runs(out_dir: Path) -> list[Path]:
    """Each solution notebook reduced to its exercise checks and what they need, for `make check-solutions`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        try:
            nb = solution_run(nbformat.read(path, as_version=4))
        except MarkerError as exc:
            raise MarkerError(f"{path.name}: {exc}") from None
        nbformat.write(nb, out_dir / path.name)
        written.append(out_dir / path.name)
    return written


def _outputs(path: Path, nb) -> list[str]:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            return [f"{path.relative_to(ROOT)}: cell {i} has outputs; clear them (`make sync` writes clean notebooks)"]
    return []


def check() -> list[str]:
    problems: list[str] = []
    pys = {p.stem for p in NOTEBOOKS.glob("*.py")}
    nbs = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    sols = {p.stem for p in SOLUTIONS.glob("*.ipynb")}
    for stem in sorted(pys - nbs):
        problems.append(f"notebooks/{stem}.py has no notebooks/{stem}.ipynb: run `make sync`")
    for stem in sorted(nbs - pys):
        problems.append(f"notebooks/{stem}.ipynb has no notebooks/{stem}.py (the file you edit)")
    for stem in sorted(sols - pys):
        problems.append(f"solutions/{stem}.ipynb has no notebooks/{stem}.py: delete it or run `make sync`")
    for stem in sorted(pys):
        py = NOTEBOOKS / f"{stem}.py"
        try:
            learner, solution, count = lesson_versions(py)
        except MarkerError as exc:
            problems.append(str(exc))
            continue
        pairs = [(NOTEBOOKS / f"{stem}.ipynb", learner)]
        if count:
            pairs.append((SOLUTIONS / f"{stem}.ipynb", solution))
            if stem not in sols:
                problems.append(f"{stem}.py has {count} exercises but no solutions/{stem}.ipynb: run `make sync`")
        elif stem in sols:
            problems.append(f"solutions/{stem}.ipynb exists but {stem}.py has no exercise: run `make sync`")
        for path, want in pairs:
            if not path.exists():
                continue
            raw = nbformat.read(path, as_version=4)
            problems += _outputs(path, raw)
            if _cells(want) != _cells(raw):
                problems.append(f"{path.relative_to(ROOT)} is stale or was edited by hand: edit {stem}.py, "
                                "then run `make sync`")
        text = py.read_text(encoding="utf-8")
        for url in BADGE_RE.findall(text):
            if url != colab_url(stem):
                problems.append(f"{stem}.py: Colab badge {url} should be {colab_url(stem)} (see course_utils.lessons.config)")
        # The first code cell that uses the package or TensorFlow must be the one setup cell.
        for version in [learner] + ([solution] if count else []):
            first = next((c.source.strip() + "\n" for c in version.cells if c.cell_type == "code"
                          and re.search(r"course_utils|tensorflow|keras", c.source)), "")
            if first and not first.startswith(setup_cell()):   # a lesson that never uses the package needs none
                problems.append(f"{stem}.py: the first cell using course_utils must start with the setup cell "
                                "from course_utils.lessons.config.setup_cell() (the one install helper of every lesson)")
                break
        for repo, ref in PIP_RE.findall(text):
            if (repo, ref) != (REPO_URL, PINNED_REF):
                problems.append(f"{stem}.py: installs {repo}@{ref}, expected {REPO_URL}@{PINNED_REF}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sync", action="store_true", help="rebuild the learner and solution notebooks from each .py")
    parser.add_argument("--solution-runs", metavar="DIR", type=Path,
                        help="write each solution notebook, reduced to its exercise checks and the cells they need, to DIR")
    args = parser.parse_args()
    if args.solution_runs:
        for path in write_solution_runs(args.solution_runs):
            print(f"wrote {path}")
        return 0
    if args.sync:
        try:
            sync()
        except MarkerError as exc:
            print("FAIL:", exc)
            return 1
    problems = check()
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print(f"notebooks: {len(list(NOTEBOOKS.glob('*.py')))} lessons and {len(list(SOLUTIONS.glob('*.ipynb')))} "
              "solution notebooks in sync, no outputs, links pinned")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
