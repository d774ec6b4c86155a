"""Tests of the training engine: trainers, explicit steps, pool, schedule, checkpoints, callbacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import data, inference, models, train

#: Mechanics run at 16x16 with 4 filters (tracing cost grows with layers, so the nets stay shallow);
#: the learning tests use the shipped data at 32x32 with 8 filters.
SIZE, FILTERS = 16, 4
LEARN_SIZE, LEARN_FILTERS = 32, 8


# ---------------------------------------------------------------------------
# Tiny networks and data
# ---------------------------------------------------------------------------
def pix2pix_nets(norm: str = "batch", dropout: float = 0.5, size: int = SIZE, filters: int = FILTERS):
    return (models.unet_generator(size, filters=filters, norm=norm, dropout=dropout),
            models.patchgan_discriminator(size, filters=filters, norm=norm))


def cyclegan_nets(filters: int = FILTERS, blocks: int = 1, size: int = SIZE):
    gen = lambda: models.resnet_generator(size, n_blocks=blocks, filters=filters)  # noqa: E731
    disc = lambda: models.patchgan_discriminator(size, target_channels=None, norm="instance",  # noqa: E731
                                                 filters=filters)
    return gen(), gen(), disc(), disc()


def gan_nets():
    return (models.dcgan_generator(latent_dim=16, base_filters=16),
            models.dcgan_discriminator(base_filters=8))


def copy_state(src: list[keras.Model], dst: list[keras.Model]) -> None:
    """Same weights and same dropout random state in dst as in src."""
    for a, b in zip(src, dst):
        for va, vb in zip(a.variables, b.variables):
            vb.assign(va)


def max_weight_difference(a: list[keras.Model], b: list[keras.Model]) -> float:
    return max(float(np.max(np.abs(va.numpy() - vb.numpy())))
               for ma, mb in zip(a, b) for va, vb in zip(ma.variables, mb.variables))


def random_pairs(n: int = 4, batch: int = 2, seed: int = 0) -> tf.data.Dataset:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, np.tanh(2 * x))).batch(batch)


class Recorder(keras.callbacks.Callback):
    """Keeps every step's logs as floats."""

    def __init__(self):
        super().__init__()
        self.logs: list[dict[str, float]] = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append({k: float(v) for k, v in logs.items()})


def fit_steps(trainer, ds, steps: int) -> list[dict[str, float]]:
    rec = Recorder()
    trainer.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[rec], shuffle=False)
    return rec.logs


def shipped_pix2pix_data(batch: int = 4, seed: int = 0, size: int = SIZE) -> tf.data.Dataset:
    return data.load_paired_folder(data.shipped_paired_path(), "train", image_size=size, batch_size=batch, seed=seed)


def shipped_cyclegan_data(batch: int = 2, seed: int = 0, size: int = SIZE) -> tf.data.Dataset:
    a, b = data.load_unpaired_folder(data.shipped_unpaired_path(), "train", image_size=size, batch_size=batch,
                                     seed=seed)
    return tf.data.Dataset.zip((a.repeat(), b.repeat()))


# ---------------------------------------------------------------------------
# LinearDecay
# ---------------------------------------------------------------------------
def test_linear_decay_corners():
    lr = train.LinearDecay(2e-4, constant_steps=100, decay_steps=100)
    value = lambda step: float(lr(step))  # noqa: E731
    assert value(0) == pytest.approx(2e-4)
    assert value(99) == pytest.approx(2e-4)
    assert value(100) == pytest.approx(2e-4)          # decay starts here, from the full rate
    assert value(150) == pytest.approx(1e-4)          # half way down
    assert value(175) == pytest.approx(0.5e-4)
    assert value(200) == 0.0
    assert value(10_000) == 0.0                       # and stays at zero, never negative
    cliff = train.LinearDecay(1.0, constant_steps=5, decay_steps=0)
    assert [float(cliff(s)) for s in (0, 4, 5, 6)] == [1.0, 1.0, 0.0, 0.0]


def test_linear_decay_serialises_alone_and_inside_an_optimizer():
    lr = train.LinearDecay(3e-4, 10, 20)
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(lr))
    assert isinstance(again, train.LinearDecay) and again.get_config() == lr.get_config()
    opt = keras.optimizers.Adam(lr, beta_1=0.5)
    clone = keras.optimizers.Adam.from_config(opt.get_config())
    assert isinstance(clone.learning_rate, train.LinearDecay) or float(clone.learning_rate) == pytest.approx(3e-4)
    assert float(train.cyclegan_schedule(10)(1500)) == pytest.approx(1e-4)   # 100 + 100 epochs of 10 steps


