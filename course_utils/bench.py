r"""The instructor's benchmark: how fast this machine trains the course's models, and at what cost.

``python -m course_utils bench`` (and ``make bench``) is its command; its options are in
:mod:`course_utils.cli`. One run (:func:`run_bench`):

1. builds the papers' networks of a model (:func:`course_utils.recipes.build_networks`) twice, one
   copy for the course's trainer and one for a plain baseline, and counts their work with
   :mod:`course_utils.perf` (MACs per image, FLOPs per step);
2. times the trainer's ``train_step`` (:func:`trainer_step`) next to a training step written the way
   the TensorFlow tutorials write it (:func:`baseline_step`), on one fixed batch
   (:func:`fixed_batch`), interleaved step by step (:func:`course_utils.perf.time_interleaved`);
3. reports medians, the paired ratio trainer / baseline (:func:`paired_ratio`), the FLOP/s achieved
   and their fraction of the GPU's published peak, the peak memory (:func:`peak_memory`) and the
   input pipeline's images per second (:func:`pipeline_images_per_second`).

:data:`STANDARD_RUNS` is the set ``make bench`` runs; :func:`format_table` prints results.
docs/performance.md reports what it measured.
"""

from __future__ import annotations

import datetime
import os
import platform
import resource
import statistics
import sys
from typing import Any, Callable, Iterable, Mapping

import keras
import tensorflow as tf

from course_utils import perf, recipes, train


# ===========================================================================
# 1. The plain baseline: training steps written the way the TF tutorials write them
# ===========================================================================
def _adam(model: str, precision: str, network: Any) -> Any:
    """The recipe's Adam of ``model`` (the trainer's), wrapped for loss scaling under mixed_float16.

    Its slot variables are built here, before tracing: a ``tf.function`` that creates
    variables on its first call traces twice, which would blur the tracing time.
    """
    r = recipes.recipe(model)
    opt = keras.optimizers.Adam(r.learning_rate, beta_1=r.beta_1)
    if precision == "mixed_float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(network.trainable_variables)
    return opt


def _scaled(opt: Any, loss: Any) -> Any:
    """The loss times the loss scale under mixed_float16 (call it inside the tape), else the loss."""
    return opt.scale_loss(loss) if hasattr(opt, "scale_loss") else loss


