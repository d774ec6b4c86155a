"""course_utils.tools.bench: the baseline and trainer steps it times, its results, its table.

Tiny networks (32x32, 4 filters) so that every test runs in seconds. The assertions are on
structure and exact values (FLOP counts, step counts, ratios of given times), never on how
fast this machine is: ``make bench`` measures that.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from course_utils import bench, perf, registry, train

TINY = dict(image_size=32, filters=4, steps=2, repeats=2, warmup=1, pipeline=False)


def networks(model: str, image_size: int, filters: int, **changes):
    """The networks of ``model``'s benchmark settings at ``image_size`` and ``filters`` (and ``changes``)."""
    spec = registry.get(model)
    return spec.build_networks(dataclasses.replace(spec.bench, image_size=image_size, filters=filters, **changes))


# ---------------------------------------------------------------------------
# The pieces: batch, steps, ratio, memory
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("model, shapes", [("gan", [(3, 28, 28, 1)]), ("pix2pix", [(3, 256, 256, 3)] * 2),
                                           ("cyclegan", [(3, 128, 128, 3)] * 2)])
def test_fixed_batch_has_the_benchmark_size_and_the_image_range(model, shapes):
    batch = bench.fixed_batch(model, None, 3)          # None: the recipe's benchmark image size
    assert [tuple(t.shape) for t in batch] == shapes
    assert all(float(tf.reduce_min(t)) >= -1 and float(tf.reduce_max(t)) <= 1 for t in batch)
    again = bench.fixed_batch(model, None, 3)
    assert all(bool(tf.reduce_all(a == b)) for a, b in zip(batch, again))      # seeded: the same batch


def test_paired_ratio_is_the_median_of_side_by_side_ratios():
    ours = perf.StepTiming(steps=[2.0, 3.0, 10.0])
    base = perf.StepTiming(steps=[1.0, 2.0, 2.0])
    assert bench.paired_ratio(ours, base) == 2.0           # ratios 2, 1.5, 5
    with pytest.raises(ValueError, match="same time_interleaved call"):
        bench.paired_ratio(ours, perf.StepTiming(steps=[1.0]))


def test_baseline_and_trainer_steps_do_not_retrace():
    nets = networks("pix2pix", 32, 4)
    steps = {"baseline": bench.baseline_step("pix2pix", nets),
             "trainer": bench.trainer_step("pix2pix", networks("pix2pix", 32, 4))}
    timings = perf.time_interleaved(steps, bench.fixed_batch("pix2pix", 32, 2), n_steps=3, warmup=1, repeats=2)
    for name, timing in timings.items():
        assert timing.tracing_count == timing.traces_first_call == 1, name
        assert timing.summary()["retraces"] == 0
    assert type(steps["trainer"].trainer) is train.Pix2Pix
    with pytest.raises(ValueError, match="Unknown model 'vae'"):
        bench.baseline_step("vae", nets)


@pytest.mark.parametrize("model", ["gan", "pix2pix", pytest.param("cyclegan", marks=pytest.mark.slow)])
def test_baseline_is_the_explicit_step_of_train_and_trains_under_mixed_float16(model):
    """The baseline returns the explicit step's losses and moves every network, loss-scaled.

    Several steps: dynamic loss scaling skips a step whose scaled gradients overflow float16 (and
    halves the scale). A fresh CycleGAN's generators overflow the initial 2**15 for their first
    three steps (measured under Colab's Keras 3.13), so their weights first move at step four.
    """
    size = 28 if model == "gan" else 16
    with train.precision("mixed_float16"):
        # One residual block: the step's code is the same, its graph (and compile time) a sixth.
        nets = networks(model, size, 4, **({"n_blocks": 1} if model == "cyclegan" else {}))
        step = bench.baseline_step(model, nets, precision="mixed_float16")
        before = {k: [w.copy() for w in n.get_weights()] for k, n in nets.items()}
        for _ in range(8):
            losses = step(bench.fixed_batch(model, size, 2))
    explicit_keys = {"gan": {"d_loss", "g_loss"}, "pix2pix": {"d_loss", "g_loss", "g_adv", "g_l1"},
                     "cyclegan": {"g_loss", "f_loss", "dx_loss", "dy_loss", "g_adv", "f_adv", "cycle", "identity"}}
    assert set(losses) == explicit_keys[model]
    assert all(np.isfinite(float(v)) for v in losses.values())
    for key, net in nets.items():
        moved = max(float(np.max(np.abs(a - b))) for a, b in zip(before[key], net.get_weights()))
        assert moved > 0, f"{key} did not move"


def test_peak_memory_on_a_cpu_is_the_process_rss(monkeypatch):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    assert bench.peak_memory(reset=True) == {}
    mem = bench.peak_memory()
    assert mem["memory_kind"].startswith("CPU: process peak RSS")
    assert mem["peak_memory_bytes"] > 2**20                   # TensorFlow alone is far more than 1 MiB


