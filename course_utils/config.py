"""Lesson settings and the environment they run in.

Every lesson has one frozen dataclass of settings with two profiles:

* **full**  the papers' settings, meant for a Colab GPU;
* **smoke** tiny sizes and step counts, so CI and slow machines run every cell
  in seconds. It is chosen by the environment variable ``COURSE_SMOKE=1``.

Only sizes and step counts differ between the profiles; the code path is the same.

>>> cfg = Pix2PixConfig.current()      # smoke if COURSE_SMOKE=1, else full
>>> cfg.image_size
256
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

# ---------------------------------------------------------------------------
# Where the course lives. Badges and Colab install cells are generated from,
# and checked against, these two constants (see scripts/check_notebooks.py).
# ---------------------------------------------------------------------------
REPO_URL = "https://github.com/gan-course/image-to-image-gans"
PINNED_REF = "v0.1.0"

#: The folder that holds ``data/`` when the package is installed editable
#: (a clone of the repository). ``None`` when installed from a wheel.
REPO_ROOT: Path | None = (
    Path(__file__).resolve().parent.parent
    if (Path(__file__).resolve().parent.parent / "data").is_dir()
    else None
)


def is_smoke() -> bool:
    """True when ``COURSE_SMOKE=1``: tiny sizes and step counts everywhere."""
    return os.environ.get("COURSE_SMOKE", "0").strip().lower() in {"1", "true", "yes"}


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def colab_url(notebook: str) -> str:
    """The 'Open in Colab' address of a lesson, e.g. ``colab_url("02_pix2pix")``."""
    repo = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{PINNED_REF}/notebooks/{notebook}.ipynb"


def pip_install_command() -> str:
    """The command a Colab setup cell runs to install this package at the pinned ref."""
    return f"pip install -q 'course_utils @ git+{REPO_URL}@{PINNED_REF}'"


def data_dir(fetch: bool | None = None) -> Path:
    """The shipped ``data/`` folder.

    Found, in order: ``$COURSE_DATA_DIR``; the repository the package is installed
    from (``pip install -e .``); a shallow clone of the pinned release under
    ``~/.cache/course_utils``. ``pip`` does not install ``data/``, so on Colab
    (or with ``fetch=True``) that clone is made on first use (~4 MB, needs git).
    """
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        return Path(env)
    if REPO_ROOT is not None:
        return REPO_ROOT / "data"
    clone = Path.home() / ".cache" / "course_utils" / PINNED_REF
    if (clone / "data").is_dir():
        return clone / "data"
    if fetch if fetch is not None else in_colab():
        import subprocess

        clone.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", PINNED_REF, REPO_URL, str(clone)],
                       check=True)
        return clone / "data"
    raise FileNotFoundError(
        "Cannot find the course's data/ folder. Clone the repository and install the package "
        "editable (pip install -e .), call config.data_dir(fetch=True) to clone the pinned release "
        f"into {clone}, or set COURSE_DATA_DIR to a data folder."
    )


# ---------------------------------------------------------------------------
# One frozen dataclass per lesson.
# ---------------------------------------------------------------------------
C = TypeVar("C", bound="LessonConfig")


@dataclass(frozen=True)
class LessonConfig:
    """Base class: ``full()``, ``smoke()`` and ``current()`` constructors."""

    profile: str = "full"

    @classmethod
    def full(cls: type[C]) -> C:
        return cls()

    @classmethod
    def smoke(cls: type[C]) -> C:
        return dataclasses.replace(cls(), profile="smoke", **cls._smoke_overrides())

    @classmethod
    def current(cls: type[C]) -> C:
        """The smoke profile when ``COURSE_SMOKE=1``, otherwise the full one."""
        return cls.smoke() if is_smoke() else cls.full()

    @classmethod
    def _smoke_overrides(cls) -> dict:
        return {}

    @property
    def is_smoke(self) -> bool:
        return self.profile == "smoke"


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
    seed: int = 0

    @classmethod
    def _smoke_overrides(cls) -> dict:
        # A quarter of the widths, so that ~1 minute on a CPU ends in digits you can read (docs/results.md).
        return dict(dataset="shipped", batch_size=64, epochs=10, steps_per_epoch=None, num_examples=None,
                    generator_filters=64, discriminator_filters=16, ring_seeds=(0,))

    def ring_settings(self):
        """The ring's two settings, identical but for packing: ``plain`` (pack 1) and ``packed``."""
        from course_utils.ring import RingSetting

        common = dict(steps=self.ring_steps, batch_size=self.ring_batch_size,
                      learning_rate=self.ring_learning_rate, final_learning_rate=self.ring_final_learning_rate,
                      beta_1=self.ring_beta_1)
        return (RingSetting("plain", pack=1, **common), RingSetting("packed", pack=self.ring_pack, **common))


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
    epochs: int = 200              # 100 constant + 100 linear decay
    decay_epochs: int = 100
    steps_per_epoch: int | None = None
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    cycle_weight: float = 10.0
    identity_weight: float = 5.0   # 0.5 * cycle_weight
    loss_form: str = "lsgan"
    pool_size: int = 50
    checkpoint_every: int = 1000   # steps: a disconnect loses at most this many (minutes on a T4)
    sample_every: int = 2000
    seed: int = 0

    @classmethod
    def _smoke_overrides(cls) -> dict:
        # 32x32, a quarter of the widths, 3 residual blocks, batch 1 as in the paper: 200 steps (the
        # last 100 decaying) reach the true day->dusk colour map to well under half the identity error.
        return dict(dataset="shipped", image_size=32, batch_size=1, filters=16, n_blocks=3, epochs=2,
                    decay_epochs=1, steps_per_epoch=100, checkpoint_every=100, sample_every=50)


