"""Run the longer version of a lesson's labs and write its results file.

    python scripts/run_labs.py pix2pix [options of that lab's module]

Each lesson's labs live in ``course_utils/lessons/labs/<name>.py``, whose ``main(argv)`` trains the
variants for longer than the lesson does and writes ``data/reference/labs_<name>.json``; this
script only picks the module, passes the remaining arguments on and prints the command and
the seconds it took. ``--help`` after the name shows that module's options.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: Lesson labs this script can run: name -> module (each with ``main(argv) -> int``).
LABS = {"pix2pix": "course_utils.lessons.labs.pix2pix"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in LABS:
        print(f"usage: python scripts/run_labs.py {{{','.join(LABS)}}} [options]", file=sys.stderr)
        return 2
    name, rest = argv[0], argv[1:]
    start = time.perf_counter()
    code = importlib.import_module(LABS[name]).main(rest)
    print(f"python scripts/run_labs.py {' '.join(argv)}: {time.perf_counter() - start:.0f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
