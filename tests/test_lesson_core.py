"""Issue 32: a learner notebook is a lesson's core, read by a learner, not by a maintainer.

* at most 3,000 markdown words in each of lessons 01-04 and 2,000 in 05 (counted as the issue did:
  the words of the markdown cells of the generated ``notebooks/NN_name.ipynb``); going-further
  notebooks (``NN_name_further``) are optional reading and have no budget;
* no learner markdown names a ``make`` target, the test suite's ``COURSE_STEPS`` or a study script
  (``scripts/...``): those are for maintainers and live in the README and docs/.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CORES = [nb for nb in NOTEBOOKS if not nb.stem.endswith("_further")]
WORD_BUDGET = {"01": 3000, "02": 3000, "03": 3000, "04": 3000, "05": 2000}
MAINTAINER_WORDS = re.compile(r"`make [a-z][\w-]*|\bmake (test|lessons|check-[\w-]+|reference-models|sync|bench|data)\b"
                              r"|COURSE_STEPS|\bscripts/\w+\.py")


def markdown(nb: Path) -> list[str]:
    """The text of each markdown cell of a notebook."""
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def markdown_words(nb: Path) -> int:
    return sum(len(text.split()) for text in markdown(nb))


def test_the_counter_counts_what_the_issue_counted(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": ["# Title\n", "two words"]},
                    {"cell_type": "code", "source": ["x = 1  # not counted"]},
                    {"cell_type": "markdown", "source": "one"}]}
    (tmp_path / "01_x.ipynb").write_text(json.dumps(nb))
    assert markdown_words(tmp_path / "01_x.ipynb") == 5


@pytest.mark.parametrize("nb", [nb for nb in CORES if nb.stem[:2] in WORD_BUDGET], ids=lambda p: p.stem)
def test_a_lesson_core_fits_its_word_budget(nb):
    words = markdown_words(nb)
    assert words <= WORD_BUDGET[nb.stem[:2]], (
        f"{nb.name}: {words:,} markdown words, over the {WORD_BUDGET[nb.stem[:2]]:,} of a lesson's core; "
        f"move studies and derivations to {nb.stem}_further.py, maintainers' notes to docs/")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_maintainer_material_in_learner_markdown(nb):
    found = [m.group(0) for text in markdown(nb) for m in MAINTAINER_WORDS.finditer(text)]
    assert not found, f"{nb.name} names maintainers' tools in its text: {sorted(set(found))}"


def test_the_maintainer_pattern_catches_what_it_should():
    for text in ("run `make reference-models`", "COURSE_STEPS (make check-full)", "see scripts/speckle_study.py",
                 "make lessons"):
        assert MAINTAINER_WORDS.search(text), text
    for text in ("we make the generator", "a make-or-break step", "the COURSE_PROFILE variable"):
        assert not MAINTAINER_WORDS.search(text), text


def course_utils_names(nb: Path) -> set[str]:
    """The names a notebook's code binds by importing from course_utils (issue 35: at most 6)."""
    import ast

    names: set[str] = set()
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(ln for ln in "".join(cell["source"]).splitlines() if not ln.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names.update(a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("course_utils"))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils"):
                names.update(a.asname or a.name for a in node.names)
    return names


def test_the_name_counter_sees_every_form_of_import(tmp_path):
    code = ("import course_utils as course\nfrom course_utils import data, models\n"
            "from course_utils.lessons.labs import gan as gan_lab\nimport numpy as np\n")
    (tmp_path / "01_x.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": code}]}))
    assert course_utils_names(tmp_path / "01_x.ipynb") == {"course", "data", "models", "gan_lab"}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_lesson_imports_at_most_six_course_utils_names(nb):
    names = course_utils_names(nb)
    assert len(names) <= 6, (f"{nb.name} imports {len(names)} course_utils names {sorted(names)}: reach the lesson "
                             "support through `course` (import course_utils as course), e.g. course.plotting")
