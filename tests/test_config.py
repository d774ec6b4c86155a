"""The three profiles (config.profile_name) and COURSE_STEPS: a profile cut to a few steps (config.with_course_steps)."""

import dataclasses

import pytest

from course_utils import config, model_config


LESSONS = (config.DcganConfig, config.Pix2PixConfig, config.CycleGanConfig, config.ColabTrainingConfig,
           config.CapstoneConfig)


@pytest.fixture
def cut(monkeypatch):
    """COURSE_STEPS=20 in the paper profile."""
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "paper")
    monkeypatch.setenv("COURSE_STEPS", "20")


def test_profile_name_follows_the_variables(monkeypatch):
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    for name in config.PROFILES:
        monkeypatch.setenv("COURSE_PROFILE", f" {name.upper()} ")
        assert config.profile_name() == name
    monkeypatch.setenv("COURSE_PROFILE", "full")
    with pytest.raises(ValueError, match="learner, paper, smoke"):
        config.profile_name()
    monkeypatch.setenv("COURSE_PROFILE", "paper")
    monkeypatch.setenv("COURSE_SMOKE", "1")
    with pytest.raises(ValueError, match="disagree"):
        config.profile_name()
    monkeypatch.delenv("COURSE_PROFILE")
    assert config.profile_name() == "smoke" and config.is_smoke()     # the alias
    monkeypatch.setenv("COURSE_SMOKE", "0")
    assert config.profile_name() == "learner"


def test_default_profile_is_learner_on_a_gpu_and_smoke_without(monkeypatch):
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setattr(model_config, "gpu_visible", lambda: True)
    assert config.profile_name() == "learner" and config.Pix2PixConfig.current() == config.Pix2PixConfig.learner()
    monkeypatch.setattr(model_config, "gpu_visible", lambda: False)
    assert config.profile_name() == "smoke" and config.Pix2PixConfig.current() == config.Pix2PixConfig.smoke()


@pytest.mark.parametrize("cls", LESSONS)
def test_the_learner_profile_keeps_the_papers_networks_and_losses(cls):
    paper, learner = cls.paper(), cls.learner()
    assert (paper.profile, learner.profile) == ("paper", "learner")
    allowed = {"profile", "steps", "epochs", "decay_epochs", "image_size", "precision", "payoff_steps"}
    changed = {f.name for f in dataclasses.fields(cls) if getattr(paper, f.name) != getattr(learner, f.name)}
    assert changed <= allowed, changed - allowed
    for name in ("filters", "learning_rate", "l1_weight", "cycle_weight", "identity_weight", "loss_form",
                 "pool_size", "batch_size", "n_blocks", "upsample", "dataset"):
        assert getattr(paper, name, None) == getattr(learner, name, None), name
    assert cls.of("learner") == learner and cls.of("smoke") == cls.smoke()
    with pytest.raises(ValueError, match="not a profile"):
        cls.of("full")


def test_course_steps_reads_the_variable(monkeypatch):
    monkeypatch.delenv("COURSE_STEPS", raising=False)
    assert config.course_steps() is None and not config.is_cut()
    monkeypatch.setenv("COURSE_STEPS", " 7 ")
    assert config.course_steps() == 7
    for bad in ("0", "-3", "two", "2.5"):
        monkeypatch.setenv("COURSE_STEPS", bad)
        with pytest.raises(ValueError, match="COURSE_STEPS must be a whole number"):
            config.course_steps()


def test_smoke_profile_ignores_course_steps(monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setenv("COURSE_STEPS", "3")
    assert config.Pix2PixConfig.current() == config.Pix2PixConfig.smoke()
    assert not config.is_cut() and config.cut_steps(300) == 300


def test_profiles_uncut_without_the_variable(monkeypatch):
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    monkeypatch.delenv("COURSE_STEPS", raising=False)
    for profile in ("learner", "paper"):
        monkeypatch.setenv("COURSE_PROFILE", profile)
        for cls in LESSONS:
            assert cls.current() == cls.of(profile)


def test_cut_values_per_lesson(cut):
    # Hand-computed for COURSE_STEPS=20.
    gan = config.DcganConfig.current()
    assert (gan.epochs, gan.steps_per_epoch, gan.ring_steps) == (10, 2, 20)
    assert (gan.judge_epochs, gan.judge_steps_per_epoch) == (8, 2)          # 16 steps <= 20
    p2p = config.Pix2PixConfig.current()
    assert (p2p.steps, p2p.sample_every) == (20, 10)
    cyc = config.CycleGanConfig.current()
    assert (cyc.epochs, cyc.decay_epochs, cyc.steps_per_epoch) == (10, 5, 2)   # the 100 + 100 split kept
    assert (cyc.checkpoint_every, cyc.sample_every) == (10, 10)
    colab = config.ColabTrainingConfig.current()
    assert (colab.steps, colab.checkpoint_every, colab.bench_steps) == (20, 10, 6)   # 3 timed rounds of 6
    assert (colab.payoff_steps, colab.payoff_checkpoint_every, colab.payoff_sample_every) == (20, 10, 10)
    cap = config.CapstoneConfig.current()
    assert (cap.steps, cap.checkpoint_every) == (20, 10)


@pytest.mark.parametrize("cls", [config.DcganConfig, config.Pix2PixConfig, config.CycleGanConfig,
                                 config.ColabTrainingConfig, config.CapstoneConfig])
def test_cut_changes_only_step_counts(cut, cls):
    full, cutted = cls.paper(), cls.current()
    changed = {f.name for f in dataclasses.fields(cls) if getattr(full, f.name) != getattr(cutted, f.name)}
    counts = {"epochs", "steps_per_epoch", "decay_epochs", "ring_steps", "judge_epochs", "judge_steps_per_epoch",
              "steps", "sample_every", "checkpoint_every", "bench_steps", "payoff_steps",
              "payoff_checkpoint_every", "payoff_sample_every"}
    assert changed - {"profile"} and changed <= counts | {"profile"}, changed - counts
    assert not cutted.is_smoke


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 20, 1000])
def test_cut_epochs_stays_within_the_limit(limit):
    got = config.cut_epochs(200, None, limit, decay_epochs=100)
    assert got["epochs"] * got["steps_per_epoch"] <= max(limit, 1)
    assert 1 <= got["decay_epochs"] <= got["epochs"]
    if got["epochs"] > 1:
        assert got["decay_epochs"] < got["epochs"]      # a constant part is left


