"""Trained models judged against named baselines: the smoke runs, every inference path, the references.

The slow tests train each lesson's model with its smoke settings (config.*Config.smoke()) on the
shipped data and assert the issue's targets with the margin measured on this 2-core CPU.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from course_utils import cli, config, data, inference, metrics, models, results, ring, runs, train


# ---------------------------------------------------------------------------
# Baselines and scores on hand-made inputs
# ---------------------------------------------------------------------------
def test_image_scores_on_known_images():
    target = np.zeros((2, 16, 16, 3), np.float32)
    scores = results.image_scores(target + 0.5, target)
    assert scores["l1"] == pytest.approx(0.5)
    assert scores["psnr"] == pytest.approx(10 * np.log10(4 / 0.25), rel=1e-4)   # MAX = 2 on [-1, 1]
    assert scores["ssim"] < 1.0
    assert results.image_scores(target, target)["ssim"] == pytest.approx(1.0)


def test_mean_image_baseline_is_the_average_training_target():
    out = results.pix2pix_results(_Constant(64, 0.0), image_size=64)
    _, train_y = results.paired_split("train", 64)
    val_x, val_y = results.paired_split("val", 64)
    mean = train_y.mean(axis=0)
    assert out["mean image"]["l1"] == pytest.approx(float(np.abs(val_y - mean).mean()), rel=1e-5)
    assert out["generator"]["l1"] == pytest.approx(float(np.abs(val_y).mean()), rel=1e-5)
    assert len(val_x) == 40


def test_cyclegan_baseline_is_leaving_the_image_unchanged():
    identity = _Identity(32)
    out = results.cyclegan_results(identity, identity)
    assert out["generator"] == pytest.approx(out["identity"])
    assert 0.3 < out["identity"]["AtoB"] < 0.8          # the true map is far from doing nothing
    # Doing nothing leaves the scene's edges where they were: its speckle ratio is near 1, not 0.
    assert 0.5 < out["speckle"]["AtoB"] < 2.0 and 0.5 < out["speckle"]["BtoA"] < 2.0


def test_laplacian_energy_and_speckle_ratio_on_hand_computed_images():
    # A single bright pixel (value 1) in the middle of a 5x5 zero image, one channel: its 3x3 interior
    # holds L = 4 at the centre and -1 at its four neighbours (corners 0): mean |L| = 8 / 9.
    spot = np.zeros((1, 5, 5, 1))
    spot[0, 2, 2, 0] = 1.0
    assert results.laplacian_energy(spot) == pytest.approx(8 / 9)
    # A linear ramp has no Laplacian at all; a +-1 checkerboard has |L| = 8 everywhere.
    ramp = np.tile(np.linspace(-1, 1, 6)[None, :, None], (6, 1, 3))
    assert results.laplacian_energy(ramp) == pytest.approx(0.0, abs=1e-6)
    checker = np.where(np.indices((6, 6)).sum(axis=0) % 2 == 0, 1.0, -1.0)[..., None]
    assert results.laplacian_energy(checker) == pytest.approx(8.0)
    # Ratio: the checkerboard at half amplitude over the spot image: 4 / (8 / 9) = 4.5.
    assert results.speckle_ratio(checker[:5, :5] * 0.5, spot[0]) == pytest.approx(4.5)
    assert results.speckle_ratio(spot, spot) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="flat"):
        results.speckle_ratio(spot, np.zeros((5, 5, 1)))
    with pytest.raises(ValueError, match="H, W >= 3"):
        results.laplacian_energy(np.zeros((2, 2, 3)))


def test_resize_upsampling_keeps_the_papers_parameter_count_and_drops_the_transposed_convs():
    paper, resize = models.resnet_generator(32, n_blocks=1, filters=4), \
        models.resnet_generator(32, n_blocks=1, filters=4, upsample="resize")
    assert paper.count_params() == resize.count_params()
    count = lambda m, cls: sum(isinstance(layer, cls) for layer in m.layers)   # noqa: E731
    assert (count(paper, keras.layers.Conv2DTranspose), count(resize, keras.layers.Conv2DTranspose)) == (2, 0)
    assert count(resize, keras.layers.UpSampling2D) == 2
    with pytest.raises(ValueError, match="transpose"):
        models.resnet_generator(32, upsample="bilinear")


def test_evaluate_reports_correspondence_and_speckle_on_the_shipped_day2dusk_only(tmp_path):
    from course_utils import evaluation

    identity = _Identity(32)
    root = data.shipped_unpaired_path()
    got = evaluation.known_translation_scores(identity, identity, root / "testA", root / "testB", 32)
    want = results.cyclegan_results(identity, identity)
    assert got["correspondence_error"] == pytest.approx(want["identity"], rel=1e-5)
    assert got["speckle_ratio"] == pytest.approx(want["speckle"], rel=1e-5)
    shutil.copytree(root / "testA", tmp_path / "testA")     # the same images elsewhere: no known translation
    assert evaluation.known_translation_scores(identity, identity, tmp_path / "testA", root / "testB", 32) == {}


def test_digit_scores_count_confident_classes():
    class Fixed(keras.Model):
        def call(self, x):   # logits: image 0 -> a sure "3", image 1 -> a sure "7", image 2 -> unsure
            return tf.constant([[0.0] * 3 + [20.0] + [0.0] * 6, [0.0] * 7 + [20.0] + [0.0] * 2, [0.0] * 10])
    out = results.digit_sample_scores(Fixed(), np.zeros((3, 28, 28, 1), np.float32))
    assert out["confident"] == pytest.approx(2 / 3)
    assert out["classes"] == 2 and out["histogram"][3] == 1 and out["histogram"][7] == 1
    with pytest.raises(ValueError, match="28, 28, 1"):
        results.digit_sample_scores(Fixed(), np.zeros((3, 32, 32, 3), np.float32))


class _Constant(keras.Model):
    def __init__(self, size: int, value: float):
        super().__init__()
        self.size, self.value = size, value

    def call(self, x, training=False):
        return tf.zeros_like(x) + self.value

    @property
    def input_shape(self):
        return (None, self.size, self.size, 3)


class _Identity(_Constant):
    def __init__(self, size: int):
        super().__init__(size, 0.0)

    def call(self, x, training=False):
        return x


# ---------------------------------------------------------------------------
# Reference weights: float16 files, manifest, hashes
# ---------------------------------------------------------------------------
def test_save_and_load_weights_round_to_float16(tmp_path):
    model = models.digit_classifier()
    path = results.save_weights(model, tmp_path / "w.npz")
    other = results.load_weights(models.digit_classifier(), path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="does not fit"):
        results.load_weights(models.dcgan_generator(latent_dim=8, base_filters=8), path)
    with pytest.raises(FileNotFoundError, match="make reference-models"):
        results.load_weights(model, tmp_path / "missing.npz")


def test_a_changed_reference_file_is_refused(tmp_path):
    folder = tmp_path / "reference"
    shutil.copytree(results.reference_dir(), folder)
    manifest = results.read_manifest(folder)
    record = manifest["digit_classifier"]["files"]["classifier"]
    with np.load(folder / record["file"]) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["w000"] = arrays["w000"] * 0
    np.savez_compressed(folder / record["file"], **arrays)
    with pytest.raises(ValueError, match="SHA-256"):
        results.load_reference("digit_classifier", folder)
    with pytest.raises(ValueError, match="choose one of"):
        results.load_reference("stylegan", folder)


def test_reference_weights_are_small_and_every_file_is_listed():
    folder = results.reference_dir()
    manifest = results.read_manifest(folder)
    assert set(manifest) == {"digit_classifier", "dcgan", "pix2pix", "cyclegan"}
    listed = {f["file"] for entry in manifest.values() for f in entry["files"].values()}
    assert listed == {p.name for p in folder.glob("*.npz")}
    assert sum((folder / name).stat().st_size for name in listed) < 25e6


def _reference_script():
    from pathlib import Path
    scripts = Path(__file__).resolve().parent.parent / "scripts"
    if not (scripts / "make_reference_models.py").is_file():
        pytest.skip("no scripts/ here: colab-check runs the tests from a copy without them")
    sys.path.insert(0, str(scripts))
    try:
        import make_reference_models
    finally:
        sys.path.remove(str(scripts))
    return make_reference_models


def test_the_reference_dcgans_weight_average_follows_its_network_by_the_formula():
    make_reference_models = _reference_script()
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    average = make_reference_models.WeightAverage(net, decay=0.5)
    net.layers[0].kernel.assign(np.ones((2, 1), "float32"))
    net.layers[0].bias.assign(np.array([4.0], "float32"))
    average.on_train_batch_end(0)            # 0.5 * 0 + 0.5 * 1 = 0.5; bias 2
    average.on_train_batch_end(1)            # 0.5 * 0.5 + 0.5 * 1 = 0.75; bias 3
    kernel, bias = average.average.get_weights()
    assert np.allclose(kernel, 0.75) and np.allclose(bias, 3.0)
    assert np.allclose(net.get_weights()[0], 1.0)      # the trained network itself is left alone


def test_the_reference_script_trains_another_seed_only_when_asked():
    """`--seed N` (the seed-to-seed spread in docs/results.md) changes the seed and nothing else."""
    script = _reference_script()
    smoke = config.CycleGanConfig.smoke()
    assert script._seeded(smoke, None) is smoke
    other = script._seeded(smoke, 3)
    assert other.seed == 3 and smoke.seed == 0
    unseeded = lambda cfg: {k: v for k, v in vars(cfg).items() if k != "seed"}   # noqa: E731
    assert unseeded(other) == unseeded(smoke)


def test_the_reference_scripts_progress_line_judges_as_the_manifest_does():
    """The share printed every 2,500 steps is the manifest's `confident`, measured the same way."""
    script = _reference_script()
    networks, entry = results.load_reference("dcgan")
    judge, _ = results.load_reference("digit_classifier")
    share = script._recognisable(networks["generator"], judge["classifier"])
    assert share == pytest.approx(entry["metrics"]["generator"]["confident"], abs=0.01)     # 0.828


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digit_classifier", "dcgan", "pix2pix", "cyclegan"])
def test_reference_metrics_are_what_the_manifest_says_and_reach_the_targets(name):
    networks, entry = results.load_reference(name)
    measured = results.score_reference(name, networks)
    recorded = entry["metrics"]
    if name == "digit_classifier":
        assert measured["test_accuracy"] == pytest.approx(recorded["test_accuracy"], abs=0.004)
        assert measured["test_accuracy"] >= 0.97
    elif name == "dcgan":
        got, want = measured["generator"], recorded["generator"]
        assert got["confident"] == pytest.approx(want["confident"], abs=0.01)
        # The target is 80 %. Measured: 82.8 % at twice the smoke widths after 10,000 steps with
        # one-sided label smoothing, shipping the weight average (the last weights: 81.4 %); at the smoke
        # widths 20,000 steps gave 79.4 % (seeds 1, 2: 78.7 %, 78.6 %); 3,000 plain steps 62.4 % before.
        assert got["confident"] >= 0.80 and got["classes"] == 10
        assert measured["untrained"]["confident"] < 0.2
    elif name == "pix2pix":
        for key in ("l1", "psnr", "ssim"):
            assert measured["generator"][key] == pytest.approx(recorded["generator"][key], rel=2e-3)
        assert measured["generator"]["l1"] <= 0.6 * measured["mean image"]["l1"]
    else:
        for way in ("AtoB", "BtoA"):
            assert measured["generator"][way] == pytest.approx(recorded["generator"][way], rel=2e-3)
            assert measured["speckle"][way] == pytest.approx(recorded["speckle"][way], rel=2e-3)
            # Measured (64 px, 10,000 steps at 1e-3, transposed convs): 0.0615 / 0.0641 (0.12 x / 0.13 x
            # doing nothing), speckle 0.46 / 0.41 (smoother than the truth); 7,500 steps gave 0.0661 / 0.0703,
            # and 32 px with 2,500 steps 0.097 / 0.089, speckle 1.23 / 1.09. Issue 20 asks <= 0.07 and <= 1.2.
            assert measured["generator"][way] <= 0.07
            assert 0.3 <= measured["speckle"][way] <= 1.2


