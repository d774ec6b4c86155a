"""course_utils.core.images: the one place that converts, coerces and checks image ranges."""

import numpy as np
import pytest
import tensorflow as tf

from course_utils import images


def test_uint8_round_trip_is_exact_for_every_pixel_value():
    pixels = np.arange(256, dtype=np.uint8)
    signed = images.from_uint8(pixels)
    assert signed.dtype == np.float32
    assert signed[0] == -1.0 and signed[255] == 1.0
    assert signed[51] == pytest.approx(51 / 127.5 - 1)           # -0.6
    np.testing.assert_array_equal(images.to_uint8(signed), pixels)


def test_to_uint8_rounds_to_nearest_and_clips():
    # (x + 1) * 127.5: -1 -> 0, 0 -> 127.5 -> 128 (half to even gives 128), 1 -> 255.
    got = images.to_uint8([-1.5, -1.0, -0.996, 0.0, 0.999, 1.0, 3.0])
    assert got.dtype == np.uint8
    # -0.996 -> 0.51 -> 1; 0.999 -> 254.87 -> 255; out of range is clipped, never wrapped around.
    assert got.tolist() == [0, 0, 1, 128, 255, 255, 255]


def test_to_unit_and_to_signed_are_inverse_on_the_range_and_to_unit_clips():
    x = np.array([-1.0, -0.5, 0.0, 0.25, 1.0])
    unit = images.to_unit(x)
    assert unit.dtype == np.float32
    np.testing.assert_allclose(unit, [0.0, 0.25, 0.5, 0.625, 1.0])
    np.testing.assert_allclose(images.to_signed(unit), x)
    # Display clips what strays outside [-1, 1]; to_signed does not clip (check_range catches it).
    np.testing.assert_array_equal(images.to_unit([-1.2, 1.2]), [0.0, 1.0])
    np.testing.assert_allclose(images.to_signed([1.5]), [2.0])


def test_as_numpy_reads_tensors_variables_and_lists():
    assert images.as_numpy(tf.constant([[1, 2]])).dtype == np.float32
    np.testing.assert_array_equal(images.as_numpy(tf.Variable([0.5, -0.5])), [0.5, -0.5])
    assert images.as_numpy([1, 2], np.float64).dtype == np.float64
    already = np.zeros(3, np.float32)
    assert images.as_numpy(already) is already                    # no copy when nothing changes
    with pytest.raises(ValueError, match="prediction must be an array or tensor of numbers, got str"):
        images.as_numpy("not an image", name="prediction")


def test_check_range_accepts_the_tolerance_and_refuses_just_beyond_it():
    edge = 1.0 + images.RANGE_TOLERANCE
    images.check_range(np.array([-edge, edge]))
    with pytest.raises(ValueError, match=r"lie in \[0, 1.002\]"):
        images.check_range(np.array([0.0, 1.0 + 2 * images.RANGE_TOLERANCE]), "samples")
    with pytest.raises(ValueError, match=r"\[-1.01"):
        images.check_range(np.array([-1.01, 0.0]))


def test_check_range_messages_name_the_argument_and_the_fix():
    with pytest.raises(ValueError) as err:
        images.check_range(np.array([0.0, 255.0]), "target")
    text = str(err.value)
    assert "target" in text and "0..255 pixels" in text
    assert "x / 127.5 - 1" in text and "images.from_uint8" in text and "data.normalize" in text
    # Slightly too bright [0, 1]-ish values get the [0, 1] advice, without the 0..255 guess.
    with pytest.raises(ValueError) as err:
        images.check_range(np.array([0.0, 1.5]))
    assert "x * 2 - 1" in str(err.value) and "0..255 pixels" not in str(err.value)
    with pytest.raises(ValueError, match="NaN or infinite values in fake"):
        images.check_range(np.array([0.0, np.inf]), "fake")


def test_check_range_returns_the_array_and_lets_an_empty_batch_through():
    checked = images.check_range(tf.constant([[0.5]]), dtype=np.float64)
    assert isinstance(checked, np.ndarray) and checked.dtype == np.float64 and checked[0, 0] == 0.5
    assert images.check_range(np.zeros((0, 4, 4, 3))).shape == (0, 4, 4, 3)


def test_ssim_fits_from_11_pixels_on_both_sides():
    assert images.ssim_fits(11, 11) and images.ssim_fits(256, 11)
    assert not images.ssim_fits(10, 64) and not images.ssim_fits(64, 10)


def test_as_batch_adds_the_batch_axis_to_one_image_and_refuses_other_shapes():
    one = np.zeros((4, 5, 3))
    assert images.as_batch(one).shape == (1, 4, 5, 3)
    batch = np.zeros((2, 4, 5, 1), np.float32)
    assert images.as_batch(batch) is batch
    with pytest.raises(ValueError, match=r"target must be one image \(H, W, C\) or a batch .* got shape \(4, 5\).*x\[\.\.\., None\]"):
        images.as_batch(np.zeros((4, 5)), "target")


def test_unit_to_uint8_rounds_and_clips():
    got = images.unit_to_uint8([[-0.5, 0.0, 0.5, 1.0, 1.5, 0.499 / 255]])
    np.testing.assert_array_equal(got, [[0, 0, 128, 255, 255, 0]])
    assert got.dtype == np.uint8


def test_tile_puts_each_picture_in_its_cell_with_white_gaps():
    a, b, c = (np.full((2, 3, 1), v, np.float32) for v in (0.0, 0.25, 0.5))
    grid = images.tile([[a, b], [c]], gap=1)
    assert grid.shape == (2 * 2 + 1, 2 * 3 + 1, 1)
    np.testing.assert_array_equal(grid[:2, :3], a)
    np.testing.assert_array_equal(grid[:2, 4:], b)
    np.testing.assert_array_equal(grid[3:, :3], c)
    assert (grid[2] == 1).all() and (grid[:, 3] == 1).all() and (grid[3:, 4:] == 1).all()   # gaps, empty cell
