"""CycleGAN (Zhu et al. 2017), in one place: its settings, networks, trainer, schedule, data, benchmark, evaluation.

Two ResNet generators and two PatchGANs with instance norm (:func:`course_utils.core.models.cyclegan_networks`),
trained by :class:`course_utils.core.train.CycleGAN` with least-squares losses, a 50-image pool, cycle weight 10
and identity weight half of it, Adam(2e-4, beta_1 0.5) at batch 1: constant for the first half of the
epochs, then linearly to zero (:class:`course_utils.core.train.LinearDecay`). Lesson 03 and
``python -m course_utils train cyclegan`` both use :class:`CycleGanConfig`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from course_utils.core import losses, model_config, registry
from course_utils.core.pix2pix import adam, dataset_root as _paired_root, image_batch
from course_utils.core.model_config import ModelConfig, option


@dataclass(frozen=True)
class CycleGanConfig(ModelConfig):
    """Lesson 03 and the command line: CycleGAN on horse2zebra (Zhu et al. 2017)."""

    dataset: str = option("horse2zebra", "a TFDS cycle_gan config, or 'shipped'", cli=False)
    n_blocks: int | None = option(None, "residual blocks in each generator: None = the paper's 9 at 256 px, "
                                  "6 below")
    upsample: str = option("transpose", "how the generators upsample: transpose (the paper's) or resize "
                           "(no checkerboard; 03_cyclegan_further)", choices=("transpose", "resize"))
    epochs: int = option(200, "epochs in all (100 constant + 100 linear decay in the paper); on the command line "
                         "one 'epoch' is one step unless --steps-per-epoch is given")
    decay_epochs: int = option(100, "epochs over which the learning rate falls linearly to zero")
    steps_per_epoch: int | None = option(None, "steps per epoch (None: the dataset's size; on the command line: "
                                         "1, with --epochs and --decay-epochs from --steps)")
    cycle_weight: float = option(losses.CYCLE_WEIGHT, "weight of the cycle-consistency loss (lambda, the paper's 10)")
    identity_weight: float = option(losses.IDENTITY_WEIGHT, "weight of the identity loss (0.5 * the cycle weight, the paper's)")
    loss_form: str = option("lsgan", "the GAN loss: lsgan (the paper's least squares) or bce",
                            choices=("lsgan", "bce"))
    pool_size: int = option(50, "generated images each discriminator's pool holds (the paper's 50; 0: none)")
    checkpoint_every: int = option(1000, "steps between checkpoints", same_run=False, cli=False)
    sample_every: int = option(2000, "steps between sample grids", same_run=False, cli=False)

    @classmethod
    def _learner_overrides(cls) -> dict:
        # The paper's networks and losses at 128 px (6 residual blocks, the paper's rule below 256) in mixed
        # precision, 14 epochs of horse2zebra (7 constant + 7 decaying, the paper's shape): about 16 T4
        # minutes by the course's estimate, where the paper's 200 epochs at 256 px take about 42 hours.
        return dict(image_size=128, epochs=14, decay_epochs=7, precision="mixed_float16")

    @classmethod
    def _smoke_overrides(cls) -> dict:
        # 32x32, a quarter of the widths, 3 residual blocks, batch 1: 800 steps (the last 400 decaying)
        # reach the true day->dusk colour map to under a quarter of the identity error. Learning rate 1e-3
        # (why, and the study: docs/results.md, scripts/speckle_study.py).
        return dict(dataset="shipped", image_size=32, batch_size=1, filters=16, n_blocks=3, epochs=2,
                    decay_epochs=1, steps_per_epoch=400, checkpoint_every=400, sample_every=200, learning_rate=1e-3,
                    precision="float32")

    def _cut(self, limit: int) -> dict:
        cut = model_config.cut_epochs(self.epochs, self.steps_per_epoch, limit, self.decay_epochs)
        total = cut["epochs"] * cut["steps_per_epoch"]
        return dict(cut, checkpoint_every=model_config.cut_interval(self.checkpoint_every, total),
                    sample_every=model_config.cut_interval(self.sample_every, total))


def build_networks(cfg: CycleGanConfig) -> dict[str, Any]:
    """The two ResNet generators (``cfg.n_blocks``, ``cfg.upsample``) and two PatchGANs, instance norm."""
    from course_utils.core import models

    return models.cyclegan_networks(cfg.image_size, filters=cfg.filters, n_blocks=cfg.n_blocks,
                                    upsample=cfg.upsample)


def learning_rate(cfg: CycleGanConfig, steps_per_epoch: int | None = None) -> Any:
    """The paper's schedule in steps: ``cfg.learning_rate`` for ``epochs - decay_epochs`` epochs, then linearly
    to zero over ``decay_epochs`` (``steps_per_epoch``: the config's, else this one)."""
    from course_utils.core import train

    per_epoch = cfg.steps_per_epoch or steps_per_epoch
    if per_epoch is None:
        raise ValueError("The CycleGAN schedule counts in steps: set steps_per_epoch (the dataset's size at "
                         "batch 1), in the config or as the argument.")
    return train.LinearDecay(cfg.learning_rate, (cfg.epochs - cfg.decay_epochs) * per_epoch,
                             cfg.decay_epochs * per_epoch)


def build_trainer(cfg: CycleGanConfig, networks: dict[str, Any], *, jit_compile: bool = False,
                  **options: Any) -> Any:
    """The compiled :class:`course_utils.core.train.CycleGAN`: one Adam per network on :func:`learning_rate`'s
    schedule; ``options`` override the config's pool size or loss weights."""
    from course_utils.core import train

    weights = dict(cycle_weight=cfg.cycle_weight, identity_weight=cfg.identity_weight, pool_size=cfg.pool_size)
    trainer = train.CycleGAN(**networks, **{**weights, **options}, seed=cfg.seed)
    rate = learning_rate(cfg)
    trainer.compile(*(adam(cfg, rate) for _ in range(4)), loss_form=cfg.loss_form, jit_compile=jit_compile)
    return trainer


def schedule(cfg: CycleGanConfig, steps: int) -> CycleGanConfig:
    """A command-line run to ``steps`` without ``--steps-per-epoch``: constant for the first half of the steps,
    decaying over the second (the paper's shape, shortened honestly to the run)."""
    if cfg.steps_per_epoch is not None:
        return cfg
    return dataclasses.replace(cfg, epochs=steps, decay_epochs=steps - steps // 2, steps_per_epoch=1)


def dataset_root(source: str | Path) -> Path:
    """``"shipped"`` is data/unpaired; a folder or archive is resolved by :func:`course_utils.core.data.dataset_folder`."""
    from course_utils.core import data

    return data.shipped_unpaired_path() if str(source) == "shipped" else _paired_root(source)


def load_data(cfg: CycleGanConfig, source: registry.DataSource) -> tuple[Any, Any]:
    """``(x, y)`` batches from trainA/ and trainB/ (or the TFDS config), each domain repeated, and two fixed
    images of each domain for the sample grids."""
    import numpy as np
    import tensorflow as tf

    from course_utils.core import data

    if (source.data is None) == (source.tfds is None):
        raise ValueError("cyclegan needs exactly one of --data PATH (trainA/ and trainB/), --data shipped, "
                         "or --tfds NAME")
    size, seed = cfg.image_size, cfg.seed
    if source.tfds:
        ds_a, ds_b = data.load_cycle_gan_tfds(source.tfds, "train", image_size=size, batch_size=cfg.batch_size,
                                              seed=seed)
        sample_a, sample_b = data.load_cycle_gan_tfds(source.tfds, "train", image_size=size, jitter=False,
                                                      shuffle=False, batch_size=1)
    else:
        root, skip = dataset_root(source.data), source.skip_bad_files
        ds_a, ds_b = data.load_unpaired_folder(root, "train", image_size=size, batch_size=cfg.batch_size,
                                               seed=seed, skip_bad_files=skip)
        with warnings.catch_warnings():   # the same files: their warnings were given once just above
            warnings.simplefilter("ignore")
            sample_a, sample_b = data.load_unpaired_folder(root, "train", image_size=size, jitter=False,
                                                           shuffle=False, batch_size=1, drop_remainder=False,
                                                           skip_bad_files=skip)
    xs = np.concatenate(list(sample_a.take(2).as_numpy_iterator()))
    ys = np.concatenate(list(sample_b.take(2).as_numpy_iterator()))
    return tf.data.Dataset.zip((ds_a.repeat(), ds_b.repeat())), (xs, ys)


def baseline_step(cfg: ModelConfig, networks: dict[str, Any], optimizers: list, jit_compile: bool = False) -> Any:
    """The tutorial's explicit step (:func:`course_utils.core.train.cyclegan_train_step`, no pool) as a ``tf.function``."""
    import tensorflow as tf

    from course_utils.core import train

    nets = [networks[k] for k in ("generator_g", "generator_f", "discriminator_x", "discriminator_y")]

    @tf.function(jit_compile=jit_compile)
    def step(batch: tuple) -> dict:
        real_x, real_y = batch
        return train.cyclegan_train_step(*nets, *optimizers, real_x, real_y)

    return step


def eval_folders(evaluation: Any, source: Path, data_b: str | None, split: str | None) -> tuple[Path, ...]:
    """``{split}A/`` and ``{split}B/`` (default test) of a dataset folder, or the two folders --data and --data-b."""
    from course_utils.core import data

    if data_b is not None:
        if split:
            raise ValueError("--split picks folders inside a dataset folder; with --data-b give the two image "
                             "folders themselves")
        return evaluation.image_folder(source, []), evaluation.image_folder(data_b, [])
    root = data.dataset_folder(source)
    folders = (root / f"{split or 'test'}A", root / f"{split or 'test'}B")
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing: a cyclegan model is evaluated on {folder.name[:-1]}A/ and "
                                    f"{folder.name[:-1]}B/ of a dataset folder, or on two folders: --data FOLDER_A "
                                    "--data-b FOLDER_B")
    return folders


def evaluate(evaluation: Any, generators: dict[str, Any], folders: tuple[Path, ...], direction: str | None,
             options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Cycle and identity error, PSNR and SSIM of the round trips, both directions
    (:func:`course_utils.tools.evaluation.evaluate_cyclegan`)."""
    if direction:
        raise ValueError("--direction is for pix2pix; a cyclegan model is evaluated in both directions")
    result = evaluation.evaluate_cyclegan(generators["generator_g"], generators["generator_f"], *folders, **options)
    keys = ("images", "cycle_error", "identity_error", "cycle_psnr", "cycle_ssim",
            "correspondence_error", "speckle_ratio")   # the last two: the shipped day2dusk, whose truth is known
    return result, {k: result.metrics[k] for k in keys if k in result.metrics}


def failure_records(report: Mapping[str, Any]) -> tuple[list, str]:
    """The per-image records of an ``evaluate`` report over both domains (each gains ``domain``), ranked by
    cycle error."""
    return [dict(r, domain=d) for d in ("A", "B") for r in report[d]["per_image"]], "cycle_error"


#: The tutorial's passes (no pool): G(x), F(G(x)), F(y), G(F(y)), F(x), G(y); each D a real and a fake batch.
FORWARD_PASSES = {"generator_g": 3, "generator_f": 3, "discriminator_x": 2, "discriminator_y": 2}
#: With the paper's image pool (the authors' code, the course's trainer): each D also scores the pooled fakes.
POOL_PASSES = {"generator_g": 3, "generator_f": 3, "discriminator_x": 3, "discriminator_y": 3}

SPEC = registry.register(registry.ModelSpec(
    name="cyclegan", paper="CycleGAN (Zhu et al. 2017)", config=CycleGanConfig,
    build_networks=build_networks, build_trainer=build_trainer, load_data=load_data,
    data="unpaired images in trainA/ and trainB/ (data/unpaired when 'shipped'), or a TFDS cycle_gan config",
    train_folders=("trainA", "trainB"), generators=("generator_g", "generator_f"),
    # The benchmark times 128x128, where a CPU step takes seconds, not tens.
    baseline_step=baseline_step, bench_batch=image_batch(2), bench=CycleGanConfig(image_size=128, steps_per_epoch=1),
    forward_passes=FORWARD_PASSES, trainer_passes=POOL_PASSES, bench_variants={"trainer_no_pool": {"pool_size": 0}},
    evaluate=evaluate, eval_folders=eval_folders, schedule=schedule,
    schedule_end=lambda cfg: cfg.epochs * cfg.steps_per_epoch if cfg.steps_per_epoch else None,
    dataset_root=dataset_root, held_out_folders=("testA", "testB"), held_out_all=True,
    layout="trainA/ trainB/ testA/ testB/, one image per file", failure_records=failure_records))
