"""Tests of course_utils.tools.evaluation: known-answer metrics, the picture report, refusing unsafe folders.

The 'generators' are 1x1 convolutions that multiply every pixel by a constant, so each number the
evaluation reports can be computed by hand from the files the tests draw.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from course_utils import evaluation


def scale_model(size: int, scale: float) -> keras.Model:
    """A 'generator' whose output is ``scale * input``."""
    inp = keras.Input((size, size, 3))
    conv = keras.layers.Conv2D(3, 1, use_bias=False)
    model = keras.Model(inp, conv(inp))
    conv.kernel.assign(scale * np.eye(3, dtype="float32")[None, None])
    return model


def write_inverted_pairs(folder: Path, n: int, size: int = 16) -> list[np.ndarray]:
    """n PNG files A|B with B = 255 - A; returns the A halves in [-1, 1], in file-name order."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    halves = []
    for i in range(n):
        a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(folder / f"{i:02d}.png")
        halves.append(a.astype(np.float64) / 127.5 - 1.0)
    return halves


def write_images(folder: Path, n: int, size: int = 16, seed: int = 0) -> list[np.ndarray]:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(a).save(folder / f"{i}.png")
        out.append(a.astype(np.float64) / 127.5 - 1.0)
    return out


def test_pix2pix_metrics_equal_the_hand_computed_values(tmp_path):
    # Input x (left half), target -x (the inverted right half), output -0.5 x:
    # L1 = mean |0.5 x|, PSNR = 10 log10(4 / mean((0.5 x)^2)) per image.
    xs = write_inverted_pairs(tmp_path / "test", n=5)
    result = evaluation.evaluate_pix2pix(scale_model(16, -0.5), tmp_path / "test", batch_size=2,
                                         report_images=3, progress=False)
    m = result.metrics
    assert m["images"] == 5 and [r["file"] for r in m["per_image"]] == [f"{i:02d}.png" for i in range(5)]
    expected_l1 = [np.mean(np.abs(0.5 * x)) for x in xs]
    expected_psnr = [10 * np.log10(4 / np.mean((0.5 * x) ** 2)) for x in xs]
    np.testing.assert_allclose([r["l1"] for r in m["per_image"]], expected_l1, rtol=1e-5)
    np.testing.assert_allclose([r["psnr"] for r in m["per_image"]], expected_psnr, rtol=1e-5)
    assert m["l1"] == pytest.approx(np.mean(expected_l1), rel=1e-5)
    assert 0 < m["ssim"] < 1
    # The perfect generator (-1 x): no error (up to float rounding), and SSIM 1.
    perfect = evaluation.evaluate_pix2pix(scale_model(16, -1.0), tmp_path / "test", progress=False).metrics
    assert perfect["l1"] == pytest.approx(0, abs=1e-6) and perfect["psnr"] > 100
    assert perfect["ssim"] == pytest.approx(1, abs=1e-4)
    # An identical image's PSNR is infinite: written as null, as JSON has no infinity.
    assert evaluation._clean(float("inf")) is None and evaluation._mean([20.0, float("inf")]) is None
    json.dumps(perfect, allow_nan=False)
    # The picture rows: input | output | target of the first report_images files.
    (title, columns, rows) = result.sections[0]
    assert columns == ["input", "output", "target"] and [name for name, _ in rows] == ["00.png", "01.png", "02.png"]
    inp, out, tar = rows[0][1]
    np.testing.assert_allclose(inp, (xs[0] + 1) / 2, atol=1e-5)
    np.testing.assert_allclose(out, (-0.5 * xs[0] + 1) / 2, atol=1e-5)
    np.testing.assert_allclose(tar, (-xs[0] + 1) / 2, atol=1e-5)


def test_pix2pix_direction_swaps_input_and_target(tmp_path):
    xs = write_inverted_pairs(tmp_path / "test", n=2)
    result = evaluation.evaluate_pix2pix(scale_model(16, 0.5), tmp_path / "test", direction="BtoA", progress=False)
    # input -x (right half), output -0.5 x, target x: L1 = mean |1.5 x|
    assert result.metrics["l1"] == pytest.approx(np.mean([np.mean(np.abs(1.5 * x)) for x in xs]), rel=1e-5)
    assert result.metrics["direction"] == "BtoA"


def test_cyclegan_cycle_and_identity_errors_equal_the_hand_computed_values(tmp_path):
    a = write_images(tmp_path / "testA", 3, seed=1)
    b = write_images(tmp_path / "testB", 2, seed=2)
    g, f = scale_model(16, -1.0), scale_model(16, -0.5)
    m = evaluation.evaluate_cyclegan(g, f, tmp_path / "testA", tmp_path / "testB", progress=False).metrics
    # A: F(G(a)) = 0.5 a, identity F(a) = -0.5 a.  B: G(F(b)) = 0.5 b, identity G(b) = -b.
    assert m["images"] == {"A": 3, "B": 2}
    assert m["A"]["cycle_error"] == pytest.approx(np.mean([np.mean(np.abs(0.5 * x)) for x in a]), rel=1e-5)
    assert m["A"]["identity_error"] == pytest.approx(np.mean([np.mean(np.abs(1.5 * x)) for x in a]), rel=1e-5)
    assert m["B"]["cycle_error"] == pytest.approx(np.mean([np.mean(np.abs(0.5 * y)) for y in b]), rel=1e-5)
    assert m["B"]["identity_error"] == pytest.approx(np.mean([np.mean(np.abs(2.0 * y)) for y in b]), rel=1e-5)
    every = [np.mean(np.abs(0.5 * x)) for x in a] + [np.mean(np.abs(0.5 * y)) for y in b]
    assert m["cycle_error"] == pytest.approx(np.mean(every), rel=1e-5)          # mean over all 5 images
    assert m["A"]["cycle_psnr"] == pytest.approx(
        np.mean([10 * np.log10(4 / np.mean((0.5 * x) ** 2)) for x in a]), rel=1e-5)


