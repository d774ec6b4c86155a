"""course_utils.costs: the full profile's steps and its estimated T4 time, printed by each lesson."""

import pytest

from course_utils import config, costs


def test_lesson_runs_count_the_full_profiles_steps():
    assert [r.steps for r in costs.lesson_runs(config.GanBasicsConfig.full())] == [50 * 234]     # 60,000 // 256
    assert [r.steps for r in costs.lesson_runs(config.GanBasicsConfig.smoke())] == [32 * 93]     # 3,000 // 32
    assert [r.steps for r in costs.lesson_runs(config.Pix2PixConfig.full())] == [40_000]
    assert [r.steps for r in costs.lesson_runs(config.CycleGanConfig.full())] == [200 * 1334]
    assert [r.steps for r in costs.lesson_runs(config.CycleGanConfig.smoke())] == [2 * 400]
    assert [r.steps for r in costs.lesson_runs(config.ColabTrainingConfig.full())] == [2000, 13_340]
    assert [r.steps for r in costs.lesson_runs(config.CapstoneConfig.full())] == [4000]
    with pytest.raises(TypeError, match="No training runs"):
        costs.lesson_runs(config.LessonConfig())


def test_small_steps_are_bound_by_the_assumed_overhead():
    # 64x64 pix2pix at batch 1: far below 10 ms of T4 compute, so 4,000 steps x 10 ms.
    assert costs.estimate_seconds(config.CapstoneConfig.full()) == {"your model": pytest.approx(40.0)}


@pytest.mark.slow   # builds the 256x256 U-Net and PatchGAN to count them
def test_pix2pix_estimate_from_its_flop_count():
    # 74.7 GFLOP a step (docs/performance.md) x 40,000 steps / (8.1 TFLOP/s x 0.4) = 922 s.
    got = costs.estimate_seconds(config.Pix2PixConfig.full())["Pix2Pix"]
    assert got == pytest.approx(922, rel=0.01)
    fp16 = costs.estimate_seconds(config.Pix2PixConfig.full(), precision="mixed_float16")["Pix2Pix"]
    assert fp16 == pytest.approx(40_000 * 0.01)          # 1.15 ms of FLOPs < the 10 ms floor
    with pytest.raises(ValueError, match="utilisation"):
        costs.estimate_seconds(config.Pix2PixConfig.full(), utilisation=0)
    with pytest.raises(ValueError, match="No mixed_bfloat16 peak"):
        costs.estimate_seconds(config.Pix2PixConfig.full(), precision="mixed_bfloat16")   # a T4 has none


@pytest.mark.slow
def test_estimate_lines_name_this_runs_steps(monkeypatch):
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    monkeypatch.setenv("COURSE_STEPS", "4")
    lines = costs.estimate_lines(config.Pix2PixConfig.current())
    assert lines[1].startswith("  Pix2Pix: 40,000 steps at 256x256, about 15 min in float32, 7 min with mixed precision")
    assert lines[-1] == "This run (full-cut4 profile): Pix2Pix 4 steps."
    monkeypatch.delenv("COURSE_STEPS")
    assert len(costs.estimate_lines(config.Pix2PixConfig.current())) == 2      # the full run: no second line
