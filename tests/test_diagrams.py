"""course_utils.lessons.diagrams: each picture has its panels, its titles and the numbers it was given.

What is checked is what a learner reads (panel count, titles, the words and shapes written),
not how the boxes are drawn.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import diagrams  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_gan_loop_diagram_writes_the_shapes_it_is_given():
    fig = diagrams.gan_loop_diagram(latent_dim=64, image_shape=(32, 32, 3))
    assert len(fig.axes) == 1
    texts = _texts(fig)
    assert "noise z ~ N(0, I)\n(b, 64)" in texts
    assert "fake images G(z)\n(b, 32, 32, 3)" in texts and "real images x\n(b, 32, 32, 3)" in texts
    assert any("G learns from D's verdict" in t for t in texts)


def test_network_diagram_has_one_titled_panel_per_network_and_each_tensor_shape():
    fig = diagrams.network_diagram({"G": [("noise", (100,)), ("reshape", (7, 7, 256)), ("up", (28, 28, 1))],
                                    "D": [("image", (28, 28, 1)), ("Dense(1)", (1,))]})
    assert [ax.get_title() for ax in fig.axes] == ["G", "D"]
    assert {"(b, 100)", "(b, 7, 7, 256)", "(b, 28, 28, 1)", "(b, 1)"} <= set(_texts(fig))
    with pytest.raises(ValueError, match="at least one block"):
        diagrams.network_diagram({"G": []})


def test_transposed_conv_diagram_writes_the_input_and_the_summed_output():
    x = np.array([[1, 2], [3, 4]], np.float32)
    out = np.zeros((5, 5), np.float32)
    for i in range(2):
        for j in range(2):
            out[2 * i:2 * i + 3, 2 * j:2 * j + 3] += x[i, j]   # the stamping rule
    fig = diagrams.transposed_conv_diagram(x, out, kernel_size=3, stride=2)
    ax_in, ax_out = fig.axes
    assert [t.get_text() for t in ax_in.texts] == ["1", "2", "3", "4"]
    assert [t.get_text() for t in ax_out.texts][12] == "10"   # the centre: all four stamps, 1 + 2 + 3 + 4
    assert "(1, 2, 4)" in ax_out.get_title()                  # stamps per cell: corners 1, edges 2, centre 4
    with pytest.raises(ValueError, match=r"\(5, 5\)"):
        diagrams.transposed_conv_diagram(x, np.zeros((4, 4)), kernel_size=3, stride=2)


def test_conditional_gan_diagram_names_both_players_and_both_pairs():
    fig = diagrams.conditional_gan_diagram()
    assert len(fig.axes) == 1
    texts = _texts(fig)
    assert "generator G\n(U-Net)" in texts and "discriminator D\n(PatchGAN)" in texts
    assert {"real pair", "fake pair"} <= set(texts)


def test_unet_diagram_mirrors_the_encoder_and_doubles_channels_only_with_skips():
    widths = [64, 128, 256, 512, 512, 512, 512, 512]             # models.unet_filters(256)
    fig = diagrams.unet_diagram(widths, image_size=256)
    plain, unet = fig.axes
    plain_texts, unet_texts = [t.get_text() for t in plain.texts], [t.get_text() for t in unet.texts]
    assert "128²x64\nno BN" in plain_texts and "1²x512" in plain_texts
    assert "2²x512\ndrop 0.5" in plain_texts and "2²x1024\ndrop 0.5" in unet_texts   # the join doubles channels
    assert "128²x128" in unet_texts and "128²x64" in plain_texts
    assert sum("drop 0.5" in t for t in unet_texts) == 3
    with pytest.raises(ValueError, match="unet_filters"):
        diagrams.unet_diagram(widths, image_size=128)


def test_cyclegan_diagram_has_two_mappings_and_two_judges():
    fig = diagrams.cyclegan_diagram()
    assert len(fig.axes) == 1
    texts = _texts(fig)
    assert {"G: X → Y", "F: Y → X"} <= set(texts)
    assert sum(t.startswith("$D_") for t in texts) == 2


def test_resnet_generator_diagram_shapes_follow_the_image_size():
    fig = diagrams.resnet_generator_diagram(image_size=128, n_blocks=6, filters=32)
    texts = _texts(fig)
    assert texts.count("32x32\nx128") == 2                     # 1/4 of the size, 4 * filters: before and in the blocks
    assert "6 residual\nblocks" in texts and "128x128\nx3" in texts
    with pytest.raises(ValueError, match="multiple of 4"):
        diagrams.resnet_generator_diagram(image_size=30)


def test_parameter_bars_write_the_exact_counts_under_the_title():
    fig = diagrams.parameter_bars({"a": 2_000_000, "b": 500_000}, "counts")
    (ax,) = fig.axes
    assert ax.get_title() == "counts" and ax.get_xlabel() == "parameters (millions)"
    assert [t.get_text() for t in ax.texts] == [" 2,000,000", " 500,000"]


def test_discriminative_vs_generative_diagram_names_the_classes_and_the_new_samples():
    g1, g2 = np.meshgrid(np.linspace(-1, 1, 20), np.linspace(-1, 1, 20))
    posterior = 1 / (1 + np.exp(-4 * g1))                     # p(class 1 | x): a border at x1 = 0
    dens = (np.exp(-((g1 + 0.5) ** 2 + g2 ** 2)), np.exp(-((g1 - 0.5) ** 2 + g2 ** 2)))
    pts = (np.zeros((5, 2)) - 0.5, np.zeros((6, 2)) + 0.5)
    fig = diagrams.discriminative_vs_generative_diagram((g1, g2), posterior, dens, pts, np.ones((3, 2)) * 0.4,
                                                        names=("ham", "spam"), axis_labels=("a", "b"))
    assert len(fig.axes) == 3                                 # two panels and the colour bar
    ax_d, ax_g, bar = fig.axes
    assert bar.get_ylabel() == "p(spam | x)"
    assert ax_d.get_xlabel() == "a" and ax_g.get_ylabel() == "b"
    assert [t.get_text() for t in ax_g.get_legend().get_texts()] == ["new samples drawn from p(x | spam)", "ham", "spam"]
