"""Numbers that judge a GAN: paired quality, distribution distance and mode coverage.

Read this module top to bottom as an appendix to the lessons.

1. **Paired results** (Pix2Pix, and the shipped unpaired set whose true answer is known):
   :func:`mean_l1`, :func:`psnr` and :func:`ssim` compare a prediction with its target.
2. **CycleGAN**: the cycle error is :func:`mean_l1` of ``x`` and ``F(G(x))`` (the cycle loss
   without its weight), and :func:`correspondence_error` how far ``G(x)`` lands from the known
   true translation.
3. **Distributions**: :func:`kid_from_features` is the kernel inception distance between two
   sets of features, and :func:`kernel_inception_distance` computes it from images with
   InceptionV3 (or any extractor you pass). :func:`frechet_inception_distance` is FID, from the
   same features.
4. **Mode collapse**: :func:`mode_coverage` counts how many modes of a 2-D mixture (lesson
   01's ring of Gaussians, :mod:`course_utils.lessons.ring`) a generator covers.

Conventions. Images are float arrays or tensors, channels last, in **[-1, 1]** (the range of a
``tanh`` generator), either one image ``(H, W, C)`` or a batch ``(N, H, W, C)``. Every function
here accepts NumPy arrays and TensorFlow tensors alike and returns plain Python floats (or a
small dataclass), so the numbers print nicely in a notebook.

TensorFlow is imported only inside the functions that need it, so ``import course_utils.core.metrics``
is instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from course_utils.core.images import SSIM_MIN_SIZE, as_batch, as_numpy, check_range, ssim_fits, to_unit
from course_utils.core.counts import positive_int

ArrayLike = Any  # a NumPy array, a tf.Tensor, or anything np.asarray understands


# ---------------------------------------------------------------------------
# 0. Turning whatever the learner has into checked NumPy images (see course_utils.core.images).
# ---------------------------------------------------------------------------
def _as_image_batch(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a float64 batch ``(N, H, W, C)`` in [-1, 1] (float64: the metrics sum many small numbers)."""
    arr = as_batch(x, name, np.float64)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    return check_range(arr, name, np.float64)


