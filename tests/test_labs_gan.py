"""Lesson 01's lab: the saturating loss, the lab's step in both orders, the longer run's file."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import checkers, config, losses, models, ring, train
from course_utils.labs import gan


def test_the_saturating_loss_is_the_minimax_term_and_stays_finite():
    logits = np.array([[-200.0], [-6.0], [0.0], [3.0], [200.0]], np.float32)
    got = float(gan.saturating_generator_loss(logits))
    # log(1 - sigmoid(l)) = -softplus(l): -200 -> ~0, -6 -> -0.00248, 0 -> -log 2, 3 -> -3.0486, 200 -> -200
    want = np.mean([0.0, -0.0024757, -np.log(2.0), -3.0485874, -200.0])
    assert got == pytest.approx(want, rel=1e-5)
    assert got == pytest.approx(-float(losses.bce_with_logits(0.0, logits)), rel=1e-5)


def players():
    keras.utils.set_random_seed(3)
    return (models.dcgan_generator(latent_dim=8, base_filters=8), models.dcgan_discriminator(base_filters=4, dropout=0.0),
            keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))


REAL = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
NOISE = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")


def test_the_labs_simultaneous_step_is_the_courses_step(capsys):
    assert checkers.check_same_update(lambda *p: gan.lab_step(*p, REAL, NOISE),
                                      lambda *p: train.gan_train_step(*p, REAL, NOISE), players, name="lab")
    assert "✅ lab" in capsys.readouterr().out


def test_the_saturating_loss_and_the_other_order_change_the_update():
    with pytest.raises(checkers.ExerciseError, match="g_loss is"):
        checkers.check_same_update(lambda *p: gan.lab_step(*p, REAL, NOISE, loss="saturating"),
                                   lambda *p: train.gan_train_step(*p, REAL, NOISE), players, name="lab")
    # D then G: the same d_loss (computed first, from the same pass), but G meets the updated D
    with pytest.raises(checkers.ExerciseError, match="g_loss is|weights after the update differ"):
        checkers.check_same_update(lambda *p: gan.lab_step(*p, REAL, NOISE, order="D then G"),
                                   lambda *p: train.gan_train_step(*p, REAL, NOISE), players, name="lab")


def test_bad_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="non-saturating"):
        gan.lab_step(*players(), REAL, NOISE, loss="minimax")
    with pytest.raises(ValueError, match="D then G"):
        gan.lab_step(*players(), REAL, NOISE, order="G then D")


RECORD = {"command": "x", "seconds": 10, "runs": [
    {"loss": "non-saturating", "order": "simultaneous", "seed": 0, "covered": 0, "visited": 2, "high_quality": 0.0,
     "steps": 1500, "seconds": 3.0},
    {"loss": "non-saturating", "order": "simultaneous", "seed": 1, "covered": 6, "visited": 8, "high_quality": 0.3,
     "steps": 1500, "seconds": 5.0},
    {"loss": "saturating", "order": "simultaneous", "seed": 0, "covered": 8, "visited": 8, "high_quality": 0.5,
     "steps": 1500, "seconds": 4.0},
    {"loss": "non-saturating", "order": "D then G", "seed": 0, "covered": 7, "visited": 8, "high_quality": 0.7,
     "steps": 1500, "seconds": 6.0},
]}


def test_the_longer_run_summary_groups_by_variant():
    summary = gan.longer_run_summary(RECORD)
    assert list(summary) == ["non-saturating", "saturating", "non-saturating, D then G"]
    ns = summary["non-saturating"]
    assert ns["covered"] == [0, 6] and ns["median_covered"] == 3.0 and ns["seeds"] == [0, 1]
    assert ns["median_high_quality"] == pytest.approx(0.15) and ns["median_seconds"] == 4.0


def test_the_longer_run_file_round_trips_and_bad_files_are_named(tmp_path):
    path = gan.save_longer_run(RECORD["runs"], tmp_path / "lab.json", "the command", 12.4)
    assert gan.load_longer_run(path) == {"command": "the command", "seconds": 12, "runs": RECORD["runs"]}
    with pytest.raises(FileNotFoundError, match="missing.json is missing: run"):
        gan.load_longer_run(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"runs": []}))
    with pytest.raises(ValueError, match="bad.json lacks"):
        gan.load_longer_run(tmp_path / "bad.json")


def test_the_shipped_longer_run_holds_what_lesson_01_says():
    summary = gan.longer_run_summary(gan.load_longer_run())
    assert set(summary) == {"non-saturating", "saturating", "non-saturating, D then G"}
    assert all(s["seeds"] == [0, 1, 2, 3, 4] and s["steps"] == config.GanBasicsConfig.smoke().ring_steps
               for s in summary.values())
    plain = summary["non-saturating"]["covered"]
    assert summary["saturating"]["covered"] == [8] * 5 and summary["non-saturating, D then G"]["covered"] == [8] * 5
    assert all(c < 8 for c in plain) and sum(c == 0 for c in plain) >= 3


def test_print_lab_reports_each_run_and_the_longer_run(capsys):
    points = np.repeat(np.array([[2.0, 0.0]], np.float32), 2500, axis=0)   # all on one mode
    gan.print_lab({"collapsed": {100: points}}, RECORD)
    out = capsys.readouterr().out
    assert "collapsed" in out and "1/8 modes covered, 1/8 visited, 100% high quality" in out
    assert "seeds 0, 1: modes covered [0, 6], median 3/8" in out


@pytest.mark.slow
def test_the_smoke_lab_reproduces_the_reported_ordering_on_seed_0():
    """What lesson 01 reports: on the ring, the saturating run covers more modes than the plain one."""
    plain = {s.name: s for s in ring.ring_settings(config.GanBasicsConfig.smoke())}["plain"]
    covered = {loss: gan.coverage_row(gan.ring_variant(plain, seed=0, loss=loss, progress=False))["covered"]
               for loss in gan.LOSSES}
    assert covered["saturating"] > covered["non-saturating"], covered
    assert covered["saturating"] == 8, covered
