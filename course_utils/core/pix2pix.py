"""Pix2Pix (Isola et al. 2017), in one place: its settings, networks, trainer, data, benchmark and evaluation.

A U-Net generator and a conditional 70x70 PatchGAN (:mod:`course_utils.core.models`), trained by
:class:`course_utils.core.train.Pix2Pix` with Adam(2e-4, beta_1 0.5) and lambda_L1 = 100 at batch 1, on
paired ``A|B`` files in ``train/`` (the shipped label2scene stands in offline). Lesson 02 and
``python -m course_utils train pix2pix`` both use :class:`Pix2PixConfig`.

>>> Pix2PixConfig.paper().image_size, Pix2PixConfig.smoke().image_size
(256, 64)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from course_utils.core import losses, model_config, registry
from course_utils.core.model_config import ModelConfig, option


@dataclass(frozen=True)
class Pix2PixConfig(ModelConfig):
    """Lesson 02 and the command line: Pix2Pix on facades (Isola et al. 2017; TF pix2pix tutorial)."""

    dataset: str = option("facades", "a pix2pix archive name, or 'shipped'", cli=False)
    steps: int = option(40000, "the global step to reach", same_run=False)
    l1_weight: float = option(losses.L1_WEIGHT, "weight of the L1 term (lambda_L1, the paper's 100)")
    direction: str = option("AtoB", "AtoB learns the left half of each file -> the right half, BtoA the other "
                            "way (facades, cityscapes and maps labels -> photo are BtoA)", choices=("AtoB", "BtoA"))
    sample_every: int = option(1000, "steps between sample grids", same_run=False, cli=False)

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

    def _cut(self, limit: int) -> dict:
        steps = min(self.steps, limit)
        return dict(steps=steps, sample_every=model_config.cut_interval(self.sample_every, steps))


def build_networks(cfg: Pix2PixConfig) -> dict[str, Any]:
    """The U-Net generator and the conditional PatchGAN (batch norm) at ``cfg.image_size``, ``cfg.filters`` wide."""
    from course_utils.core import models

    return {"generator": models.unet_generator(cfg.image_size, filters=cfg.filters),
            "discriminator": models.patchgan_discriminator(cfg.image_size, filters=cfg.filters)}


def adam(cfg: ModelConfig, learning_rate: Any = None) -> Any:
    """The papers' Adam of ``cfg`` (every image-to-image model's): its rate (or ``learning_rate``) and beta_1."""
    import keras

    return keras.optimizers.Adam(cfg.learning_rate if learning_rate is None else learning_rate, beta_1=cfg.beta_1)


def build_trainer(cfg: Pix2PixConfig, networks: dict[str, Any], *, jit_compile: bool = False,
                  loss_form: str = "bce", **options: Any) -> Any:
    """The compiled :class:`course_utils.core.train.Pix2Pix` on ``networks``: one Adam each, a constant rate;
    ``options`` override the config's (``l1_weight``)."""
    from course_utils.core import train

    trainer = train.Pix2Pix(**networks, **{"l1_weight": cfg.l1_weight, **options})
    trainer.compile(adam(cfg), adam(cfg), loss_form=loss_form, jit_compile=jit_compile)
    return trainer


def dataset_root(source: str | Path) -> Path:
    """The dataset folder of ``source``: ``"shipped"`` is data/paired; a folder or archive is resolved by
    :func:`course_utils.core.data.dataset_folder` (an archive is unpacked once)."""
    from course_utils.core import data

    return data.shipped_paired_path() if str(source) == "shipped" else data.dataset_folder(source)


def load_data(cfg: Pix2PixConfig, source: registry.DataSource) -> tuple[Any, Any]:
    """``(input, target)`` training batches from ``train/``, jittered and shuffled as in the paper, and four
    fixed pairs for the sample grids."""
    import numpy as np

    from course_utils.core import data

    if source.tfds or source.data is None:
        raise ValueError("pix2pix reads a paired folder: give --data PATH (a folder with train/) or --data shipped")
    root = dataset_root(source.data)
    options = dict(image_size=cfg.image_size, direction=cfg.direction, skip_bad_files=source.skip_bad_files)
    ds = data.load_paired_folder(root, "train", batch_size=cfg.batch_size, seed=cfg.seed, **options)
    with warnings.catch_warnings():   # the same files: their warnings were given once just above
        warnings.simplefilter("ignore")
        samples = data.load_paired_folder(root, "train", jitter=False, shuffle=False, batch_size=1,
                                          drop_remainder=False, **options)
    inp, tar = zip(*samples.take(4).as_numpy_iterator())
    return ds, (np.concatenate(inp), np.concatenate(tar))


