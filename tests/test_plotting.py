"""Tests for course_utils.lessons.plotting: known answers where there are any, and real pixels."""

from __future__ import annotations

import json
import math
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from course_utils import plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _batch(n: int = 3, size: int = 16, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, size, size, channels)).astype(np.float32)


# --- images -----------------------------------------------------------------------------
def test_to_display_maps_minus_one_one_to_zero_one_and_rejects_0_255():
    img = np.array([[[-1.0], [0.0], [1.0]]], np.float32)  # (1, 3, 1): a grey row
    np.testing.assert_allclose(plotting.to_display(img), [[0.0, 0.5, 1.0]])
    with pytest.raises(ValueError, match="127.5"):
        plotting.to_display(np.full((4, 4, 3), 200.0))


def test_show_images_draws_the_pixels_in_display_range_with_titles():
    tf = pytest.importorskip("tensorflow")
    batch = _batch(n=3)
    fig = plotting.show_images(tf.constant(batch), titles=["a", "b", "c"], ncols=2)
    axes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    np.testing.assert_allclose(axes[1].images[0].get_array(), (batch[1] + 1) / 2, atol=1e-6)
    assert len(fig.axes) == 4  # a 2x2 grid with one empty cell
    with pytest.raises(ValueError, match="one title per image"):
        plotting.show_images(batch, titles=["only one"])
    plt.close(fig)


def test_translation_and_cycle_rows_have_titled_columns():
    x, y, g = _batch(seed=0), _batch(seed=1), _batch(seed=2)
    fig = plotting.plot_translation_rows(x, y, g, max_rows=2)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == ["Input", "Target", "Prediction"]
    np.testing.assert_allclose(fig.axes[5].images[0].get_array(), (g[1] + 1) / 2, atol=1e-6)
    plt.close(fig)
    fig = plotting.plot_cycle_rows(x, g, x, identity=y[:, :, :, :1].repeat(3, -1))
    assert [ax.get_title() for ax in fig.axes[:4]] == ["x", "G(x)", "F(G(x))", "identity F(x)"]
    assert len(fig.axes) == 12
    plt.close(fig)
    with pytest.raises(ValueError, match="same number"):
        plotting.plot_translation_rows(x, y[:2], g)


# --- training history, smoothing and GIFs ----------------------------------------------
def test_ema_is_bias_corrected_and_zero_smoothing_is_identity():
    v = np.array([2.0, 2.0, 2.0, 4.0])
    np.testing.assert_allclose(plotting.ema(v, 0.0), v)
    smoothed = plotting.ema(v, 0.5)
    # Without bias correction the first value would be 1.0; with it, a constant stays constant.
    np.testing.assert_allclose(smoothed[:3], 2.0)
    # s4 = 0.5 * s3 + 0.5 * 4 with s3 = 1.75 (uncorrected), corrected by 1 - 0.5^4.
    assert smoothed[3] == pytest.approx((0.5 * 1.75 + 2.0) / (1 - 0.5**4))
    with pytest.raises(ValueError, match="smoothing"):
        plotting.ema(v, 1.0)


def test_load_history_reads_every_format_the_same(tmp_path):
    rows = [{"step": 0, "gen_loss": 2.0, "disc_loss": 1.0}, {"step": 10, "gen_loss": 1.5, "disc_loss": 0.5}]
    columns = {"step": [0, 10], "gen_loss": [2.0, 1.5], "disc_loss": [1.0, 0.5]}
    (tmp_path / "h.json").write_text(json.dumps(rows))
    (tmp_path / "h.csv").write_text("step,gen_loss,disc_loss,time\n0,2.0,1.0,noon\n10,1.5,0.5,later\n")
    for source in (rows, columns, tmp_path / "h.json", str(tmp_path / "h.csv")):
        h = plotting.load_history(source)
        np.testing.assert_allclose(h["gen_loss"], [2.0, 1.5])
        np.testing.assert_allclose(h["step"], [0, 10])
        assert "time" not in h
    with pytest.raises(ValueError, match=".csv or .json"):
        plotting.load_history(tmp_path / "missing.csv")


def test_plot_loss_history_draws_raw_and_smoothed_curves():
    steps = np.arange(50)
    history = {"step": steps.tolist(), "gen_loss": (np.sin(steps) + 2).tolist(), "disc_loss": [0.7] * 50}
    fig = plotting.plot_loss_history(history, smoothing=0.9)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4  # raw + smoothed for each loss
    np.testing.assert_allclose(lines[0].get_ydata(), history["gen_loss"])
    np.testing.assert_allclose(lines[1].get_ydata(), plotting.ema(history["gen_loss"], 0.9))
    assert np.std(np.diff(lines[1].get_ydata())) < np.std(np.diff(lines[0].get_ydata()))
    plt.close(fig)
    with pytest.raises(ValueError, match="has"):
        plotting.plot_loss_history(history, keys=["nope"])


def _write_samples(folder, steps=(100, 20, 3)):
    folder.mkdir(parents=True, exist_ok=True)
    for i, step in enumerate(steps):
        Image.new("RGB", (24, 16), (40 * i, 200, 0)).save(folder / f"step_{step}.png")
    return folder


