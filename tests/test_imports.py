"""course_utils's imports form a tree: no module imports, directly or through others, itself.

The graph is read from the source with :mod:`ast`, not by importing: every ``import`` and
``from ... import`` of a course_utils module counts, at module level and inside functions alike
(a lazy import only delays a cycle, it does not remove it from the design). Imports under
``if TYPE_CHECKING:`` are left out: they are never executed, they only name types.
"""

from __future__ import annotations

import ast
from pathlib import Path

import course_utils

PACKAGE = Path(course_utils.__file__).resolve().parent   # the source, or the installed wheel (colab-check)


def _module_name(path: Path, package: Path) -> str:
    parts = ("course_utils",) + path.relative_to(package).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (type hints only)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """``{module: the course_utils modules it imports}`` for every .py file of the package."""
    files = {_module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        skipped = _type_checking_blocks(tree)
        deps: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in files)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:   # relative: from . import x, from .sub import y
                    up = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([node.module] if node.module else []))
                for alias in node.names:
                    if base == "course_utils" and alias.name in course_utils._WINGS:   # the face's short name
                        deps.add(f"course_utils.{course_utils._WINGS[alias.name]}.{alias.name}")
                    elif f"{base}.{alias.name}" in files:     # from course_utils.core import models
                        deps.add(f"{base}.{alias.name}")
                    elif base in files:                      # from course_utils.core.models import x
                        deps.add(base)
        deps.discard(name)
        # A package's submodule imports the package's __init__ first; only real modules count here.
        graph[name] = {d for d in deps if d != "course_utils"}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or ``None`` when the graph is a tree (a DAG)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    # Known edges, module-level and inside a function, and the subpackages.
    assert "course_utils.core.counts" in graph["course_utils.core.models"]
    assert "course_utils.core.models" in graph["course_utils.lessons.ring"]            # imported inside train_ring
    assert "course_utils.lessons.checkers" in graph["course_utils.lessons.exercise_sets.lesson01"]
    assert graph["course_utils.core.counts"] == set()


def test_find_cycle_names_the_modules_of_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_course_utils_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle) + " (move the shared piece into a module both can import)"


WINGS = ("core", "lessons", "tools")


def _wing(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in WINGS else None


def test_the_core_imports_nothing_from_the_lesson_support_or_the_tools():
    """The core a learner reads (layers, models, losses, train, data, ...) stands on its own."""
    graph = import_graph()
    core = [m for m in graph if _wing(m) == "core"]
    assert "course_utils.core.models" in core and "course_utils.core.train" in core
    outward = {m: sorted(d for d in graph[m] if _wing(d) not in (None, "core")) for m in core}
    assert {m: d for m, d in outward.items() if d} == {}, "the core reaches into lessons/ or tools/"


def test_lesson_support_does_not_import_the_tools_except_where_a_lesson_runs_one():
    """lessons/ may use the core; the tools it reaches are listed here, so a new edge is a decision."""
    graph = import_graph()
    allowed = {"course_utils.tools.costs", "course_utils.tools.runs", "course_utils.tools.perf",
               "course_utils.tools.evaluation", "course_utils.tools.install"}
    reached = {d for m in graph if _wing(m) == "lessons" for d in graph[m] if _wing(d) == "tools"}
    assert reached <= allowed, f"lessons/ imports {sorted(reached - allowed)} from tools/"


def test_every_module_lives_in_a_wing_and_the_face_knows_it():
    modules = [p for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")]
    assert modules == [], f"modules outside the three wings: {[p.name for p in modules]}"
    for short, wing in course_utils._WINGS.items():
        assert (PACKAGE / wing / f"{short}.py").is_file() or (PACKAGE / wing / short).is_dir(), short
    on_disk = {p.stem for w in WINGS for p in (PACKAGE / w).iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").is_file())}
    assert on_disk == set(course_utils._WINGS)


def test_no_function_is_longer_than_80_lines():
    """Issue 35: a function a newcomer reads fits on a screen or two (docstring included)."""
    long = [f"{p.relative_to(PACKAGE)}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for p in sorted(PACKAGE.rglob("*.py")) for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 80]
    assert long == [], "split these into named steps: " + "; ".join(long)


def test_a_short_path_imports_in_a_fresh_interpreter_without_importlib_util_loaded():
    """CI's colab-check (Python 3.13, where ``importlib.util`` is not loaded at start-up) once failed with
    RecursionError: the short-path finder sat first in ``sys.meta_path`` and imported ``importlib.util``
    for every name asked, so the finder was asked about its own import. Dropping the module reproduces
    that start-up on any Python."""
    import subprocess
    import sys

    code = ("import sys\n"
            "for name in [n for n in sys.modules if n == 'importlib.util' or n.startswith('importlib.util.')]:\n"
            "    del sys.modules[name]\n"
            "import course_utils\n"
            "import course_utils.registry as short\n"
            "import course_utils.core.registry as long\n"
            "assert short is long\n"
            "import json.decoder, email.mime.text\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