# ---------------------------------------------------------------------------
# The smoke runs reach their targets, and every inference path agrees
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pix2pix_smoke_run(tmp_path_factory):
    """Lesson 02's smoke training (64 px, 16 filters, 800 steps at batch 1), through run_training."""
    cfg = config.Pix2PixConfig.smoke()
    keras.utils.set_random_seed(cfg.seed)
    out = tmp_path_factory.mktemp("p2p")
    g = models.unet_generator(cfg.image_size, filters=cfg.filters)
    d = models.patchgan_discriminator(cfg.image_size, filters=cfg.filters)
    trainer = train.Pix2Pix(g, d, l1_weight=cfg.l1_weight)
    trainer.compile()
    ds = data.load_paired_folder(data.shipped_paired_path(), "train", image_size=cfg.image_size,
                                 batch_size=cfg.batch_size, seed=cfg.seed).repeat()
    val_x, val_y = results.paired_split("val", cfg.image_size)
    runs.run_training(trainer, ds, cfg.steps, out, checkpoint_every=cfg.steps, verbose=0,
                      sample_inputs=(val_x[:3], val_y[:3]), sample_every=cfg.steps)
    return trainer, out, val_x, val_y


@pytest.mark.slow
def test_pix2pix_smoke_run_beats_the_mean_image(pix2pix_smoke_run):
    trainer, _, _, _ = pix2pix_smoke_run
    out = results.pix2pix_results(trainer.generator)
    # Measured on this CPU: L1 0.118 against the mean image's 0.209 (ratio 0.56); target <= 0.6.
    assert out["generator"]["l1"] <= 0.6 * out["mean image"]["l1"]
    assert out["generator"]["psnr"] > out["mean image"]["psnr"] + 3


