"""The DCGAN (Radford et al. 2016) as the TensorFlow DCGAN tutorial trains it, registered as ``gan``.

The tutorial's generator (100-long noise to a 28x28 digit, base width ``4 * filters``) and discriminator
(``filters`` wide), trained by :class:`course_utils.train.GAN` with Adam(1e-4, beta_1 0.9), the
tutorial's, on the shipped digits (offline) or MNIST. Lesson 01 keeps its own settings
(:class:`course_utils.config.GanBasicsConfig`: the DCGAN beside the 2-D ring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from course_utils import registry
from course_utils.model_config import ModelConfig, option


@dataclass(frozen=True)
class DcganConfig(ModelConfig):
    """``python -m course_utils train gan``: the TF DCGAN tutorial's settings. Its batch 256 is what the
    benchmark times; 64 by default on the command line (the shipped digits are 3,000 images)."""

    image_size: int = option(28, "side of the digits (fixed: the DCGAN works on 28x28)", cli=False)
    batch_size: int = option(64, "images per step")
    learning_rate: float = option(1e-4, "Adam learning rate (the TF tutorial's)")
    beta_1: float = option(0.9, "Adam's beta_1 (Keras's default, as in the TF tutorial)")
    latent_dim: int = option(100, "length of the noise vector", cli=False)

    fixed_image_size: ClassVar[bool] = True

    @classmethod
    def _smoke_overrides(cls) -> dict:
        return dict(filters=8, batch_size=32)


def build_networks(cfg: DcganConfig) -> dict[str, Any]:
    from course_utils import models

    return {"generator": models.dcgan_generator(base_filters=4 * cfg.filters),
            "discriminator": models.dcgan_discriminator(base_filters=cfg.filters)}


def build_trainer(cfg: DcganConfig, networks: dict[str, Any], *, jit_compile: bool = False, **options: Any) -> Any:
    """The compiled :class:`course_utils.train.GAN`: one Adam each (``options`` go to its constructor)."""
    import keras

    from course_utils import train

    trainer = train.GAN(**networks, seed=cfg.seed, **options)
    trainer.compile(*(keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1) for _ in range(2)),
                    loss_form="bce", jit_compile=jit_compile)
    return trainer


#: The digits it reads: the shipped ones (offline) or MNIST (downloaded).
SOURCES = ("shipped", "mnist")


def load_data(cfg: DcganConfig, source: registry.DataSource) -> tuple[Any, Any]:
    """Batches of digits and 16 fixed noise vectors for the sample grids."""
    import numpy as np

    from course_utils import data

    if source.tfds or source.data not in SOURCES or source.skip_bad_files:
        raise ValueError("gan needs --data shipped (offline digits) or --data mnist (downloaded); it reads no "
                         "image folders, so --tfds and --skip-bad-files do not apply")
    noise = np.random.default_rng(cfg.seed).normal(size=(16, cfg.latent_dim)).astype("float32")
    return data.load_digits(source.data, batch_size=cfg.batch_size, seed=cfg.seed), noise


def baseline_step(cfg: ModelConfig, networks: dict[str, Any], optimizers: list, jit_compile: bool = False) -> Any:
    """The tutorial's explicit step (:func:`course_utils.train.gan_train_step`) as a ``tf.function``."""
    import tensorflow as tf

    from course_utils import train

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
    name="gan", paper="DCGAN (Radford et al. 2016), as in the TensorFlow DCGAN tutorial", config=DcganConfig,
    build_networks=build_networks, build_trainer=build_trainer, load_data=load_data,
    data="28x28 digits: 'shipped' (data/digits, offline) or 'mnist' (downloaded)", data_choices=SOURCES,
    baseline_step=baseline_step, bench_batch=bench_batch, bench=DcganConfig(batch_size=256),
    forward_passes={"generator": 1, "discriminator": 2}))
