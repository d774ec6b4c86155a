"""Keep every lesson's jupytext pair honest.

    python scripts/check_notebooks.py          # check (used by `make test`)
    python scripts/check_notebooks.py --sync   # rebuild each .ipynb from its .py

The check fails when
  * a ``notebooks/NN_name.py`` has no ``.ipynb`` twin or the reverse,
  * the cells of the pair differ (someone edited one side and forgot ``make sync``),
  * an ``.ipynb`` carries outputs or execution counts (lessons are committed clean),
  * an "Open in Colab" badge or a pip install line points anywhere but the
    repository URL and pinned ref in ``course_utils.config``,
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
sys.path.insert(0, str(ROOT))
from course_utils.config import PINNED_REF, REPO_URL, colab_url, setup_cell  # noqa: E402

BADGE_RE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s\"']+")
PIP_RE = re.compile(r"git\+(https://github\.com/[^@\s'\"]+)@([^\s'\"]+)")


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def _clean(nb) -> None:
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def sync() -> None:
    for py in sorted(NOTEBOOKS.glob("*.py")):
        nb = jupytext.read(py)
        _clean(nb)
        nb.metadata.pop("jupytext", None)
        nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
        nb.metadata.setdefault("accelerator", "GPU")
        nb.metadata.setdefault("colab", {"provenance": [], "gpuType": "T4"})
        nb.nbformat, nb.nbformat_minor = 4, 4
        out = py.with_suffix(".ipynb")
        nbformat.write(nb, out)   # the .py is never rewritten: it is the file you edit
        print(f"synced {out.relative_to(ROOT)}")


def check() -> list[str]:
    problems: list[str] = []
    pys = {p.stem for p in NOTEBOOKS.glob("*.py")}
    nbs = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    for stem in sorted(pys - nbs):
        problems.append(f"notebooks/{stem}.py has no notebooks/{stem}.ipynb: run `make sync`")
    for stem in sorted(nbs - pys):
        problems.append(f"notebooks/{stem}.ipynb has no notebooks/{stem}.py (the file you edit)")
    for stem in sorted(pys & nbs):
        py_nb = jupytext.read(NOTEBOOKS / f"{stem}.py")
        ipynb_path = NOTEBOOKS / f"{stem}.ipynb"
        raw = nbformat.read(ipynb_path, as_version=4)
        for i, cell in enumerate(raw.cells):
            if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
                problems.append(f"{ipynb_path.name}: cell {i} has outputs; clear them (`make sync` writes clean notebooks)")
                break
        if _cells(py_nb) != _cells(raw):
            problems.append(f"{stem}.py and {stem}.ipynb differ: edit the .py, then run `make sync`")
        text = (NOTEBOOKS / f"{stem}.py").read_text(encoding="utf-8")
        for url in BADGE_RE.findall(text):
            if url != colab_url(stem):
                problems.append(f"{stem}.py: Colab badge {url} should be {colab_url(stem)} (see course_utils.config)")
        # The first code cell that uses the package or TensorFlow must be the one setup cell.
        first = next((c.source.strip() + "\n" for c in py_nb.cells if c.cell_type == "code"
                      and re.search(r"course_utils|tensorflow|keras", c.source)), "")
        if not first.startswith(setup_cell()):
            problems.append(f"{stem}.py: the first cell using course_utils must start with the setup cell "
                            "from course_utils.config.setup_cell() (the one install helper of every lesson)")
        for repo, ref in PIP_RE.findall(text):
            if (repo, ref) != (REPO_URL, PINNED_REF):
                problems.append(f"{stem}.py: installs {repo}@{ref}, expected {REPO_URL}@{PINNED_REF}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sync", action="store_true", help="rebuild each .ipynb from its .py")
    args = parser.parse_args()
    if args.sync:
        sync()
    problems = check()
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print(f"notebook pairs: {len(list(NOTEBOOKS.glob('*.py')))} in sync, no outputs, links pinned")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
