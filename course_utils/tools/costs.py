"""What a lesson costs on a Colab T4, estimated from FLOP counts before it starts.

Each lesson prints :func:`print_estimate` at its start, and ``python -m course_utils costs`` prints
:func:`cost_table` (``--json`` for a list of objects), so that a learner knows what a lesson costs
before running it. The numbers are **estimates**, not measurements:

* the FLOPs of one training step are counted from the networks' layers
  (:func:`course_utils.tools.perf.model_step_flops`: MACs x 2 x 3 for forward and backward);
* a T4's published FP32 peak (:data:`course_utils.tools.perf.PEAK_FLOPS`: 8.1 TFLOP/s) is taken at the
  share :data:`ASSUMED_SHARE` gives for the model. The shares are assumptions, checked against the
  published step times in :data:`PUBLISHED_STEP_TIMES` (``tests/test_costs.py``): CycleGAN's
  256-px step is mostly large convolutions and reaches about 40 % of the peak; Pix2Pix's batch-1 step
  spends much of its time in the U-Net's small inner layers and the optimizer's 57 M weights, and
  reaches about an eighth;
* mixed precision is taken as :data:`ASSUMED_MIXED_SPEEDUP` times faster than float32, not the
  tensor cores' 8x peak ratio: normalisation, activations and the optimizer stay memory-bound.
  Lesson 04 measures what a Colab GPU really gives.

Only the main training loops are counted (:func:`lesson_runs`); the labs at 32x32, the 2-D ring,
the MNIST judge, evaluation and plotting add minutes, not hours.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass

from course_utils.lessons import config

#: Assumed share of the GPU's FP32 peak a float32 training step of each model reaches.
ASSUMED_SHARE = {"gan": 0.4, "pix2pix": 0.125, "cyclegan": 0.4}
#: Assumed speed-up of mixed_float16 over float32 on a T4 (Keras' mixed-precision guide reports "more
#: than 3 times" on modern GPUs for models dominated by matrix products; ours are not all).
ASSUMED_MIXED_SPEEDUP = 2.0
#: MNIST's training images (keras.datasets.mnist): an epoch of the DCGAN at batch 256 drops the rest.
MNIST_TRAIN_IMAGES = 60_000
#: The shipped digits (data/digits, the smoke profile's DCGAN data).
SHIPPED_DIGITS = 3000
#: Assumed least time of one training step on a GPU, whatever its FLOPs: launching the few hundred
#: kernels of a GAN step. Small steps (the capstone's 64x64 at batch 1) are bound by it, not by FLOPs.
ASSUMED_STEP_OVERHEAD_SECONDS = 0.01
#: Steps in one horse2zebra epoch at batch 1 (config.HORSE2ZEBRA_EPOCH_STEPS).
HORSE2ZEBRA_EPOCH = config.HORSE2ZEBRA_EPOCH_STEPS
#: The lessons with training runs, and their settings.
LESSONS: dict[str, type[config.LessonConfig]] = {
    "01": config.DcganConfig, "02": config.Pix2PixConfig, "03": config.CycleGanConfig,
    "04": config.ColabTrainingConfig, "05": config.CapstoneConfig}
#: What a lesson's training may cost on a T4 in the learner profile, by the estimate: each run, and all together.
LEARNER_RUN_MINUTES = 20
LEARNER_LESSON_MINUTES = 30


@dataclass(frozen=True)
class PublishedStepTime:
    """A step time someone published for one of the papers' networks, to check :data:`ASSUMED_SHARE` against."""

    model: str
    image_size: int
    gpu: str
    fp32_peak: float           # the GPU's FP32 peak, FLOP/s (its data sheet)
    seconds: tuple[float, float]   # the published range of one batch-1 training step
    source: str


PUBLISHED_STEP_TIMES = (
    # 1-2 days for 200 epochs of horse2zebra (266,800 steps at batch 1) on a GTX 1080 (8.9 TFLOP/s FP32):
    # the authors' answer in junyanz/pytorch-CycleGAN-and-pix2pix issue #1549 (2023).
    PublishedStepTime("cyclegan", 256, "GTX 1080", 8.87e12, (24 * 3600 / 266_800, 48 * 3600 / 266_800),
                      "junyanz/pytorch-CycleGAN-and-pix2pix issue #1549"),
    # About 15 s for an epoch of the 400 facades at batch 1 on a V100 (15.7 TFLOP/s FP32): TensorFlow's
    # pix2pix tutorial (its epoch-based version), i.e. about 37 ms a step.
    PublishedStepTime("pix2pix", 256, "V100", 15.7e12, (0.030, 0.045), "TensorFlow pix2pix tutorial"),
)


@dataclass(frozen=True)
class TrainingRun:
    """One training loop of a lesson: what it trains, at which size, for how many steps."""

    name: str
    model: str                 # a registered model (course_utils.core.registry): gan, pix2pix, cyclegan
    steps: int
    image_size: int | None     # None: the recipe's own (28 for the DCGAN)
    filters: int
    batch_size: int
    precision: str = "float32"   # what the run trains in (course_utils.core.train.PRECISIONS)


