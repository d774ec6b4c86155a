"""Lesson settings and the environment they run in.

Every lesson has one frozen dataclass of settings with three profiles (:data:`PROFILES`):

* **learner** the default on a GPU: the papers' networks and losses, sized so that each training
  run of a lesson fits in 20 minutes of a Colab T4 by the course's estimate (``python -m
  course_utils costs``);
* **paper**   the papers' settings (image size, steps, schedule), for long checkpointed runs;
* **smoke**   tiny sizes and step counts, so CI and CPUs run every cell in seconds.

``COURSE_PROFILE=learner|paper|smoke`` picks one (``COURSE_SMOKE=1`` is an alias of smoke); with
neither set, a lesson takes *learner* when TensorFlow sees a GPU and *smoke* when it does not.
Only sizes, step counts, the dataset and the precision differ between the profiles; the code path
is the same.

``COURSE_STEPS=N`` (``make check-full``) runs the learner or paper profile with every step count cut
to at most ``N`` (:func:`with_course_steps`, applied by ``current()``; profile ``"learner-cutN"``), and
quality checks that only a full-length run can meet print instead of failing (:func:`expect_quality`).

>>> Pix2PixConfig.paper().image_size, Pix2PixConfig.smoke().image_size
(256, 64)
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from course_utils.counts import HORSE2ZEBRA_EPOCH_STEPS  # noqa: F401  (config.HORSE2ZEBRA_EPOCH_STEPS)

# ---------------------------------------------------------------------------
# Where the course lives. Badges and Colab install cells are generated from,
# and checked against, these two constants (see scripts/check_notebooks.py).
# ---------------------------------------------------------------------------
REPO_URL = "https://github.com/gan-course/image-to-image-gans"
PINNED_REF = "v0.1.0"

#: The repository the package is installed from when it is installed editable
#: (``pip install -e .``, what ``make install`` does): the folder holding ``data/``.
#: ``None`` when installed from a wheel (Colab).
REPO_ROOT: Path | None = (
    Path(__file__).resolve().parent.parent
    if (Path(__file__).resolve().parent.parent / "data" / "make_data.py").is_file()
    else None
)


#: The copy of ``data/`` that travels inside the wheel (pyproject.toml maps the repository's
#: ``data/`` folder onto the subpackage ``course_utils.shipped_data``).
PACKAGED_DATA = Path(__file__).resolve().parent / "shipped_data"


#: The profiles every lesson's settings have, in the order lesson 00 shows them.
PROFILES = ("learner", "paper", "smoke")


@functools.lru_cache(maxsize=1)
def gpu_visible() -> bool:
    """True when TensorFlow sees a GPU (asked once; it reads the devices without initialising them)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def profile_name() -> str:
    """The profile lessons run: ``COURSE_PROFILE``, else ``COURSE_SMOKE``, else learner on a GPU, smoke on a CPU.

    Raises:
        ValueError: ``COURSE_PROFILE`` names no profile, or contradicts ``COURSE_SMOKE=1``.
    """
    raw = os.environ.get("COURSE_PROFILE", "").strip().lower()
    smoke_raw = os.environ.get("COURSE_SMOKE", "").strip().lower()
    smoke = smoke_raw in {"1", "true", "yes"}
    if raw:
        if raw not in PROFILES:
            raise ValueError(f"COURSE_PROFILE={raw!r} is not a profile: use one of {', '.join(PROFILES)} "
                             "(or unset it: learner on a GPU, smoke without one).")
        if smoke and raw != "smoke":
            raise ValueError(f"COURSE_PROFILE={raw} and COURSE_SMOKE=1 disagree: COURSE_SMOKE=1 means "
                             "COURSE_PROFILE=smoke. Unset one of them.")
        return raw
    if smoke:
        return "smoke"
    if smoke_raw in {"0", "false", "no"}:
        return "learner"
    return "learner" if gpu_visible() else "smoke"