def test_cut_epochs_hand_values():
    assert config.cut_epochs(200, None, 4, decay_epochs=100) == {"epochs": 2, "steps_per_epoch": 2, "decay_epochs": 1}
    assert config.cut_epochs(200, None, 1000, decay_epochs=100) == {"epochs": 200, "steps_per_epoch": 5,
                                                                    "decay_epochs": 100}
    assert config.cut_epochs(50, 3, 100) == {"epochs": 50, "steps_per_epoch": 2}
    assert config.cut_epochs(8, 1, 100) == {"epochs": 8, "steps_per_epoch": 1}    # never more than given


def test_cut_interval():
    assert config.cut_interval(1000, 20) == 10
    assert config.cut_interval(3, 20) == 3          # never grows
    assert config.cut_interval(1000, 1) == 1


def test_cut_lab_scale(cut):
    @dataclasses.dataclass(frozen=True)
    class Scale:
        image_size: int = 32
        steps: int = 400

    assert config.cut_lab_scale(Scale()) == Scale(steps=20)
    assert config.cut_lab_scale({"image_size": 32, "steps": 300}) == {"image_size": 32, "steps": 20}
    assert config.cut_lab_scale({"steps": 5}) == {"steps": 5}
    with pytest.raises(TypeError, match="dataclass or dict"):
        config.cut_lab_scale(300)


def test_expect_quality_prints_in_a_cut_run(cut, capsys):
    assert config.expect_quality(True, "never shown") is True
    assert config.expect_quality(False, "G beats the mean image") is False
    out = capsys.readouterr().out
    assert "COURSE_STEPS=20" in out and "G beats the mean image" in out and "never shown" not in out


def test_expect_quality_raises_otherwise(monkeypatch):
    monkeypatch.delenv("COURSE_STEPS", raising=False)
    with pytest.raises(AssertionError, match="G beats the mean image"):
        config.expect_quality(False, "G beats the mean image")
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setenv("COURSE_STEPS", "4")          # ignored by the smoke profile: still an assertion
    with pytest.raises(AssertionError):
        config.expect_quality(False, "smoke")


def test_download_cache_follows_keras_home(monkeypatch, tmp_path):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert config.download_cache() == tmp_path / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    assert str(config.download_cache()).endswith(".keras/datasets")
    monkeypatch.setenv("COLAB_RELEASE_TAG", "x")
    assert str(config.download_cache()) == "/content/datasets"


def test_a_cut_run_is_named_apart_and_starts_fresh(cut, monkeypatch):
    # Lessons name run folders after cfg.profile, and lesson 04's names nothing else that a cut
    # changes: a cut run must not leave a checkpoint that a real full run would resume from.
    cut_cfg = config.ColabTrainingConfig.current()
    assert cut_cfg.profile == "paper-cut20" and cut_cfg.starts_fresh and not cut_cfg.is_smoke
    assert config.ColabTrainingConfig.smoke().starts_fresh
    monkeypatch.setenv("COURSE_PROFILE", "learner")
    assert config.ColabTrainingConfig.current().profile == "learner-cut20"
    monkeypatch.delenv("COURSE_STEPS")
    for profile in ("learner", "paper"):
        monkeypatch.setenv("COURSE_PROFILE", profile)
        full = config.ColabTrainingConfig.current()
        assert full.profile == profile and not full.starts_fresh


def test_lesson_04_bench_rounds_stay_within_the_cut(monkeypatch):
    # check-full measured lesson 04's benchmark at 256x256: 3 variants x (1 + 3 rounds x 4 steps)
    # of a CycleGAN step that takes minutes on a CPU. The rounds together now stay within the cut.
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "paper")
    monkeypatch.setenv("COURSE_STEPS", "4")
    assert config.ColabTrainingConfig.current().bench_steps == 1