def test_make_training_gif_orders_frames_by_step(tmp_path):
    folder = _write_samples(tmp_path / "samples")
    assert [p.name for p in plotting.sample_image_paths(folder)] == ["step_3.png", "step_20.png", "step_100.png"]
    out = plotting.make_training_gif(folder, tmp_path / "anim" / "train.gif", seconds_per_frame=0.2, label=False)
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3 and gif.size == (24, 16)
        gif.seek(0)
        first = gif.convert("RGB").getpixel((12, 8))
        gif.seek(2)
        last = gif.convert("RGB").getpixel((12, 8))
    assert first[0] > last[0]  # step_3 was written last, with the reddest colour
    with pytest.raises(ValueError, match="No PNG"):
        plotting.make_training_gif(tmp_path / "anim", tmp_path / "x.gif")


# --- the generator's losses ---------------------------------------------------------------
def test_generator_loss_curves_values_and_gradients():
    curves = plotting.generator_loss_curves(np.array([0.0, -8.0, 8.0]))
    minimax, nonsat, ls = curves.values()
    assert minimax[0][0] == pytest.approx(math.log(0.5))
    assert nonsat[0][0] == pytest.approx(math.log(2.0))
    assert ls[0][0] == pytest.approx(1.0)
    # Gradients match finite differences of the losses.
    h = 1e-5
    for name, (loss, grad) in curves.items():
        up = plotting.generator_loss_curves(np.array([0.0, -8.0, 8.0]) + h)[name][0]
        np.testing.assert_allclose((up - loss) / h, grad, atol=1e-3)
    # Saturation: minimax vanishes when D rejects the fake, non-saturating when D is fooled;
    # least squares never does.
    assert abs(minimax[1][1]) < 1e-3 and abs(nonsat[1][1]) > 0.99
    assert abs(nonsat[1][2]) < 1e-3 and abs(ls[1][2]) == pytest.approx(14.0)


def test_plot_generator_losses_marks_the_chosen_point():
    fig = plotting.plot_generator_losses(-3.0)
    ax_loss, ax_grad = fig.axes[:2]
    labels = [t.get_text() for t in ax_grad.get_legend().get_texts()]
    assert any("+0.000" not in lab and "dL/da = -0.047" in lab for lab in labels)  # -sigmoid(-3)
    assert "D = sigmoid(a) = 0.047" in fig._suptitle.get_text()
    assert len(ax_grad.collections) >= 2  # shaded saturation regions
    plt.close(fig)


# --- PatchGAN -------------------------------------------------------------------------------
def test_plot_patchgan_verdict_overlays_the_sigmoid_of_the_logits():
    image = _batch(n=1, size=64)[0]
    logits = np.linspace(-3, 3, 36, dtype=np.float32).reshape(1, 6, 6, 1)
    fig = plotting.plot_patchgan_verdict(image, logits)
    overlay = fig.axes[2].images[1]
    np.testing.assert_allclose(overlay.get_array(), plotting.sigmoid(logits[0, :, :, 0]), atol=1e-6)
    # The verdict grid covers exactly the pixels of the image under it (no half-pixel strip).
    assert list(overlay.get_extent()) == list(fig.axes[2].images[0].get_extent()) == [-0.5, 63.5, 63.5, -0.5]
    plt.close(fig)


def test_plot_receptive_field_outlines_the_patch():
    image = _batch(n=1, size=256, channels=1)[0]
    fig = plotting.plot_receptive_field(image, 29, 29, logits=np.zeros((30, 30)))
    rect = fig.axes[0].patches[0]
    assert (rect.get_x() + 0.5, rect.get_y() + 0.5, rect.get_width(), rect.get_height()) == (209, 209, 47, 47)
    assert "P(real) = 0.50" in fig.axes[1].get_title()
    plt.close(fig)
    # Without logits the figure assumes the course's PatchGAN at that size: 2 stride-2 convs at 32.
    fig = plotting.plot_receptive_field(_batch(n=1, size=32)[0], 0, 0)
    assert fig.axes[1].get_title() == "cell (0, 0) of the 6x6 output"
    plt.close(fig)


def test_plot_labelled_rows_writes_each_label_above_its_row():
    fig = plotting.plot_labelled_rows({"epoch 0": _batch(8), "epoch 5": _batch(3, seed=1)}, ncols=4)
    assert len(fig.axes) == 8
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert labels == ["epoch 0", "epoch 5"]
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 4 + 3                                # 4 columns; the second row has 3 images
    np.testing.assert_allclose(shown[0].images[0].get_array(), (_batch(8)[0] + 1) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="at least one image"):
        plotting.plot_labelled_rows({"empty": np.zeros((0, 4, 4, 1))})


def test_plot_step_times_labels_speed_ups_over_the_first_row():
    fig = plotting.plot_step_times({"float32": 0.2, "mixed": 0.1, "CPU": 2.0}, "steps")
    (ax,) = fig.axes
    assert [p.get_width() for p in ax.patches] == pytest.approx([200.0, 100.0, 2000.0])   # milliseconds
    assert [t.get_text() for t in ax.texts] == ["  1.00x", "  2.00x", "  10x slower"]
    assert ax.get_xlim()[1] == pytest.approx(2700.0)
    with pytest.raises(ValueError, match="positive"):
        plotting.plot_step_times({"float32": 0.0}, "steps")