def test_report_has_metrics_grids_and_a_page_showing_them(tmp_path):
    write_inverted_pairs(tmp_path / "test", n=10)
    result = evaluation.evaluate_pix2pix(scale_model(16, -0.5), tmp_path / "test", report_images=10, progress=False)
    written = evaluation.write_report(tmp_path / "report", result, title="My <model>")
    grids = sorted((tmp_path / "report" / "grids").glob("*.png"))
    assert [g.name for g in grids] == ["grid_0_000.png", "grid_0_001.png"]          # 8 rows, then 2
    assert Image.open(grids[0]).size == (3 * 18 - 2, 8 * 18 - 2)
    assert Image.open(grids[1]).size == (3 * 18 - 2, 2 * 18 - 2)
    page = (tmp_path / "report" / "index.html").read_text()
    assert "My &lt;model&gt;" in page and "grids/grid_0_001.png" in page and "09.png" in page
    assert "input | output | target" in page
    saved = json.loads(written["metrics.json"].read_text())
    assert saved["images"] == 10 and len(saved["per_image"]) == 10
    # A second report into the same folder replaces the first one's grids.
    fewer = evaluation.evaluate_pix2pix(scale_model(16, -0.5), tmp_path / "test", report_images=2, progress=False)
    evaluation.write_report(tmp_path / "report", fewer)
    assert [g.name for g in (tmp_path / "report" / "grids").glob("*.png")] == ["grid_0_000.png"]


def test_report_never_goes_into_training_output_or_a_foreign_folder(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"holds training output \(checkpoints\)"):
        evaluation.check_report_folder(run)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(ValueError, match="not empty and holds no earlier report"):
        evaluation.check_report_folder(mine)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        evaluation.check_report_folder(tmp_path / "file")
    assert evaluation.check_report_folder(tmp_path / "new") == tmp_path / "new"


def test_find_generators_reads_runs_exports_and_files(tmp_path):
    run = tmp_path / "run"
    (run / "export").mkdir(parents=True)
    scale_model(8, 1.0).save(run / "export" / "generator.keras")
    (run / "run_settings.json").write_text(json.dumps({"settings": {"model": "pix2pix", "direction": "BtoA"}}))
    found = evaluation.find_generators(run)
    assert found.kind == "pix2pix" and found.settings["direction"] == "BtoA"
    assert evaluation.find_generators(run / "export").settings["direction"] == "BtoA"
    assert evaluation.find_generators(run / "export" / "generator.keras").files == {
        "generator": run / "export" / "generator.keras"}
    with pytest.raises(FileNotFoundError, match="no exported generator"):
        evaluation.find_generators(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        evaluation.find_generators(tmp_path / "nowhere")
    (run / "run_settings.json").write_text(json.dumps({"settings": {"model": "gan"}}))
    with pytest.raises(ValueError, match="holds a gan generator .DCGAN"):
        evaluation.find_generators(run)


def test_for_direction_picks_the_generator_that_translates_that_way(tmp_path):
    cyc = evaluation.Generators("cyclegan", {"generator_g": tmp_path / "g.keras", "generator_f": tmp_path / "f.keras"})
    assert (cyc.for_direction("AtoB"), cyc.for_direction("BtoA")) == (tmp_path / "g.keras", tmp_path / "f.keras")
    one = evaluation.Generators("pix2pix", {"generator": tmp_path / "generator.keras"})
    assert one.for_direction() == tmp_path / "generator.keras"
    with pytest.raises(ValueError, match="one way only"):
        one.for_direction("BtoA")
    with pytest.raises(ValueError, match="'AtoB' or 'BtoA'"):
        cyc.for_direction("sideways")


def test_image_folder_finds_the_split_or_says_what_is_there(tmp_path):
    write_inverted_pairs(tmp_path / "data" / "val", n=1)
    assert evaluation.image_folder(tmp_path / "data", ["test", "val"]) == tmp_path / "data" / "val"
    assert evaluation.image_folder(tmp_path / "data" / "val", ["test"]) == tmp_path / "data" / "val"
    with pytest.raises(FileNotFoundError, match=r"none of the sub-folders test.*found: \['val'\]"):
        evaluation.image_folder(tmp_path / "data", ["test"])


def test_generators_run_by_the_inference_convention(tmp_path):
    # A batch-norm generator whose moving averages describe no image: Keras's training=False would use
    # them; the course's convention (inference.translate) normalises each image with its own statistics.
    from course_utils import inference

    inp = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(3, 1)(inp)
    x = keras.layers.BatchNormalization(moving_mean_initializer="ones", moving_variance_initializer="ones")(x)
    generator = keras.Model(inp, keras.layers.Activation("tanh")(x))
    write_inverted_pairs(tmp_path / "test", n=2)
    result = evaluation.evaluate_pix2pix(generator, tmp_path / "test", progress=False)
    shown = np.stack([images[1] for _, images in result.sections[0][2]]) * 2 - 1      # the output column
    ds, _ = evaluation.paired_images(tmp_path / "test", 16)
    inputs = next(iter(ds))[0].numpy()
    np.testing.assert_allclose(shown, inference.translate(generator, inputs), atol=1e-5)
    assert np.abs(shown - generator(inputs, training=False).numpy()).max() > 0.1