def _paired(a: ArrayLike, b: ArrayLike, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Two checked image batches of the same shape."""
    x, y = _as_image_batch(a, names[0]), _as_image_batch(b, names[1])
    if x.shape != y.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape to be compared pixel by pixel; "
                         f"got {x.shape} and {y.shape}. Resize one of them, or pair the right images.")
    return x, y


# ---------------------------------------------------------------------------
# 1. Paired metrics: L1, PSNR, SSIM.
# ---------------------------------------------------------------------------
def mean_l1(prediction: ArrayLike, target: ArrayLike) -> float:
    """Mean absolute difference between two images (or batches) in [-1, 1].

    This is the L1 term of the Pix2Pix generator loss, measured on held-out pairs. It lies in
    [0, 2]: 0 for identical images, 2 for black against white.
    """
    x, y = _paired(prediction, target, ("prediction", "target"))
    return float(np.mean(np.abs(x - y)))


def psnr(prediction: ArrayLike, target: ArrayLike, *, per_image: bool = False) -> float | np.ndarray:
    """Peak signal-to-noise ratio in decibels; higher is better.

    ``PSNR = 10 log10(MAX^2 / MSE)``, computed per image and then averaged over the batch.
    We use ``MAX = 2``, the width of the [-1, 1] range. That gives exactly the same number as
    converting both images to [0, 1] and using ``MAX = 1`` (both the squared error and ``MAX^2``
    shrink by 4), so our values match tables that report PSNR on [0, 1] or [0, 255] images.

    Identical images have zero error and an **infinite** PSNR; that is returned as ``inf``
    (the batch mean is ``inf`` if any image is identical to its target).

    Args:
        prediction, target: images ``(H, W, C)`` or batches ``(N, H, W, C)`` in [-1, 1].
        per_image: return the array of per-image values instead of their mean.
    """
    x, y = _paired(prediction, target, ("prediction", "target"))
    values = np.asarray(psnr_per_image(x, y), np.float64)
    return values if per_image else float(np.mean(values))


def psnr_per_image(prediction: ArrayLike, target: ArrayLike) -> Any:
    """The PSNR formula itself, per image of two batches in [-1, 1] (``MAX = 2``), unchecked.

    Written with ``keras.ops`` so the same line serves :func:`psnr` (NumPy, float64) and the
    trainers' ``evaluate`` inside ``tf.function`` (:class:`course_utils.core.train.Pix2Pix`); an
    identical pair gives ``inf``. Returns a tensor of shape ``(N,)``.
    """
    from keras import ops

    mse = ops.mean(ops.square(prediction - target), axis=(1, 2, 3))
    return 10.0 * ops.log10(2.0**2 / mse)


def ssim(prediction: ArrayLike, target: ArrayLike, *, per_image: bool = False) -> float | np.ndarray:
    """Structural similarity (Wang et al. 2004); 1 means identical, higher is better.

    The standard settings: an 11x11 Gaussian window with sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``,
    averaged over the image and over channels (``tf.image.ssim``). SSIM's luminance term is not
    shift invariant, so the range matters: we **convert [-1, 1] to [0, 1] and use max_val = 1**,
    the convention of most published tables.

    Images must be at least 11 pixels on each side (the window's size).

    Args:
        prediction, target: images ``(H, W, C)`` or batches ``(N, H, W, C)`` in [-1, 1].
        per_image: return the array of per-image values instead of their mean.
    """
    x, y = _paired(prediction, target, ("prediction", "target"))
    if not ssim_fits(x.shape[1], x.shape[2]):
        raise ValueError(f"SSIM uses an {SSIM_MIN_SIZE}x{SSIM_MIN_SIZE} window, so images must be at least that "
                         f"large; got {x.shape[1]}x{x.shape[2]}. Compare larger images, or use mean_l1 / psnr for tiny ones.")
    import tensorflow as tf

    values = tf.image.ssim(tf.constant(to_unit(x)), tf.constant(to_unit(y)), max_val=1.0).numpy().astype(np.float64)
    return values if per_image else float(np.mean(values))


# ---------------------------------------------------------------------------
# 2. CycleGAN: there and back again (``mean_l1(x, F(G(x)))``, the cycle loss without its
#    weight), and against the known truth.
# ---------------------------------------------------------------------------
def correspondence_error(translated: ArrayLike, truth: ArrayLike | Callable[[Any], ArrayLike], *,
                         inputs: ArrayLike | None = None, metric: str = "l1") -> float:
    """How far translations land from the true answer, for data whose answer is known.

    Real unpaired sets (horses and zebras) have no right answer to compare with. The course's
    shipped unpaired set is made by a known transformation, so there we *can* measure the
    error of ``G(x)`` against the true ``y``. Pass the true targets as an array, or pass the
    function that computes them together with the ``inputs`` it needs::

        correspondence_error(G(x), y_true)
        correspondence_error(G(x), lambda imgs: data.true_translation(imgs, "AtoB"), inputs=x)

    Args:
        translated: ``G(x)``, images or a batch in [-1, 1].
        truth: the true targets, or a callable mapping ``inputs`` to them.
        inputs: the source images ``x``; required when ``truth`` is a callable.
        metric: ``"l1"`` (mean absolute error, lower is better), ``"psnr"`` or ``"ssim"``
            (higher is better).
    """
    if callable(truth):
        if inputs is None:
            raise ValueError("truth is a function, so pass the source images it translates: "
                             "correspondence_error(translated, truth_fn, inputs=x).")
        truth = truth(inputs)
    metrics: dict[str, Callable[[ArrayLike, ArrayLike], float]] = {"l1": mean_l1, "psnr": psnr, "ssim": ssim}
    if metric not in metrics:
        raise ValueError(f"metric must be one of {sorted(metrics)}, got {metric!r}.")
    return float(metrics[metric](translated, truth))


# ---------------------------------------------------------------------------
# 3. Kernel inception distance.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class KIDResult:
    """A KID estimate and the sample counts it came from.

    Attributes:
        value: the KID estimate (the mean over subsets when subsets were used).
        std: the standard deviation over subsets, or ``None`` with a single estimate.
        n_real, n_fake: how many real and generated samples went in. Small sets make KID noisy,
            so always report them next to the value.
        subsets, subset_size: how the estimate was averaged (``1`` and ``None`` for one estimate
            on all samples).
    """

    value: float
    std: float | None
    n_real: int
    n_fake: int
    subsets: int = 1
    subset_size: int | None = None

    def __str__(self) -> str:
        spread = "" if self.std is None else f" +/- {self.std:.4g}"
        return f"KID = {self.value:.4g}{spread} (n_real={self.n_real}, n_fake={self.n_fake})"

    def __float__(self) -> float:
        return float(self.value)


def polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The cubic kernel of KID, ``k(x, y) = (x . y / d + 1) ** 3``, for all pairs of rows."""
    d = a.shape[1]
    return (a @ b.T / d + 1.0) ** 3


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased squared MMD with the cubic kernel (Gretton et al. 2012, eq. 3)."""
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    # The unbiased estimator leaves out each sample compared with itself: drop the diagonals.
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float(sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2.0 * k_xy.sum() / (m * n))


def _as_features(x: ArrayLike, name: str) -> np.ndarray:
    arr = as_numpy(x, np.float64, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a feature matrix (N samples, D features); got shape {arr.shape}. "
                         "Flatten or pool the extractor's output, e.g. a global average pooling layer.")
    if len(arr) < 2:
        raise ValueError(f"{name} needs at least 2 samples for the unbiased estimate; got {len(arr)}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def _feature_pair(a: ArrayLike, b: ArrayLike, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Two checked feature matrices with the same number of features."""
    x, y = _as_features(a, names[0]), _as_features(b, names[1])
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{names[0]} and {names[1]} features must have the same dimension; got {x.shape[1]} "
                         f"and {y.shape[1]}. Extract both with the same feature extractor.")
    return x, y


def kid_from_features(real: ArrayLike, fake: ArrayLike, *, subsets: int | None = None,
                      subset_size: int | None = None, seed: int = 0) -> KIDResult:
    """The kernel inception distance between two feature matrices.

    KID (Binkowski et al. 2018) is the squared maximum mean discrepancy between the two sets with
    the cubic polynomial kernel ``k(x, y) = (x . y / d + 1) ** 3``, where ``d`` is the feature
    dimension. Unlike FID its estimator is **unbiased**: the average over many draws is the true
    distance, so values near zero (even slightly negative) mean "no detectable difference".

    With ``subsets`` the estimate is repeated on random subsets of ``subset_size`` samples from
    each set (drawn without replacement), as in the paper (100 subsets of 1000 there), and the
    mean and standard deviation over subsets are reported.

    Args:
        real, fake: feature matrices of shape ``(N, D)`` (same ``D``; ``N`` may differ).
        subsets: number of random subsets; ``None`` for one estimate on all samples.
        subset_size: samples per subset; defaults to the smaller set's size.
        seed: seed of the subset draws, for reproducible numbers.
    """
    x, y = _feature_pair(real, fake, ("real", "fake"))
    if subsets is None:
        if subset_size is not None:
            raise ValueError("subset_size only makes sense together with subsets=<how many>.")
        return KIDResult(_mmd2_unbiased(x, y), None, len(x), len(y))
    positive_int(subsets, "subsets")
    size = min(len(x), len(y)) if subset_size is None else int(subset_size)
    if not 2 <= size <= min(len(x), len(y)):
        raise ValueError(f"subset_size must be between 2 and the smaller set's size ({min(len(x), len(y))}); "
                         f"got {size}.")
    rng = np.random.default_rng(seed)
    values = [_mmd2_unbiased(x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)])
              for _ in range(subsets)]
    return KIDResult(float(np.mean(values)), float(np.std(values)), len(x), len(y), subsets, size)


