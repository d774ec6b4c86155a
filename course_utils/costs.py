"""What a lesson's full profile costs on a Colab T4, estimated from FLOP counts before it starts.

Each lesson prints :func:`print_estimate` at its start, so that a learner knows what the lesson
costs before running it. The numbers are **estimates**, not measurements:

* the FLOPs of one training step are counted from the networks' layers
  (:func:`course_utils.perf.model_step_flops`: MACs x 2 x 3 for forward and backward);
* a T4's published peak (:data:`course_utils.perf.PEAK_FLOPS`: 8.1 TFLOP/s FP32, 65 FP16 on its
  tensor cores) is taken at :data:`ASSUMED_UTILISATION` of it. That fraction is an assumption:
  batch-1 steps at 256x256 spend most of their FLOPs in large convolutions, which run near peak,
  but normalisation, activations and the optimizer are memory-bound and add time without FLOPs.
  Lesson 04's ``bench`` measures the fraction a Colab GPU really reaches.

Only the main training loops are counted (:func:`lesson_runs`); the labs at 32x32, the 2-D ring,
the MNIST judge, evaluation and plotting add minutes, not hours.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from course_utils import config

#: Assumed fraction of the GPU's peak FLOP/s a training step reaches (see the module docstring).
ASSUMED_UTILISATION = 0.4
#: MNIST's training images (keras.datasets.mnist): an epoch of the DCGAN at batch 256 drops the rest.
MNIST_TRAIN_IMAGES = 60_000
#: The shipped digits (data/digits, the smoke profile's DCGAN data).
SHIPPED_DIGITS = 3000
#: Assumed least time of one training step on a GPU, whatever its FLOPs: launching the few hundred
#: kernels of a GAN step. Small steps (the capstone's 64x64 at batch 1) are bound by it, not by FLOPs.
ASSUMED_STEP_OVERHEAD_SECONDS = 0.01
#: Steps in one horse2zebra epoch at batch 1 (config.HORSE2ZEBRA_EPOCH_STEPS).
HORSE2ZEBRA_EPOCH = config.HORSE2ZEBRA_EPOCH_STEPS


@dataclass(frozen=True)
class TrainingRun:
    """One training loop of a lesson: what it trains, at which size, for how many steps."""

    name: str
    model: str                 # a recipe of course_utils.recipes: gan, pix2pix, cyclegan
    steps: int
    image_size: int | None     # None: the recipe's own (28 for the DCGAN)
    filters: int
    batch_size: int


def lesson_runs(cfg: config.LessonConfig) -> list[TrainingRun]:
    """The main training loops ``cfg``'s lesson runs, with their step counts."""
    if isinstance(cfg, config.GanBasicsConfig):
        images = cfg.num_examples or (MNIST_TRAIN_IMAGES if cfg.dataset == "mnist" else SHIPPED_DIGITS)
        per_epoch = cfg.steps_per_epoch or images // cfg.batch_size
        return [TrainingRun("DCGAN", "gan", cfg.epochs * per_epoch, None, cfg.discriminator_filters, cfg.batch_size)]
    if isinstance(cfg, config.Pix2PixConfig):
        return [TrainingRun("Pix2Pix", "pix2pix", cfg.steps, cfg.image_size, cfg.filters, cfg.batch_size)]
    if isinstance(cfg, config.CycleGanConfig):
        per_epoch = cfg.steps_per_epoch or HORSE2ZEBRA_EPOCH // cfg.batch_size
        return [TrainingRun("CycleGAN", "cyclegan", cfg.epochs * per_epoch, cfg.image_size, cfg.filters,
                            cfg.batch_size)]
    if isinstance(cfg, config.ColabTrainingConfig):
        return [TrainingRun("checkpointed run", cfg.model, cfg.steps, cfg.image_size, cfg.filters, cfg.batch_size),
                TrainingRun("payoff run", cfg.model, cfg.payoff_steps, cfg.image_size, cfg.filters, cfg.batch_size)]
    if isinstance(cfg, config.CapstoneConfig):
        return [TrainingRun("your model", cfg.model, cfg.steps, cfg.image_size, cfg.filters, cfg.batch_size)]
    raise TypeError(f"No training runs known for {type(cfg).__name__}.")


@functools.lru_cache(maxsize=None)
def step_flops(model: str, image_size: int | None, filters: int, batch_size: int) -> int:
    """FLOPs of one training step (:func:`course_utils.perf.model_step_flops`), counted once per setting."""
    from course_utils import perf

    return perf.model_step_flops(model, image_size, batch_size, filters)


def estimate_seconds(cfg: config.LessonConfig, gpu: str = "T4", precision: str = "float32",
                     utilisation: float = ASSUMED_UTILISATION) -> dict[str, float]:
    """Estimated seconds of each of ``cfg``'s training runs on ``gpu`` (a :data:`perf.PEAK_FLOPS` key).

    ``steps x max(FLOPs per step / (peak x utilisation), ASSUMED_STEP_OVERHEAD_SECONDS)``; an
    estimate, not a measurement.
    """
    from course_utils import perf

    if not 0 < utilisation <= 1:
        raise ValueError(f"utilisation is a fraction of the peak in (0, 1], got {utilisation!r}.")
    peak = perf.peak_flops(precision, device_name=gpu, detect=False)
    if peak is None:
        raise ValueError(f"No {precision} peak known for {gpu!r}; known GPUs: {', '.join(perf.PEAK_FLOPS)}.")
    return {run.name: run.steps * max(step_flops(run.model, run.image_size, run.filters, run.batch_size)
                                      / (peak * utilisation), ASSUMED_STEP_OVERHEAD_SECONDS)
            for run in lesson_runs(cfg)}


def estimate_lines(cfg: config.LessonConfig) -> list[str]:
    """The lines :func:`print_estimate` prints: the full profile's runs and, if ``cfg`` differs, this run's steps."""
    from course_utils import perf

    full = type(cfg).full()
    fp32, fp16 = estimate_seconds(full), estimate_seconds(full, precision="mixed_float16")
    lines = [f"Full profile on a Colab T4, estimated from FLOP counts (assuming {ASSUMED_UTILISATION:.0%} of the "
             f"peak and at least {ASSUMED_STEP_OVERHEAD_SECONDS * 1000:.0f} ms a step):"]
    for run in lesson_runs(full):
        lines.append(f"  {run.name}: {run.steps:,} steps at "
                     f"{run.image_size or 28}x{run.image_size or 28}, about {perf.format_duration(fp32[run.name])} "
                     f"in float32, {perf.format_duration(fp16[run.name])} with mixed precision")
    if cfg != full:
        steps = ", ".join(f"{run.name} {run.steps:,}" for run in lesson_runs(cfg))
        lines.append(f"This run ({cfg.profile} profile): {steps} steps.")
    return lines


def print_estimate(cfg: config.LessonConfig) -> None:
    """Print :func:`estimate_lines` (what each lesson does after :func:`runtime.start_lesson`).

    It builds the networks to count them, which initialises TensorFlow's devices: a lesson that
    configures logical devices (lesson 04's ``distribute.split_cpu``) calls it afterwards.
    """
    print("\n".join(estimate_lines(cfg)))


__all__ = ["ASSUMED_UTILISATION", "ASSUMED_STEP_OVERHEAD_SECONDS", "MNIST_TRAIN_IMAGES", "SHIPPED_DIGITS", "HORSE2ZEBRA_EPOCH", "TrainingRun", "lesson_runs",
           "step_flops", "estimate_seconds", "estimate_lines", "print_estimate"]
