r"""The instructor's benchmark: how fast this machine trains the course's models, and at what cost.

``python -m course_utils bench`` (and ``make bench``) is its command; its options are in
:mod:`course_utils.tools.cli`. One run (:func:`run_bench`):

1. builds the papers' networks of a model (its module's ``build_networks``, :mod:`course_utils.core.registry`) twice, one
   copy for the course's trainer and one for a plain baseline, and counts their work with
   :mod:`course_utils.tools.perf` (MACs per image, FLOPs per step);
2. times the trainer's ``train_step`` (:func:`trainer_step`) next to the explicit training step of
   :mod:`course_utils.core.train`, written the way the TensorFlow tutorials write it (:func:`baseline_step`), on one fixed batch
   (:func:`fixed_batch`), interleaved step by step (:func:`course_utils.tools.perf.time_interleaved`). The
   trainer's ``train_step`` runs that same step, so the ratio is the price of what ``fit()`` adds
   around it (step counter, metrics; CycleGAN's image pools);
3. reports medians, the paired ratio trainer / baseline (:func:`paired_ratio`), the FLOP/s achieved
   and their fraction of the GPU's published peak, the peak memory (:func:`peak_memory`) and the
   input pipeline's images per second (:func:`pipeline_images_per_second`).

:data:`STANDARD_RUNS` is the set ``make bench`` runs; :func:`format_table` prints results.
docs/performance.md reports what it measured.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import resource
import statistics
import sys
from typing import Any, Callable, Iterable, Mapping

import keras
import tensorflow as tf

from course_utils.tools import perf
from course_utils.core import registry, train


# ===========================================================================
# 1. The plain baseline: the explicit, tutorial-style steps of course_utils.core.train
# ===========================================================================
def _adam(cfg: Any, precision: str, network: Any) -> Any:
    """The model's Adam (the trainer's: ``cfg.learning_rate``, ``cfg.beta_1``), wrapped for loss scaling under
    mixed_float16.

    Its slot variables are built here, before tracing: a ``tf.function`` that creates
    variables on its first call traces twice, which would blur the tracing time.
    """
    opt = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)
    if precision == "mixed_float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(network.trainable_variables)
    return opt


def baseline_step(model: str, networks: Mapping[str, Any], precision: str = "float32",
                  jit_compile: bool = False) -> Callable[[tuple], dict]:
    """The tutorial-style step of ``model`` as a plain ``tf.function``: the baseline of the benchmark.

    The step is the model's explicit one (its module's ``baseline_step``, e.g.
    :func:`~course_utils.core.train.pix2pix_train_step`): gradient tapes, ``tape.gradient`` and
    ``optimizer.apply_gradients``, as the TensorFlow tutorials write it and the lessons show it, with
    the papers' losses and no image pool. Nothing of the trainer wraps it (no metrics, step counter,
    pool or distribution), so the ratio measures what the trainer adds. One departure from the
    tutorials: the optimizers' variables are built before the first call (see :func:`_adam`). The
    step takes one batch tuple (``fixed_batch``) and returns the explicit step's dict of scalar losses.
    """
    spec = registry.get(model)
    opts = [_adam(spec.bench, precision, net) for net in networks.values()]
    return spec.baseline_step(spec.bench, networks, opts, jit_compile)


def fixed_batch(model: str, image_size: int | None, batch_size: int, seed: int = 0) -> tuple:
    """A fixed batch in [-1, 1] with a static shape, as the step of ``model`` takes it
    (``image_size`` None: the benchmark's default size of ``model``)."""
    spec = registry.get(model)
    return spec.bench_batch(spec.bench.image_size if image_size is None else image_size, batch_size, seed)


# ===========================================================================
# 2. The course's trainer, timed through the same kind of tf.function
# ===========================================================================
def trainer_step(model: str, networks: Mapping[str, Any], precision: str = "float32",
                 jit_compile: bool = False, **trainer_options: Any) -> Callable[[tuple], Any]:
    """The course trainer's ``train_step`` wrapped in a ``tf.function``.

    The trainer is the model's (its ``build_trainer`` on its benchmark settings); ``trainer_options``
    go to its constructor (e.g. ``pool_size=0`` for CycleGAN). It is compiled with ``jit_compile``
    and its ``train_step`` wrapped in ``tf.function(jit_compile=...)``, the same wrapping the baseline
    gets. ``precision`` is the policy ``networks`` were built under (the trainer reads it from them).
    """
    spec = registry.get(model)
    trainer = spec.build_trainer(spec.bench, dict(networks), jit_compile=jit_compile, **trainer_options)
    # Keep the trainer alive with the function (it owns the optimizers and metrics).
    step = tf.function(trainer.train_step, jit_compile=jit_compile)
    step.trainer = trainer  # type: ignore[attr-defined]
    return step


# ===========================================================================
# 3. Side-by-side ratio and peak memory
# ===========================================================================
def paired_ratio(ours: perf.StepTiming, baseline: perf.StepTiming) -> float:
    """Median over the side-by-side steps of ``ours / baseline`` (drift cancels within a pair)."""
    if len(ours.steps) != len(baseline.steps) or not ours.steps:
        raise ValueError("paired_ratio needs timings from the same time_interleaved call.")
    return statistics.median(t / b for t, b in zip(ours.steps, baseline.steps))


def peak_memory(reset: bool = False) -> dict[str, Any]:
    """Peak memory: the GPU allocator's peak on a GPU, else this process's peak RSS.

    On CPU the number is ``ru_maxrss`` of the whole process since it started (models,
    TensorFlow itself and every earlier run included), not just one step's working set.
    """
    if tf.config.list_physical_devices("GPU"):
        if reset:
            tf.config.experimental.reset_memory_stats("GPU:0")
            return {}
        info = tf.config.experimental.get_memory_info("GPU:0")
        return {"peak_memory_bytes": int(info["peak"]), "memory_kind": "GPU:0 allocator peak"}
    if reset:
        return {}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_bytes = rss if sys.platform == "darwin" else rss * 1024   # Linux reports KiB
    return {"peak_memory_bytes": int(rss_bytes), "memory_kind": "CPU: process peak RSS (ru_maxrss)"}


# ===========================================================================
# 4. The input pipeline
# ===========================================================================
def pipeline_images_per_second(image_size: int = 256, n_batches: int = 150, repeats: int = 3) -> dict[str, Any]:
    """The input pipeline's speed, measured by ``course_utils.core.data.pipeline_throughput``
    (decode + jitter of facades-like 256x512 JPEG pairs, no cache)."""
    from course_utils.core.data import pipeline_throughput

    result = dict(pipeline_throughput(image_size=image_size, jitter=True, n_batches=n_batches, repeats=repeats))
    result.setdefault("source", "course_utils.core.data.pipeline_throughput")
    result["source"] = f"course_utils.core.data.pipeline_throughput ({result['source']})"
    return result


# ===========================================================================
# 5. One benchmark run, the standard set, the table
# ===========================================================================
#: ``--standard``: the papers' architectures, step counts sized for a 2-core CPU
#: (about 1 s per pix2pix step at 256, several seconds per CycleGAN step at 128).
STANDARD_RUNS: tuple[dict[str, Any], ...] = (
    {"model": "pix2pix", "image_size": 256, "steps": 8, "repeats": 3, "warmup": 2},
    {"model": "cyclegan", "image_size": 128, "steps": 4, "repeats": 3, "warmup": 1},
)
#: The model ``bench`` times when none is named.
DEFAULT_MODEL = STANDARD_RUNS[0]["model"]


def run_bench(model: str = "pix2pix", image_size: int | None = None, steps: int = 5,
              batch_size: int | None = None, filters: int | None = None, xla: bool = False,
              precision: str = "float32", warmup: int = 2, repeats: int = 3,
              pipeline: bool = True, trainer: bool = True) -> dict[str, Any]:
    """Measure one configuration; returns a JSON-ready dict.

    ``image_size`` and ``batch_size`` default to the recipe's benchmark settings
    (``bench_image_size``, ``bench_batch_size``), ``filters`` to the papers' 64. The trainer's
    step (unless ``trainer`` is False) and the tutorial-style baseline step run on separate
    copies of the same architecture and the same fixed batch, interleaved
    (:func:`course_utils.tools.perf.time_interleaved`). ``step_seconds_median`` is the trainer's when
    it was timed, else the baseline's (``step_seconds_of`` says which); ``ratio`` is trainer /
    baseline, the median of the ratios of side-by-side steps (:func:`paired_ratio`; None without
    the trainer). For CycleGAN, ``ratio_no_pool`` compares the trainer with ``pool_size=0``,
    which does exactly the baseline's work.
    """
    spec = registry.get(model)
    size = spec.bench.image_size if image_size is None else image_size
    batch = spec.bench.batch_size if batch_size is None else batch_size
    width = spec.bench.filters if filters is None else filters
    cfg = dataclasses.replace(spec.bench, image_size=size, filters=width, precision=precision)
    forward = dict(spec.forward_passes)
    trainer_passes = dict(spec.trainer_passes or forward)
    with train.precision(precision):
        keras.utils.set_random_seed(0)
        base_nets = spec.build_networks(cfg)
        macs = perf.network_macs(base_nets)
        flops = perf.step_flops(macs, forward, batch)
        step_fns: dict[str, Callable] = {}
        # The trainer, and its variants (CycleGAN without its image pool does exactly the baseline's work).
        for name, options in ({"trainer": {}, **spec.bench_variants} if trainer else {}).items():
            keras.utils.set_random_seed(0)
            step_fns[name] = trainer_step(model, spec.build_networks(cfg), precision, xla, **options)
        step_fns["baseline"] = baseline_step(model, base_nets, precision, xla)
        data = fixed_batch(model, size, batch)
        peak_memory(reset=True)
        timings = perf.time_interleaved(step_fns, data, steps, warmup, repeats)
        memory = peak_memory()

    measured = "trainer" if trainer else "baseline"
    median = timings[measured].median

    def ratio_to_baseline(name: str) -> float | None:
        return paired_ratio(timings[name], timings["baseline"]) if name in timings else None

    ratio = ratio_to_baseline("trainer")
    device = perf.gpu_name()
    peak = perf.peak_flops(precision, device, detect=False)
    measured_flops = perf.step_flops(macs, trainer_passes, batch) if trainer else flops
    achieved = measured_flops / median
    result: dict[str, Any] = {
        "model": model, "image_size": size, "batch_size": batch, "filters": width,
        "precision": precision, "xla": xla, "steps": steps, "warmup": warmup, "repeats": repeats,
        "step_seconds_median": median, "step_seconds_of": measured,
        "ratio": ratio,
        "ratio_of_medians": (timings["trainer"].median / timings["baseline"].median) if ratio is not None else None,
        "trainer": timings["trainer"].summary() if trainer else None,
        "trainer_missing_reason": None if trainer else "not requested (--no-trainer)",
        "baseline": timings["baseline"].summary(),
        "macs_per_image": macs,
        "forward_passes": trainer_passes if trainer else forward,
        "step_flops": measured_flops, "baseline_step_flops": flops,
        "gflops_per_second": achieved / 1e9,
        "baseline_gflops_per_second": flops / timings["baseline"].median / 1e9,
        "device": device or f"CPU ({os.cpu_count()} cores)", "peak_flops": peak,
        "fraction_of_peak": achieved / peak if peak else None,
        **memory,
        **{k: v for name in spec.bench_variants if name in timings
           for k, v in ((name, timings[name].summary()), ("ratio" + name.removeprefix("trainer"), ratio_to_baseline(name)))},
        "tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }
    if pipeline:
        # Models that read no image folders (the digits) time the pipeline at the papers' 256.
        result["pipeline"] = pipeline_images_per_second(size if spec.train_folders else 256)
        result["pipeline_images_per_second"] = result["pipeline"]["images_per_second"]
    return result


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def format_table(results: Iterable[Mapping[str, Any]]) -> str:
    """A readable table of :func:`run_bench` results (one row per run)."""
    head = ("model", "size", "batch", "precision", "xla", "trainer s", "baseline s", "ratio", "ratio no pool",
            "GFLOP/step", "GFLOP/s", "% peak", "trace s", "1st call s", "pipeline img/s")
    rows = [head]
    for r in results:
        t = r.get("trainer") or {}
        b = r["baseline"]
        frac = r.get("fraction_of_peak")
        rows.append((r["model"], str(r["image_size"]), str(r["batch_size"]), r["precision"],
                     "yes" if r["xla"] else "no", _fmt(t.get("step_seconds_median")), _fmt(b["step_seconds_median"]),
                     _fmt(r.get("ratio")), _fmt(r.get("ratio_no_pool")),
                     _fmt(r["step_flops"] / 1e9, 4), _fmt(r["gflops_per_second"]),
                     "-" if frac is None else f"{100 * frac:.2f}",
                     _fmt((t or b)["trace_seconds"]), _fmt((t or b)["first_call_seconds"]),
                     _fmt(r.get("pipeline_images_per_second"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = []
    for r in results:
        if r.get("trainer_missing_reason"):
            notes.append(f"{r['model']}: trainer not timed: {r['trainer_missing_reason']}")
        notes.append(f"{r['model']}: peak memory {r.get('peak_memory_bytes', 0) / 2**20:.0f} MiB "
                     f"[{r.get('memory_kind')}]; device {r['device']}")
    return "\n".join(lines + [""] + notes)