@pytest.mark.parametrize("kwargs", [dict(initial_learning_rate=0, constant_steps=1, decay_steps=1),
                                    dict(initial_learning_rate=1e-3, constant_steps=-1, decay_steps=1),
                                    dict(initial_learning_rate=1e-3, constant_steps=1, decay_steps=2.5)])
def test_linear_decay_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="must be"):
        train.LinearDecay(**kwargs)


def test_optimizer_follows_the_schedule_by_its_iterations():
    opt = keras.optimizers.SGD(train.LinearDecay(1.0, 2, 2))
    v = keras.Variable(0.0)
    opt.build([v])
    seen = []
    for _ in range(5):
        seen.append(float(opt.learning_rate))      # rate used by the next update
        opt.apply_gradients([(tf.constant(1.0), v)])
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.0]
    assert float(v.numpy()) == pytest.approx(-3.5)


# ---------------------------------------------------------------------------
# ImagePool
# ---------------------------------------------------------------------------
def numbered_images(start: int, n: int) -> tf.Tensor:
    """n images (2, 2, 1) whose every pixel is their number: easy to identify."""
    return tf.constant(np.arange(start, start + n, dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 2, 1)),
                       tf.float32)


def ids(images) -> list[int]:
    return [int(round(float(v))) for v in np.asarray(images)[:, 0, 0, 0]]


def test_image_pool_fills_then_returns_new_images_about_half_the_time():
    pool = train.ImagePool(pool_size=10, image_shape=(2, 2, 1), seed=3)
    query = tf.function(pool.query)
    # Filling: each new image is stored and returned unchanged.
    assert ids(query(numbered_images(0, 4))) == [0, 1, 2, 3]
    assert ids(query(numbered_images(4, 6))) == [4, 5, 6, 7, 8, 9]
    assert pool.size == 10
    assert sorted(ids(pool.images.numpy())) == list(range(10))
    # Full: new image back about half of the time; otherwise an image that was in the pool.
    new_back, inserted = 0, list(range(10))
    total = 600
    for k in range(10, 10 + total, 3):
        before = set(ids(pool.images.numpy()))
        out = ids(query(numbered_images(k, 3)))
        for j, image_id in enumerate(out):
            if image_id == k + j:
                new_back += 1
            else:
                assert image_id in before or image_id in range(k, k + j)   # a stored image, never made up
        inserted += list(range(k, k + 3))
        assert pool.size == 10                                      # the pool never grows
        assert set(ids(pool.images.numpy())) <= set(inserted)
    fraction = new_back / total
    assert 0.42 < fraction < 0.58, fraction


def test_image_pool_of_size_zero_passes_fakes_through_and_bad_sizes_are_refused():
    pool = train.ImagePool(pool_size=0, image_shape=(2, 2, 1))
    assert ids(pool.query(numbered_images(5, 3))) == [5, 6, 7]
    with pytest.raises(ValueError, match="pool_size"):
        train.ImagePool(pool_size=-1, image_shape=(2, 2, 1))
    with pytest.raises(ValueError, match="image_shape"):
        train.ImagePool(pool_size=3, image_shape=(2, 2))


def test_image_pool_is_saved_and_restored_by_checkpoints(tmp_path):
    pool = train.ImagePool(pool_size=4, image_shape=(2, 2, 1), seed=1)
    pool.query(numbered_images(0, 6))
    path = tf.train.Checkpoint(pool=pool).write(str(tmp_path / "pool"))
    expected = ids(pool.query(numbered_images(100, 4)))
    other = train.ImagePool(pool_size=4, image_shape=(2, 2, 1), seed=1)
    tf.train.Checkpoint(pool=other).read(path).assert_consumed()
    assert other.size == 4
    assert ids(other.query(numbered_images(100, 4))) == expected    # same contents, same random draws


# ---------------------------------------------------------------------------
# Trainers compute what the explicit GradientTape steps compute
# ---------------------------------------------------------------------------
# The trainer's graph (inside fit) and the explicit step's graph are compiled separately, so gradients
# may differ in their last bits (summation order). Plain SGD keeps that visible at float32 rounding
# (~1e-7); Adam would blow it up for gradients near its epsilon (lr * g / (|g| + eps)).
WEIGHT_TOLERANCE = 1e-6


def sgd() -> keras.optimizers.Optimizer:
    return keras.optimizers.SGD(0.01)