def test_peak_memory_on_a_gpu_is_the_allocators_peak(monkeypatch):
    resets = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["GPU:0"])
    monkeypatch.setattr(tf.config.experimental, "reset_memory_stats", resets.append)
    monkeypatch.setattr(tf.config.experimental, "get_memory_info", lambda device: {"current": 5, "peak": 1234})
    assert bench.peak_memory(reset=True) == {} and resets == ["GPU:0"]
    assert bench.peak_memory() == {"peak_memory_bytes": 1234, "memory_kind": "GPU:0 allocator peak"}


def test_pipeline_images_per_second_measures_the_course_pipeline():
    result = bench.pipeline_images_per_second(image_size=32, n_batches=20, repeats=2)
    assert result["images_per_second"] > 0 and len(result["runs"]) == 2
    assert result["source"].startswith("course_utils.core.data.pipeline_throughput")


# ---------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["pix2pix", pytest.param("cyclegan", marks=pytest.mark.slow), "gan"])
def test_run_bench_times_the_trainer_against_the_baseline(model, monkeypatch):
    if model == "cyclegan":   # one residual block: the same code paths, a sixth of the graph to compile
        spec = registry.get("cyclegan")
        monkeypatch.setitem(registry._SPECS, "cyclegan",
                            dataclasses.replace(spec, bench=dataclasses.replace(spec.bench, n_blocks=1)))
    options = {**TINY, "batch_size": 4} if model == "gan" else TINY
    if model == "gan":
        options = {k: v for k, v in options.items() if k != "image_size"}
    result = bench.run_bench(model, **options)
    assert result["step_seconds_of"] == "trainer" and result["step_seconds_median"] == \
        result["trainer"]["step_seconds_median"]
    assert result["trainer"]["timed_steps"] == result["baseline"]["timed_steps"] == 2 * 2
    assert result["trainer"]["retraces"] == result["baseline"]["retraces"] == 0
    assert isinstance(result["ratio"], float) and result["ratio"] > 0
    assert result["batch_size"] == (4 if model == "gan" else registry.get(model).bench.batch_size)
    assert result["filters"] == 4 and "pipeline" not in result
    # The FLOPs are the counted ones, exactly: the trainer's CycleGAN also scores the pooled fakes.
    macs = perf.network_macs(networks(model, result["image_size"], 4, **({"n_blocks": 1} if model == "cyclegan"
                                                                          else {})))
    assert result["macs_per_image"] == macs
    passes = registry.get("cyclegan").trainer_passes if model == "cyclegan" else registry.get(model).forward_passes
    assert result["forward_passes"] == passes
    assert result["step_flops"] == perf.step_flops(macs, passes, result["batch_size"])
    assert result["baseline_step_flops"] == perf.step_flops(macs, registry.get(model).forward_passes, result["batch_size"])
    assert result["gflops_per_second"] == pytest.approx(result["step_flops"] / result["step_seconds_median"] / 1e9)
    assert ("ratio_no_pool" in result) == (model == "cyclegan")


def test_run_bench_without_the_trainer_times_the_baseline_and_restores_the_policy():
    import keras

    before = keras.mixed_precision.global_policy().name
    result = bench.run_bench("pix2pix", trainer=False, precision="mixed_bfloat16", **TINY)
    assert keras.mixed_precision.global_policy().name == before
    assert result["trainer"] is None and result["ratio"] is None and result["step_seconds_of"] == "baseline"
    assert result["trainer_missing_reason"] == "not requested (--no-trainer)"
    assert result["step_flops"] == result["baseline_step_flops"] and result["precision"] == "mixed_bfloat16"
    with pytest.raises(ValueError, match="Unknown model 'vae'"):
        bench.run_bench("vae")
    with pytest.raises(ValueError, match="precision must be one of"):
        bench.run_bench("pix2pix", precision="float16", **TINY)
    assert keras.mixed_precision.global_policy().name == before


def _result(model, trainer_s, baseline_s, **extra):
    timing = lambda s: {"step_seconds_median": s, "trace_seconds": 0.5, "first_call_seconds": 1.25}  # noqa: E731
    return {"model": model, "image_size": 32, "batch_size": 1, "precision": "float32", "xla": False,
            "trainer": timing(trainer_s) if trainer_s else None, "baseline": timing(baseline_s),
            "ratio": trainer_s / baseline_s if trainer_s else None, "step_flops": 2.5e9,
            "gflops_per_second": 12.5, "fraction_of_peak": None, "peak_memory_bytes": 300 * 2**20,
            "memory_kind": "CPU", "device": "CPU (2 cores)", **extra}


def test_format_table_has_one_row_per_run_and_notes():
    text = bench.format_table([_result("pix2pix", 0.2, 0.1),
                               _result("cyclegan", None, 0.4, trainer_missing_reason="not requested (--no-trainer)",
                                       fraction_of_peak=0.0123)])
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["model", "size", "batch"] and set(lines[1]) == {"-", " "}
    assert lines[2].split()[:8] == ["pix2pix", "32", "1", "float32", "no", "0.2", "0.1", "2"]
    assert lines[3].split()[:8] == ["cyclegan", "32", "1", "float32", "no", "-", "0.4", "-"]
    assert "1.23" in lines[3].split()                      # 1.23 % of the peak
    assert "cyclegan: trainer not timed: not requested (--no-trainer)" in text
    assert "pix2pix: peak memory 300 MiB [CPU]; device CPU (2 cores)" in text
