"""Tests of the inference convention: per-image batch norm, dropout off, exports that keep it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from course_utils import inference, models, train

SIZE = 16


def _scramble_batch_norm(model: keras.Model, seed: int = 1) -> None:
    """Give every batch-norm layer gammas of both signs, offsets and moving statistics far from 0/1."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.normal(0.0, 1.5, n))           # some negative
            layer.beta.assign(rng.normal(0.0, 0.5, n))
            layer.moving_mean.assign(rng.normal(0.0, 2.0, n))
            layer.moving_variance.assign(rng.uniform(0.1, 5.0, n))


def _images(n: int = 3, size: int = SIZE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)).astype("float32")


@pytest.fixture
def unet() -> keras.Model:
    g = models.unet_generator(SIZE, filters=4, dropout=0.0)
    _scramble_batch_norm(g)
    return g


def test_per_image_statistics_equal_batch_norm_training_at_batch_one(unet):
    x = _images()
    expected = np.concatenate([unet(x[i:i + 1], training=True).numpy() for i in range(len(x))])
    np.testing.assert_allclose(inference.translate(unet, x), expected, atol=2e-5)


def test_result_does_not_depend_on_the_batch_size(unet):
    x = _images(5)
    whole = inference.translate(unet, x, batch_size=5)
    np.testing.assert_allclose(inference.translate(unet, x, batch_size=1), whole, atol=1e-5)
    np.testing.assert_allclose(inference.translate(unet, x, batch_size=2), whole, atol=1e-5)
    one = inference.translate(unet, x[0])     # a single (h, w, c) image
    assert one.shape == x[0].shape
    np.testing.assert_allclose(one, whole[0], atol=1e-5)


def test_keras_inference_mode_uses_moving_statistics_and_differs(unet):
    x = _images()
    assert np.abs(unet(x, training=False).numpy() - inference.translate(unet, x)).max() > 0.05


def test_dropout_is_off_so_results_repeat():
    g = models.unet_generator(SIZE, filters=4, dropout=0.5)
    x = _images()
    np.testing.assert_array_equal(inference.translate(g, x), inference.translate(g, x))
    # ... while the training-mode pass (dropout on) is random:
    assert np.abs(g(x, training=True).numpy() - g(x, training=True).numpy()).max() > 1e-4


def test_inference_model_shares_the_generators_weights(unet):
    x = _images()
    model = inference.inference_model(unet)
    assert inference.inference_model(unet) is model                     # cached
    assert {id(v) for v in model.trainable_variables} <= {id(v) for v in unet.trainable_variables}
    before = inference.translate(unet, x)
    unet.layers[1].kernel.assign(unet.layers[1].kernel * 0.5)           # "training" changes a weight
    assert np.abs(inference.translate(unet, x) - before).max() > 1e-4   # and the inference model sees it
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)


def test_moving_statistics_are_never_touched(unet):
    bn = next(layer for layer in unet.layers if isinstance(layer, keras.layers.BatchNormalization))
    mean = bn.moving_mean.numpy().copy()
    inference.translate(unet, _images())
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mean)


def test_generators_without_batch_norm_and_noise_generators_are_left_alone():
    resnet = models.resnet_generator(SIZE, n_blocks=1, filters=4)
    assert inference.inference_model(resnet) is resnet
    dcgan = models.dcgan_generator(latent_dim=8, base_filters=8)
    assert not inference.is_image_to_image(dcgan)
    assert inference.inference_model(dcgan) is dcgan


def test_small_cyclegan_generator_with_batch_norm_runs_per_image():
    g = models.small_cyclegan_generator(SIZE, conv_dim=4, n_res_blocks=1)
    _scramble_batch_norm(g)
    x = _images(2)
    expected = np.concatenate([g(x[i:i + 1], training=True).numpy() for i in range(2)])
    np.testing.assert_allclose(inference.translate(g, x), expected, atol=2e-5)


def test_mixed_precision_stays_close_to_float32(unet):
    x = _images()
    reference = inference.translate(unet, x)
    with train.precision("mixed_float16"):
        half = models.unet_generator(SIZE, filters=4, dropout=0.0)
    half.set_weights(unet.get_weights())
    out = inference.translate(half, x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference, atol=0.05)


@pytest.mark.parametrize("bad, hint", [(200.0, "data.normalize"), (np.nan, "NaN")])
def test_images_out_of_range_are_refused_with_the_fix(unet, bad, hint):
    x = _images()
    x[0, 0, 0, 0] = bad
    with pytest.raises(ValueError, match=hint):
        inference.translate(unet, x)


def test_wrong_size_and_bad_batch_size_are_refused(unet):
    with pytest.raises(ValueError, match="resize"):
        inference.translate(unet, _images(size=SIZE * 2))
    with pytest.raises(ValueError, match="batch_size"):
        inference.translate(unet, _images(), batch_size=0)
    with pytest.raises(ValueError, match=r"one image \(H, W, C\) or a batch \(N, H, W, C\)"):
        inference.translate(unet, np.zeros((2, 3)))


def test_exportable_copy_uses_only_keras_layers_and_matches(unet):
    copy = inference.exportable_generator(unet)
    kinds = {type(layer).__name__ for layer in copy.layers}
    assert "BatchNormalization" not in kinds and "GroupNormalization" in kinds
    assert copy.count_params() < unet.count_params()    # the moving statistics are gone
    x = _images()
    np.testing.assert_allclose(copy(x).numpy(), inference.translate(unet, x), atol=1e-5)


@pytest.mark.slow  # saves and loads .keras files
def test_exported_file_translates_correctly_with_plain_keras(unet, tmp_path):
    """The exported .keras file, loaded in a fresh process that never imports course_utils."""
    x = _images()
    expected = inference.translate(unet, x)
    path = inference.export_generator(unet, tmp_path / "generator.keras")
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(f"""
        import json, sys, numpy as np, keras
        model = keras.models.load_model({str(path)!r}, compile=False)
        y = np.asarray(model(np.load({str(tmp_path / 'x.npy')!r})))
        np.save({str(tmp_path / 'y.npy')!r}, y)
        print(json.dumps({{"course_utils": "course_utils" in sys.modules}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"course_utils": False}
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, atol=1e-5)


def test_exported_resnet_generator_with_keras_instance_norm_loads_and_translates_identically(tmp_path):
    resnet = models.resnet_generator(SIZE, n_blocks=1, filters=4)
    x = _images(2)
    path = inference.export_generator(resnet, tmp_path / "generator_g.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generator_g.keras"]    # no temporary file left
    loaded = keras.saving.load_model(path, compile=False)
    assert sum(isinstance(l, keras.layers.GroupNormalization) for l in loaded.layers) == 7   # stem, 2 down, 2 in the block, 2 up
    np.testing.assert_array_equal(np.asarray(loaded(x)), inference.translate(resnet, x))


def test_export_refuses_other_suffixes(unet, tmp_path):
    with pytest.raises(ValueError, match=".keras"):
        inference.export_generator(unet, tmp_path / "generator.h5")
