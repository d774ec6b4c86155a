import numpy as np
import pytest
import keras

from course_utils.core.layers import (InstanceNormalization, PackSamples, ReflectionPadding2D, conv_block, norm_layer,
                                 residual_block)


def _numpy_instance_norm(x, eps=1e-5):
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)  # biased, as in the paper's code
    return (x - mean) / np.sqrt(var + eps)


def test_instance_norm_matches_numpy():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 5, 4, 3)).astype("float32")
    y = InstanceNormalization()(x)
    np.testing.assert_allclose(np.asarray(y), _numpy_instance_norm(x), rtol=1e-4, atol=1e-5)


def test_instance_norm_hand_computed_2x2():
    # One image, one channel, values 1..4: mean 2.5, variance 1.25.
    x = np.array([1.0, 2.0, 3.0, 4.0], "float32").reshape(1, 2, 2, 1)
    expected = (np.array([1, 2, 3, 4]) - 2.5) / np.sqrt(1.25 + 1e-5)
    np.testing.assert_allclose(np.asarray(InstanceNormalization()(x)).ravel(), expected, rtol=1e-5)


def test_instance_norm_is_independent_of_the_batch():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(1, 6, 6, 2)).astype("float32")
    b = rng.normal(10, 5, size=(1, 6, 6, 2)).astype("float32")
    layer = InstanceNormalization()
    alone = np.asarray(layer(a))
    together = np.asarray(layer(np.concatenate([a, b])))[:1]
    np.testing.assert_allclose(alone, together, rtol=1e-5, atol=1e-6)


def test_instance_norm_equals_keras_group_norm_with_one_group_per_channel():
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 4)).astype("float32")
    ours = InstanceNormalization(affine=False)(x)
    keras_gn = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False)(x)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(keras_gn), rtol=1e-4, atol=1e-5)


def test_the_networks_instance_norm_is_keras_group_norm_and_exact_under_mixed_precision():
    layer = norm_layer("instance")
    assert isinstance(layer, keras.layers.GroupNormalization) and layer.groups == -1
    x = np.random.default_rng(6).normal(100, 50, size=(2, 6, 6, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(x)), _numpy_instance_norm(x), rtol=1e-4, atol=1e-4)
    assert layer.weights == []                      # no scale or offset: the pinned parameter counts hold
    half = keras.layers.GroupNormalization(groups=-1, center=False, scale=False, epsilon=1e-5, dtype="mixed_float16")
    y = half(keras.ops.cast(x, "float16"))          # statistics in float32 inside
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    np.testing.assert_allclose(np.asarray(y, dtype="float32"), _numpy_instance_norm(x), atol=2e-2)


def test_instance_norm_affine_has_weights_and_non_affine_has_none():
    aff = InstanceNormalization(affine=True)
    aff.build((None, 4, 4, 3))
    assert sum(int(np.prod(w.shape)) for w in aff.weights) == 6
    plain = InstanceNormalization()
    plain.build((None, 4, 4, 3))
    assert plain.weights == []


def test_instance_norm_rejects_non_images():
    with pytest.raises(ValueError, match="batch, height, width, channels"):
        InstanceNormalization()(np.zeros((2, 3), "float32"))


def test_reflection_padding_mirrors_the_border():
    x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    y = np.asarray(ReflectionPadding2D(1)(x))[0, :, :, 0]
    assert y.shape == (5, 5)
    # Row above the image mirrors row 1 (not row 0): [4, 3, 4, 5, 4].
    np.testing.assert_array_equal(y[0], [4, 3, 4, 5, 4])
    np.testing.assert_array_equal(y[1:4, 1:4], x[0, :, :, 0])


def test_reflection_padding_rejects_negative():
    with pytest.raises(ValueError, match="non-negative"):
        ReflectionPadding2D((-1, 2))


def test_layers_round_trip_through_a_keras_file(tmp_path):
    inp = keras.Input((8, 8, 3))
    x = ReflectionPadding2D((2, 1))(inp)
    out = InstanceNormalization(affine=True)(x)
    model = keras.Model(inp, out)
    model.layers[-1].gamma.assign(np.linspace(0.5, 2.0, 3).astype("float32"))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(3).normal(size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)
    assert loaded.layers[1].padding == (2, 1) and loaded.layers[2].affine is True