@dataclass(frozen=True)
class ColabTrainingConfig(LessonConfig):
    """Lesson 04: training for real on a Colab GPU (checkpoints, XLA, mixed precision)."""

    model: str = "cyclegan"
    dataset: str = "horse2zebra"
    image_size: int = 256
    batch_size: int = 1
    filters: int = 64
    n_blocks: int | None = None    # residual blocks: None = the paper's 9 at 256, 6 below
    steps: int = 2000
    checkpoint_every: int = 250
    bench_steps: int = 20
    out_dir: str = "/content/drive/MyDrive/gan-course/runs"
    seed: int = 0

    @classmethod
    def _smoke_overrides(cls) -> dict:
        return dict(dataset="shipped", image_size=32, batch_size=1, filters=8, n_blocks=2, steps=6,
                    checkpoint_every=3, bench_steps=3, out_dir="build/runs")


# ---------------------------------------------------------------------------
# The runtime: which accelerator is there, and what to do if there is none.
# ---------------------------------------------------------------------------
def check_gpu(verbose: bool = True) -> list[dict]:
    """List the GPUs TensorFlow sees (name, memory when known) and say what to do if there are none.

    Returns one dict per GPU: ``{"name": ..., "memory_gb": ... or None}``.
    """
    import tensorflow as tf

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append({"name": details.get("device_name", device.name), "memory_gb": None})
    if gpus:
        try:
            info = tf.config.experimental.get_memory_info("GPU:0")  # needs an initialised device
            gpus[0]["memory_gb"] = round(info.get("peak", 0) / 1e9, 2) or None
        except (ValueError, RuntimeError):
            pass
    if verbose:
        if gpus:
            for i, g in enumerate(gpus):
                print(f"GPU {i}: {g['name']}")
        elif in_colab():
            print("No GPU. In Colab choose Runtime > Change runtime type > T4 GPU, then run the notebook again.")
        else:
            print("No GPU found: lessons run on the CPU (use COURSE_SMOKE=1 for quick runs).")
    return gpus