def lesson_runs(cfg: config.LessonConfig) -> list[TrainingRun]:
    """The main training loops ``cfg``'s lesson runs, with their step counts."""
    if isinstance(cfg, config.DcganConfig):
        images = cfg.num_examples or (MNIST_TRAIN_IMAGES if cfg.dataset == "mnist" else SHIPPED_DIGITS)
        per_epoch = cfg.steps_per_epoch or images // cfg.batch_size
        return [TrainingRun("DCGAN", "gan", cfg.epochs * per_epoch, None, cfg.discriminator_filters, cfg.batch_size)]
    if isinstance(cfg, config.Pix2PixConfig):
        return [TrainingRun("Pix2Pix", "pix2pix", cfg.steps, cfg.image_size, cfg.filters, cfg.batch_size)]
    if isinstance(cfg, config.CycleGanConfig):
        per_epoch = cfg.steps_per_epoch or HORSE2ZEBRA_EPOCH // cfg.batch_size
        return [TrainingRun("CycleGAN", "cyclegan", cfg.epochs * per_epoch, cfg.image_size, cfg.filters,
                            cfg.batch_size, cfg.precision)]
    if isinstance(cfg, config.ColabTrainingConfig):
        return [TrainingRun("checkpointed run", cfg.model, cfg.steps, cfg.image_size, cfg.filters, cfg.batch_size,
                            cfg.precision),
                TrainingRun("payoff run", cfg.model, cfg.payoff_steps, cfg.image_size, cfg.filters, cfg.batch_size,
                            cfg.precision)]
    if isinstance(cfg, config.CapstoneConfig):
        return [TrainingRun("your model", cfg.model, cfg.steps, cfg.image_size, cfg.filters, cfg.batch_size)]
    raise TypeError(f"No training runs known for {type(cfg).__name__}.")


@functools.lru_cache(maxsize=None)
def step_flops(model: str, image_size: int | None, filters: int, batch_size: int) -> int:
    """FLOPs of one training step (:func:`course_utils.tools.perf.model_step_flops`), counted once per setting."""
    from course_utils.tools import perf

    return perf.model_step_flops(model, image_size, batch_size, filters)


def run_seconds(run: TrainingRun, precision: str | None = None, fp32_peak: float | None = None) -> float:
    """Estimated seconds of ``run`` on a T4 (or a GPU of FP32 peak ``fp32_peak``) in ``precision``
    (default: the run's own).

    ``steps x max(FLOPs per step / (FP32 peak x ASSUMED_SHARE[model]) [/ ASSUMED_MIXED_SPEEDUP],
    ASSUMED_STEP_OVERHEAD_SECONDS)``; an estimate, not a measurement.
    """
    from course_utils.tools import perf
    from course_utils.core import train

    precision = run.precision if precision is None else precision
    if precision not in train.PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(train.PRECISIONS)}, got {precision!r}.")
    peak = perf.PEAK_FLOPS["T4"].fp32 if fp32_peak is None else fp32_peak
    seconds = step_flops(run.model, run.image_size, run.filters, run.batch_size) / (peak * ASSUMED_SHARE[run.model])
    if precision != "float32":
        seconds /= ASSUMED_MIXED_SPEEDUP
    return run.steps * max(seconds, ASSUMED_STEP_OVERHEAD_SECONDS)


def estimate_seconds(cfg: config.LessonConfig, precision: str | None = None) -> dict[str, float]:
    """Estimated T4 seconds of each of ``cfg``'s training runs (:func:`run_seconds`), by run name."""
    return {run.name: run_seconds(run, precision) for run in lesson_runs(cfg)}


def cost_table(profiles: tuple[str, ...] = ("learner", "paper")) -> list[dict]:
    """One row per training run of each lesson and profile: what ``python -m course_utils costs`` prints.

    Keys: ``lesson``, ``profile``, ``run``, ``steps``, ``image_size``, ``precision`` (what the run
    trains in), ``minutes`` (the T4 estimate in that precision), ``minutes_fp32``, ``minutes_mixed``
    and ``default_on_gpu`` (the profile a lesson picks on a GPU).
    """
    rows = []
    for lesson, settings in LESSONS.items():
        for profile in profiles:
            for run in lesson_runs(settings.of(profile)):
                fp32, mixed = run_seconds(run, "float32"), run_seconds(run, "mixed_float16")
                rows.append(dict(lesson=lesson, profile=profile, run=run.name, steps=run.steps,
                                 image_size=run.image_size or 28, precision=run.precision,
                                 minutes=round((fp32 if run.precision == "float32" else mixed) / 60, 1),
                                 minutes_fp32=round(fp32 / 60, 1), minutes_mixed=round(mixed / 60, 1),
                                 default_on_gpu=profile == "learner"))
    return rows


