"""No learner notebook shows an exercise's answer before the exercise is checked.

For every ``# BEGIN SOLUTION ... # END SOLUTION`` block of a lesson (``notebooks/NN_name.py``), each
non-trivial line of the answer (and, for ``return expr`` and ``name = expr``, the expression ``expr``)
must not appear in the learner's notebook (``notebooks/NN_name.ipynb``, as ``make sync`` writes it)
in any cell, code or markdown, before the cell that checks the exercise (``exercises.check(``).
Lines are compared with all whitespace and trailing comments removed, so a formula copied into a
markdown cell in backticks is found too. Short generic lines (``return x``, ``pass``, a lone
bracket, ``x = layers.ReLU()(x)``, ``layers.LeakyReLU(negative_slope=0.2)(x)``: the lessons give
these activations in their own blocks) are too common to count as giving an answer away and are skipped.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
BLOCK_RE = re.compile(r"^[ \t]*# BEGIN SOLUTION:?(.*?)\n(.*?)^[ \t]*# END SOLUTION", re.M | re.S)
#: A line (spaces removed) needs this many characters to count as an answer line; an arithmetic
#: formula (with + - * / or **) counts from MIN_FORMULA on.
MIN_CHARS, MIN_FORMULA = 28, 14
TRIVIAL = re.compile(r"^(pass|else:|try:|finally:|continue|break|return|return\w+|[\)\]\}],?|\w+=\w+"
                     r"|(\w+=)?(keras\.)?layers\.\w+\(\)\(\w+\)"       # ... a layer without arguments
                     r"|(\w+=)?(keras\.)?layers\.(LeakyReLU|ReLU)\([\w.=]*\)\(\w+\))$")  # ... or an activation


def squeeze(text: str) -> str:
    """``text`` without any whitespace, so that line breaks and alignment never hide a match."""
    return re.sub(r"\s+", "", text)


def _drop_comment(line: str) -> str:
    """The line without a trailing ``# comment`` (a ``#`` inside quotes is kept)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def meaningful(code: str) -> bool:
    """Whether a squeezed code fragment is specific enough that showing it gives an answer away."""
    if not code or TRIVIAL.match(code):
        return False
    formula = re.search(r"[\w\)\]]\s*(\*\*|[+\-*/])\s*[\w\(]", code) is not None
    return len(code) >= (MIN_FORMULA if formula else MIN_CHARS)


def answer_fragments(solution: str) -> list[str]:
    """The squeezed fragments of one solution that must not show before its check."""
    out = []
    for line in solution.splitlines():
        code = _drop_comment(line).strip()
        if not code or code.startswith(('"""', "'''")):
            continue
        candidates = [code]
        m = re.match(r"^(?:return\s+|[\w\.,\s\[\]]+?\s*=\s*)(?!=)(.+)$", code)
        if m:
            candidates.append(m.group(1))
        out += [squeeze(c) for c in candidates if meaningful(squeeze(c))]
    return list(dict.fromkeys(out))


def solution_blocks(py_text: str) -> list[tuple[str, list[str]]]:
    """``(task, fragments)`` for every solution block of a lesson's ``.py``, in order.

    A call that repeats a signature the lesson defines (``discriminator_loss(real_logits,
    fake_logits)``) names an interface, not an answer, and is left out.
    """
    signatures = {squeeze(m.group(1)) for m in re.finditer(r"^\s*def\s+(\w+\(.*?\))\s*:", py_text, re.M | re.S)}
    return [(m.group(1).strip(), [f for f in answer_fragments(m.group(2)) if f not in signatures])
            for m in BLOCK_RE.finditer(py_text)]


def learner_cells(ipynb: Path) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in json.loads(ipynb.read_text(encoding="utf-8"))["cells"]]


