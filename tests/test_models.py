import numpy as np
import pytest
import tensorflow as tf
import keras

from course_utils import models


# Published parameter counts (all weights, batch-norm statistics included, as model.count_params()).
# A string names a shared read-only fixture of tests/conftest.py (the paper-sized networks).
@pytest.mark.parametrize(
    "builder, kwargs, expected",
    [
        (models.dcgan_generator, {}, 2_330_944),          # TF DCGAN tutorial
        (models.dcgan_discriminator, {}, 212_865),        # TF DCGAN tutorial
        ("unet_256", {}, 54_424_323),                     # pix2pix paper's code: no norm at the 1x1 bottleneck
        (models.unet_generator, {"bottleneck_norm": True}, 54_425_859),   # TF pix2pix tutorial
        ("patchgan_256", {}, 2_770_433),                  # TF pix2pix tutorial
        ("resnet_256", {}, 11_378_179),                   # CycleGAN, 9 blocks, non-affine IN
        # Udacity's CycleGAN notebook at 128 (bias-free convs); its PyTorch trainable counts are
        # 8,402,176 and 2,765,568, checked in test_small_cyclegan_matches_udacity below.
        (models.small_cyclegan_generator, {}, 8_409_600),
        (models.small_cyclegan_discriminator, {}, 2_767_360),
    ],
)
def test_published_parameter_counts(builder, kwargs, expected, request):
    model = request.getfixturevalue(builder) if isinstance(builder, str) else builder(**kwargs)
    assert model.count_params() == expected