def test_pix2pix_trainer_equals_explicit_step():
    g1, d1 = pix2pix_nets()
    g2, d2 = pix2pix_nets()
    copy_state([g1, d1], [g2, d2])      # same weights, same dropout random state
    trainer = train.Pix2Pix(g1, d1)
    trainer.compile(sgd(), sgd())
    ds = random_pairs()
    logs = fit_steps(trainer, ds, 2)
    g_opt, d_opt = sgd(), sgd()
    step = tf.function(train.pix2pix_train_step)
    reference = [step(g2, d2, g_opt, d_opt, inp, tar) for inp, tar in ds]
    for got, ref in zip(logs, reference):
        for key in ("d_loss", "g_loss", "g_adv", "g_l1"):
            assert got[key] == pytest.approx(float(ref[key]), rel=1e-6), key
    assert max_weight_difference([g1, d1], [g2, d2]) < WEIGHT_TOLERANCE
    assert trainer.global_step == 2
    assert int(trainer.optimizers["generator"].iterations.numpy()) == 2


def test_gan_trainer_equals_explicit_step():
    g1, d1 = gan_nets()
    g2, d2 = gan_nets()
    copy_state([g1, d1], [g2, d2])
    trainer = train.GAN(g1, d1, seed=7)
    trainer.compile(sgd(), sgd())
    real = tf.data.Dataset.from_tensor_slices(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1))
                                              .astype("float32")).batch(4)
    logs = fit_steps(trainer, real, 2)
    noise_seed = keras.random.SeedGenerator(7)    # the trainer's noise stream, replayed
    g_opt, d_opt = sgd(), sgd()
    step = tf.function(train.gan_train_step)
    for got, batch in zip(logs, real):
        ref = step(g2, d2, g_opt, d_opt, batch, keras.random.normal((4, 16), seed=noise_seed))
        assert got["d_loss"] == pytest.approx(float(ref["d_loss"]), rel=1e-6)
        assert got["g_loss"] == pytest.approx(float(ref["g_loss"]), rel=1e-6)
    assert max_weight_difference([g1, d1], [g2, d2]) < WEIGHT_TOLERANCE


@pytest.mark.slow
def test_cyclegan_trainer_equals_explicit_step_with_pools():
    nets1, nets2 = cyclegan_nets(), cyclegan_nets()
    copy_state(list(nets1), list(nets2))
    trainer = train.CycleGAN(*nets1, pool_size=3, seed=5)
    trainer.compile(sgd(), sgd(), sgd(), sgd())
    ds = random_pairs(n=6, batch=2)
    logs = fit_steps(trainer, ds, 3)                        # the pool (3) fills, then swaps
    opts = [sgd() for _ in range(4)]
    pool_x = train.ImagePool(3, (SIZE, SIZE, 3), seed=5)
    pool_y = train.ImagePool(3, (SIZE, SIZE, 3), seed=6)
    step = tf.function(train.cyclegan_train_step)
    for got, (x, y) in zip(logs, ds):
        ref = step(*nets2, *opts, x, y, pool_x=pool_x, pool_y=pool_y)
        for key in train.CycleGAN.train_metric_names:
            assert got[key] == pytest.approx(float(ref[key]), rel=1e-5, abs=1e-7), key
    assert max_weight_difference(list(nets1), list(nets2)) < WEIGHT_TOLERANCE
    np.testing.assert_allclose(trainer.pool_y.images.numpy(), pool_y.images.numpy(), atol=1e-5)
    assert trainer.pool_y.size == pool_y.size == 3


def test_compile_checks_its_arguments():
    trainer = train.Pix2Pix(*pix2pix_nets())
    with pytest.raises(ValueError, match="loss_form"):
        trainer.compile(loss_form="wasserstein")
    with pytest.raises(ValueError, match="compile"):
        train.make_checkpoint(trainer)
    with pytest.raises(ValueError, match="keras.Model"):
        train.Pix2Pix("not a model", pix2pix_nets()[1])


# ---------------------------------------------------------------------------
# Real learning signal on the shipped data
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_pix2pix_training_lowers_the_l1_loss_on_shipped_data():
    keras.utils.set_random_seed(0)
    trainer = train.Pix2Pix(*pix2pix_nets(size=LEARN_SIZE, filters=LEARN_FILTERS))
    trainer.compile()
    logs = fit_steps(trainer, shipped_pix2pix_data(size=LEARN_SIZE).repeat(), 40)
    l1 = [row["g_l1"] for row in logs]
    first, last = np.mean(l1[:5]), np.mean(l1[-5:])
    assert last < 0.85 * first, (first, last)     # measured: 0.44 -> 0.33


@pytest.mark.slow
def test_cyclegan_training_lowers_the_cycle_loss_on_shipped_data():
    keras.utils.set_random_seed(0)
    trainer = train.CycleGAN(*cyclegan_nets(filters=LEARN_FILTERS, blocks=2, size=LEARN_SIZE), seed=0)
    trainer.compile(learning_rate=2e-4)
    logs = fit_steps(trainer, shipped_cyclegan_data(size=LEARN_SIZE), 30)
    cycle = [row["cycle"] for row in logs]
    first, last = np.mean(cycle[:5]), np.mean(cycle[-5:])
    assert last < 0.8 * first, (first, last)      # measured: 9.6 -> 5.9
    scores = trainer.evaluate(shipped_cyclegan_data(size=LEARN_SIZE).take(2), return_dict=True, verbose=0)
    assert 0 < scores["cycle_error"] < 2 and 0 < scores["identity_error"] < 2