def _sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix, by ``numpy.linalg.eigh``.

    Rounding can leave tiny negative eigenvalues in a PSD matrix: they are clipped to 0.
    """
    sym = (matrix + matrix.T) / 2.0
    values, vectors = np.linalg.eigh(sym)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_inception_distance(features_a: ArrayLike, features_b: ArrayLike) -> float:
    """FID (Heusel et al. 2017) between two feature matrices: the Frechet distance of two Gaussians.

    Each set is summarised by its mean ``mu`` and covariance ``S`` (``np.cov``, divided by ``N - 1``), and

        FID = |mu_a - mu_b|^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a^(1/2) S_b S_a^(1/2))^(1/2)).

    The last trace equals ``Tr((S_a S_b)^(1/2))`` of the usual formula; written this way it needs only
    square roots of symmetric positive semi-definite matrices (by eigen-decomposition), which stay real
    and stable where a general matrix square root of ``S_a S_b`` can turn complex from rounding. With
    fewer samples than features the same trace is the sum of the singular values of an ``(N_a, N_b)``
    matrix (see the code), which is exact and much cheaper than two ``(D, D)`` decompositions.

    Unlike KID, this estimate is **biased**: computed from two finite samples of the *same*
    distribution it is above 0, by more the fewer samples there are (Binkowski et al. 2018). Only
    compare FIDs computed with the same extractor and the same number of samples.

    Args:
        features_a, features_b: feature matrices ``(N, D)`` with the same ``D`` (``N`` may differ),
            e.g. InceptionV3's 2048 pool features from :func:`inception_feature_extractor`.

    Returns:
        The distance, a float >= 0 (up to rounding); symmetric in its two arguments.
    """
    a, b = _feature_pair(features_a, features_b, ("features_a", "features_b"))
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    centred_a = (a - mu_a) / np.sqrt(len(a) - 1)             # S_a = centred_a.T @ centred_a
    centred_b = (b - mu_b) / np.sqrt(len(b) - 1)
    if min(len(a), len(b)) < a.shape[1]:
        # Fewer samples than features (2,048 Inception features, a hundred test images): the eigenvalues of
        # S_a^(1/2) S_b S_a^(1/2) are the squared singular values of centred_a @ centred_b.T, an (N_a, N_b)
        # matrix, so the trace of its square root is that matrix's sum of singular values.
        cross = float(np.linalg.svd(centred_a @ centred_b.T, compute_uv=False).sum())
    else:
        cov_a, cov_b = centred_a.T @ centred_a, centred_b.T @ centred_b
        root_a = _sqrtm_psd(cov_a)
        cross = float(np.trace(_sqrtm_psd(root_a @ cov_b @ root_a)))
    value = float(np.sum((mu_a - mu_b) ** 2) + np.sum(centred_a ** 2) + np.sum(centred_b ** 2) - 2.0 * cross)
    return max(value, 0.0)


#: The Keras application and input size behind "Inception features".
INCEPTION_INPUT_SIZE = 299
_INCEPTION_CACHE: dict[str, Callable[[Any], Any]] = {}


def inception_feature_extractor() -> Callable[[Any], np.ndarray]:
    """InceptionV3's 2048 pool features for images in [-1, 1] (downloads ImageNet weights once).

    The returned function resizes a batch to 299x299 (bilinear), repeats a single grey channel
    three times, and runs ``keras.applications.InceptionV3(include_top=False, pooling="avg")``.
    InceptionV3 expects inputs in [-1, 1], which is already our range.

    Raises:
        RuntimeError: when the weights cannot be downloaded, with the ways to fix it.
    """
    if "inception" in _INCEPTION_CACHE:
        return _INCEPTION_CACHE["inception"]
    import keras
    import tensorflow as tf

    try:
        model = keras.applications.InceptionV3(include_top=False, weights="imagenet", pooling="avg",
                                               input_shape=(INCEPTION_INPUT_SIZE, INCEPTION_INPUT_SIZE, 3))
    except Exception as err:  # keras raises plain Exception on a failed download
        raise RuntimeError(
            "Could not load InceptionV3's ImageNet weights (they are downloaded on first use, "
            f"about 90 MB): {err}\nFixes: run this on Colab or another machine with internet access; "
            "or copy inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 into ~/.keras/models/; "
            "or pass your own extractor: kernel_inception_distance(real, fake, feature_extractor=f), "
            "where f maps a batch of images to an (N, D) feature matrix.") from err

    def extract(images: Any) -> np.ndarray:
        x = tf.convert_to_tensor(images, tf.float32)
        if x.shape[-1] == 1:
            x = tf.repeat(x, 3, axis=-1)
        x = tf.image.resize(x, (INCEPTION_INPUT_SIZE, INCEPTION_INPUT_SIZE), method="bilinear")
        return model(x, training=False).numpy()

    _INCEPTION_CACHE["inception"] = extract
    return extract


def stand_in_feature_extractor(dim: int = 64, seed: int = 0) -> Callable[[Any], np.ndarray]:
    """A download-free stand-in for Inception features: a fixed, untrained convolutional network.

    Three strided 3x3 convolutions with ReLU (widths ``dim // 4``, ``dim // 2``, ``dim``) and a global
    average pool, with weights drawn from ``seed``: the same images always give the same ``(N, dim)``
    features. Such features carry colour and local texture, not ImageNet's notion of content, so KID
    and FID computed from them are comparable only with each other. The smoke profile uses it where
    InceptionV3's weights cannot be downloaded.
    """
    positive_int(dim, "dim")
    key = f"stand-in-{dim}-{seed}"
    if key in _INCEPTION_CACHE:
        return _INCEPTION_CACHE[key]
    import keras

    init = lambda i: keras.initializers.HeNormal(seed=seed + i)   # noqa: E731
    model = keras.Sequential([keras.Input((None, None, 3))] + [
        keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu", kernel_initializer=init(i))
        for i, width in enumerate((max(dim // 4, 1), max(dim // 2, 1), dim))] + [keras.layers.GlobalAveragePooling2D()])

    def extract(images: Any) -> np.ndarray:
        return np.asarray(model(np.asarray(images, np.float32), training=False))

    _INCEPTION_CACHE[key] = extract
    return extract


def _extract_features(extractor: Callable[[Any], Any], images: np.ndarray, batch_size: int, name: str) -> np.ndarray:
    """Run ``extractor`` over ``images`` in batches and stack the features."""
    chunks = []
    for start in range(0, len(images), batch_size):
        out = extractor(images[start : start + batch_size].astype(np.float32))
        out = as_numpy(out, np.float64, f"the features of {name}")
        if out.ndim != 2 or len(out) != len(images[start : start + batch_size]):
            raise ValueError(f"feature_extractor must map a batch of N images to an (N, D) feature matrix; "
                             f"got shape {out.shape} for {min(batch_size, len(images) - start)} images. "
                             "Add global pooling or a Flatten layer at the end of the extractor.")
        chunks.append(out)
    return np.concatenate(chunks, axis=0)


def kernel_inception_distance(real: ArrayLike, fake: ArrayLike, feature_extractor: Callable[[Any], Any] | None = None,
                              *, batch_size: int = 32, subsets: int | None = None, subset_size: int | None = None,
                              seed: int = 0) -> KIDResult:
    """KID between real and generated images (lower is better; ~0 means indistinguishable).

    Features come from InceptionV3 (ImageNet weights, 2048 pool features at 299x299) by default,
    which needs the weights to be downloadable (fine on Colab). Any other ``feature_extractor``
    works: a Keras model or a function mapping a batch ``(N, H, W, C)`` in [-1, 1] to ``(N, D)``.
    KID values are only comparable when computed with the same extractor.

    Args:
        real, fake: image batches in [-1, 1] (their sizes may differ).
        feature_extractor: ``None`` for InceptionV3, or your own callable.
        batch_size: images per call of the extractor.
        subsets, subset_size, seed: see :func:`kid_from_features`.

    Returns:
        A :class:`KIDResult` with the value, its spread and the sample counts.
    """
    x, y = _as_image_batch(real, "real"), _as_image_batch(fake, "fake")
    positive_int(batch_size, "batch_size")
    extractor = inception_feature_extractor() if feature_extractor is None else feature_extractor
    if not callable(extractor):
        raise ValueError("feature_extractor must be callable: a Keras model or a function images -> features.")
    fx = _extract_features(extractor, x, batch_size, "real")
    fy = _extract_features(extractor, y, batch_size, "fake")
    return kid_from_features(fx, fy, subsets=subsets, subset_size=subset_size, seed=seed)


# ---------------------------------------------------------------------------
# 4. Mode collapse on the 2-D ring of Gaussians.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ModeCoverage:
    """How many modes a set of 2-D samples covers.

    Attributes:
        modes_covered: how many modes got at least ``min_count`` high-quality samples.
        n_modes: how many modes there are.
        high_quality_rate: the fraction of samples within ``threshold`` of their nearest centre.
        counts: high-quality samples per mode, shape ``(n_modes,)``.
        covered: which modes are covered, a boolean array ``(n_modes,)``.
        n_samples: how many samples were judged.
    """

    modes_covered: int
    n_modes: int
    high_quality_rate: float
    counts: np.ndarray
    covered: np.ndarray
    n_samples: int

    def __str__(self) -> str:
        return (f"{self.modes_covered}/{self.n_modes} modes covered, "
                f"{100 * self.high_quality_rate:.1f}% high-quality samples (n={self.n_samples})")


def mode_coverage(samples: ArrayLike, centers: ArrayLike, std: float, threshold: float | None = None, *,
                  min_count: int = 20) -> ModeCoverage:
    """Modes covered and high-quality-sample rate of 2-D samples from a Gaussian mixture.

    A sample is **high quality** when it lies within ``threshold`` (default three standard
    deviations) of its nearest centre, as in Srivastava et al. (2017, VEEGAN). A mode is
    **covered** when at least ``min_count`` high-quality samples fall on it; the default 20
    follows Lin et al. (2018, PacGAN), who judge 2,500 samples. With few samples lower it, and
    always report it.

    Args:
        samples: generated points, shape ``(N, 2)``.
        centers: the mixture's centres, shape ``(K, 2)`` (e.g. :func:`ring_centers`).
        std: the mixture's standard deviation.
        threshold: the high-quality distance; ``3 * std`` when ``None``.
        min_count: high-quality samples a mode needs to count as covered.
    """
    pts, ctr = as_numpy(samples, np.float64, "samples"), as_numpy(centers, np.float64, "centers")
    if pts.ndim != 2 or ctr.ndim != 2 or pts.shape[1] != ctr.shape[1]:
        raise ValueError(f"samples (N, D) and centers (K, D) must be matrices with the same D; "
                         f"got {pts.shape} and {ctr.shape}.")
    if len(pts) == 0:
        raise ValueError("samples is empty: draw some samples from the generator first.")
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}.")
    positive_int(min_count, "min_count")
    if len(pts) < min_count * len(ctr):
        raise ValueError(f"With {len(pts)} samples even a perfect generator cannot put {min_count} on each of "
                         f"{len(ctr)} modes. Draw at least {min_count * len(ctr)} samples or lower min_count.")
    limit = 3.0 * std if threshold is None else float(threshold)
    distances = np.linalg.norm(pts[:, None, :] - ctr[None, :, :], axis=-1)  # (N, K)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(pts)), nearest] <= limit
    counts = np.bincount(nearest[good], minlength=len(ctr))
    covered = counts >= min_count
    return ModeCoverage(modes_covered=int(covered.sum()), n_modes=len(ctr), high_quality_rate=float(good.mean()),
                        counts=counts, covered=covered, n_samples=len(pts))