def baseline_step(model: str, networks: Mapping[str, Any], precision: str = "float32",
                  jit_compile: bool = False) -> Callable[[tuple], dict]:
    """A ``tf.function`` training step for ``model`` as the TensorFlow tutorials write it.

    Two gradient tapes (one persistent tape for CycleGAN, as its tutorial does),
    ``tape.gradient`` and ``optimizer.apply_gradients``; the losses are the papers'
    (BCE for GAN and Pix2Pix with lambda=100 L1, LSGAN with cycle 10 and identity 5 for
    CycleGAN), written with plain ``tf`` ops. One departure from the tutorials: the
    optimizers' variables are built before the first call (see :func:`_adam`). The step takes one batch tuple:
    ``(real_images,)`` for ``gan``, ``(input, target)`` for ``pix2pix``, ``(x, y)`` for ``cyclegan``,
    and returns a dict of scalar losses.
    """
    def bce(labels_value: float, logits: Any) -> Any:
        logits = tf.cast(logits, tf.float32)
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.fill(tf.shape(logits), labels_value), logits=logits))

    def mae(a: Any, b: Any) -> Any:
        return tf.reduce_mean(tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))

    def mse_to(value: float, logits: Any) -> Any:
        return tf.reduce_mean(tf.square(tf.cast(logits, tf.float32) - value))

    if model == "gan":
        generator, discriminator = networks["generator"], networks["discriminator"]
        latent_dim = int(generator.inputs[0].shape[-1])
        g_opt, d_opt = _adam(model, precision, generator), _adam(model, precision, discriminator)

        @tf.function(jit_compile=jit_compile)
        def gan_step(batch: tuple) -> dict:
            (images,) = batch
            noise = tf.random.normal([tf.shape(images)[0], latent_dim])
            with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
                generated = generator(noise, training=True)
                real_output = discriminator(images, training=True)
                fake_output = discriminator(generated, training=True)
                gen_loss = bce(1.0, fake_output)
                disc_loss = bce(1.0, real_output) + bce(0.0, fake_output)
                scaled_g, scaled_d = _scaled(g_opt, gen_loss), _scaled(d_opt, disc_loss)
            g_grads = gen_tape.gradient(scaled_g, generator.trainable_variables)
            d_grads = disc_tape.gradient(scaled_d, discriminator.trainable_variables)
            g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
            d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
            return {"g_loss": gen_loss, "d_loss": disc_loss}

        return gan_step

    if model == "pix2pix":
        generator, discriminator = networks["generator"], networks["discriminator"]
        g_opt, d_opt = _adam(model, precision, generator), _adam(model, precision, discriminator)

        @tf.function(jit_compile=jit_compile)
        def pix2pix_step(batch: tuple) -> dict:
            input_image, target = batch
            with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
                gen_output = generator(input_image, training=True)
                disc_real_output = discriminator([input_image, target], training=True)
                disc_generated_output = discriminator([input_image, gen_output], training=True)
                gen_total_loss = bce(1.0, disc_generated_output) + 100.0 * mae(target, gen_output)
                disc_loss = 0.5 * (bce(1.0, disc_real_output) + bce(0.0, disc_generated_output))
                scaled_g, scaled_d = _scaled(g_opt, gen_total_loss), _scaled(d_opt, disc_loss)
            g_grads = gen_tape.gradient(scaled_g, generator.trainable_variables)
            d_grads = disc_tape.gradient(scaled_d, discriminator.trainable_variables)
            g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
            d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
            return {"g_loss": gen_total_loss, "d_loss": disc_loss}

        return pix2pix_step

    if model == "cyclegan":
        gen_g, gen_f = networks["generator_g"], networks["generator_f"]
        disc_x, disc_y = networks["discriminator_x"], networks["discriminator_y"]
        opts = {name: _adam(model, precision, net) for name, net in
                (("g", gen_g), ("f", gen_f), ("dx", disc_x), ("dy", disc_y))}

        @tf.function(jit_compile=jit_compile)
        def cyclegan_step(batch: tuple) -> dict:
            real_x, real_y = batch
            with tf.GradientTape(persistent=True) as tape:
                fake_y = gen_g(real_x, training=True)
                cycled_x = gen_f(fake_y, training=True)
                fake_x = gen_f(real_y, training=True)
                cycled_y = gen_g(fake_x, training=True)
                same_x = gen_f(real_x, training=True)
                same_y = gen_g(real_y, training=True)
                disc_real_x = disc_x(real_x, training=True)
                disc_real_y = disc_y(real_y, training=True)
                disc_fake_x = disc_x(fake_x, training=True)
                disc_fake_y = disc_y(fake_y, training=True)
                cycle = 10.0 * (mae(real_x, cycled_x) + mae(real_y, cycled_y))
                g_loss = mse_to(1.0, disc_fake_y) + cycle + 5.0 * mae(real_y, same_y)
                f_loss = mse_to(1.0, disc_fake_x) + cycle + 5.0 * mae(real_x, same_x)
                dx_loss = 0.5 * (mse_to(1.0, disc_real_x) + mse_to(0.0, disc_fake_x))
                dy_loss = 0.5 * (mse_to(1.0, disc_real_y) + mse_to(0.0, disc_fake_y))
                scaled = {key: _scaled(opts[key], loss) for key, loss in
                          (("g", g_loss), ("f", f_loss), ("dx", dx_loss), ("dy", dy_loss))}
            for key, net in (("g", gen_g), ("f", gen_f), ("dx", disc_x), ("dy", disc_y)):
                grads = tape.gradient(scaled[key], net.trainable_variables)
                opts[key].apply_gradients(zip(grads, net.trainable_variables))
            return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss}

        return cyclegan_step

    raise ValueError(f"model must be one of {recipes.MODELS}, got {model!r}.")


def fixed_batch(model: str, image_size: int | None, batch_size: int, seed: int = 0) -> tuple:
    """A fixed batch in [-1, 1] with a static shape, as the step of ``model`` takes it
    (``image_size`` None: the benchmark's default size of ``model``)."""
    size = recipes.recipe(model).bench_image_size if image_size is None else image_size
    channels = 1 if model == "gan" else 3
    shape = (batch_size, size, size, channels)
    rng = tf.random.Generator.from_seed(seed)
    images = [rng.uniform(shape, -1.0, 1.0) for _ in range(1 if model == "gan" else 2)]
    return tuple(images)