def test_output_shapes_at_paper_sizes(unet_256, patchgan_256, resnet_256):
    assert models.dcgan_generator().output_shape == (None, 28, 28, 1)
    assert models.dcgan_discriminator().output_shape == (None, 1)
    assert unet_256.output_shape == (None, 256, 256, 3)
    assert patchgan_256.output_shape == (None, 30, 30, 1)
    assert models.patchgan_discriminator(target_channels=None, norm="instance").output_shape == (None, 30, 30, 1)
    assert resnet_256.output_shape == (None, 256, 256, 3)
    assert models.small_cyclegan_generator().output_shape == (None, 128, 128, 3)
    assert models.small_cyclegan_discriminator().output_shape == (None, 7, 7, 1)


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_small_cyclegan_matches_udacity():
    # Udacity's conv/deconv helpers use bias=False everywhere; its discriminator applies ReLU after
    # conv1..conv4 and ends in a 4x4 stride-1 conv with padding=1, which gives 7x7 at 128 px.
    g, d = models.small_cyclegan_generator(), models.small_cyclegan_discriminator()
    convs = [l for m in (g, d) for l in m.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert convs and not any(l.use_bias for l in convs)
    assert not any(isinstance(l, keras.layers.LeakyReLU) for l in d.layers)
    assert [l.name for l in d.layers if isinstance(l, keras.layers.Activation)] == [f"conv{i}_relu" for i in (1, 2, 3, 4)]
    # PyTorch counts trainable parameters only: kernels plus batch norm's gamma and beta.
    assert _trainable(g) == 3 * 64 * 16 + 64 * 128 * 16 + 128 * 256 * 16 + 6 * 2 * 256 * 256 * 9 \
        + 256 * 128 * 16 + 128 * 64 * 16 + 64 * 3 * 16 + 2 * (64 + 128 + 256 + 6 * 2 * 256 + 128 + 64) == 8_402_176
    assert _trainable(d) == 16 * (3 * 64 + 64 * 128 + 128 * 256 + 256 * 512 + 512) + 2 * (128 + 256 + 512) == 2_765_568
    assert models.small_cyclegan_discriminator(32, conv_dim=8).output_shape == (None, 1, 1, 1)


def test_unet_structure_follows_the_paper(unet_256):
    g = unet_256
    names = [l.name for l in g.layers]
    assert sum(n.endswith("_conv") and n.startswith("down") for n in names) == 8
    assert sum(n.endswith("_conv") and n.startswith("up") for n in names) == 7
    assert "down1_norm" not in names and "down2_norm" in names   # no norm on the first block
    assert [n for n in names if n.endswith("_dropout")] == ["up1_dropout", "up2_dropout", "up3_dropout"]
    assert all(l.rate == 0.5 for l in g.layers if isinstance(l, keras.layers.Dropout))
    assert g.get_layer("output").activation.__name__ == "tanh"
    # Skip connections: decoder block j is concatenated with the mirrored encoder block.
    assert g.get_layer("skip1").output.shape[1:] == (2, 2, 1024)
    assert g.get_layer("skip7").output.shape[1:] == (128, 128, 128)


def test_resnet_block_counts_follow_image_size(resnet_256):
    def n_res(m):
        return sum(l.name.endswith("_add") for l in m.layers)

    assert n_res(resnet_256) == 9
    assert n_res(models.resnet_generator(128, filters=8)) == 6
    assert n_res(models.resnet_generator(64, n_blocks=2, filters=8)) == 2


@pytest.mark.parametrize("size", [32, 64, 128])
def test_small_sizes_work_for_smoke_runs(size):
    g = models.unet_generator(size, filters=8)
    d = models.patchgan_discriminator(size, filters=8)
    x = np.zeros((2, size, size, 3), "float32")
    y = g(x, training=False)
    assert y.shape == (2, size, size, 3)
    assert d([x, np.asarray(y)]).shape[1] >= 6


def test_patchgan_receptive_field_is_70_measured_with_gradients(patchgan_256):
    d = patchgan_256
    x = tf.random.normal((1, 256, 256, 3), seed=1)
    t = tf.random.normal((1, 256, 256, 3), seed=2)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = d([x, t], training=False)
        cell = logits[0, 15, 15, 0]                  # an interior cell
    g = tf.reduce_sum(tf.abs(tape.gradient(cell, x)[0]), axis=-1).numpy()
    rows, cols = np.nonzero(g)
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70
    # Cell (i, j) starts at 8*i - 23: stride 8 overall; each 4x4 stride-2 "same" conv pads
    # 1 pixel at the top (x1, x2, x4 at input scale) and each explicit pad adds 1 (x8, x8).
    assert rows.min() == 8 * 15 - 23 and cols.min() == 8 * 15 - 23


def test_unconditional_patchgan_takes_one_image():
    d = models.patchgan_discriminator(64, target_channels=None, norm="instance", filters=8)
    assert len(d.inputs) == 1 and d.output_shape == (None, 6, 6, 1)


@pytest.mark.parametrize(
    "builder, kwargs, inputs",
    [
        (models.dcgan_generator, {"base_filters": 16}, [(2, 100)]),
        (models.dcgan_discriminator, {"base_filters": 8}, [(2, 28, 28, 1)]),
        (models.unet_generator, {"image_size": 32, "filters": 8}, [(2, 32, 32, 3)]),
        (models.unet_generator, {"image_size": 32, "filters": 8, "norm": "instance"}, [(2, 32, 32, 3)]),
        (models.patchgan_discriminator, {"image_size": 32, "filters": 8}, [(2, 32, 32, 3), (2, 32, 32, 3)]),
        (models.patchgan_discriminator, {"image_size": 32, "filters": 8, "target_channels": None,
                                         "norm": "instance"}, [(2, 32, 32, 3)]),
        (models.resnet_generator, {"image_size": 32, "filters": 8, "n_blocks": 2}, [(2, 32, 32, 3)]),
        (models.small_cyclegan_generator, {"image_size": 32, "conv_dim": 8, "n_res_blocks": 2}, [(2, 32, 32, 3)]),
        (models.small_cyclegan_discriminator, {"image_size": 32, "conv_dim": 8}, [(2, 32, 32, 3)]),
        (models.mlp_generator, {}, [(4, 2)]),
        (models.mlp_discriminator, {}, [(4, 2)]),
        (models.mlp_discriminator, {"pack": 2}, [(4, 2)]),
    ],
)
def test_keras_file_round_trip_gives_identical_outputs(tmp_path, builder, kwargs, inputs):
    model = builder(**kwargs)
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=s).astype("float32") for s in inputs]
    xs = xs[0] if len(xs) == 1 else xs
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(xs, training=False)), np.asarray(model(xs, training=False)),
                               rtol=1e-5, atol=1e-6)


