"""Support package for the image-to-image GAN course, in three wings.

- :mod:`course_utils.core`     what a learner reads: layers, networks, losses, training steps and
  trainers, data, metrics, and one module per model (its config, profiles and registration);
- :mod:`course_utils.lessons`  lesson support: settings and profiles, exercises and checkers, labs,
  figures, diagrams, widgets, results;
- :mod:`course_utils.tools`    the command line, run folders, evaluation, benchmarks and cost
  estimates, the grader, installing on Colab.

Every module is also reachable by its short name from here (``from course_utils import models``,
``course.plotting`` after ``import course_utils as course``), imported on first use, so that
``import course_utils`` stays cheap and does not start TensorFlow. The README maps the modules.
"""

import os as _os

__version__ = "0.1.0"

# Quiet lessons. TensorFlow's C++ runtime logs to stderr: on a CPU runtime a failed cuInit,
# grappler's "remapper failed" and other lines a learner cannot act on, some marked as errors.
# Level 3 keeps only fatal C++ messages; real failures still raise Python exceptions, and
# Python warnings (Keras, TensorFlow's Python logger, ours) are untouched. It only counts if
# set before TensorFlow is imported, which is why every lesson imports course_utils first.
# To see everything: set TF_CPP_MIN_LOG_LEVEL=0 before importing course_utils.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# The face: every module by its short name (``from course_utils import models``, ``course_utils.plotting``),
# imported on first use from its wing. core/: what a learner reads; lessons/: lesson support; tools/: the
# command line, benchmarks, grading and install.
_WINGS = {
    "archives": "core",
    "bench": "tools",
    "capstone": "tools",
    "checkers": "lessons",
    "cli": "tools",
    "config": "lessons",
    "costs": "tools",
    "counts": "core",
    "cyclegan": "core",
    "data": "core",
    "dcgan": "core",
    "diagrams": "lessons",
    "distribute": "tools",
    "evaluation": "tools",
    "exercise_sets": "lessons",
    "exercises": "lessons",
    "files": "core",
    "grade": "tools",
    "grade_driver": "tools",
    "grade_kernel": "tools",
    "grade_protocol": "tools",
    "grade_report": "tools",
    "grade_sandbox": "tools",
    "images": "core",
    "inference": "core",
    "install": "tools",
    "labs": "lessons",
    "layers": "core",
    "losses": "core",
    "metrics": "core",
    "model_config": "core",
    "models": "core",
    "notebook_cells": "lessons",
    "perf": "tools",
    "pix2pix": "core",
    "plotting": "lessons",
    "pretrained": "core",
    "registry": "core",
    "results": "lessons",
    "ring": "lessons",
    "runs": "tools",
    "runtime": "lessons",
    "train": "core",
    "widgets": "lessons",
}


def __getattr__(name: str):
    if name not in _WINGS:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f"course_utils.{_WINGS[name]}.{name}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted([*globals(), *_WINGS])


class _ShortPaths:
    """``import course_utils.models`` and ``from course_utils.labs.gan import x``: a short path names the
    module in its wing (the same module object, never a second copy)."""

    @staticmethod
    def find_spec(fullname: str, path=None, target=None):
        # Only our names reach an import below: a finder first in sys.meta_path that imported anything for
        # every name would be asked about that import too (endless recursion on Python 3.13, where
        # importlib.util is not loaded yet at start-up).
        parts = fullname.split(".")
        if len(parts) > 1 and parts[0] == "course_utils" and parts[1] in _WINGS:
            return _importlib_util.spec_from_loader(fullname, _ShortPaths)
        return None

    @staticmethod
    def create_module(spec):
        import importlib

        parts = spec.name.split(".")
        return importlib.import_module(".".join(["course_utils", _WINGS[parts[1]], *parts[1:]]))

    @staticmethod
    def exec_module(module) -> None:
        """Nothing to run: the module was imported under its wing's name."""


import importlib.util as _importlib_util  # noqa: E402
import sys as _sys  # noqa: E402

if not any(f is _ShortPaths for f in _sys.meta_path):
    _sys.meta_path.insert(0, _ShortPaths)