# ===========================================================================
# 2. The course's trainer, timed through the same kind of tf.function
# ===========================================================================
def trainer_step(model: str, networks: Mapping[str, Any], precision: str = "float32",
                 jit_compile: bool = False, **trainer_options: Any) -> Callable[[tuple], Any]:
    """The course trainer's ``train_step`` wrapped in a ``tf.function``.

    The trainer is the recipe's (:func:`course_utils.recipes.build_trainer`: the papers' optimizers
    at a constant learning rate, CycleGAN with its 50-image pool); ``trainer_options`` go to its
    constructor (e.g. ``pool_size=0`` for CycleGAN). It is compiled with ``jit_compile`` and its
    ``train_step`` wrapped in ``tf.function(jit_compile=...)``, the same wrapping the baseline gets.
    ``precision`` is the policy ``networks`` were built under (the trainer reads it from them).
    """
    trainer = recipes.build_trainer(model, networks, jit_compile=jit_compile, **trainer_options)
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
    """The input pipeline's speed, measured by ``course_utils.data.pipeline_throughput``
    (decode + jitter of facades-like 256x512 JPEG pairs, no cache)."""
    from course_utils.data import pipeline_throughput

    result = dict(pipeline_throughput(image_size=image_size, jitter=True, n_batches=n_batches, repeats=repeats))
    result.setdefault("source", "course_utils.data.pipeline_throughput")
    result["source"] = f"course_utils.data.pipeline_throughput ({result['source']})"
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


def run_bench(model: str = "pix2pix", image_size: int | None = None, steps: int = 5,
              batch_size: int | None = None, filters: int | None = None, xla: bool = False,
              precision: str = "float32", warmup: int = 2, repeats: int = 3,
              pipeline: bool = True, trainer: bool = True) -> dict[str, Any]:
    """Measure one configuration; returns a JSON-ready dict.

    ``image_size`` and ``batch_size`` default to the recipe's benchmark settings
    (``bench_image_size``, ``bench_batch_size``), ``filters`` to the papers' 64. The trainer's
    step (unless ``trainer`` is False) and the tutorial-style baseline step run on separate
    copies of the same architecture and the same fixed batch, interleaved
    (:func:`course_utils.perf.time_interleaved`). ``step_seconds_median`` is the trainer's when
    it was timed, else the baseline's (``step_seconds_of`` says which); ``ratio`` is trainer /
    baseline, the median of the ratios of side-by-side steps (:func:`paired_ratio`; None without
    the trainer). For CycleGAN, ``ratio_no_pool`` compares the trainer with ``pool_size=0``,
    which does exactly the baseline's work.
    """
    r = recipes.recipe(model)
    size = r.bench_image_size if image_size is None else image_size
    batch = r.bench_batch_size if batch_size is None else batch_size
    width = r.filters if filters is None else filters
    with train.precision(precision):
        keras.utils.set_random_seed(0)
        base_nets = recipes.build_networks(model, size, width)
        macs = perf.network_macs(base_nets)
        flops = perf.step_flops(macs, perf.FORWARD_PASSES[model], batch)
        trainer_passes = perf.CYCLEGAN_POOL_PASSES if model == "cyclegan" else perf.FORWARD_PASSES[model]
        step_fns: dict[str, Callable] = {}
        if trainer:
            keras.utils.set_random_seed(0)
            step_fns["trainer"] = trainer_step(model, recipes.build_networks(model, size, width), precision, xla)
            if model == "cyclegan":
                # The same trainer without the image pool does exactly the baseline's work.
                keras.utils.set_random_seed(0)
                step_fns["trainer_no_pool"] = trainer_step(model, recipes.build_networks(model, size, width),
                                                           precision, xla, pool_size=0)
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
        "forward_passes": trainer_passes if trainer else perf.FORWARD_PASSES[model],
        "step_flops": measured_flops, "baseline_step_flops": flops,
        "gflops_per_second": achieved / 1e9,
        "baseline_gflops_per_second": flops / timings["baseline"].median / 1e9,
        "device": device or f"CPU ({os.cpu_count()} cores)", "peak_flops": peak,
        "fraction_of_peak": achieved / peak if peak else None,
        **memory,
        **({"trainer_no_pool": timings["trainer_no_pool"].summary(),
            "ratio_no_pool": ratio_to_baseline("trainer_no_pool")} if "trainer_no_pool" in timings else {}),
        "tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }
    if pipeline:
        result["pipeline"] = pipeline_images_per_second(256 if model == "gan" else size)
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

