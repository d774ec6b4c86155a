"""Lesson 01's lab: the saturating loss, the lab's step, the conclusion sentences and the shipped longer run."""

import json

import keras
import numpy as np
import pytest

from course_utils import checkers, config, losses, models, train
from course_utils.lessons.labs import gan


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
    with pytest.raises(checkers.ExerciseError, match="g_loss is|weights after the update differ"):
        checkers.check_same_update(lambda *p: gan.lab_step(*p, REAL, NOISE, order="D then G"),
                                   lambda *p: train.gan_train_step(*p, REAL, NOISE), players, name="lab")


def test_a_boolean_loss_flag_gives_the_named_losses_step():
    """One traced step serves both losses: the tensor flag must give the same update as the name."""
    import tensorflow as tf

    for name, flag in (("saturating", True), ("non-saturating", False)):
        assert checkers.check_same_update(lambda *p: gan.lab_step(*p, REAL, NOISE, loss=tf.constant(flag)),
                                          lambda *p: gan.lab_step(*p, REAL, NOISE, loss=name), players, name=name)


def test_the_step_reports_the_generators_gradient_and_update_norms():
    g, d, g_opt, d_opt = players()
    logs = gan.lab_step(g, d, keras.optimizers.SGD(0.1), d_opt, REAL, NOISE)
    # plain SGD: the update is the learning rate times the gradient
    assert float(logs["g_update_norm"]) == pytest.approx(0.1 * float(logs["g_grad_norm"]), rel=1e-3)
    assert 0.0 < float(logs["d_fake"]) < 1.0


def test_bad_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="non-saturating"):
        gan.lab_step(*players(), REAL, NOISE, loss="minimax")
    with pytest.raises(ValueError, match="D then G"):
        gan.lab_step(*players(), REAL, NOISE, order="G then D")


# --------------------------------------------------------------------------- hand-made results
def row(optimizer, loss, seed, grad, update=None, d_fake=0.3, covered=0, steps=200):
    return {"optimizer": optimizer, "loss": loss, "seed": seed, "steps": steps, "grad_norm": [grad] * 5,
            "update_norm": [update if update is not None else grad] * 5, "d_fake": [d_fake] * 5,
            "covered": covered, "visited": covered, "high_quality": 0.0, "seconds": 1.0}


def result(sgd_ratio=0.5, adam_ratio=0.6, adam_update_ratio=1.0, seeds=(0, 1, 2), covered=(0, 8)):
    runs = []
    for seed in seeds:
        runs += [row("sgd", "non-saturating", seed, 1.0), row("sgd", "saturating", seed, sgd_ratio),
                 row("adam", "non-saturating", seed, 1.0, update=0.01, covered=covered[0]),
                 row("adam", "saturating", seed, adam_ratio, update=0.01 * adam_update_ratio, covered=covered[1])]
    return {"plan": {}, "runs": runs}


def test_larger_reads_the_ratios_with_a_margin():
    assert gan.larger([0.5, 0.8]) == "non-saturating"
    assert gan.larger([1.5, 1.2]) == "saturating"
    assert gan.larger([0.95, 1.05]) == "the same"
    assert gan.larger([0.5, 1.5]) == "mixed"


def test_the_summary_gives_each_seeds_ratio():
    s = gan.summary(result(sgd_ratio=0.25))
    assert s["sgd"]["seeds"] == [0, 1, 2] and s["sgd"]["grad_norm_ratio"] == pytest.approx([0.25] * 3)
    assert s["adam"]["update_norm_ratio"] == pytest.approx([1.0] * 3)
    assert s["adam"]["saturating"]["covered"] == [8, 8, 8]


def test_the_conclusion_compares_the_prediction_with_the_run_and_the_longer_run():
    mine, longer = result(sgd_ratio=0.25), result(sgd_ratio=0.4, seeds=(0, 1, 2, 3, 4))
    lines = gan.conclusion("non-saturating", mine, longer)
    text = " ".join(lines)
    assert "Your run (3 seeds, 200 steps a run)" in text and "0.25 times" in text
    assert "The shipped longer run (5 seeds" in text and "0.40 times" in text
    assert "the non-saturating loss gives the larger gradient" in text
    assert "the generator's update was 1.00 times as large" in text
    assert "on every seed the two losses' updates differed less than their gradients" in text
    same = " ".join(gan.conclusion(None, result(adam_ratio=0.9, adam_update_ratio=0.5)))
    assert "yet the updates did not differ less than the gradients on every seed" in same
    assert "saturating [8, 8, 8]" in text
    assert lines[-1] == ("You predicted that under SGD the non-saturating loss gives the larger gradient. "
                         "Your run agrees; the longer run agrees.")
    wrong = gan.conclusion("saturating", mine, longer)[-1]
    assert wrong.endswith("Your run disagrees; the longer run disagrees.")
    assert "You made no prediction" in gan.conclusion(None, mine, longer)[-1]
    assert "cannot be compared" in gan.conclusion("the minimax one", mine)[-1]
    # the sentences follow the numbers: a run where the saturating gradient is larger says so
    flipped = " ".join(gan.conclusion("non-saturating", result(sgd_ratio=2.0)))
    assert "2.00 times" in flipped and "the saturating loss gives the larger gradient" in flipped
    assert "Your run disagrees." in flipped
    split = result(sgd_ratio=0.5)
    split["runs"][1]["grad_norm"] = [2.0] * 5   # seed 0's saturating SGD run: now larger than its twin
    assert gan.conclusion("saturating", split)[-1].endswith("Your run cannot tell: its seeds disagree.")


