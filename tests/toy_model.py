"""A test-only model registered from tests/: a one-layer image-to-image generator trained like Pix2Pix.

It proves that a model is one module: registered here, it trains, resumes, is evaluated and is
benchmarked through ``python -m course_utils`` with no change to the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from course_utils import pix2pix, registry
from course_utils.core.model_config import ModelConfig, option


@dataclass(frozen=True)
class ToyConfig(ModelConfig):
    image_size: int = option(16, "side of the square images")
    filters: int = option(4, "width of the discriminator")
    l1_weight: float = option(10.0, "weight of the L1 term")
    direction: str = option("AtoB", "which half of each file is the input", choices=("AtoB", "BtoA"))


def build_networks(cfg: ToyConfig) -> dict[str, Any]:
    import keras

    from course_utils import models

    x = keras.Input((cfg.image_size, cfg.image_size, 3))
    y = keras.layers.Conv2D(3, 1, activation="tanh")(x)
    return {"generator": keras.Model(x, y, name="toy_generator"),
            "discriminator": models.patchgan_discriminator(cfg.image_size, filters=cfg.filters)}


SPEC = registry.register(registry.ModelSpec(
    name="toy", paper="a test-only 1x1 convolution", config=ToyConfig,
    build_networks=build_networks, build_trainer=pix2pix.build_trainer, load_data=pix2pix.load_data,
    data="paired A|B files in train/", train_folders=("train",), dataset_root=pix2pix.dataset_root,
    baseline_step=pix2pix.baseline_step, bench_batch=pix2pix.image_batch(2), bench=ToyConfig(),
    forward_passes={"generator": 1, "discriminator": 2}, evaluate=pix2pix.evaluate,
    eval_folders=pix2pix.eval_folders))