def leaks(cells: list[str], blocks: list[tuple[str, list[str]]]) -> list[str]:
    """Every answer fragment that shows in a learner cell before its exercise's check, in words."""
    found = []
    for task, fragments in blocks:
        stub = next((i for i, c in enumerate(cells) if f"# TODO: {task}" in c), None)
        if stub is None:
            found.append(f"no stub cell with '# TODO: {task}'")
            continue
        check = next((i for i in range(stub, len(cells)) if "exercises.check(" in cells[i]), None)
        if check is None:
            found.append(f"'{task}': no exercises.check( cell after its stub")
            continue
        for i in range(check):
            text = squeeze(cells[i])
            found += [f"'{task}': cell {i} shows `{f}` before the check (cell {check})" for f in fragments if f in text]
    return found


# ---- the scanner itself, on a planted case --------------------------------------------------------
PLANTED_PY = '''
# %%
def loss(real, fake):
    # BEGIN SOLUTION: return the loss
    real_loss = bce(tf.ones_like(real), real)
    return real_loss + bce(tf.zeros_like(fake), fake)
    # END SOLUTION

# %%
def block(x):
    # BEGIN SOLUTION: the block
    x = layers.ReLU()(x)
    return x
    # END SOLUTION
'''


def planted_cells(before_check: str) -> list[str]:
    return ["# intro", before_check, "def loss(real, fake):\n    # TODO: return the loss\n    raise NotImplementedError",
            'loss = exercises.check("01.loss", loss)',
            "# after the check: `real_loss + bce(tf.zeros_like(fake), fake)`",
            "def block(x):\n    # TODO: the block\n    raise NotImplementedError", 'block = exercises.check("01.block", block)']


def test_the_scanner_finds_a_planted_answer_line_and_a_planted_formula():
    blocks = solution_blocks(PLANTED_PY)
    assert [task for task, _ in blocks] == ["return the loss", "the block"]
    assert blocks[1][1] == []                                 # x = layers.ReLU()(x) and return x: generic
    assert solution_blocks(PLANTED_PY + "\n# %%\ndef f(a, b):\n    # BEGIN SOLUTION: f\n    y = loss(real, fake) + 1\n"
                           "    z = loss(real, fake)\n    # END SOLUTION\n")[2][1] == ["y=loss(real,fake)+1", "loss(real,fake)+1"]
    assert leaks(planted_cells("# some words"), blocks) == []  # the formula after the check is allowed
    code = leaks(planted_cells("x = 1\nreal_loss = bce(tf.ones_like(real),  real)   # shown"), blocks)
    assert len(code) == 2 and all("cell 1 shows" in c for c in code), code   # the line, and its expression
    assert "`bce(tf.ones_like(real),real)`" in code[1]
    markdown = leaks(planted_cells("The loss is `real_loss + bce(tf.zeros_like(fake),\n fake)`."), blocks)
    assert len(markdown) == 1 and "before the check (cell 3)" in markdown[0]


def test_short_generic_lines_are_not_answers():
    assert answer_fragments("    return x\n    pass\n    )\n    x = layers.ReLU()(x)\n    y = x\n") == []
    assert answer_fragments("    return scale / 2, 0, False") == ["returnscale/2,0,False", "scale/2,0,False"]
    assert answer_fragments("    step = np.asarray(step, dtype=np.float64)") == [
        "step=np.asarray(step,dtype=np.float64)", "np.asarray(step,dtype=np.float64)"]


def test_a_missing_stub_or_check_is_reported():
    blocks = solution_blocks(PLANTED_PY)
    assert leaks(["nothing here"], blocks[:1]) == ["no stub cell with '# TODO: return the loss'"]
    assert "no exercises.check(" in leaks(["# TODO: return the loss"], blocks[:1])[0]


# ---- every lesson ---------------------------------------------------------------------------------
@pytest.mark.parametrize("py", LESSONS, ids=[p.stem for p in LESSONS])
def test_no_learner_notebook_shows_an_answer_before_its_check(py):
    blocks = solution_blocks(py.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{py.name} has no exercises")
    found = leaks(learner_cells(py.with_suffix(".ipynb")), blocks)
    assert not found, f"{py.name}:\n" + "\n".join(found)