def is_smoke() -> bool:
    """True when lessons run the smoke profile (see :func:`profile_name`): tiny sizes and step counts."""
    return profile_name() == "smoke"


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


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
    :func:`course_utils.install.install_requirements` for whatever is still missing, never
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
    from course_utils import install; install.install_requirements()
from course_utils import config, runtime
"""


def data_dir() -> Path:
    """The shipped ``data/`` folder (label2scene, day2dusk, digits).

    Found, in order: ``$COURSE_DATA_DIR`` (your own copy); the repository the package is
    installed from (``pip install -e .``, so ``make data`` changes what the lessons see); the
    copy inside the installed package (``pip install`` from a wheel or git, as on Colab).
    Nothing is downloaded.
    """
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"COURSE_DATA_DIR={env} is not a folder. Point it at a copy of the "
                                    "course's data/ folder, or unset it to use the shipped one.")
        return path
    for path in ([REPO_ROOT / "data"] if REPO_ROOT is not None else []) + [PACKAGED_DATA]:
        if (path / "digits").is_dir():
            return path
    raise FileNotFoundError(
        f"Cannot find the course's data/ folder: it is neither in the repository nor in {PACKAGED_DATA}. "
        "Reinstall the package (pip install from the repository or a wheel built by `python -m build`; "
        "both carry the data), or set COURSE_DATA_DIR to a copy of the repository's data/ folder."
    )


def download_cache() -> Path:
    """Where the lessons keep what they download (the pix2pix archives).

    ``/content/datasets`` on Colab; elsewhere Keras's own download cache, ``$KERAS_HOME/datasets``
    (``~/.keras/datasets`` when ``KERAS_HOME`` is unset), where ``keras.datasets`` keeps MNIST.
    """
    if in_colab():
        return Path("/content/datasets")
    home = os.environ.get("KERAS_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".keras") / "datasets"


# ---------------------------------------------------------------------------
# One frozen dataclass per lesson.
# ---------------------------------------------------------------------------
C = TypeVar("C", bound="LessonConfig")


@dataclass(frozen=True)
class LessonConfig:
    """Base class: the field defaults are the papers' settings; ``paper()``, ``learner()``, ``smoke()``,
    ``of(profile)`` and ``current()`` construct them."""

    profile: str = "paper"

    @classmethod
    def paper(cls: type[C]) -> C:
        return cls()

    @classmethod
    def learner(cls: type[C]) -> C:
        return dataclasses.replace(cls(), profile="learner", **cls._learner_overrides())

    @classmethod
    def smoke(cls: type[C]) -> C:
        return dataclasses.replace(cls(), profile="smoke", **cls._smoke_overrides())

    @classmethod
    def of(cls: type[C], profile: str) -> C:
        """The settings of ``profile`` (one of :data:`PROFILES`)."""
        if profile not in PROFILES:
            raise ValueError(f"{profile!r} is not a profile: use one of {', '.join(PROFILES)}.")
        return getattr(cls, profile)()

    @classmethod
    def current(cls: type[C]) -> C:
        """The profile of :func:`profile_name` (learner and paper cut by ``COURSE_STEPS``)."""
        return with_course_steps(cls.of(profile_name()))

    @classmethod
    def _learner_overrides(cls) -> dict:
        return {}

    @classmethod
    def _smoke_overrides(cls) -> dict:
        return {}

    @property
    def is_smoke(self) -> bool:
        return self.profile == "smoke"

    @property
    def starts_fresh(self) -> bool:
        """Smoke and cut (``COURSE_STEPS``, profile ``learner-cutN``) runs delete their run folder first:
        they are checks, not work to resume."""
        return self.is_smoke or "-cut" in self.profile


@dataclass(frozen=True)
class GanBasicsConfig(LessonConfig):
    """Lesson 01: DCGAN on MNIST (TF DCGAN tutorial settings) and a 2-D ring of 8 Gaussians."""

    dataset: str = "mnist"          # "mnist" (keras.datasets) or "shipped" (data/digits)
    latent_dim: int = 100
    batch_size: int = 256
    epochs: int = 50
    steps_per_epoch: int | None = None   # None: the whole dataset each epoch
    learning_rate: float = 2e-4          # Radford et al. 2016 (the TF tutorial uses 1e-4 and beta_1 0.9)
    beta_1: float = 0.5
    generator_filters: int = 256         # width of the generator's 7x7 stage (the tutorial's 256)
    discriminator_filters: int = 64      # width of the discriminator's first conv (the tutorial's 64)
    num_examples: int | None = None      # None: all images
    ring_steps: int = 1500               # 2-D mixture, both settings (3000: no clearer contrast, lesson 01)
    ring_batch_size: int = 256           # points per step; the packed D sees them as 128 pairs
    ring_learning_rate: float = 1e-3     # the MLPs need more than the DCGAN's 1e-4 ...
    ring_final_learning_rate: float = 1e-4   # ... decayed linearly to this by the last step
    ring_beta_1: float = 0.5             # Radford et al. 2016
    ring_pack: int = 2                   # the packed setting's D judges 2 points at once (PacGAN)
    ring_seeds: tuple[int, ...] = (0, 1, 2)   # one run is an anecdote
    judge_epochs: int = 8                # the MNIST judge (results.train_digit_classifier), batch 64
    judge_steps_per_epoch: int | None = None   # None: every training image each epoch
    seed: int = 0

    @classmethod
    def _smoke_overrides(cls) -> dict:
        # A quarter of the widths, so that a CPU can train long enough for digits a judge reads: 32 epochs
        # of the 3,000 shipped digits at batch 32 (2,976 steps, about 2 minutes). The learning rate is
        # twice Radford et al.'s, a named exception taught in lesson 01, section 10: at batch 32 and 4e-4,
        # 3,000 steps reached 67.7 % / 67.6 % recognisable (seeds 0 / 1); 3,000 steps at batch 64 and 2e-4,
        # 65.8 % / 62.8 %, each step 1.75x as long; the old 460 steps, about 40 % (scripts/dcgan_length_study.py).
        return dict(dataset="shipped", batch_size=32, epochs=32, steps_per_epoch=None, num_examples=None,
                    learning_rate=4e-4, generator_filters=64, discriminator_filters=16, ring_seeds=(0,))


@dataclass(frozen=True)
class Pix2PixConfig(LessonConfig):
    """Lesson 02: Pix2Pix on facades (Isola et al. 2017; TF pix2pix tutorial)."""

    dataset: str = "facades"       # a pix2pix archive name, or "shipped"
    image_size: int = 256
    filters: int = 64              # width of the first U-Net / PatchGAN block
    batch_size: int = 1
    steps: int = 40000
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    l1_weight: float = 100.0
    sample_every: int = 1000
    seed: int = 0

    @classmethod
    def _learner_overrides(cls) -> dict:
        # The paper's 256 px, networks and losses; 12,000 steps (30 epochs of the 400 facades) instead of
        # 40,000: about 15 T4 minutes by the course's estimate (python -m course_utils costs).
        return dict(steps=12000)

    @classmethod
    def _smoke_overrides(cls) -> dict:
        # 64x64 (the shipped set's own size), a quarter of the widths, batch 1 as in the paper:
        # ~800 steps fit in about a minute on 2 CPU cores and beat the mean-image baseline clearly.
        return dict(dataset="shipped", image_size=64, filters=16, batch_size=1, steps=800, sample_every=100)


@dataclass(frozen=True)
class CycleGanConfig(LessonConfig):
    """Lesson 03: CycleGAN on horse2zebra (Zhu et al. 2017)."""

    dataset: str = "horse2zebra"   # a TFDS cycle_gan config, or "shipped"
    image_size: int = 256
    batch_size: int = 1
    filters: int = 64
    n_blocks: int | None = None    # residual blocks: None = the paper's 9 at 256, 6 at 128
    upsample: str = "transpose"    # the generators' upsampling: the paper's; "resize" avoids speckle (03_cyclegan_further)
    epochs: int = 200              # 100 constant + 100 linear decay
    decay_epochs: int = 100
    steps_per_epoch: int | None = None
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    cycle_weight: float = 10.0
    identity_weight: float = 5.0   # 0.5 * cycle_weight
    loss_form: str = "lsgan"
    pool_size: int = 50
    precision: str = "float32"     # what the networks train in (course_utils.train.PRECISIONS)
    checkpoint_every: int = 1000   # steps: a disconnect loses at most this many (minutes on a T4)
    sample_every: int = 2000
    seed: int = 0

    @classmethod
    def _learner_overrides(cls) -> dict:
        # The paper's networks and losses at 128 px (6 residual blocks, the paper's rule below 256) in mixed
        # precision, 14 epochs of horse2zebra (7 constant + 7 decaying, the paper's shape): about 16 T4
        # minutes by the course's estimate, where the paper's 200 epochs at 256 px take about 42 hours.
        return dict(image_size=128, epochs=14, decay_epochs=7, precision="mixed_float16")

    @classmethod
    def _smoke_overrides(cls) -> dict:
        # 32x32, a quarter of the widths, 3 residual blocks, batch 1 as in the paper: 800 steps (the
        # last 400 decaying) reach the true day->dusk colour map to under a quarter of the identity error.
        # Learning rate 1e-3, not the paper's 2e-4: at 2e-4 a 200-step run leaves the transposed convs'
        # checkerboard uncancelled (speckle ratio 1.87 / 1.52); at 1e-3 it is gone (0.97 / 0.94).
        # Length (scripts/speckle_study.py, docs/results.md): 200 steps stop at 0.29x / 0.28x doing
        # nothing, 800 reach 0.23x / 0.22x (seed 1: 0.23x / 0.24x), at about 0.04 s a step on a CPU.
        return dict(dataset="shipped", image_size=32, batch_size=1, filters=16, n_blocks=3, epochs=2,
                    decay_epochs=1, steps_per_epoch=400, checkpoint_every=400, sample_every=200, learning_rate=1e-3,
                    precision="float32")


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
    payoff_learning_rate: float = 2e-4   # the paper's; the smoke run's 1,200 steps learn at 1e-3 (03_cyclegan_further)
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
    learning_rate: float = 2e-4    # the papers' (CycleGAN: then decayed over the second half)
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


# ---------------------------------------------------------------------------
# COURSE_STEPS: the learner or paper profile with its step counts cut (make check-full).
# ---------------------------------------------------------------------------
def course_steps() -> int | None:
    """``COURSE_STEPS`` as a positive int, or None when unset or empty (no cut).

    ``COURSE_STEPS=N`` runs the learner or paper profile (their sizes, the papers' widths, the real
    datasets) with every training loop cut to at most ``N`` steps: what ``make check-full`` runs, so that every
    cell a Colab learner meets has run here first. It never changes the smoke profile.

    Raises:
        ValueError: the variable is set to something other than a whole number >= 1.
    """
    raw = os.environ.get("COURSE_STEPS", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"COURSE_STEPS must be a whole number >= 1 (the most steps any training loop runs), "
                         f"got {raw!r}. Unset it to run the profile uncut.")
    return value


def is_cut() -> bool:
    """True when the learner or paper profile runs cut: ``COURSE_STEPS`` set, the profile not smoke."""
    return not is_smoke() and course_steps() is not None


def cut_steps(steps: int) -> int:
    """``steps``, or ``COURSE_STEPS`` when the learner or paper profile runs cut and that is smaller."""
    limit = course_steps() if not is_smoke() else None
    return steps if limit is None else min(steps, limit)


def cut_interval(interval: int, total_steps: int) -> int:
    """A checkpoint / sample interval for a run cut to ``total_steps`` steps.

    The interval shrinks with the run so that the event still happens at least twice (once in
    the middle, once at the end), which is what a cut run must exercise; never grows.
    """
    return max(1, min(interval, total_steps // 2))


def cut_epochs(epochs: int, steps_per_epoch: int | None, limit: int,
               decay_epochs: int | None = None) -> dict[str, int]:
    """Epochs, steps per epoch (and decaying epochs) for at most ``limit`` steps in all.

    As many epochs as fit with at least 2 steps each (never more than ``epochs``), the steps
    shared evenly, and the decaying share of the epochs kept in proportion (at least one when the
    schedule had any, at least one constant epoch when it had any). ``steps_per_epoch=None``
    (the whole dataset) counts as large.
    """
    n_epochs = max(1, min(epochs, limit // 2))
    per_epoch = max(1, limit // n_epochs)
    if steps_per_epoch is not None:
        per_epoch = min(per_epoch, steps_per_epoch)
    out = {"epochs": n_epochs, "steps_per_epoch": per_epoch}
    if decay_epochs is not None:
        decay = round(decay_epochs * n_epochs / epochs) if epochs else 0
        if decay_epochs > 0:
            decay = max(1, decay)
        if decay_epochs < epochs and n_epochs > 1:
            decay = min(decay, n_epochs - 1)
        out["decay_epochs"] = min(decay, n_epochs)
    return out


def _cut_overrides(cfg: LessonConfig, limit: int) -> dict[str, Any]:
    """The fields ``COURSE_STEPS=limit`` changes in ``cfg`` (its step counts and their intervals only)."""
    if isinstance(cfg, GanBasicsConfig):
        dcgan = cut_epochs(cfg.epochs, cfg.steps_per_epoch, limit)
        judge = cut_epochs(cfg.judge_epochs, cfg.judge_steps_per_epoch, limit)
        return dict(epochs=dcgan["epochs"], steps_per_epoch=dcgan["steps_per_epoch"],
                    ring_steps=min(cfg.ring_steps, limit), judge_epochs=judge["epochs"],
                    judge_steps_per_epoch=judge["steps_per_epoch"])
    if isinstance(cfg, Pix2PixConfig):
        steps = min(cfg.steps, limit)
        return dict(steps=steps, sample_every=cut_interval(cfg.sample_every, steps))
    if isinstance(cfg, CycleGanConfig):
        cut = cut_epochs(cfg.epochs, cfg.steps_per_epoch, limit, cfg.decay_epochs)
        total = cut["epochs"] * cut["steps_per_epoch"]
        return dict(cut, checkpoint_every=cut_interval(cfg.checkpoint_every, total),
                    sample_every=cut_interval(cfg.sample_every, total))
    if isinstance(cfg, ColabTrainingConfig):
        steps, payoff = min(cfg.steps, limit), min(cfg.payoff_steps, limit)
        return dict(steps=steps, checkpoint_every=cut_interval(cfg.checkpoint_every, steps),
                    # lesson 04 times 3 rounds of bench_steps for each of its 3 variants at 256x256
                    # (a CycleGAN step there takes minutes on a CPU): the rounds together stay within the cut
                    bench_steps=max(1, min(cfg.bench_steps, limit // 3)), payoff_steps=payoff,
                    payoff_checkpoint_every=cut_interval(cfg.payoff_checkpoint_every, payoff),
                    payoff_sample_every=cut_interval(cfg.payoff_sample_every, payoff))
    if isinstance(cfg, CapstoneConfig):
        steps = min(cfg.steps, limit)
        return dict(steps=steps, checkpoint_every=cut_interval(cfg.checkpoint_every, steps))
    raise TypeError(f"No COURSE_STEPS rule for {type(cfg).__name__}: add one to config._cut_overrides.")


def with_course_steps(cfg: C) -> C:
    """``cfg`` with every step count cut to ``COURSE_STEPS`` (learner and paper only); else ``cfg`` itself.

    What ``current()`` hands a lesson. Only step counts, epochs and the intervals that depend on
    them change: image sizes, widths, blocks, datasets and every branch stay the profile's.
    """
    limit = course_steps()
    if limit is None or cfg.is_smoke:
        return cfg
    # The profile says it is cut, so that run folders named after it never mix with a real run's.
    return dataclasses.replace(cfg, profile=f"{cfg.profile}-cut{limit}", **_cut_overrides(cfg, limit))


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
