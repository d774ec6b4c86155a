"""Lesson settings and the environment they run in.

Every lesson has one frozen dataclass of settings with three profiles (learner, paper, smoke; see
:mod:`course_utils.core.model_config`, where the profiles, ``COURSE_PROFILE`` and ``COURSE_STEPS`` are
resolved). Lessons 01, 02 and 03 use their model's own settings (:class:`DcganConfig`, :class:`Pix2PixConfig`,
:class:`CycleGanConfig`, from :mod:`course_utils.core.dcgan`, :mod:`course_utils.core.pix2pix` and
:mod:`course_utils.core.cyclegan`), the
same type the command line trains with. Quality checks that only a full-length run can meet print
instead of failing in a cut run (:func:`expect_quality`).

>>> Pix2PixConfig.paper().image_size, Pix2PixConfig.smoke().image_size
(256, 64)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypeVar

from course_utils.core.files import (PACKAGED_DATA, REPO_ROOT, data_dir, download_cache,  # noqa: F401  (the lessons' names)
                                in_colab)
from course_utils.core.model_config import (PROFILES, ModelConfig, Profiled, course_steps, cut_epochs,  # noqa: F401
                                       cut_interval, gpu_visible, profile_name, with_course_steps)

from course_utils.core.counts import HORSE2ZEBRA_EPOCH_STEPS  # noqa: F401  (config.HORSE2ZEBRA_EPOCH_STEPS)

# ---------------------------------------------------------------------------
# Where the course lives. Badges and Colab install cells are generated from,
# and checked against, these two constants (see scripts/check_notebooks.py).
# ---------------------------------------------------------------------------
REPO_URL = "https://github.com/gan-course/image-to-image-gans"
PINNED_REF = "v0.1.0"


def is_smoke() -> bool:
    """True when lessons run the smoke profile (see :func:`profile_name`): tiny sizes and step counts."""
    return profile_name() == "smoke"


def colab_url(notebook: str) -> str:
    """The 'Open in Colab' address of a lesson, e.g. ``colab_url("02_pix2pix")``."""
    repo = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{PINNED_REF}/notebooks/{notebook}.ipynb"


def package_requirement() -> str:
    """The requirement a Colab setup cell installs (``--no-deps``): this package at the pinned ref."""
    return f"course_utils @ git+{REPO_URL}@{PINNED_REF}"


def setup_cell() -> str:
    """The lines every lesson's first code cell starts with (``make test`` checks each lesson has them).

    On Colab: ``pip install --no-deps`` of this package at the pinned ref (it cannot change
    anything installed), pip's own output if that fails, then
    :func:`course_utils.tools.install.install_requirements` for whatever is still missing, never
    TensorFlow, Keras or NumPy. Elsewhere the package is already installed (``make install``).
    """
    return f"""\
# Setup: on Colab, install the course's helper package at the pinned release (with --no-deps, then only
# what is missing: Colab's TensorFlow, Keras and NumPy are never touched); elsewhere it is installed.
import subprocess, sys
if "google.colab" in sys.modules:
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "{package_requirement()}"],
                         capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError("pip could not install course_utils:\\n" + pip.stdout + pip.stderr)
import course_utils as course   # the course's package: course.config, course.plotting, ...
if "google.colab" in sys.modules:
    course.install.install_requirements()   # what is still missing; never TensorFlow, Keras or NumPy