def test_changing_the_shipped_file_changes_the_sentences(tmp_path):
    shipped = gan.load_longer_run()
    mine = result()
    before = gan.conclusion("non-saturating", mine, shipped)
    edited = json.loads(json.dumps(shipped))
    for r in edited["runs"]:   # make every saturating run's gradient 3x the non-saturating one's
        if r["loss"] == "saturating":
            twin = next(t for t in edited["runs"] if t["loss"] == "non-saturating"
                        and t["seed"] == r["seed"] and t["optimizer"] == r["optimizer"])
            r["grad_norm"] = [3 * v for v in twin["grad_norm"]]
            r["covered"] = 5
    path = tmp_path / gan.RESULTS_NAME
    path.write_text(json.dumps(edited))
    after = gan.conclusion("non-saturating", mine, gan.load_longer_run(path))
    assert after != before
    longer_sgd = next(line for line in after if line.startswith("The shipped longer run"))
    assert "3.00 times" in longer_sgd and "the saturating loss gives the larger gradient" in longer_sgd
    assert any("saturating [5, 5, 5, 5, 5]" in line for line in after)
    assert after[-1].endswith("the longer run disagrees.")


def test_the_longer_run_file_round_trips_and_bad_files_are_named(tmp_path):
    record = result()
    path = gan.save_longer_run(record, tmp_path / "lab.json", "the command", 12.4)
    assert gan.load_longer_run(path) == {"command": "the command", "seconds": 12, **record}
    with pytest.raises(FileNotFoundError, match="missing.json is missing: run"):
        gan.load_longer_run(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"runs": []}))
    with pytest.raises(ValueError, match="bad.json lacks"):
        gan.load_longer_run(tmp_path / "bad.json")


def test_the_shipped_longer_run_is_the_labs_plan_at_the_rings_length():
    record = gan.load_longer_run()
    plan = gan.lab_plan(config.DcganConfig.paper(), seeds=(0, 1, 2, 3, 4))
    assert record["plan"] == {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(plan).items()}
    assert record["command"] == "python -m course_utils.lessons.labs.gan --seeds 0 1 2 3 4"
    assert len(record["runs"]) == len(gan.OPTIMIZERS) * len(gan.LOSSES) * 5
    assert all(len(r["grad_norm"]) == plan.early_steps and r["steps"] == 1500 for r in record["runs"])


def test_the_lab_plan_follows_the_profile():
    smoke, paper = gan.lab_plan(config.DcganConfig.smoke()), gan.lab_plan(config.DcganConfig.paper())
    assert smoke.seeds == paper.seeds == (0, 1, 2)
    assert smoke.steps < paper.steps == config.DcganConfig.paper().ring_steps
    assert smoke.early_steps == paper.early_steps == 100


def test_the_plot_has_an_sgd_and_an_adam_panel_on_a_log_scale():
    import matplotlib.pyplot as plt

    fig = gan.plot_gradient_norms(result())
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["plain SGD", "Adam"] and all(ax.get_yscale() == "log" for ax in fig.axes)
    assert len(fig.axes[0].lines) == 6   # 3 seeds x 2 losses
    plt.close(fig)


@pytest.mark.slow
def test_the_smoke_lab_shows_the_saturating_gradient_smaller_under_sgd():
    """What section 5 argues, on the smoke lab: measured beforehand on seeds 0-2 (and 0-4 in the longer run)."""
    lab = gan.run_lab(gan.lab_plan(config.DcganConfig.smoke()), progress=False)
    s = gan.summary(lab)
    assert s["sgd"]["seeds"] == [0, 1, 2] and s["sgd"]["early_steps"] == 100
    assert all(r < 1 for r in s["sgd"]["grad_norm_ratio"]), s["sgd"]["grad_norm_ratio"]
    # plain SGD: the update is the gradient times a fixed rate, so the update's ratio is the gradient's
    assert s["sgd"]["update_norm_ratio"] == pytest.approx(s["sgd"]["grad_norm_ratio"], rel=1e-2)
    assert all(np.isfinite(r["grad_norm"]).all() for r in lab["runs"])


def test_the_lab_counts_its_steps_with_a_pace(monkeypatch, capsys):
    from course_utils import costs

    seen = []
    monkeypatch.setattr(costs.Pace, "step", lambda self: seen.append(self.total_steps))
    plan = gan.LabPlan(seeds=(0,), steps=3, early_steps=2)
    lab = gan.run_lab(plan, progress=False)
    assert len(seen) == 4 * 3 and set(seen) == {12}   # 2 optimizers x 2 losses x 3 steps
    assert all(len(r["grad_norm"]) == 2 and r["steps"] == 3 for r in lab["runs"])