@pytest.mark.slow
def test_every_inference_path_agrees_after_training(pix2pix_smoke_run, tmp_path):
    """evaluate(), the sample grid, the export (plain Keras), the CLI and the lesson's predict agree."""
    trainer, run_dir, val_x, val_y = pix2pix_smoke_run
    lesson = metrics.mean_l1(inference.translate(trainer.generator, val_x), val_y)
    val_ds = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(8)
    evaluated = float(trainer.evaluate(val_ds, return_dict=True, verbose=0)["l1"])
    loaded = keras.models.load_model(run_dir / "export" / "generator.keras", compile=False)
    exported = metrics.mean_l1(np.asarray(loaded.predict(val_x, verbose=0)), val_y)
    # The CLI on the validation inputs written as PNG files (at the model's size: no resizing).
    folder_in, folder_out = tmp_path / "in", tmp_path / "out"
    folder_in.mkdir()
    for i, image in enumerate(val_x):
        Image.fromarray(np.round((image + 1) * 127.5).astype(np.uint8)).save(folder_in / f"{i:03d}.png")
    cli = subprocess.run([sys.executable, "-m", "course_utils", "translate", "--model", str(run_dir),
                          "--input", str(folder_in), "--output", str(folder_out)],
                         capture_output=True, text=True, timeout=900)
    assert cli.returncode == 0, cli.stderr[-2000:]
    translated = np.stack([np.asarray(Image.open(folder_out / f"{i:03d}.png"), np.float32) / 127.5 - 1
                           for i in range(len(val_x))])
    by_cli = metrics.mean_l1(translated, val_y)
    # The sample grid's prediction column (input | target | prediction, 2-px gaps) for the first 3 pairs.
    grid = trainer.sample_grid((val_x[:3], val_y[:3]))
    size = val_x.shape[1]
    grid_pred = np.stack([grid[r * (size + 2):r * (size + 2) + size, 2 * (size + 2):2 * (size + 2) + size]
                          for r in range(3)]) * 2 - 1
    np.testing.assert_allclose(grid_pred, np.clip(inference.translate(trainer.generator, val_x[:3]), -1, 1),
                               atol=2e-3)
    mean_image = results.pix2pix_results(trainer.generator)["mean image"]["l1"]
    for name, value in {"evaluate": evaluated, "export": exported, "cli": by_cli}.items():
        assert value == pytest.approx(lesson, rel=0.05), name
        assert value < mean_image, name