def format_table(rows: list[dict]) -> str:
    """:func:`cost_table`'s rows as a plain-text table."""
    lines = [f"{'lesson':6} {'profile':8} {'run':17} {'steps':>8} {'size':>5} {'trains in':15} {'T4 min':>7} "
             f"{'fp32 min':>8} {'mixed min':>9}"]
    for r in rows:
        mark = "*" if r["default_on_gpu"] else " "
        lines.append(f"{r['lesson']:6} {r['profile'] + mark:8} {r['run']:17} {r['steps']:>8,} {r['image_size']:>5} "
                     f"{r['precision']:15} {r['minutes']:>7,.1f} {r['minutes_fp32']:>8,.1f} {r['minutes_mixed']:>9,.1f}")
    lines.append(f"* the profile a lesson takes on a GPU. Estimates from FLOP counts: {ASSUMED_SHARE} of a T4's "
                 f"FP32 peak, mixed precision {ASSUMED_MIXED_SPEEDUP:g}x faster, at least "
                 f"{ASSUMED_STEP_OVERHEAD_SECONDS * 1000:.0f} ms a step (course_utils/tools/costs.py).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils costs [--json]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_utils costs",
                                     description="Each lesson's training runs and their estimated Colab T4 minutes.")
    parser.add_argument("--json", action="store_true", help="print a JSON list of objects instead of a table")
    args = parser.parse_args(argv)
    rows = cost_table()
    print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    return 0


def estimate_lines(cfg: config.LessonConfig) -> list[str]:
    """The lines :func:`print_estimate` prints: the lesson's learner and paper runs, and this run's steps."""
    from course_utils.tools import perf

    lines = [f"Estimated time on a Colab T4 (from FLOP counts; {ASSUMED_SHARE} of the FP32 peak, mixed precision "
             f"{ASSUMED_MIXED_SPEEDUP:g}x faster):"]
    for profile in ("learner", "paper"):
        for run in lesson_runs(type(cfg).of(profile)):
            size = run.image_size or 28
            lines.append(f"  {profile:7} {run.name}: {run.steps:,} steps at {size}x{size} in {run.precision}, "
                         f"about {perf.format_duration(run_seconds(run))}")
    steps = ", ".join(f"{run.name} {run.steps:,}" for run in lesson_runs(cfg))
    lines.append(f"This run ({cfg.profile} profile): {steps} steps.")
    return lines


class Pace:
    """Says, after the first ``after`` steps of a run on a GPU, the measured step time and the projected finish.

    ``pace = costs.Pace(total_steps)``, then ``pace.step()`` after each step of a hand-written loop, or
    ``callbacks=[pace.callback()]`` in ``fit``. It times steps ``2..after+1`` (the first one traces and
    compiles), prints one line, and warns when the run would take longer than ``budget_minutes``.
    Silent on a CPU unless ``always=True`` (smoke runs there are short and timed by the tests instead).
    """

    def __init__(self, total_steps: int, budget_minutes: float = LEARNER_RUN_MINUTES, after: int = 100,
                 always: bool = False, name: str = "this run") -> None:
        if total_steps < 1 or after < 1:
            raise ValueError(f"total_steps and after are step counts >= 1; got {total_steps} and {after}.")
        self.total_steps, self.budget_minutes, self.after, self.name = total_steps, budget_minutes, after, name
        self.active = always or config.gpu_visible()
        self.done = 0
        self._start: float | None = None
        self.report: str | None = None

    def step(self) -> None:
        """Count one finished step; at step ``after + 1`` print the measured pace once."""
        import time

        if not self.active or self.report is not None:
            return
        self.done += 1
        if self.done == 1:
            self._start = time.perf_counter()
        elif self.done == self.after + 1 or self.done == self.total_steps:
            per_step = (time.perf_counter() - self._start) / (self.done - 1)
            left = per_step * (self.total_steps - self.done) / 60
            total = per_step * self.total_steps / 60
            self.report = (f"{self.name}: {per_step * 1000:.0f} ms a step over steps 2-{self.done}; "
                           f"{self.total_steps - self.done:,} steps left, about {left:.1f} min more "
                           f"({total:.1f} min in all).")
            if total > self.budget_minutes:
                self.report += (f" WARNING: over this lesson's budget of {self.budget_minutes:g} min: check the "
                                "runtime has a GPU (section 1), or shorten the run (fewer steps).")
            print(self.report)

    def callback(self):
        """The same as a Keras callback, for ``fit``."""
        import keras

        return keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: self.step())


def print_estimate(cfg: config.LessonConfig) -> None:
    """Print :func:`estimate_lines` (what each lesson does after :func:`runtime.start_lesson`).

    It builds the networks to count them, which initialises TensorFlow's devices: a lesson that
    configures logical devices (lesson 04's ``distribute.split_cpu``) calls it afterwards.
    """
    print("\n".join(estimate_lines(cfg)))


__all__ = ["ASSUMED_SHARE", "ASSUMED_MIXED_SPEEDUP", "ASSUMED_STEP_OVERHEAD_SECONDS", "MNIST_TRAIN_IMAGES",
           "SHIPPED_DIGITS", "HORSE2ZEBRA_EPOCH", "LESSONS", "LEARNER_RUN_MINUTES", "LEARNER_LESSON_MINUTES",
           "PublishedStepTime", "PUBLISHED_STEP_TIMES", "Pace", "TrainingRun", "lesson_runs", "step_flops", "run_seconds",
           "estimate_seconds", "cost_table", "format_table", "main", "estimate_lines",
           "print_estimate"]