def test_pix2pix_evaluate_reports_l1_psnr_ssim_like_the_metrics_module():
    from course_utils import metrics

    trainer = train.Pix2Pix(*pix2pix_nets())
    trainer.compile()
    ds = random_pairs(n=4, batch=4)
    scores = trainer.evaluate(ds, return_dict=True, verbose=0)
    inp, target = next(iter(ds))
    pred = inference.translate(trainer.generator, inp.numpy())     # the course's inference convention
    assert float(scores["l1"]) == pytest.approx(metrics.mean_l1(pred, target), rel=1e-4)
    assert float(scores["psnr"]) == pytest.approx(metrics.psnr(pred, target), rel=1e-4)
    assert float(scores["ssim"]) == pytest.approx(metrics.ssim(pred, target), rel=1e-3, abs=1e-4)


def test_evaluate_and_fit_give_python_floats_on_every_keras_version():
    # Keras 3.13 (Colab) returns evaluate()'s values as tensors, 3.14+ as floats: the trainers
    # return floats on both, so results go into JSON and compare the same way.
    trainer = train.Pix2Pix(*pix2pix_nets())
    trainer.compile()
    ds = random_pairs(n=4, batch=4)
    scores = trainer.evaluate(ds, return_dict=True, verbose=0)
    assert sorted(scores) == ["l1", "psnr", "ssim"]
    assert all(type(v) is float for v in scores.values()), {k: type(v) for k, v in scores.items()}
    assert json.loads(json.dumps(scores)) == scores
    as_list = trainer.evaluate(ds, verbose=0)
    assert all(type(v) is float for v in as_list)
    assert as_list == pytest.approx([scores["l1"], scores["psnr"], scores["ssim"]], rel=1e-6)
    history = trainer.fit(ds, epochs=2, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_adv", "g_l1", "g_loss"]
    assert all(len(v) == 2 and all(type(x) is float for x in v) for v in history.history.values())


# ---------------------------------------------------------------------------
# Determinism, checkpoints, resume, NaN guard
# ---------------------------------------------------------------------------
def test_same_seed_repeats_the_losses_exactly():
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(11)
        trainer = train.Pix2Pix(*pix2pix_nets(), seed=11)
        trainer.compile()
        runs.append(fit_steps(trainer, shipped_pix2pix_data(seed=11), 3))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[0][1]          # the steps differ: really two different batches and updates


@pytest.mark.slow
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    def fresh(seed_for_init: int) -> train.Pix2Pix:
        keras.utils.set_random_seed(seed_for_init)   # a resumed trainer starts from other weights
        t = train.Pix2Pix(*pix2pix_nets(), seed=0)   # dropout: its random state must come back too
        t.compile(g_optimizer=keras.optimizers.Adam(train.LinearDecay(2e-4, 2, 8), beta_1=0.5))
        return t

    def run(trainer, steps, out):
        keras.utils.set_random_seed(3)   # tf.data's shuffle and jitter depend on the global seed too
        return train.run_training(trainer, shipped_pix2pix_data(seed=3), steps, out, checkpoint_every=3,
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
    items = train.make_checkpoint(trainer)
    for key in ("generator_g", "generator_f", "discriminator_x", "discriminator_y", "generator_g_optimizer",
                "discriminator_y_optimizer", "step", "pool_x", "pool_y", "random_state"):
        assert hasattr(items, key), key
    trainer.pool_x.query(tf.ones((3, SIZE, SIZE, 3)))
    trainer.step.assign(7)
    train.save_checkpoint(trainer, tmp_path)
    other = train.CycleGAN(*cyclegan_nets(), pool_size=2, seed=0)
    other.compile(learning_rate=2e-4)
    assert train.restore(other, tmp_path) == 7
    assert other.pool_x.size == 2 and other.pool_y.size == 0
    np.testing.assert_array_equal(other.pool_x.images.numpy(), trainer.pool_x.images.numpy())


def test_restore_skips_a_checkpoint_cut_short_by_a_kill(tmp_path):
    trainer = train.Pix2Pix(*pix2pix_nets())
    trainer.compile()
    fit_steps(trainer, random_pairs(), 2)
    train.save_checkpoint(trainer, tmp_path)
    saved = [v.numpy().copy() for v in trainer.generator.trainable_variables]
    # What a SIGKILL in the middle of the next save leaves: data files, no index update.
    ckpt_dir = tmp_path / train.CHECKPOINT_DIR
    (ckpt_dir / "ckpt-3.data-00000-of-00001").write_bytes(b"\0" * 100)
    (ckpt_dir / "ckpt-3.index").write_bytes(b"partial")
    other = train.Pix2Pix(*pix2pix_nets())
    other.compile()
    assert train.restore(other, tmp_path) == 2
    for v, s in zip(other.generator.trainable_variables, saved):
        np.testing.assert_array_equal(v.numpy(), s)
    assert int(other.optimizers["generator"].iterations.numpy()) == 2


def test_restore_refuses_a_checkpoint_of_other_networks(tmp_path):
    trainer = train.Pix2Pix(*pix2pix_nets())
    trainer.compile()
    train.save_checkpoint(trainer, tmp_path)
    wider = train.Pix2Pix(models.unet_generator(SIZE, filters=16), models.patchgan_discriminator(SIZE, filters=16))
    wider.compile()
    with pytest.raises(ValueError, match="other settings"):
        train.restore(wider, tmp_path)
    assert train.restore(train_compiled_pix2pix(), tmp_path / "empty") == 0     # no checkpoint: fresh


def train_compiled_pix2pix() -> train.Pix2Pix:
    t = train.Pix2Pix(*pix2pix_nets())
    t.compile()
    return t


def test_nan_loss_stops_training_and_leaves_the_last_good_checkpoint(tmp_path):
    x = np.random.default_rng(0).uniform(-1, 1, (10, SIZE, SIZE, 3)).astype("float32")
    x[4] = np.nan                                     # the 5th batch (batch size 1) is poisoned
    ds = tf.data.Dataset.from_tensor_slices((x, x)).batch(1)
    trainer = train_compiled_pix2pix()
    with pytest.raises(train.NonFiniteLossError) as info:
        train.run_training(trainer, ds, 10, tmp_path, checkpoint_every=2, verbose=0, tensorboard=False)
    message = str(info.value)
    assert "step 5" in message and "learning rate" in message and "[-1, 1]" in message
    assert any(name in message for name in ("d_loss", "g_loss", "g_adv", "g_l1"))
    manager = train.checkpoint_manager(train_compiled_pix2pix(), tmp_path)
    assert manager.latest_checkpoint.endswith("ckpt-4")
    resumed = train_compiled_pix2pix()
    assert train.restore(resumed, tmp_path) == 4
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
    cbs = train.standard_callbacks(tmp_path, sample_inputs=sample, every=2)
    assert isinstance(cbs[0], train.NaNGuard)
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


def test_gan_and_cyclegan_sample_grids_have_the_documented_layout():
    gan = train.GAN(*gan_nets(), seed=0)
    assert gan.sample_grid(np.zeros((5, 16), np.float32)).shape == (2 * 28 + 2, 3 * 28 + 4, 1)
    cg = train.CycleGAN(*cyclegan_nets())
    x = np.zeros((2, SIZE, SIZE, 3), np.float32)
    grid = cg.sample_grid((x, x))
    assert grid.shape == (4 * SIZE + 6, 3 * SIZE + 4, 3)
    assert 0.0 <= grid.min() and grid.max() <= 1.0


def test_export_writes_loadable_generators(tmp_path):
    cg = train.CycleGAN(*cyclegan_nets())
    cg.compile(learning_rate=2e-4)
    files = train.export_generators(cg, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generator_f.keras", "generator_g.keras"]
    loaded = keras.saving.load_model(files["generator_g"])
    x = np.random.default_rng(0).uniform(-1, 1, (1, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_allclose(loaded(x).numpy(), cg.generator_g(x).numpy(), atol=1e-6)


# ---------------------------------------------------------------------------
# Mixed precision, XLA, distribution
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_step(policy):
    with train.precision(policy):
        trainer = train.GAN(*gan_nets(), seed=0)
        trainer.compile()
    assert keras.mixed_precision.global_policy().name == "float32"     # restored
    assert trainer.generator.compute_dtype == policy.removeprefix("mixed_")
    scaled = isinstance(trainer.optimizers["generator"], keras.optimizers.LossScaleOptimizer)
    assert scaled == (policy == "mixed_float16")                          # only float16 needs it
    real = tf.data.Dataset.from_tensors(tf.zeros((4, 28, 28, 1)))
    logs = fit_steps(trainer, real.repeat(), 2)
    assert all(np.isfinite(v) for row in logs for v in row.values())
    assert trainer.generator.trainable_variables[0].dtype == "float32"   # weights stay float32
    assert trainer.global_step == 2


@pytest.mark.slow
def test_xla_step_matches_the_plain_step():
    # No dropout: under XLA the stateless random ops use another algorithm, so masks would differ.
    g1, d1 = pix2pix_nets(dropout=0.0)
    g2, d2 = pix2pix_nets(dropout=0.0)
    copy_state([g1, d1], [g2, d2])
    plain, xla = train.Pix2Pix(g1, d1), train.Pix2Pix(g2, d2)
    plain.compile(sgd(), sgd())
    xla.compile(sgd(), sgd(), jit_compile=True)
    assert xla.jit_compile is True
    a, b = fit_steps(plain, random_pairs().repeat(), 2), fit_steps(xla, random_pairs().repeat(), 2)
    for row_a, row_b in zip(a, b):
        for key in row_a:
            assert row_b[key] == pytest.approx(row_a[key], rel=1e-5)
    assert max_weight_difference([g1, d1], [g2, d2]) < WEIGHT_TOLERANCE


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpus_matches_one_device(tmp_path):
    script = textwrap.dedent(f"""
        import json, numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras
        from course_utils import models, train

        def nets():
            return (models.unet_generator({SIZE}, filters={FILTERS}, norm="instance", dropout=0.0),
                    models.patchgan_discriminator({SIZE}, filters={FILTERS}, norm="instance"))
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, (4, {SIZE}, {SIZE}, 3)).astype("float32")
        ds = tf.data.Dataset.from_tensor_slices((x, np.tanh(2 * x))).batch(2)
        keras.utils.set_random_seed(0)
        sgd = lambda: keras.optimizers.SGD(0.01)
        single = train.Pix2Pix(*nets()); single.compile(sgd(), sgd())
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            g, d = nets()
            for a, b in zip(single.generator.variables + single.discriminator.variables, g.variables + d.variables):
                b.assign(a)
            mirrored = train.Pix2Pix(g, d); mirrored.compile(sgd(), sgd())
            gan = train.GAN(models.dcgan_generator(latent_dim=8, base_filters=8),
                            models.dcgan_discriminator(base_filters=4), seed=0)
            gan.compile()
        h1 = single.fit(ds, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False).history
        h2 = mirrored.fit(ds, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False).history
        diff = max(float(np.max(np.abs(a.numpy() - b.numpy())))
                   for a, b in zip(single.generator.variables, mirrored.generator.variables))
        with strategy.scope():
            cg = train.CycleGAN(models.resnet_generator({SIZE}, n_blocks=1, filters=4),
                                models.resnet_generator({SIZE}, n_blocks=1, filters=4),
                                models.patchgan_discriminator({SIZE}, target_channels=None, norm="instance", filters=4),
                                models.patchgan_discriminator({SIZE}, target_channels=None, norm="instance", filters=4),
                                pool_size=2, seed=0)
            cg.compile(learning_rate=2e-4)
        cg_hist = cg.fit(tf.data.Dataset.from_tensor_slices((x, x)).batch(2), epochs=1, steps_per_epoch=2,
                         verbose=0, shuffle=False).history
        train.save_checkpoint(cg, {str(tmp_path)!r})
        gan_hist = gan.fit(tf.data.Dataset.from_tensors(tf.zeros((4, 28, 28, 1))).repeat(), epochs=1,
                           steps_per_epoch=1, verbose=0).history
        print(json.dumps({{"replicas": strategy.num_replicas_in_sync, "diff": diff,
                          "g_l1": [h1["g_l1"][-1], h2["g_l1"][-1]], "cg_step": cg.global_step,
                          "cycle": cg_hist["cycle"][-1], "pool": cg.pool_x.size,
                          "gan_d_loss": gan_hist["d_loss"][-1]}}))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    assert out["diff"] < WEIGHT_TOLERANCE                          # same update as one device, batch split in two
    assert out["g_l1"][1] == pytest.approx(out["g_l1"][0], rel=1e-5)
    assert out["cg_step"] == 2 and np.isfinite(out["cycle"]) and out["pool"] == 2
    assert np.isfinite(out["gan_d_loss"])
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-2")


def test_image_pool_under_xla_compiles_once():
    """A random slot must be data to XLA, not a constant: otherwise every step recompiles
    (measured 24 s/step instead of 30 ms for the CycleGAN trainer at 32 px)."""
    import time

    pool = train.ImagePool(pool_size=2, image_shape=(8, 8, 3), seed=0)
    query = tf.function(pool.query, jit_compile=True)
    images = tf.ones((2, 8, 8, 3))
    times = []
    for _ in range(8):   # the pool is full after the first call, then swaps at random slots
        start = time.perf_counter()
        query(images).numpy()
        times.append(time.perf_counter() - start)
    first, later = times[0], sorted(times[2:])[len(times[2:]) // 2]
    assert later < first / 5, f"XLA recompiles the pool query: first call {first:.3f}s, later median {later:.3f}s"


def test_next_loss_scale_follows_keras_loss_scale_optimizer():
    """Same scale and count as keras.optimizers.LossScaleOptimizer over overflows and growths."""
    growth, overflow = 3, {2, 3, 9}
    var = keras.Variable([1.0])
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=1024.0,
                                              dynamic_growth_steps=growth)
    scale, good = 1024.0, 0
    for t in range(14):
        before = var.numpy().copy()
        opt.apply_gradients([(tf.constant([np.inf if t in overflow else 2048.0]), var)])
        scale, good, apply = train.next_loss_scale(scale, good, t not in overflow, growth)
        assert (scale, good) == (float(opt.dynamic_scale.numpy()), int(opt.step_counter.numpy())), t
        assert apply == (not np.allclose(before, var.numpy())), t   # an overflow step leaves the weight alone
    with pytest.raises(ValueError, match="growth_steps"):
        train.next_loss_scale(1.0, 0, True, 0)


# ---------------------------------------------------------------------------
# Resume that cannot go wrong quietly: run_settings.json and check_resume
# ---------------------------------------------------------------------------
def pix2pix_at_step(step: int, out, lr=2e-4, l1_weight: float = 100.0, beta_1: float = 0.5,
                    settings=None) -> train.Pix2Pix:
    """A compiled Pix2Pix whose run folder holds a checkpoint at ``step`` and its run_settings.json."""
    trainer = train.Pix2Pix(*pix2pix_nets(), l1_weight=l1_weight)
    trainer.compile(g_optimizer=keras.optimizers.Adam(lr, beta_1=beta_1),
                    d_optimizer=keras.optimizers.Adam(lr, beta_1=beta_1))
    if step:
        stored = train.check_resume(out, trainer, step, settings)
        trainer.step.assign(step)
        train.save_checkpoint(trainer, out)
        train.write_run_settings(out, stored)
    return trainer


def fresh_pix2pix(lr=2e-4, l1_weight: float = 100.0, beta_1: float = 0.5) -> train.Pix2Pix:
    return pix2pix_at_step(0, None, lr, l1_weight, beta_1)


def test_step_settings_hold_the_schedule_weights_and_networks():
    trainer = fresh_pix2pix(lr=train.LinearDecay(2e-4, 30, 70))
    s = train.step_settings(trainer)
    assert s["trainer"] == "Pix2Pix" and s["l1_weight"] == 100.0 and s["loss_form"] == "bce"
    assert s["optimizers"]["generator"]["learning_rate"] == {"schedule": "LinearDecay", "initial_learning_rate": 2e-4,
                                                             "constant_steps": 30, "decay_steps": 70}
    assert s["optimizers"]["discriminator"]["beta_1"] == 0.5
    assert s["networks"]["generator"]["parameters"] == trainer.generator.count_params()
    json.dumps(s)                                   # stored as JSON


def test_resume_with_the_same_settings_or_a_longer_constant_rate_run_continues(tmp_path):
    pix2pix_at_step(4, tmp_path, settings={"data": "abc", "batch_size": 2})
    again = fresh_pix2pix()
    stored = train.check_resume(tmp_path, again, 10, {"data": "abc", "batch_size": 2})   # constant rate: 10 is fine
    assert stored["settings"] == {"data": "abc", "batch_size": 2}
    train.check_resume(tmp_path, fresh_pix2pix(), 3, {"data": "abc", "batch_size": 2})    # stopping early too


def test_resume_refuses_each_differing_setting_naming_its_stored_value(tmp_path):
    pix2pix_at_step(4, tmp_path, settings={"data": "abc", "batch_size": 2})
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    other = fresh_pix2pix(l1_weight=10.0, beta_1=0.9)
    with pytest.raises(ValueError) as err:
        train.check_resume(tmp_path, other, 8, {"data": "xyz", "batch_size": 2})
    message = str(err.value)
    assert "at step 4" in message
    assert "trainer.l1_weight: stored 100.0, now 10.0" in message
    assert "trainer.optimizers.generator.beta_1: stored 0.5, now 0.9" in message
    assert "settings.data: stored 'abc', now 'xyz'" in message
    assert "batch_size" not in message                       # the same: not blamed
    assert "new folder" in message
    with pytest.raises(ValueError, match=r"settings.batch_size: stored 2, now \(not set\)"):
        train.check_resume(tmp_path, fresh_pix2pix(), 8, {"data": "abc"})
    assert {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before   # nothing changed


def test_resume_refuses_to_run_past_or_stretch_a_schedule_it_has_started_to_decay(tmp_path):
    pix2pix_at_step(6, tmp_path, lr=train.LinearDecay(2e-4, 4, 4))              # decaying since step 4
    same = fresh_pix2pix(lr=train.LinearDecay(2e-4, 4, 4))
    assert train.check_resume(tmp_path, same, 8, None)                         # finishing it: fine
    with pytest.raises(ValueError, match=r"(?s)ends at step 8.*asked for step 12.*at step 6.*rate zero"
                                         r".*new folder.*--steps 12.*finished up to step 8"):
        train.check_resume(tmp_path, same, 12, None)                           # past its end
    stretched = fresh_pix2pix(lr=train.LinearDecay(2e-4, 6, 6))                # what --steps 12 would build
    with pytest.raises(ValueError, match=r"(?s)ends at step 8.*stretching its schedule now would change the rate"):
        train.check_resume(tmp_path, stretched, 12, None)


def test_stretching_a_schedule_still_in_its_constant_phase_is_exact_and_allowed(tmp_path, capsys):
    pix2pix_at_step(3, tmp_path / "a", lr=train.LinearDecay(2e-4, 4, 4))       # 3 steps at the full rate
    stretched = fresh_pix2pix(lr=train.LinearDecay(2e-4, 6, 6))
    stored = train.check_resume(tmp_path / "a", stretched, 12, None)
    assert stored["trainer"]["optimizers"]["generator"]["learning_rate"]["constant_steps"] == 6
    assert "taken so far had the same rate under both" in capsys.readouterr().out
    with pytest.raises(ValueError, match="initial_learning_rate: stored 0.0002, now 0.0001"):
        train.check_resume(tmp_path / "a", fresh_pix2pix(lr=train.LinearDecay(1e-4, 6, 6)), 12, None)


@pytest.mark.slow
def test_run_training_stores_its_settings_and_refuses_other_ones(tmp_path):
    trainer = fresh_pix2pix()
    train.run_training(trainer, random_pairs(), 2, tmp_path, checkpoint_every=1, verbose=0, tensorboard=False,
                       export=False, settings={"data": "random_pairs"})
    stored = json.loads((tmp_path / train.SETTINGS_FILE).read_text())
    assert stored["settings"] == {"data": "random_pairs"} and stored["trainer"]["trainer"] == "Pix2Pix"
    with pytest.raises(ValueError, match="trainer.l1_weight: stored 100.0, now 1.0"):
        train.run_training(fresh_pix2pix(l1_weight=1.0), random_pairs(), 4, tmp_path, verbose=0, tensorboard=False,
                           export=False, settings={"data": "random_pairs"})
    result = train.run_training(fresh_pix2pix(), random_pairs(), 3, tmp_path, checkpoint_every=1, verbose=0,
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
    before = train.trainer_state(trainer)
    train.save_checkpoint(trainer, tmp_path)
    other = _compiled_cyclegan()                                   # new random weights, step 0
    fresh = train.trainer_state(other)
    assert train.state_differences(before, fresh) == ["step", "weights"]   # Adam's variables are all zero in both
    assert train.restore(other, tmp_path) == 7
    assert train.state_differences(before, train.trainer_state(other)) == []
    before["optimizers"][0] = before["optimizers"][0] + 1          # one changed number is a difference
    assert train.state_differences(before, train.trainer_state(other)) == ["optimizers"]


def test_trainer_state_needs_a_compiled_trainer():
    with pytest.raises(ValueError, match="compile"):
        train.trainer_state(train.CycleGAN(*cyclegan_nets(), pool_size=0))


def test_step_timer_leaves_out_the_first_and_the_busy_steps(monkeypatch):
    ticks = iter([0.0, 5.0,   1.0, 1.1,   2.0, 2.3,   3.0, 3.2,   4.0, 5.0,   6.0, 6.4])   # begin, end per step
    monkeypatch.setattr(train.time, "perf_counter", lambda: next(ticks))
    timer = train.StepTimer()

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
    assert train.StepTimer().typical_seconds() is None


def test_remember_choices_stores_them_once_and_returns_them_on_resume(tmp_path, capsys):
    first = train.remember_choices(tmp_path / "run", {"policy": "mixed_float16", "xla": False})
    assert first == {"policy": "mixed_float16", "xla": False}
    assert json.loads((tmp_path / "run" / "choices.json").read_text()) == first
    again = train.remember_choices(tmp_path / "run", {"policy": "float32", "xla": False})
    assert again == first                                          # the run keeps what it started with
    assert "policy (stored 'mixed_float16', today 'float32')" in capsys.readouterr().out
    (tmp_path / "run" / "choices.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="choices.json is not valid JSON"):
        train.remember_choices(tmp_path / "run", first)