def test_instance_norm_keeps_float16_under_mixed_precision():
    x = keras.ops.cast(np.random.default_rng(4).normal(100, 50, size=(1, 4, 4, 2)), "float16")
    y = InstanceNormalization(dtype="mixed_float16")(x)   # statistics in float32 inside
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    assert np.isfinite(np.asarray(y, dtype="float32")).all()


def test_residual_block_adds_its_input():
    inp = keras.Input((8, 8, 4))
    model = keras.Model(inp, residual_block(inp, 4, name="r"))
    for w in model.weights:  # all-zero convs make F(x) = 0, so the block is the identity
        w.assign(np.zeros(w.shape, "float32"))
    x = np.random.default_rng(5).normal(size=(1, 8, 8, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), x, atol=1e-6)


def test_conv_block_shapes_and_bias_rule():
    inp = keras.Input((16, 16, 3))
    down = keras.Model(inp, conv_block(inp, 8, norm="batch", name="d"))
    up = keras.Model(inp, conv_block(inp, 8, norm="instance", transpose=True, name="u"))
    assert down.output_shape == (None, 8, 8, 8) and up.output_shape == (None, 32, 32, 8)
    assert down.get_layer("d_conv").use_bias is False       # batch norm replaces the bias
    assert up.get_layer("u_conv").use_bias is True          # non-affine instance norm keeps it
    with pytest.raises(ValueError, match="norm must be one of"):
        conv_block(inp, 8, norm="layer")


def test_conv_bias_before_instance_norm_is_inert():
    """The CycleGAN code keeps these biases (they count in 11,378,179) but mean subtraction cancels them."""
    from course_utils import models

    g = models.resnet_generator(32, filters=8, n_blocks=2)
    x = np.random.default_rng(6).normal(size=(1, 32, 32, 3)).astype("float32")
    before = np.asarray(g(x))
    inert = [l for l in g.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))
             and l.use_bias and l.name != "output"]            # every conv followed by instance norm
    assert len(inert) == 1 + 2 + 2 * 2 + 2
    for layer in inert:
        layer.bias.assign(np.random.default_rng(7).normal(size=layer.bias.shape).astype("float32"))
    np.testing.assert_allclose(np.asarray(g(x)), before, atol=1e-5)
    g.get_layer("output").bias.assign(np.full(3, 0.5, "float32"))   # the last bias is not normalised away
    assert np.abs(np.asarray(g(x)) - before).max() > 0.01


def test_pack_samples_joins_consecutive_rows():
    x = np.arange(12, dtype="float32").reshape(6, 2)
    y = np.asarray(PackSamples(3)(x))
    np.testing.assert_array_equal(y, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    np.testing.assert_array_equal(np.asarray(PackSamples(1)(x)), x)


def test_pack_samples_rejects_a_batch_it_cannot_split_and_a_bad_pack():
    with pytest.raises(ValueError, match="multiple of 4"):
        PackSamples(4)(np.zeros((6, 2), "float32"))
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="pack must be a positive int"):
            PackSamples(bad)


@pytest.mark.parametrize("kernel, same_as_keras", [(4, True), (3, False)])
def test_conv_block_with_pytorchs_padding(kernel, same_as_keras):
    """padding=1 is PyTorch's: one pixel on every side (conv), cropped likewise (transposed conv).

    For 4x4 stride 2 that is Keras's "same" too; for 3x3 stride 2 "same" puts the odd pixel at the
    bottom/right, so the two disagree (a one-pixel shift)."""
    x = np.random.default_rng(8).normal(size=(1, 8, 8, 2)).astype("float32")
    for transpose, size in ((False, 4), (True, 16)):
        built = {}
        for padding in (1, "same"):
            inp = keras.Input((8, 8, 2))
            built[padding] = keras.Model(inp, conv_block(inp, 3, kernel_size=kernel, norm="none", activation=None,
                                                         transpose=transpose, padding=padding))
        assert built[1].output_shape == built["same"].output_shape == (None, size, size, 3)
        built["same"].set_weights(built[1].get_weights())
        close = np.allclose(np.asarray(built[1](x)), np.asarray(built["same"](x)), atol=1e-5)
        assert close == same_as_keras, (kernel, transpose)
    with pytest.raises(ValueError, match="padding=2 is too large"):
        conv_block(keras.Input((8, 8, 2)), 3, kernel_size=3, transpose=True, padding=2)


def test_batch_norm_epsilon_can_be_pytorchs():
    assert norm_layer("batch").epsilon == 1e-3 and norm_layer("batch", epsilon=1e-5).epsilon == 1e-5