def baseline_step(cfg: ModelConfig, networks: dict[str, Any], optimizers: list, jit_compile: bool = False) -> Any:
    """The tutorial's explicit step (:func:`course_utils.core.train.pix2pix_train_step`) as a ``tf.function``."""
    import tensorflow as tf

    from course_utils.core import train

    @tf.function(jit_compile=jit_compile)
    def step(batch: tuple) -> dict:
        inp, target = batch
        return train.pix2pix_train_step(networks["generator"], networks["discriminator"], *optimizers, inp, target)

    return step


def image_batch(count: int) -> Any:
    """``bench_batch`` of an image-to-image model taking ``count`` images per step: random RGB in [-1, 1]."""
    def batch(size: int, batch_size: int, seed: int = 0) -> tuple:
        import tensorflow as tf

        rng = tf.random.Generator.from_seed(seed)
        return tuple(rng.uniform((batch_size, size, size, 3), -1.0, 1.0) for _ in range(count))

    return batch


def eval_folders(evaluation: Any, source: Path, data_b: str | None, split: str | None) -> tuple[Path, ...]:
    """The folder of held-out ``A|B`` files: ``split`` (default test/, else val/) of a dataset folder."""
    if data_b is not None:
        raise ValueError("--data-b is for a cyclegan model; a pix2pix model reads A|B files from --data alone")
    folder = evaluation.image_folder(source, [split] if split else ["test", "val"])
    if split and folder.name != split:
        raise FileNotFoundError(f"{source} holds images directly, so --split {split} does not apply; leave it out")
    return (folder,)


def evaluate(evaluation: Any, generators: dict[str, Any], folders: tuple[Path, ...], direction: str | None,
             options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """L1, PSNR and SSIM against the targets (:func:`course_utils.tools.evaluation.evaluate_pix2pix`)."""
    result = evaluation.evaluate_pix2pix(generators["generator"], folders[0], direction or "AtoB", **options)
    return result, {k: result.metrics[k] for k in ("images", "l1", "psnr", "ssim")}


def validation(evaluation: Any, cfg: Pix2PixConfig, data: str, val: str | None, out: Path, every: int) -> Any:
    """Validation at every checkpoint on ``val`` (a folder of A|B files), else the dataset's val/ when it has
    one; ``"none"`` turns it off (:class:`course_utils.tools.evaluation.ValidationCallback`)."""
    if (val or "").lower() == "none":
        return None
    if val is not None:
        folder = evaluation.image_folder(val, ["val"])
    elif (dataset_root(data) / "val").is_dir():
        folder = dataset_root(data) / "val"
    else:
        return None
    return evaluation.ValidationCallback(folder, out, every=every, direction=cfg.direction)


def failure_records(report: Mapping[str, Any]) -> tuple[list, str]:
    """The per-image records of an ``evaluate`` report, ranked by L1 against the target."""
    return list(report["per_image"]), "l1"


#: The tutorial's passes: G(x) once; D on (x, y) and on (x, G(x)).
FORWARD_PASSES = {"generator": 1, "discriminator": 2}

SPEC = registry.register(registry.ModelSpec(
    name="pix2pix", paper="Pix2Pix (Isola et al. 2017)", config=Pix2PixConfig,
    build_networks=build_networks, build_trainer=build_trainer, load_data=load_data,
    data="paired A|B files in train/ (data/paired when 'shipped')", train_folders=("train",),
    baseline_step=baseline_step, bench_batch=image_batch(2), bench=Pix2PixConfig(),
    forward_passes=FORWARD_PASSES, evaluate=evaluate, eval_folders=eval_folders,
    dataset_root=dataset_root, validation=validation, held_out_folders=("test", "val"),
    layout="train/ (and test/ or val/) holding A|B files side by side", failure_records=failure_records))
