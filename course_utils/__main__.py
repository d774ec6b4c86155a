"""``python -m course_utils ...``: see :mod:`course_utils.tools.cli` (``rubric``: :func:`course_utils.tools.capstone.main`)."""

import sys

from course_utils.tools.cli import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["rubric"]:   # the capstone rubric for a class; capstone reads commands with cli's parser
        from course_utils.tools import capstone

        sys.exit(capstone.main(sys.argv[2:]))
    sys.exit(main())
