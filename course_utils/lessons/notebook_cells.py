"""Reading a lesson notebook's code cells by the names they define and read.

Two tools need the same view of a lesson: ``scripts/check_notebooks.py`` (``make
check-solutions`` runs each exercise check with only the cells it reads from) and the grader
(:mod:`course_utils.tools.grade`, which finds a learner's exercise cells by name, however the cells
were moved, added or deleted). Both use this module:

* :func:`names`: the names a cell defines at the top level and the global names it reads;
* :func:`checks` / :func:`strip_checks`: the ``exercises.check("NN.name", fn)`` calls of a cell;
* :func:`cells_needed`: given some target cells, every earlier cell they read from, by name.

No TensorFlow here: the grader's own process only reads notebooks.
"""

from __future__ import annotations

import builtins
import re
import symtable
from collections.abc import Sequence

#: One check call, as a lesson writes it: ``fn = exercises.check("01.fn", fn)`` (the assignment optional).
CHECK_RE = re.compile(r"""exercises\.check\(\s*["'](?P<key>\d\d\.\w+)["']\s*,\s*(?P<name>[A-Za-z_]\w*)\s*\)""")
_CHECK_LINE_RE = re.compile(
    r"""^[ \t]*(?:[A-Za-z_]\w*[ \t]*=[ \t]*)?(?:course\.)?exercises\.check\([^\n]*\)[ \t]*(?:#[^\n]*)?$\n?""", re.M)
_BUILTINS = set(dir(builtins))


def source_of(cell) -> str:
    """A cell's source as one string (nbformat keeps it as a string; raw JSON may hold a list of lines)."""
    source = cell.get("source", "") if hasattr(cell, "get") else ""
    return "".join(source) if isinstance(source, list) else str(source or "")


def names(source: str) -> tuple[set[str], set[str]] | None:
    """(names a cell defines at the top level, global names it reads anywhere), or None if unparsable.

    IPython lines (``%magic``, ``!shell``) are left out before parsing.
    """
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        table = symtable.symtable(code, "cell", "exec")
    except (SyntaxError, ValueError):
        return None
    defined = {sym.get_name() for sym in table.get_symbols()
               if sym.is_assigned() or sym.is_imported() or sym.is_namespace()}
    used: set[str] = set()

    def walk(tab) -> None:
        for sym in tab.get_symbols():
            if sym.is_referenced() and (tab.get_type() == "module" or sym.is_global()):
                used.add(sym.get_name())
        for child in tab.get_children():
            walk(child)

    walk(table)
    return defined, used - _BUILTINS


def checks(source: str) -> list[tuple[str, str]]:
    """The ``(key, function name)`` of every ``exercises.check(...)`` call in a cell, in order."""
    return [(m["key"], m["name"]) for m in CHECK_RE.finditer(source)]


def strip_checks(source: str) -> str:
    """The cell without its lines that call ``exercises.check`` (what is left of a check cell: often nothing)."""
    return _CHECK_LINE_RE.sub("", source)


def defines(source: str, name: str) -> bool:
    """Whether a cell binds ``name`` at the top level (``def name``, ``name = ...``, an import).

    An unparsable cell counts when a line of it starts with ``def name(`` or ``name =``, so a
    learner's syntax error is found in the exercise cell it belongs to.
    """
    found = names(source)
    if found is not None:
        return name in found[0]
    return re.search(rf"^(?:def[ \t]+{re.escape(name)}[ \t]*\(|{re.escape(name)}[ \t]*=)", source, re.M) is not None


def cells_needed(sources: Sequence[str | None], targets: set[int]) -> set[int]:
    """The targets and every earlier cell they read from, followed back by name to the first cell.

    ``sources`` are the code cells in order (None for a cell left out). Walking backwards from
    the last target, a cell is kept when it is a target, defines a name that a kept cell reads,
    or cannot be parsed (it might define anything). A missed dependency fails loudly later (a
    ``NameError``); it cannot make a check pass.
    """
    if not targets:
        return set()
    keep: set[int] = set()
    wanted: set[str] = set()
    for i in range(max(targets), -1, -1):
        if sources[i] is None:
            continue
        info = names(sources[i])
        if i in targets or info is None or info[0] & wanted:
            keep.add(i)
            wanted |= info[1] if info else set()
    return keep
