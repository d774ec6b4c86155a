"""Tests of the run infrastructure: checkpoints, callbacks, files, resume checks, run_training."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import models, runs, train
# The tiny networks and data of the training tests (tests/ is on the path when pytest runs).
from test_train import (SIZE, cyclegan_nets, fit_steps, max_weight_difference, pix2pix_nets, random_pairs,
                        shipped_pix2pix_data)


# ---------------------------------------------------------------------------
# Checkpoints, resume, NaN guard
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    def fresh(seed_for_init: int) -> train.Pix2Pix:
        keras.utils.set_random_seed(seed_for_init)   # a resumed trainer starts from other weights
        t = train.Pix2Pix(*pix2pix_nets())   # with dropout: its random state must come back too
        t.compile(g_optimizer=keras.optimizers.Adam(train.LinearDecay(2e-4, 2, 8), beta_1=0.5))
        return t

    def run(trainer, steps, out):
        keras.utils.set_random_seed(3)   # tf.data's shuffle and jitter depend on the global seed too
        return runs.run_training(trainer, shipped_pix2pix_data(seed=3), steps, out, checkpoint_every=3,
                                  verbose=0, tensorboard=False, export=False)

    straight = fresh(1)
    res = run(straight, 6, tmp_path / "straight")
    assert res["step"] == 6 and res["resumed_from"] == 0
    run(fresh(1), 3, tmp_path / "resumed")
    second = fresh(2)
    res = run(second, 6, tmp_path / "resumed")
    assert res["resumed_from"] == 3 and res["step"] == second.global_step == 6
    assert max_weight_difference(list(straight.networks.values()), list(second.networks.values())) < 1e-6
    for key, opt in straight.optimizers.items():
        assert int(opt.iterations.numpy()) == int(second.optimizers[key].iterations.numpy()) == 6
    assert float(second.optimizers["generator"].learning_rate) == pytest.approx(1e-4)   # schedule continued
    # The loss history has each step once, across both runs, and matches the uninterrupted one.
    rows = json.loads((tmp_path / "resumed" / "history.json").read_text())
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    straight_rows = json.loads((tmp_path / "straight" / "history.json").read_text())
    assert [r["g_l1"] for r in rows] == pytest.approx([r["g_l1"] for r in straight_rows], rel=1e-5)


def test_cyclegan_checkpoint_holds_pools_and_random_state(tmp_path):
    trainer = train.CycleGAN(*cyclegan_nets(), pool_size=2, seed=0)
    trainer.compile(learning_rate=2e-4)
    items = runs.make_checkpoint(trainer)
    for key in ("generator_g", "generator_f", "discriminator_x", "discriminator_y", "generator_g_optimizer",
                "discriminator_y_optimizer", "step", "pool_x", "pool_y", "random_state"):
        assert hasattr(items, key), key
    trainer.pool_x.query(tf.ones((3, SIZE, SIZE, 3)))
    trainer.step.assign(7)
    runs.save_checkpoint(trainer, tmp_path)
    other = train.CycleGAN(*cyclegan_nets(), pool_size=2, seed=0)
    other.compile(learning_rate=2e-4)
    assert runs.restore(other, tmp_path) == 7
    assert other.pool_x.size == 2 and other.pool_y.size == 0
    np.testing.assert_array_equal(other.pool_x.images.numpy(), trainer.pool_x.images.numpy())


def test_restore_skips_a_checkpoint_cut_short_by_a_kill(tmp_path):
    trainer = train.Pix2Pix(*pix2pix_nets())
    trainer.compile()
    fit_steps(trainer, random_pairs(), 2)
    runs.save_checkpoint(trainer, tmp_path)
    saved = [v.numpy().copy() for v in trainer.generator.trainable_variables]
    # What a SIGKILL in the middle of the next save leaves: data files, no index update.
    ckpt_dir = tmp_path / runs.CHECKPOINT_DIR
    (ckpt_dir / "ckpt-3.data-00000-of-00001").write_bytes(b"\0" * 100)
    (ckpt_dir / "ckpt-3.index").write_bytes(b"partial")
    other = train.Pix2Pix(*pix2pix_nets())
    other.compile()
    assert runs.restore(other, tmp_path) == 2
    for v, s in zip(other.generator.trainable_variables, saved):
        np.testing.assert_array_equal(v.numpy(), s)
    assert int(other.optimizers["generator"].iterations.numpy()) == 2


def test_restore_refuses_a_checkpoint_of_other_networks(tmp_path):
    trainer = train.Pix2Pix(*pix2pix_nets())
    trainer.compile()
    runs.save_checkpoint(trainer, tmp_path)
    wider = train.Pix2Pix(models.unet_generator(SIZE, filters=16), models.patchgan_discriminator(SIZE, filters=16))
    wider.compile()
    with pytest.raises(ValueError, match="other settings"):
        runs.restore(wider, tmp_path)
    assert runs.restore(train_compiled_pix2pix(), tmp_path / "empty") == 0     # no checkpoint: fresh


def train_compiled_pix2pix() -> train.Pix2Pix:
    t = train.Pix2Pix(*pix2pix_nets())
    t.compile()
    return t


def test_nan_loss_stops_training_and_leaves_the_last_good_checkpoint(tmp_path):
    x = np.random.default_rng(0).uniform(-1, 1, (10, SIZE, SIZE, 3)).astype("float32")
    x[4] = np.nan                                     # the 5th batch (batch size 1) is poisoned
    ds = tf.data.Dataset.from_tensor_slices((x, x)).batch(1)
    trainer = train_compiled_pix2pix()
    with pytest.raises(runs.NonFiniteLossError) as info:
        runs.run_training(trainer, ds, 10, tmp_path, checkpoint_every=2, verbose=0, tensorboard=False)
    message = str(info.value)
    assert "step 5" in message and "learning rate" in message and "[-1, 1]" in message
    assert any(name in message for name in ("d_loss", "g_loss", "g_adv", "g_l1"))
    manager = runs.checkpoint_manager(train_compiled_pix2pix(), tmp_path)
    assert manager.latest_checkpoint.endswith("ckpt-4")
    resumed = train_compiled_pix2pix()
    assert runs.restore(resumed, tmp_path) == 4
    assert all(np.isfinite(v.numpy()).all() for v in resumed.generator.variables)
    assert not (tmp_path / "export").exists()          # nothing exported from a failed run



# ---------------------------------------------------------------------------
# Callbacks and files
# ---------------------------------------------------------------------------
def test_standard_callbacks_write_samples_history_tensorboard_and_checkpoints(tmp_path):
    from PIL import Image

    trainer = train_compiled_pix2pix()
    ds = random_pairs(n=4, batch=2)
    sample = next(iter(ds))
    cbs = runs.standard_callbacks(tmp_path, sample_inputs=sample, every=2)
    assert isinstance(cbs[0], runs.NaNGuard)
    drawn = []
    original = trainer.sample_grid
    trainer.sample_grid = lambda inputs: drawn.append(1) or original(inputs)
    trainer.fit(ds.repeat(), epochs=1, steps_per_epoch=4, verbose=0, callbacks=cbs, shuffle=False)
    samples = sorted(p.name for p in (tmp_path / "samples").glob("*.png"))
    assert samples == ["step_000000.png", "step_000002.png", "step_000004.png"]
    assert len(drawn) == 3, "TensorBoard should log SampleGrid's picture, not draw it again"
    grid = np.asarray(Image.open(tmp_path / "samples" / "step_000004.png"))
    assert grid.shape == (2 * SIZE + 2, 3 * SIZE + 4, 3)          # 2 pairs x (input | target | prediction)
    rows = json.loads((tmp_path / "history.json").read_text())
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert set(rows[0]) == {"step", "d_loss", "g_loss", "g_adv", "g_l1"}
    csv_lines = (tmp_path / "history.csv").read_text().splitlines()
    assert csv_lines[0].split(",")[0] == "step" and len(csv_lines) == 5
    events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    records = [(e.step, v.tag, v.metadata.plugin_data.plugin_name)
               for e in tf.compat.v1.train.summary_iterator(str(events[0])) for v in e.summary.value]
    assert (2, "g_l1", "scalars") in records and (4, "samples", "images") in records
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-4")



def test_export_writes_loadable_generators(tmp_path):
    cg = train.CycleGAN(*cyclegan_nets())
    cg.compile(learning_rate=2e-4)
    files = runs.export_generators(cg, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generator_f.keras", "generator_g.keras"]
    loaded = keras.saving.load_model(files["generator_g"])
    x = np.random.default_rng(0).uniform(-1, 1, (1, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_allclose(loaded(x).numpy(), cg.generator_g(x).numpy(), atol=1e-6)


# ---------------------------------------------------------------------------
# Resume that cannot go wrong quietly: run_settings.json and check_resume
# ---------------------------------------------------------------------------
def fresh_pix2pix(l1_weight: float = 100.0) -> train.Pix2Pix:
    trainer = train.Pix2Pix(*pix2pix_nets(), l1_weight=l1_weight)
    trainer.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                    d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    return trainer


def run_at_step(out, step: int, settings: dict) -> None:
    """A run folder holding a checkpoint at ``step`` and the ``settings`` it stored."""
    trainer = fresh_pix2pix()
    trainer.step.assign(step)
    runs.save_checkpoint(trainer, out)
    runs.write_run_settings(out, {"settings": settings})


SETTINGS = {"model": "pix2pix", "l1_weight": 100.0, "beta_1": 0.5, "data": "abc", "batch_size": 2}


def test_nothing_is_stored_before_the_first_checkpoint(tmp_path):
    runs.write_run_settings(tmp_path, {"settings": SETTINGS})
    assert runs.read_run_settings(tmp_path) is None                     # nothing trained yet: nothing to continue
    runs.check_resume(tmp_path, {**SETTINGS, "data": "xyz"})           # so nothing to refuse
    run_at_step(tmp_path, 4, SETTINGS)
    assert runs.read_run_settings(tmp_path) == SETTINGS


def test_resume_with_the_same_settings_continues(tmp_path):
    run_at_step(tmp_path, 4, SETTINGS)
    runs.check_resume(tmp_path, dict(SETTINGS))                         # no error
    runs.check_resume(tmp_path, {**SETTINGS, "l1_weight": 100})         # 100 == 100.0 as JSON reads them


def test_resume_refuses_each_differing_setting_naming_its_stored_value(tmp_path):
    run_at_step(tmp_path, 4, SETTINGS)
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ValueError) as err:
        runs.check_resume(tmp_path, {**SETTINGS, "l1_weight": 10.0, "beta_1": 0.9, "data": "xyz"})
    message = str(err.value)
    assert "at step 4" in message
    assert "\n  l1_weight: stored 100.0, now 10.0" in message
    assert "\n  beta_1: stored 0.5, now 0.9" in message
    assert "\n  data: stored 'abc', now 'xyz'" in message
    assert "batch_size" not in message and "model" not in message      # the same: not blamed
    assert "new folder" in message
    with pytest.raises(ValueError, match=r"batch_size: stored 2, now \(not set\)"):
        runs.check_resume(tmp_path, {k: v for k, v in SETTINGS.items() if k != "batch_size"})
    with pytest.raises(ValueError, match=r"seed: stored \(not set\), now 1"):
        runs.check_resume(tmp_path, {**SETTINGS, "seed": 1})
    assert {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before   # nothing changed


def test_an_unreadable_settings_file_leaves_the_check_to_the_checkpoint(tmp_path):
    run_at_step(tmp_path, 4, SETTINGS)
    (tmp_path / runs.SETTINGS_FILE).write_text('{"settings": {"mod')       # cut by a kill
    assert runs.read_run_settings(tmp_path) is None
    runs.check_resume(tmp_path, {**SETTINGS, "data": "xyz"})


@pytest.mark.slow
def test_run_training_stores_its_settings_and_refuses_other_ones(tmp_path):
    trainer = fresh_pix2pix()
    runs.run_training(trainer, random_pairs(), 2, tmp_path, checkpoint_every=1, verbose=0, tensorboard=False,
                       export=False, settings={"data": "random_pairs"})
    stored = json.loads((tmp_path / runs.SETTINGS_FILE).read_text())
    assert stored["settings"] == {"data": "random_pairs"}
    with pytest.raises(ValueError, match="l1_weight: stored \\(not set\\), now 1.0"):
        runs.run_training(fresh_pix2pix(l1_weight=1.0), random_pairs(), 4, tmp_path, verbose=0, tensorboard=False,
                           export=False, settings={"data": "random_pairs", "l1_weight": 1.0})
    result = runs.run_training(fresh_pix2pix(), random_pairs(), 3, tmp_path, checkpoint_every=1, verbose=0,
                                tensorboard=False, export=False, settings={"data": "random_pairs"})
    assert result["resumed_from"] == 2 and result["step"] == 3


# ---------------------------------------------------------------------------
# Lesson 04's helpers: state snapshots, the step timer, a run's remembered settings
# ---------------------------------------------------------------------------
def _compiled_cyclegan():
    trainer = train.CycleGAN(*cyclegan_nets(), pool_size=2, seed=0)
    trainer.compile(learning_rate=2e-4)
    return trainer


def test_trainer_state_round_trips_through_a_checkpoint(tmp_path):
    trainer = _compiled_cyclegan()
    trainer.generator_g.weights[0].assign(trainer.generator_g.weights[0] + 1.0)
    trainer.step.assign(7)
    before = runs.trainer_state(trainer)
    runs.save_checkpoint(trainer, tmp_path)
    other = _compiled_cyclegan()                                   # new random weights, step 0
    fresh = runs.trainer_state(other)
    assert runs.state_differences(before, fresh) == ["step", "weights"]   # Adam's variables are all zero in both
    assert runs.restore(other, tmp_path) == 7
    assert runs.state_differences(before, runs.trainer_state(other)) == []
    before["optimizers"][0] = before["optimizers"][0] + 1          # one changed number is a difference
    assert runs.state_differences(before, runs.trainer_state(other)) == ["optimizers"]


def test_trainer_state_and_checkpoints_need_a_compiled_trainer():
    with pytest.raises(ValueError, match="compile"):
        runs.trainer_state(train.CycleGAN(*cyclegan_nets(), pool_size=0))
    with pytest.raises(ValueError, match="compile"):
        runs.make_checkpoint(train.Pix2Pix(*pix2pix_nets()))


def test_step_timer_leaves_out_the_first_and_the_busy_steps(monkeypatch):
    ticks = iter([0.0, 5.0,   1.0, 1.1,   2.0, 2.3,   3.0, 3.2,   4.0, 5.0,   6.0, 6.4])   # begin, end per step
    monkeypatch.setattr(runs.time, "perf_counter", lambda: next(ticks))
    timer = runs.StepTimer()

    class Model:
        global_step = 0

    timer.set_model(Model())
    for step in range(1, 7):
        timer.on_train_batch_begin(step - 1)
        Model.global_step = step
        timer.on_train_batch_end(step - 1)
    assert timer.steps == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(timer.seconds, [5.0, 0.1, 0.3, 0.2, 1.0, 0.4])
    # step 1 traces (left out); steps 4 and 5 are multiples of 4 and 5 (a checkpoint, samples)
    assert timer.typical_seconds(busy_every=(4, 5)) == pytest.approx(np.median([0.1, 0.3, 0.4]))
    assert timer.typical_seconds() == pytest.approx(np.median([0.1, 0.3, 0.2, 1.0, 0.4]))
    assert runs.StepTimer().typical_seconds() is None


def test_remember_choices_stores_them_once_and_returns_them_on_resume(tmp_path, capsys):
    first = runs.remember_choices(tmp_path / "run", {"policy": "mixed_float16", "xla": False})
    assert first == {"policy": "mixed_float16", "xla": False}
    assert json.loads((tmp_path / "run" / "choices.json").read_text()) == first
    again = runs.remember_choices(tmp_path / "run", {"policy": "float32", "xla": False})
    assert again == first                                          # the run keeps what it started with
    assert "policy (stored 'mixed_float16', today 'float32')" in capsys.readouterr().out
    (tmp_path / "run" / "choices.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="choices.json is not valid JSON"):
        runs.remember_choices(tmp_path / "run", first)


@pytest.mark.parametrize("make", [
    lambda bad: runs.CheckpointCallback("out", every_n_steps=bad),
    lambda bad: runs.CheckpointCallback("out", max_to_keep=bad),
    lambda bad: runs.SampleGrid("out", None, every=bad),
    lambda bad: runs.TensorBoardLogger("out", every=bad),
    lambda bad: runs.TensorBoardLogger("out", image_every=bad),
    lambda bad: runs.LossHistory("out", every=bad),
    lambda bad: runs.LossHistory("out", json_every=bad),
    lambda bad: runs.run_training(None, None, bad, "out"),
])
@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_counts_of_steps_and_files_must_be_positive_integers(make, bad):
    with pytest.raises(ValueError, match=r"must be a positive integer \(.+\), got"):
        make(bad)


# ---------------------------------------------------------------------------
# The checkpoint manager and the callbacks' independence of their order
# ---------------------------------------------------------------------------
def test_checkpoint_manager_keeps_as_many_checkpoints_as_asked(tmp_path):
    trainer = train_compiled_pix2pix()

    def save_steps(*steps, max_to_keep=None):
        for step in steps:
            trainer.step.assign(step)
            runs.checkpoint_manager(trainer, tmp_path, max_to_keep).save(checkpoint_number=step)
        return sorted(int(p.name.split("-")[1].split(".")[0]) for p in (tmp_path / "checkpoints").glob("*.index"))

    assert save_steps(1, 2, 3, max_to_keep=2) == [2, 3]
    manager = runs.checkpoint_manager(trainer, tmp_path)           # None: the cached manager, as it is
    assert manager is runs.checkpoint_manager(trainer, tmp_path, 2)
    assert save_steps(4, 5, 6, 7, max_to_keep=4) == [4, 5, 6, 7]   # a new number is not ignored
    assert runs.checkpoint_manager(trainer, tmp_path) is not manager
    assert runs.save_checkpoint(trainer, tmp_path).endswith("ckpt-7")   # still keeps 4
    assert save_steps(8) == [5, 6, 7, 8]
    assert runs.checkpoint_manager(train_compiled_pix2pix(), tmp_path / "new").checkpoint is not None
    with pytest.raises(ValueError, match="max_to_keep"):
        runs.checkpoint_manager(trainer, tmp_path, 0)


@pytest.mark.parametrize("tensorboard_first", [True, False])
def test_tensorboard_logs_the_sample_picture_whatever_the_callback_order(tmp_path, tensorboard_first):
    from PIL import Image

    trainer = train_compiled_pix2pix()
    ds = random_pairs(n=4, batch=2)
    sample = next(iter(ds))
    drawn = []
    original = trainer.sample_grid
    trainer.sample_grid = lambda inputs: drawn.append(1) or original(inputs)
    pictures = runs.SampleGrid(tmp_path, sample, every=2)
    logger = runs.TensorBoardLogger(tmp_path / "tensorboard", every=2, sample_inputs=sample, image_every=2)
    cbs = [logger, pictures] if tensorboard_first else [pictures, logger]
    trainer.fit(ds.repeat(), epochs=1, steps_per_epoch=4, verbose=0, callbacks=cbs, shuffle=False)
    assert len(drawn) == 3                                          # steps 0, 2, 4: each drawn once
    events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    logged = {e.step: tf.image.decode_png(v.tensor.string_val[2]).numpy()
              for e in tf.compat.v1.train.summary_iterator(str(events[0])) for v in e.summary.value
              if v.tag == "samples"}
    assert sorted(logged) == [2, 4]
    np.testing.assert_array_equal(logged[4], np.asarray(Image.open(runs.sample_path(tmp_path, 4))))



def test_step_csv_round_trips_and_drops_lines_cut_short_and_rows_after_the_checkpoint(tmp_path):
    path = tmp_path / "history.csv"
    rows = [{"step": 1, "g_loss": 0.1, "d_loss": 1 / 3}, {"step": 2, "g_loss": 2.5, "d_loss": 0.0}]
    runs.write_step_csv(path, ["g_loss", "d_loss"], rows + [{"step": 3, "g_loss": 1.0, "d_loss": 1.0}])
    path.write_text(path.read_text() + "4,0.7\n")            # a line a kill cut short
    columns, back = runs.read_step_csv(path, up_to_step=2)
    assert columns == ["g_loss", "d_loss"] and back == rows  # exact floats (repr), steps as ints
    assert runs.read_step_csv(path, 10, ["d_loss"])[1][-1] == {"step": 3, "d_loss": 1.0}
    assert runs.read_step_csv(tmp_path / "missing.csv", 5, ["x"]) == (["x"], [])


# ---------------------------------------------------------------------------
# Why runs.NaNGuard and runs.TensorBoardLogger, not Keras's callbacks (issue 35: Keras where Keras
# has it, unless a measured reason says otherwise). If Keras changes, these fail and say so.
# ---------------------------------------------------------------------------
def _trainer_and_nan_logs():
    g, d = pix2pix_nets()
    trainer = train.Pix2Pix(g, d)
    trainer.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5))

    class NanGLoss(keras.callbacks.Callback):   # a step whose generator loss came out NaN
        def on_train_batch_end(self, batch, logs=None):
            logs["g_loss"] = float("nan")
    return trainer, NanGLoss()


def test_keras_terminate_on_nan_does_not_see_a_gan_trainers_losses():
    trainer, nan = _trainer_and_nan_logs()
    ran = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: ran.append(batch))
    trainer.fit(random_pairs(n=4, batch=1), epochs=1, verbose=0,
                callbacks=[nan, keras.callbacks.TerminateOnNaN(), counter])
    assert len(ran) == 4        # it reads logs["loss"] only; a GAN trainer returns g_loss, d_loss, ...
    trainer, nan = _trainer_and_nan_logs()
    with pytest.raises(runs.NonFiniteLossError, match="g_loss"):
        trainer.fit(random_pairs(n=4, batch=1), epochs=1, verbose=0, callbacks=[nan, runs.NaNGuard()])


def test_keras_tensorboard_counts_steps_from_one_in_each_fit_call(tmp_path):
    from tensorflow.core.util import event_pb2

    trainer, _ = _trainer_and_nan_logs()
    trainer.fit(random_pairs(n=2, batch=1), epochs=1, verbose=0)          # two steps already taken
    trainer.fit(random_pairs(n=2, batch=1), epochs=1, verbose=0,
                callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "keras"), update_freq=1),
                           runs.TensorBoardLogger(tmp_path / "ours", every=1)])

    def steps(folder):
        found = set()
        for path in folder.rglob("events*"):
            for record in tf.data.TFRecordDataset(str(path)):
                event = event_pb2.Event.FromString(record.numpy())
                found.update(event.step for v in event.summary.value if "g_loss" in v.tag and "epoch" not in v.tag)
        return sorted(found)
    assert steps(tmp_path / "keras") == [1, 2]     # a resumed run's curves would start over
    assert steps(tmp_path / "ours") == [3, 4]      # the global step: the curves continue