"""


# ---------------------------------------------------------------------------
# One frozen dataclass per lesson.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LessonConfig(Profiled):
    """A lesson's settings: the field defaults are the papers'; ``paper()``, ``learner()``, ``smoke()``,
    ``of(profile)`` and ``current()`` construct them."""


#: The models' own configs, which lessons 01-03 use, by the module that holds each.
_MODEL_CONFIGS = {"DcganConfig": "dcgan", "Pix2PixConfig": "pix2pix", "CycleGanConfig": "cyclegan"}


def __getattr__(name: str):
    """``config.Pix2PixConfig`` and the others, imported on first use: their modules start TensorFlow,
    which :func:`course_utils.lessons.runtime.import_tensorflow` starts first in a lesson so that its
    start-up lines stay out of the notebook."""
    if name not in _MODEL_CONFIGS:
        raise AttributeError(f"module 'course_utils.lessons.config' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"course_utils.core.{_MODEL_CONFIGS[name]}"), name)


@dataclass(frozen=True)
class ColabTrainingConfig(LessonConfig):
    """Lesson 04: training for real on a Colab GPU (checkpoints, XLA, mixed precision)."""

    model: str = "cyclegan"
    dataset: str = "horse2zebra"
    image_size: int = 256
    batch_size: int = 1
    filters: int = 64
    n_blocks: int | None = None    # residual blocks: None = the paper's 9 at 256, 6 below
    upsample: str = "transpose"    # the generators' upsampling: the paper's; "resize" avoids speckle (03_cyclegan_further)
    steps: int = 2000
    checkpoint_every: int = 250
    bench_steps: int = 20
    # The payoff run (section 7): the measured settings, the paper's schedule shape, a real result.
    payoff_steps: int = 13340      # 10 epochs of horse2zebra (1,334 steps each at batch 1): 5 constant + 5 decay
    payoff_learning_rate: float = ModelConfig.learning_rate   # the paper's; the smoke run's 1,200 steps learn at 1e-3 (03_cyclegan_further)
    payoff_checkpoint_every: int = 500
    payoff_sample_every: int = 1000
    eval_images: int = 100         # test images per domain for the evaluation (horse2zebra has 120 / 140)
    precision: str = "float32"     # what the cost estimate assumes the runs train in (section 4 measures it)
    replicas: int = 2              # the MirroredStrategy demonstration: two GPUs, or two logical CPUs
    out_dir: str = "/content/drive/MyDrive/gan-course/runs"
    seed: int = 0

    @classmethod
    def _learner_overrides(cls) -> dict:
        # Both runs at 128 px in mixed precision: the checkpointed run about 2 T4 minutes, the payoff run's
        # 10 epochs about 12 (the paper profile: 256 px in float32, about 2 hours, resumable from Drive).
        return dict(image_size=128, precision="mixed_float16")

    @classmethod
    def _smoke_overrides(cls) -> dict:
        return dict(dataset="shipped", image_size=32, batch_size=1, filters=8, n_blocks=2, steps=6, precision="float32",
                    checkpoint_every=3, bench_steps=3, payoff_steps=1200, payoff_learning_rate=1e-3,
                    payoff_checkpoint_every=600,
                    payoff_sample_every=200, eval_images=40, out_dir="build/runs")

    def _cut(self, limit: int) -> dict:
        steps, payoff = min(self.steps, limit), min(self.payoff_steps, limit)
        return dict(steps=steps, checkpoint_every=cut_interval(self.checkpoint_every, steps),
                    # lesson 04 times 3 rounds of bench_steps for each of its 3 variants at 256x256
                    # (a CycleGAN step there takes minutes on a CPU): the rounds together stay within the cut
                    bench_steps=max(1, min(self.bench_steps, limit // 3)), payoff_steps=payoff,
                    payoff_checkpoint_every=cut_interval(self.payoff_checkpoint_every, payoff),
                    payoff_sample_every=cut_interval(self.payoff_sample_every, payoff))


@dataclass(frozen=True)
class CapstoneConfig(LessonConfig):
    """Lesson 05: your own translation. Replace ``data`` (and ``image_size``) with your own set.

    The defaults train on the shipped paired set, whose images are 64x64; for your own photos use
    the papers' 256. ``steps`` is the global step the run reaches: CycleGAN keeps the learning rate
    for the first half and decays it linearly to zero over the second (the paper's shape).
    """

    model: str = "pix2pix"         # "pix2pix" (pairs: A|B files) or "cyclegan" (two unpaired folders)
    data: str = "shipped"          # "shipped", or your folder / .zip / .tar.gz
    image_size: int = 64           # the shipped set's size
    own_image_size: int = 256      # the size lesson 05 trains your own photos at (the papers')
    filters: int = 64
    batch_size: int = 1
    steps: int = 4000
    learning_rate: float = ModelConfig.learning_rate    # the papers' (CycleGAN: then decayed over the second half)
    checkpoint_every: int = 500
    report_images: int = 16        # images per domain in the picture report (the metrics use all)
    out_dir: str = "/content/drive/MyDrive/gan-course/runs"
    seed: int = 0

    @classmethod
    def _smoke_overrides(cls) -> dict:
        # 400 steps at 32x32, 16 filters, batch 1 (the paper's), learning rate 5e-4: val L1 0.124 against
        # the mean image's 0.200 (0.62x); at the papers' 2e-4 the same 400 steps reach 0.141 (0.71x; issue
        # 20 asks for 0.7x). scripts/capstone_study.py, on the shared 2-core machine.
        return dict(image_size=32, filters=16, batch_size=1, steps=400, learning_rate=5e-4, checkpoint_every=200,
                    report_images=8, out_dir="build/runs")

    def _cut(self, limit: int) -> dict:
        steps = min(self.steps, limit)
        return dict(steps=steps, checkpoint_every=cut_interval(self.checkpoint_every, steps))


# ---------------------------------------------------------------------------
# COURSE_STEPS: the learner or paper profile with its step counts cut (make check-full).
# ---------------------------------------------------------------------------
def is_cut() -> bool:
    """True when the learner or paper profile runs cut: ``COURSE_STEPS`` set, the profile not smoke."""
    return not is_smoke() and course_steps() is not None


def cut_steps(steps: int) -> int:
    """``steps``, or ``COURSE_STEPS`` when the learner or paper profile runs cut and that is smaller."""
    limit = course_steps() if not is_smoke() else None
    return steps if limit is None else min(steps, limit)


S = TypeVar("S")


def cut_lab_scale(scale: S) -> S:
    """A lab's scale (a dataclass or a dict with ``steps``) with ``steps`` cut by :func:`cut_steps`."""
    if isinstance(scale, dict):
        return {**scale, "steps": cut_steps(scale["steps"])}
    if dataclasses.is_dataclass(scale) and not isinstance(scale, type) and hasattr(scale, "steps"):
        return dataclasses.replace(scale, steps=cut_steps(scale.steps))
    raise TypeError(f"A lab scale is a dataclass or dict with 'steps', not {type(scale).__name__}.")


def expect_quality(ok: bool, what: str) -> bool:
    """A quality assertion that only a full-length run can meet.

    ``ok``: returns True. Not ok: an ``AssertionError`` saying ``what``, except in a cut run
    (``COURSE_STEPS``, see :func:`is_cut`), which prints what it would have checked and returns
    False, so that the rest of the lesson still runs.
    """
    if ok:
        return True
    if is_cut():
        print(f"COURSE_STEPS={course_steps()}: a cut run is too short for this check; "
              f"the full run asserts: {what}")
        return False
    raise AssertionError(what)
