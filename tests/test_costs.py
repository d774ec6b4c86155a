"""course_utils.tools.costs: each profile's steps and their estimated T4 time, printed by each lesson and `costs`."""

import pytest

from course_utils import config, costs


def test_lesson_runs_count_the_full_profiles_steps():
    assert [r.steps for r in costs.lesson_runs(config.DcganConfig.paper())] == [50 * 234]     # 60,000 // 256
    assert [r.steps for r in costs.lesson_runs(config.DcganConfig.smoke())] == [32 * 93]     # 3,000 // 32
    assert [r.steps for r in costs.lesson_runs(config.Pix2PixConfig.paper())] == [40_000]
    assert [r.steps for r in costs.lesson_runs(config.CycleGanConfig.paper())] == [200 * 1334]
    assert [r.steps for r in costs.lesson_runs(config.CycleGanConfig.smoke())] == [2 * 400]
    assert [r.steps for r in costs.lesson_runs(config.ColabTrainingConfig.paper())] == [2000, 13_340]
    assert [r.steps for r in costs.lesson_runs(config.CapstoneConfig.paper())] == [4000]
    with pytest.raises(TypeError, match="No training runs"):
        costs.lesson_runs(config.LessonConfig())


def test_small_steps_are_bound_by_the_assumed_overhead():
    # 64x64 pix2pix at batch 1: far below 10 ms of T4 compute, so 4,000 steps x 10 ms.
    assert costs.estimate_seconds(config.CapstoneConfig.paper()) == {"your model": pytest.approx(40.0)}


@pytest.mark.slow   # builds the 256x256 U-Net and PatchGAN to count them
def test_pix2pix_estimate_from_its_flop_count():
    # 74.7 GFLOP a step (docs/performance.md) x 40,000 steps / (8.1 TFLOP/s x 0.125) = 2,951 s.
    got = costs.estimate_seconds(config.Pix2PixConfig.paper())["Pix2Pix"]
    assert got == pytest.approx(2951, rel=0.01)
    mixed = costs.estimate_seconds(config.Pix2PixConfig.paper(), precision="mixed_float16")["Pix2Pix"]
    assert mixed == pytest.approx(got / 2)                # the assumed 2x of mixed precision
    with pytest.raises(ValueError, match="precision must be one of"):
        costs.estimate_seconds(config.Pix2PixConfig.paper(), precision="float16")


@pytest.mark.slow   # builds the papers' networks at 256 px
@pytest.mark.parametrize("published", costs.PUBLISHED_STEP_TIMES, ids=lambda p: f"{p.model}-{p.gpu}")
def test_the_assumed_share_of_the_peak_matches_published_step_times(published):
    # The estimate for the GPU someone published a step time on lands inside the published range.
    run = costs.TrainingRun("x", published.model, 1, published.image_size, 64, 1)
    low, high = published.seconds
    assert low <= costs.run_seconds(run, "float32", published.fp32_peak) <= high


@pytest.mark.slow   # builds every lesson's networks to count them
def test_the_learner_profile_fits_an_afternoon_on_a_t4():
    rows = costs.cost_table()
    assert {r["lesson"] for r in rows} == set(costs.LESSONS)
    defaults = [r for r in rows if r["default_on_gpu"]]
    assert defaults and all(r["profile"] == "learner" for r in defaults)
    for lesson in costs.LESSONS:
        runs = [r for r in defaults if r["lesson"] == lesson]
        assert all(r["minutes"] <= costs.LEARNER_RUN_MINUTES for r in runs), runs
        assert sum(r["minutes"] for r in runs) <= costs.LEARNER_LESSON_MINUTES, runs
    # The paper profile's CycleGAN is what the learner profile exists for: about 42 hours in float32.
    paper_03 = next(r for r in rows if r["lesson"] == "03" and r["profile"] == "paper")
    assert 40 * 60 < paper_03["minutes"] < 45 * 60 and paper_03["precision"] == "float32"
    learner_03 = next(r for r in defaults if r["lesson"] == "03")
    assert (learner_03["image_size"], learner_03["precision"]) == (128, "mixed_float16")
    assert learner_03["minutes"] == learner_03["minutes_mixed"] < learner_03["minutes_fp32"]


@pytest.mark.slow
def test_costs_command_prints_a_table_and_json(capsys):
    import json

    from course_utils import cli

    assert cli.main(["costs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    keys = {"lesson", "profile", "run", "steps", "image_size", "precision", "minutes", "minutes_fp32",
            "minutes_mixed", "default_on_gpu"}
    assert rows and all(set(r) == keys for r in rows)
    assert cli.main(["costs"]) == 0
    table = capsys.readouterr().out
    assert "learner*" in table and "mixed_float16" in table and "66.7" not in table


@pytest.mark.slow
def test_estimate_lines_name_this_runs_steps(monkeypatch):
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "learner")
    monkeypatch.setenv("COURSE_STEPS", "4")
    lines = costs.estimate_lines(config.Pix2PixConfig.current())
    assert lines[1] == "  learner Pix2Pix: 12,000 steps at 256x256 in float32, about 15 min"
    assert lines[2] == "  paper   Pix2Pix: 40,000 steps at 256x256 in float32, about 49 min"
    assert lines[-1] == "This run (learner-cut4 profile): Pix2Pix 4 steps."


def test_pace_reports_after_its_first_steps(capsys, monkeypatch):
    clock = iter([100.0, 120.0])                 # read after step 1 and after step 11: 2 s a step
    monkeypatch.setattr("time.perf_counter", lambda: next(clock))
    pace = costs.Pace(total_steps=1000, budget_minutes=20, after=10, always=True, name="Pix2Pix")
    for _ in range(20):
        pace.step()
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["Pix2Pix: 2000 ms a step over steps 2-11; 989 steps left, about 33.0 min more (33.3 min in all). "
                   "WARNING: over this lesson's budget of 20 min: check the runtime has a GPU (section 1), "
                   "or shorten the run (fewer steps)."]
    quiet = costs.Pace(total_steps=1000, always=False)
    monkeypatch.setattr(quiet, "active", False)
    quiet.step()
    assert quiet.report is None
    with pytest.raises(ValueError, match="step counts"):
        costs.Pace(total_steps=0)
