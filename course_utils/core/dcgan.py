"""The DCGAN (Radford et al. 2016) as lesson 01 and the TensorFlow DCGAN tutorial train it, registered as ``gan``.

The tutorial's generator (100-long noise to a 28x28 digit, base width ``4 * filters``) and discriminator
(``filters`` wide), trained by :class:`course_utils.core.train.GAN` with Radford et al.'s Adam(2e-4, beta_1 0.5)
on MNIST or the shipped digits (offline). :class:`DcganConfig` is lesson 01's settings too: its
lesson-only fields (epochs, the 2-D ring beside the DCGAN, the digit judge) the command line does not take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from course_utils.core import model_config, registry
from course_utils.core.model_config import ModelConfig, option


@dataclass(frozen=True)
class DcganConfig(ModelConfig):
    """Lesson 01 and ``python -m course_utils train gan``: the DCGAN on digits (Radford et al. 2016; the TF DCGAN
    tutorial's networks and batch 256), and lesson 01's 2-D ring of 8 Gaussians."""

    image_size: int = option(28, "side of the digits (fixed: the DCGAN works on 28x28)", cli=False)
    batch_size: int = option(256, "images per step (the TF tutorial's 256)")
    latent_dim: int = option(100, "length of the noise vector", cli=False)
    # Lesson 01 only (the command line reads --data and trains to --steps).
    dataset: str = option("mnist", "mnist (keras.datasets) or shipped (data/digits)", cli=False)
    epochs: int = option(50, "epochs of lesson 01's DCGAN run", cli=False)
    steps_per_epoch: int | None = option(None, "steps per epoch (None: the whole dataset)", cli=False)
    num_examples: int | None = option(None, "training images (None: all)", cli=False)
    ring_steps: int = option(1500, "steps of each 2-D ring run (3000: no clearer contrast, lesson 01)", cli=False)
    ring_batch_size: int = option(256, "points per ring step; the packed D sees them as 128 pairs", cli=False)
    ring_learning_rate: float = option(1e-3, "the ring MLPs' rate: more than the DCGAN's ...", cli=False)
    ring_final_learning_rate: float = option(1e-4, "... decayed linearly to this by the last step", cli=False)
    ring_beta_1: float = option(model_config.BETA_1, "the ring's Adam beta_1 (Radford et al. 2016)", cli=False)
    ring_pack: int = option(2, "points the packed setting's D judges at once (PacGAN)", cli=False)
    ring_seeds: tuple[int, ...] = option((0, 1, 2), "seeds of the ring runs (one run is an anecdote)", cli=False)
    judge_epochs: int = option(8, "epochs of the MNIST judge (results.train_digit_classifier), batch 64", cli=False)
    judge_steps_per_epoch: int | None = option(None, "judge steps per epoch (None: every image)", cli=False)

    fixed_image_size: ClassVar[bool] = True

    @property
    def generator_filters(self) -> int:
        """Width of the generator's 7x7 stage: ``4 * filters`` (the tutorial's 256)."""
        return 4 * self.filters

    @property
    def discriminator_filters(self) -> int:
        """Width of the discriminator's first convolution: ``filters`` (the tutorial's 64)."""
        return self.filters

    @classmethod
    def _smoke_overrides(cls) -> dict:
        # A quarter of the widths, so that a CPU can train long enough for digits a judge reads: 32 epochs
        # of the 3,000 shipped digits at batch 32 (2,976 steps, about 2 minutes). The learning rate is
        # twice Radford et al.'s, a named exception taught in lesson 01, section 10: at batch 32 and 4e-4,
        # 3,000 steps reached 67.7 % / 67.6 % recognisable (seeds 0 / 1); 3,000 steps at batch 64 and 2e-4,
        # 65.8 % / 62.8 %, each step 1.75x as long; the old 460 steps, about 40 % (scripts/dcgan_length_study.py).
        return dict(dataset="shipped", batch_size=32, epochs=32, learning_rate=4e-4, filters=16, ring_seeds=(0,))

    def _cut(self, limit: int) -> dict:
        dcgan = model_config.cut_epochs(self.epochs, self.steps_per_epoch, limit)
        judge = model_config.cut_epochs(self.judge_epochs, self.judge_steps_per_epoch, limit)
        return dict(epochs=dcgan["epochs"], steps_per_epoch=dcgan["steps_per_epoch"],
                    ring_steps=min(self.ring_steps, limit), judge_epochs=judge["epochs"],
                    judge_steps_per_epoch=judge["steps_per_epoch"])


def build_networks(cfg: DcganConfig) -> dict[str, Any]:
    from course_utils.core import models

    return {"generator": models.dcgan_generator(base_filters=4 * cfg.filters),
            "discriminator": models.dcgan_discriminator(base_filters=cfg.filters)}


def build_trainer(cfg: DcganConfig, networks: dict[str, Any], *, jit_compile: bool = False, **options: Any) -> Any:
    """The compiled :class:`course_utils.core.train.GAN`: one Adam each (``options`` go to its constructor)."""
    import keras

    from course_utils.core import train

    trainer = train.GAN(**networks, seed=cfg.seed, **options)
    trainer.compile(*(keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1) for _ in range(2)),
                    loss_form="bce", jit_compile=jit_compile)
    return trainer


#: The digits it reads: the shipped ones (offline) or MNIST (downloaded).
SOURCES = ("shipped", "mnist")


def load_data(cfg: DcganConfig, source: registry.DataSource) -> tuple[Any, Any]:
    """Batches of digits and 16 fixed noise vectors for the sample grids."""
    import numpy as np

    from course_utils.core import data

    if source.tfds or source.data not in SOURCES or source.skip_bad_files:
        raise ValueError("gan needs --data shipped (offline digits) or --data mnist (downloaded); it reads no "
                         "image folders, so --tfds and --skip-bad-files do not apply")
    noise = np.random.default_rng(cfg.seed).normal(size=(16, cfg.latent_dim)).astype("float32")
    return data.load_digits(source.data, batch_size=cfg.batch_size, seed=cfg.seed), noise


def baseline_step(cfg: ModelConfig, networks: dict[str, Any], optimizers: list, jit_compile: bool = False) -> Any:
    """The tutorial's explicit step (:func:`course_utils.core.train.gan_train_step`) as a ``tf.function``."""
    import tensorflow as tf

    from course_utils.core import train

    latent_dim = int(networks["generator"].inputs[0].shape[-1])

    @tf.function(jit_compile=jit_compile)
    def step(batch: tuple) -> dict:
        (images,) = batch
        noise = tf.random.normal([tf.shape(images)[0], latent_dim])
        return train.gan_train_step(networks["generator"], networks["discriminator"], *optimizers, images, noise)

    return step


def bench_batch(size: int, batch_size: int, seed: int = 0) -> tuple:
    import tensorflow as tf

    return (tf.random.Generator.from_seed(seed).uniform((batch_size, size, size, 1), -1.0, 1.0),)


SPEC = registry.register(registry.ModelSpec(
    name="gan", paper="DCGAN (Radford et al. 2016), the TensorFlow DCGAN tutorial's networks", config=DcganConfig,
    build_networks=build_networks, build_trainer=build_trainer, load_data=load_data,
    data="28x28 digits: 'shipped' (data/digits, offline) or 'mnist' (downloaded)", data_choices=SOURCES,
    baseline_step=baseline_step, bench_batch=bench_batch, bench=DcganConfig(),
    forward_passes={"generator": 1, "discriminator": 2}))