@pytest.mark.slow
def test_cyclegan_smoke_run_finds_the_true_colour_map():
    cfg = config.CycleGanConfig.smoke()
    keras.utils.set_random_seed(cfg.seed)
    gen = lambda: models.resnet_generator(cfg.image_size, n_blocks=cfg.n_blocks, filters=cfg.filters,  # noqa: E731
                                          upsample=cfg.upsample)
    disc = lambda: models.patchgan_discriminator(cfg.image_size, target_channels=None, norm="instance",  # noqa: E731
                                                 filters=cfg.filters)
    trainer = train.CycleGAN(gen(), gen(), disc(), disc(), cycle_weight=cfg.cycle_weight,
                             identity_weight=cfg.identity_weight, pool_size=cfg.pool_size, seed=cfg.seed)
    steps = cfg.epochs * cfg.steps_per_epoch
    schedule = train.LinearDecay(cfg.learning_rate, (cfg.epochs - cfg.decay_epochs) * cfg.steps_per_epoch,
                                 cfg.decay_epochs * cfg.steps_per_epoch)
    trainer.compile(*[keras.optimizers.Adam(schedule, beta_1=cfg.beta_1) for _ in range(4)], loss_form=cfg.loss_form)
    ds_a, ds_b = data.load_unpaired_folder(data.shipped_unpaired_path(), "train", image_size=cfg.image_size,
                                           batch_size=cfg.batch_size, seed=cfg.seed)
    trainer.fit(tf.data.Dataset.zip(ds_a.repeat(), ds_b.repeat()), epochs=1, steps_per_epoch=steps, verbose=0)
    out = results.cyclegan_results(trainer.generator_g, trainer.generator_f)
    # Measured on this CPU with the smoke profile's 800 steps at learning rate 1e-3 (issue 20): 0.116 / 0.109
    # against 0.503 / 0.494, speckle 1.21 / 0.97 (scripts/speckle_study.py --set learning_rate=0.001 --only base
    # --steps 800: the same, 0.23 x / 0.22 x; seed 1 0.23 x / 0.24 x; 200 steps stopped at 0.29 x / 0.28 x).
    # Issue 20: <= 0.25 x, speckle <= 1.4.
    for way in ("AtoB", "BtoA"):
        assert out["generator"][way] <= 0.25 * out["identity"][way], (way, out)
        assert out["speckle"][way] <= 1.4, (way, out)