def test_generators_output_in_tanh_range():
    x = np.random.default_rng(0).normal(0, 10, size=(1, 32, 32, 3)).astype("float32")
    for g in (models.unet_generator(32, filters=8), models.resnet_generator(32, filters=8, n_blocks=1)):
        y = np.asarray(g(x, training=False))
        assert y.min() >= -1.0 and y.max() <= 1.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: models.unet_generator(100), "power of two"),
        (lambda: models.unet_generator(256, input_channels=0), "input_channels must be a positive integer"),
        (lambda: models.unet_generator(256, norm="group"), "norm must be one of"),
        (lambda: models.patchgan_discriminator(8), "power of two"),
        (lambda: models.patchgan_discriminator(64, n_downsampling=5), "leaves no patch grid"),
        (lambda: models.resnet_generator(130), "divisible by 4"),
        (lambda: models.resnet_generator(256, n_blocks=0), "n_blocks must be a positive integer"),
        (lambda: models.dcgan_generator(latent_dim=-3), "latent_dim"),
        (lambda: models.small_cyclegan_discriminator(16), "power of two >= 32"),
    ],
)
def test_bad_arguments_raise_errors_that_teach(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_cyclegan_networks_are_the_papers_four():
    nets = models.cyclegan_networks(32, filters=4, n_blocks=1)
    assert sorted(nets) == ["discriminator_x", "discriminator_y", "generator_f", "generator_g"]
    assert nets["generator_g"] is not nets["generator_f"]
    assert nets["generator_g"].output_shape == (None, 32, 32, 3)
    assert nets["discriminator_x"].input_shape == (None, 32, 32, 3)          # judges one image, no condition
    assert nets["generator_g"].count_params() == models.resnet_generator(32, n_blocks=1, filters=4).count_params()
    norms = [l for l in nets["discriminator_y"].layers if "norm" in l.name]
    # instance norm: one group per channel (groups=-1 becomes the channel count when built)
    assert norms and all(isinstance(l, keras.layers.GroupNormalization) and l.groups == l.output.shape[-1] for l in norms)


def test_packed_mlp_discriminator_scores_each_pair_as_one_input():
    d = models.mlp_discriminator(pack=2, hidden=8, layers_count=1)
    x = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    logits = np.asarray(d(x))
    assert logits.shape == (3, 1)
    # Swapping the two pairs swaps their logits; mixing points across pairs changes them.
    np.testing.assert_allclose(np.asarray(d(x[[2, 3, 0, 1, 4, 5]])), logits[[1, 0, 2]], rtol=1e-6)
    assert not np.allclose(np.asarray(d(x[[0, 2, 1, 3, 4, 5]]))[:2], logits[:2])
    assert d.count_params() == models.mlp_discriminator(in_dim=4, hidden=8, layers_count=1).count_params()
    with pytest.raises(ValueError, match="pack must be a positive integer"):
        models.mlp_discriminator(pack=0)


# --- the receptive-field arithmetic beside the PatchGAN ------------------------------------
def test_pix2pix_patchgan_has_a_30x30_output_and_a_70x70_field():
    assert models.patchgan_output_size(256) == 30
    assert models.receptive_field_size() == 70
    assert models.patchgan_output_size(32) == 2
    # Smaller course models use fewer stride-2 convs so the grid keeps several cells.
    assert models.patchgan_layers(3) == models.PIX2PIX_PATCHGAN_LAYERS
    assert models.patchgan_output_size(32, models.patchgan_layers(2)) == 6
    assert models.receptive_field_size(models.patchgan_layers(2)) == 34
    assert models.infer_patchgan_layers(32, 6) == models.patchgan_layers(2)
    with pytest.raises(ValueError, match="layers="):
        models.infer_patchgan_layers(32, 5)


def test_patch_receptive_field_at_the_corners_and_centre():
    assert models.patch_receptive_field(0, 0, clip=False) == (-23, -23, 47, 47)
    assert models.patch_receptive_field(0, 0) == (0, 0, 47, 47)
    assert models.patch_receptive_field(29, 29, clip=False) == (209, 209, 279, 279)
    assert models.patch_receptive_field(29, 29) == (209, 209, 256, 256)
    top, left, bottom, right = models.patch_receptive_field(15, 10)
    assert (bottom - top, right - left) == (70, 70)
    assert (top, left) == (15 * 8 - 23, 10 * 8 - 23)  # neighbouring cells are 8 pixels apart
    with pytest.raises(ValueError, match="0..29"):
        models.patch_receptive_field(30, 0)


def test_analytic_grid_matches_the_course_patchgan_model():
    model = models.patchgan_discriminator(image_size=32, input_channels=1, target_channels=1, filters=2)
    grid = model.output_shape[1]
    layers = models.infer_patchgan_layers(32, grid)
    assert models.patchgan_output_size(32, layers) == grid == model.output_shape[2]
    assert models.course_patchgan_layers(32) == layers     # the layers the figures assume at this size
