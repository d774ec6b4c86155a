"""The course's image convention, written once.

Read this module top to bottom as an appendix to the lessons.

Every image a network of the course sees or produces is a float32 array, channels last, with
values in **[-1, 1]**: the range of the ``tanh`` at the end of every generator. Three other
ranges meet it at the edges of the course:

- **[0, 255]** integers (``uint8``): what image files hold. :func:`from_uint8` brings them in,
  :func:`to_uint8` writes them back.
- **[0, 1]** floats: what ``plt.imshow`` expects, and what SSIM tables are computed on.
  :func:`to_unit` and :func:`to_signed` convert in both directions, :func:`unit_to_uint8` writes
  such a picture to a file, and :func:`tile` lays pictures out in a grid.
- Anything else is a mistake, and :func:`check_range` says which conversion fixes it.

:func:`as_numpy` turns whatever a learner holds (a tensor, an array, a list) into a NumPy
array and :func:`as_batch` into a batch ``(N, H, W, C)``. :func:`ssim_fits` is the one rule for
when SSIM can be computed at all (images of at least :data:`SSIM_MIN_SIZE` pixels a side).

Inside a ``tf.data`` pipeline, :func:`course_utils.core.data.normalize` is the graph version of
:func:`from_uint8` (the same ``x / 127.5 - 1``). This module needs only NumPy, so importing
it is instant.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

ArrayLike = Any  # a NumPy array, a tf.Tensor, a list, or anything np.asarray understands


# ---------------------------------------------------------------------------
# 1. Whatever the learner holds, as a NumPy array.
# ---------------------------------------------------------------------------
def as_numpy(x: ArrayLike, dtype: Any = "float32", name: str = "x") -> np.ndarray:
    """``x`` (a tensor, array or nested list of numbers) as a NumPy array of ``dtype``.

    Eager TensorFlow tensors and Keras variables are read with ``.numpy()``; everything else
    goes through ``np.asarray`` (which does not copy an array that already has ``dtype``).

    Raises:
        ValueError: when ``x`` is not numbers (``name`` says which argument it was).
    """
    if hasattr(x, "numpy") and callable(x.numpy):
        x = x.numpy()
    try:
        return np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array or tensor of numbers, got {type(x).__name__}.") from err


def as_batch(x: ArrayLike, name: str = "images", dtype: Any = "float32") -> np.ndarray:
    """One image ``(H, W, C)`` or a batch ``(N, H, W, C)``, channels last, as a batch ``(N, H, W, C)``.

    Raises:
        ValueError: for any other shape, with the fix for the usual one (a grey ``(H, W)`` image).
    """
    arr = as_numpy(x, dtype, name)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(
            f"{name} must be one image (H, W, C) or a batch (N, H, W, C), channels last; got shape {arr.shape}. "
            "For a grey image of shape (H, W) add a channel: x[..., None]."
        )
    return arr


# ---------------------------------------------------------------------------
# 2. Converting between the ranges.
# ---------------------------------------------------------------------------
#: Half of 255: ``x / 127.5 - 1`` maps 0 to -1 and 255 to +1.
UINT8_HALF = 127.5


def from_uint8(x: ArrayLike) -> np.ndarray:
    """Pixels in [0, 255] (``uint8`` or float) -> float32 in [-1, 1]: ``x / 127.5 - 1``."""
    return as_numpy(x) / np.float32(UINT8_HALF) - np.float32(1.0)


def to_uint8(x: ArrayLike) -> np.ndarray:
    """Images in [-1, 1] -> ``uint8`` pixels: ``(x + 1) * 127.5``, rounded, clipped to [0, 255].

    The inverse of :func:`from_uint8`: ``to_uint8(from_uint8(p)) == p`` for every ``uint8`` p.
    """
    return np.clip(np.round((as_numpy(x) + 1.0) * UINT8_HALF), 0, 255).astype(np.uint8)


def to_unit(x: ArrayLike) -> np.ndarray:
    """Images in [-1, 1] -> float32 in [0, 1]: ``(x + 1) / 2``, clipped.

    The clip is for display: a generator's output can stray a hair outside [-1, 1], and
    ``imshow`` warns about anything outside [0, 1].
    """
    return np.clip((as_numpy(x) + 1.0) / 2.0, 0.0, 1.0)


def unit_to_uint8(x: ArrayLike) -> np.ndarray:
    """Pictures in [0, 1] (what :func:`to_unit` returns) -> ``uint8`` pixels for PNG files: ``x * 255``, rounded, clipped."""
    return np.round(np.clip(as_numpy(x), 0.0, 1.0) * 255.0).astype(np.uint8)


def to_signed(x: ArrayLike) -> np.ndarray:
    """Images in [0, 1] -> float32 in [-1, 1]: ``x * 2 - 1`` (not clipped: check_range catches strays)."""
    return as_numpy(x) * np.float32(2.0) - np.float32(1.0)


def tile(rows: Sequence[Sequence[np.ndarray]], gap: int = 2) -> np.ndarray:
    """Pictures (each ``(h, w, c)`` in [0, 1], all the same size) laid out in rows with white gaps.

    The layout of every sample grid of the course (the trainers' ``sample_grid``, the evaluation
    reports): one row per example, one column per stage, e.g. input | target | prediction.
    """
    h, w, c = rows[0][0].shape
    ncols = max(len(r) for r in rows)
    grid = np.ones((len(rows) * (h + gap) - gap, ncols * (w + gap) - gap, c), np.float32)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            grid[i * (h + gap):i * (h + gap) + h, j * (w + gap):j * (w + gap) + w] = img
    return grid


# ---------------------------------------------------------------------------
# 3. Checking that images really are in [-1, 1].
# ---------------------------------------------------------------------------
#: How far outside [-1, 1] a value may stray (float round-off, resizing) before it is refused.
#: Images in [0, 255] miss by far more, which is the mistake the check is there to catch.
RANGE_TOLERANCE = 1e-3


def check_range(x: ArrayLike, name: str = "images", dtype: Any = "float32") -> np.ndarray:
    """``x`` as a NumPy array of ``dtype``, after checking it is finite and in [-1, 1].

    Values may overshoot by :data:`RANGE_TOLERANCE`. An empty array passes (there is nothing
    wrong in it).

    Raises:
        ValueError: on NaN or infinite values, or values outside the range; the message names
            ``name`` and the conversion that fixes the usual cause.
    """
    arr = as_numpy(x, dtype, name)
    if arr.size == 0:
        return arr
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"There are NaN or infinite values in {name}; check the generator's output (or the loss).")
    lo, hi = arr.min(), arr.max()
    limit = lo.dtype.type(1.0 + RANGE_TOLERANCE)   # in the array's precision: 1.001 itself passes
    if lo < -limit or hi > limit:
        looks = " They look like 0..255 pixels." if hi > 2 else ""
        raise ValueError(
            f"The values of {name} lie in [{float(lo):.4g}, {float(hi):.4g}], but the course keeps images "
            f"in [-1, 1] (the range of the generators' tanh).{looks} If they are in [0, 255], convert with "
            "x / 127.5 - 1 (images.from_uint8, or data.normalize in a tf.data pipeline); "
            "if in [0, 1], with x * 2 - 1 (images.to_signed)."
        )
    return arr


# ---------------------------------------------------------------------------
# 4. When SSIM can be computed.
# ---------------------------------------------------------------------------
#: ``tf.image.ssim``'s defaults are the standard constants of Wang et al. (2004): an 11x11
#: Gaussian window with sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``. The course calls it with those
#: defaults on images converted to [0, 1] and ``max_val=1`` (see metrics.ssim). An image smaller
#: than the window on either side has no SSIM.
SSIM_MIN_SIZE = 11


def ssim_fits(height: int, width: int) -> bool:
    """True when an image of ``height`` x ``width`` holds SSIM's 11x11 window (:data:`SSIM_MIN_SIZE`)."""
    return min(int(height), int(width)) >= SSIM_MIN_SIZE