@pytest.mark.slow
def test_capstone_smoke_run_from_the_command_line_beats_the_mean_image(tmp_path):
    """Lesson 05's smoke run as the lesson makes it: `train pix2pix` then `evaluate`, through cli.main."""
    cfg = config.CapstoneConfig.smoke()
    run_dir = tmp_path / "run"
    assert cli.main(["train", "pix2pix", "--data", "shipped", "--out", str(run_dir), "--steps", str(cfg.steps),
                     "--image-size", str(cfg.image_size), "--filters", str(cfg.filters), "--batch-size",
                     str(cfg.batch_size), "--learning-rate", str(cfg.learning_rate), "--checkpoint-every",
                     str(cfg.checkpoint_every), "--seed", str(cfg.seed), "--quiet"]) == 0
    assert cli.main(["evaluate", "--model", str(run_dir), "--data", "shipped", "--out", str(tmp_path / "report"),
                     "--report-images", "2", "--quiet"]) == 0
    l1 = json.loads((tmp_path / "report" / "metrics.json").read_text())["l1"]
    _, target = results.paired_split("val", cfg.image_size)
    mean_image = np.broadcast_to(results.mean_target("train", cfg.image_size), target.shape)
    mean_l1 = results.image_scores(mean_image, target)["l1"]
    # Measured on this CPU (scripts/capstone_study.py, row lr5e-4): L1 0.124 against 0.200 (0.62 x);
    # issue 20's target is 0.7 x (at the papers' 2e-4 the same run reached 0.71 x).
    assert l1 <= 0.7 * mean_l1, (l1, mean_l1)


@pytest.mark.slow
def test_cyclegan_from_the_command_line_finds_the_colour_map_without_speckle(tmp_path):
    """`train cyclegan` then `evaluate` with lesson 03's smoke networks, steps and learning rate, as a learner types them."""
    cfg = config.CycleGanConfig.smoke()
    steps = cfg.epochs * cfg.steps_per_epoch
    run_dir = tmp_path / "run"
    train_cmd = [sys.executable, "-m", "course_utils", "train", "cyclegan", "--data", "shipped", "--out", str(run_dir),
                 "--steps", str(steps), "--image-size", str(cfg.image_size), "--filters", str(cfg.filters),
                 "--n-blocks", str(cfg.n_blocks), "--learning-rate", str(cfg.learning_rate),
                 "--checkpoint-every", str(steps), "--quiet"]
    done = subprocess.run(train_cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    done = subprocess.run([sys.executable, "-m", "course_utils", "evaluate", "--model", str(run_dir), "--data",
                           "shipped", "--out", str(tmp_path / "report"), "--report-images", "2", "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = json.loads(done.stdout.strip().splitlines()[-1])
    test_a, test_b = results.unpaired_split("test", cfg.image_size)
    nothing = {"AtoB": float(np.abs(test_a - data.true_translation(test_a, "AtoB")).mean()),
               "BtoA": float(np.abs(test_b - data.true_translation(test_b, "BtoA")).mean())}
    # Measured on this CPU (lesson 03's 3 residual blocks, seed 0, 800 steps): 0.116 / 0.109 (0.23 x / 0.22 x),
    # speckle 1.21 / 0.97, the same as lesson 03's trainer above. The command's default at 32 px, 6 blocks, had
    # less margin (scripts/speckle_study.py --set learning_rate=0.001 --only blocks6 --steps 800: 0.24 x /
    # 0.24 x; seed 1 0.24 x / 0.245 x) at twice the cost. At 200 steps: 0.30 x / 0.28 x. Issue 20: <= 0.25 x,
    # speckle <= 1.4.
    for way in ("AtoB", "BtoA"):
        assert line["correspondence_error"][way] <= 0.25 * nothing[way], (way, line, nothing)
        assert line["speckle_ratio"][way] <= 1.4, (way, line)


@pytest.mark.slow
def test_dcgan_smoke_run_draws_digits_the_judge_recognises():
    """Lesson 01's smoke training (its width, optimizer and steps) through train.GAN, judged by the shipped judge."""
    cfg = config.DcganConfig.smoke()
    keras.utils.set_random_seed(cfg.seed)
    generator = models.dcgan_generator(cfg.latent_dim, base_filters=cfg.generator_filters)
    discriminator = models.dcgan_discriminator(base_filters=cfg.discriminator_filters)
    trainer = train.GAN(generator, discriminator, seed=cfg.seed)
    adam = lambda: keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)   # noqa: E731
    trainer.compile(g_optimizer=adam(), d_optimizer=adam())
    ds = data.load_digits("shipped", batch_size=cfg.batch_size, num_examples=cfg.num_examples, seed=cfg.seed)
    steps = cfg.epochs * (cfg.steps_per_epoch or int(ds.cardinality()))
    trainer.fit(ds.repeat(), epochs=1, steps_per_epoch=steps, verbose=0)
    judge, _ = results.load_reference("digit_classifier")
    out = results.dcgan_results(generator, judge["classifier"])
    # Measured on this CPU: 65.1 % recognisable (2,976 steps at batch 32 and 4e-4; the study's own loop: 67.7 %,
    # seed 1 67.6 %), untrained 0 %; the old 460 steps at batch 64 and 2e-4 gave 41.2 %. Issue 20's smoke target is 60 %; the reference's 80 % is asserted above.
    assert out["untrained"]["confident"] < 0.05
    assert out["generator"]["confident"] >= 0.60
    assert out["generator"]["classes"] == 10


@pytest.mark.slow
def test_smoke_ring_plain_stays_collapsed_and_packed_covers_the_ring():
    # Lesson 01's smoke settings, seed 0 (the lesson's run): 1,500 steps, batch 256, Adam 1e-3
    # decayed linearly to 1e-4, beta_1 0.5; the two runs differ only in pack. Measured while
    # writing this test (last snapshot; covered: >= 20 of 2,500 samples within 3 std of a mode;
    # HQ: share of samples within 3 std), seeds 0-4:
    #   plain  (pack 1): covered 1, 6, 0, 0, 4;  HQ 2%, 6%, 0%, 0%, 17%
    #   packed (pack 2): covered 8, 8, 8, 6, 8;  HQ 73%, 56%, 53%, 9%, 67%
    # so seed 0 asserts plain <= 2 modes and < 10% HQ, packed >= 6 modes and >= 30% HQ.
    plain_setting, packed_setting = ring.ring_settings(config.DcganConfig.smoke())
    plain = ring.train_ring(plain_setting, seed=0, progress=False)
    # Under Colab's TensorFlow 2.20 / Keras 3.13 (make colab-check) the same seed's plain run covered
    # 3 modes with 5% HQ: a 2-D GAN this small follows another path when the numerics change. So the
    # low quality of the plain run is asserted everywhere, the thresholds above on TF 2.21 only.
    assert plain.coverage.high_quality_rate < 0.10, plain.coverage
    if tf.__version__.startswith("2.21."):
        assert plain.coverage.modes_covered <= 2, plain.coverage
        packed = ring.train_ring(packed_setting, seed=0, progress=False)
        assert packed.coverage.modes_covered >= 6 and packed.coverage.high_quality_rate >= 0.30, packed.coverage
