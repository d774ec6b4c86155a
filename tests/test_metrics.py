"""Known-answer tests for course_utils.core.metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils import metrics, ring


def _images(n: int = 2, size: int = 16, channels: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.8, 0.8, size=(n, size, size, channels)).astype(np.float32)


# --- paired metrics ---------------------------------------------------------------------
def test_mean_l1_of_a_constant_offset_is_the_offset():
    x = _images()
    assert metrics.mean_l1(x + 0.1, x) == pytest.approx(0.1, abs=1e-6)
    assert metrics.mean_l1(x, x) == 0.0


def test_psnr_of_a_constant_offset_matches_the_formula():
    x = _images()
    # MSE = 0.2^2 on a range of width 2: 10 log10(4 / 0.04) = 20 dB.
    assert metrics.psnr(x + 0.2, x) == pytest.approx(20.0, abs=1e-4)
    # The same images in [0, 1] with max 1 give the same number (documented convention).
    mse01 = np.mean((((x + 0.2) + 1) / 2 - (x + 1) / 2) ** 2)
    assert metrics.psnr(x + 0.2, x) == pytest.approx(10 * math.log10(1 / mse01), abs=1e-4)


def test_psnr_identical_is_infinite_and_per_image_has_one_value_each():
    x = _images(n=3)
    assert metrics.psnr(x, x) == math.inf
    y = x.copy()
    y[1] += 0.1
    per = metrics.psnr(y, x, per_image=True)
    assert per.shape == (3,)
    assert per[0] == math.inf and per[1] == pytest.approx(10 * math.log10(4 / 0.01), abs=1e-4)


def test_psnr_accepts_tensors():
    tf = pytest.importorskip("tensorflow")
    x = _images()
    assert metrics.psnr(tf.constant(x + 0.2), tf.constant(x)) == pytest.approx(20.0, abs=1e-4)


def test_psnr_per_image_is_the_one_formula_in_numpy_and_inside_tf_function():
    tf = pytest.importorskip("tensorflow")
    x = _images()
    y = x.copy()
    y[1] += 0.1                      # MSE 0.01 on image 1; image 0 identical
    graph = tf.function(metrics.psnr_per_image)(tf.constant(y, tf.float32), tf.constant(x, tf.float32)).numpy()
    assert graph[0] == math.inf and graph[1] == pytest.approx(10 * math.log10(4 / 0.01), abs=1e-3)
    assert graph == pytest.approx(metrics.psnr(y, x, per_image=True), abs=1e-3)


def test_ssim_identical_is_one_and_noise_lowers_it():
    x = _images()
    assert metrics.ssim(x, x) == pytest.approx(1.0, abs=1e-6)
    noisy = np.clip(x + np.random.default_rng(1).normal(0, 0.3, x.shape), -1, 1)
    assert metrics.ssim(noisy, x) < 0.9


def test_ssim_of_flat_images_is_the_luminance_term_on_0_1():
    # Flat images have no contrast, so SSIM is (2 mx my + C1) / (mx^2 + my^2 + C1) with
    # [-1, 1] mapped to [0, 1] (0 -> 0.5, 0.2 -> 0.6) and C1 = (0.01 * 1)^2.
    a = np.zeros((1, 16, 16, 1), np.float32)
    b = a + 0.2
    c1 = 0.01**2
    expected = (2 * 0.5 * 0.6 + c1) / (0.5**2 + 0.6**2 + c1)
    # (float32 variances of a flat image are not exactly 0, hence the tolerance; the other
    # convention, max_val=2 on [-1, 1], would give about 0.01.)
    assert metrics.ssim(b, a) == pytest.approx(expected, abs=1e-3)


def _ssim_numpy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """SSIM written out from Wang et al. (2004), eq. 13, independently of TensorFlow.

    Images in [0, 1], an 11x11 Gaussian window (sigma 1.5) applied without padding, C1 = (0.01)^2,
    C2 = (0.03)^2; the SSIM map is averaged over positions and then over channels, per image.
    """
    k = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    k /= k.sum()

    def blur(a):  # separable "valid" Gaussian filter over height and width of (N, H, W, C)
        a = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 1, a)
        return np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 2, a)

    c1, c2 = 0.01**2, 0.03**2
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return ssim_map.mean(axis=(1, 2)).mean(axis=-1)


def test_ssim_matches_the_formula_written_out_in_numpy():
    # Textured images, so the contrast and structure terms count too (not only luminance).
    x = _images(n=2, size=24)
    y = np.clip(0.7 * x + np.random.default_rng(2).normal(0, 0.2, x.shape), -1, 1).astype(np.float32)
    want = _ssim_numpy((x.astype(np.float64) + 1) / 2, (y.astype(np.float64) + 1) / 2)
    assert 0.2 < want.min() and want.max() < 0.9                        # a discriminating case
    np.testing.assert_allclose(metrics.ssim(y, x, per_image=True), want, atol=2e-4)


def test_inputs_out_of_range_or_mismatched_raise_teaching_errors():
    x = _images()
    with pytest.raises(ValueError, match="127.5"):
        metrics.psnr(x * 127.5 + 127.5, x)
    with pytest.raises(ValueError, match="same shape"):
        metrics.mean_l1(x, x[:1])
    with pytest.raises(ValueError, match="11x11"):
        metrics.ssim(x[:, :8, :8], x[:, :8, :8])


# --- CycleGAN ---------------------------------------------------------------------------
def test_correspondence_error_known_answers():
    x = _images()

    def truth(imgs):  # the "known true translation": a colour flip
        return -np.asarray(imgs)

    translated = -x + 0.1
    assert metrics.correspondence_error(translated, -x) == pytest.approx(0.1, abs=1e-6)
    assert metrics.correspondence_error(translated, truth, inputs=x) == pytest.approx(0.1, abs=1e-6)
    assert metrics.correspondence_error(translated, truth, inputs=x, metric="psnr") == pytest.approx(
        10 * math.log10(4 / 0.01), abs=1e-3
    )
    with pytest.raises(ValueError, match="inputs=x"):
        metrics.correspondence_error(translated, truth)


# --- KID --------------------------------------------------------------------------------
def _kid_by_loops(a: np.ndarray, b: np.ndarray) -> float:
    """The unbiased MMD^2 with the cubic kernel, written out term by term."""
    d = a.shape[1]

    def k(u, v):
        return (sum(ui * vi for ui, vi in zip(u, v)) / d + 1) ** 3

    m, n = len(a), len(b)
    xx = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(b[i], b[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a[i], b[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_a_hand_written_loop_on_tiny_features():
    a = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    b = np.array([[1.0, 1.0], [0.0, 2.0], [2.0, 0.0], [1.5, 0.5]])
    result = metrics.kid_from_features(a, b)
    assert result.value == pytest.approx(_kid_by_loops(a, b), rel=1e-12)
    assert (result.n_real, result.n_fake, result.std) == (3, 4, None)


def test_kid_is_near_zero_for_the_same_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same = metrics.kid_from_features(a, b).value
    shifted = metrics.kid_from_features(a, b + 1.0).value
    assert abs(same) < 0.05
    assert shifted > 1.0
    assert metrics.kid_from_features(a, a + 0.5).value < shifted


def test_kid_subsets_report_mean_std_and_counts():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(60, 4)), rng.normal(size=(50, 4)) + 1.0
    r = metrics.kid_from_features(a, b, subsets=10, subset_size=20, seed=3)
    assert (r.n_real, r.n_fake, r.subsets, r.subset_size) == (60, 50, 10, 20)
    assert r.std is not None and r.std > 0
    assert r.value == pytest.approx(metrics.kid_from_features(a, b, subsets=10, subset_size=20, seed=3).value)
    assert "n_real=60" in str(r)
    with pytest.raises(ValueError, match="subset_size"):
        metrics.kid_from_features(a, b, subsets=2, subset_size=51)


def _mean_std_extractor(images):
    """A fixed, tiny feature extractor: per-channel mean and standard deviation."""
    x = np.asarray(images)
    return np.concatenate([x.mean(axis=(1, 2)), x.std(axis=(1, 2))], axis=1)


def test_kernel_inception_distance_with_a_custom_extractor():
    real, other = _images(n=40, size=8, seed=0), _images(n=40, size=8, seed=1)
    close = metrics.kernel_inception_distance(real, other, _mean_std_extractor, batch_size=7)
    far = metrics.kernel_inception_distance(real, np.clip(other + 0.5, -1, 1), _mean_std_extractor)
    assert abs(close.value) < far.value / 10
    assert (close.n_real, close.n_fake) == (40, 40)
    assert close.value == pytest.approx(
        metrics.kid_from_features(_mean_std_extractor(real), _mean_std_extractor(other)).value
    )
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        metrics.kernel_inception_distance(real, other, lambda x: np.asarray(x))


def test_missing_inception_weights_raise_an_error_that_names_the_fix(monkeypatch):
    keras = pytest.importorskip("keras")

    def no_download(*args, **kwargs):
        raise Exception("URL fetch failure on https://example.invalid/weights.h5")

    monkeypatch.setattr(keras.applications, "InceptionV3", no_download)
    monkeypatch.setattr(metrics, "_INCEPTION_CACHE", {})
    with pytest.raises(RuntimeError, match="feature_extractor="):
        metrics.kernel_inception_distance(_images(n=2), _images(n=2, seed=1))


# --- mode coverage ----------------------------------------------------------------------
def test_mode_coverage_on_constructed_samples():
    centers = ring.ring_centers(8, 2.0)
    on_modes = np.concatenate([np.repeat(centers[:3], 20, axis=0), np.repeat(centers[3:4], 19, axis=0)])
    far = np.repeat(centers[4:5] * 1.1, 101, axis=0)  # 0.2 = 10 std away from mode 4: low quality
    cov = metrics.mode_coverage(np.concatenate([on_modes, far]), centers, std=0.02)
    assert cov.modes_covered == 3  # the fourth mode has only 19 < 20 samples
    assert cov.counts.tolist() == [20, 20, 20, 19, 0, 0, 0, 0]
    assert cov.covered.tolist() == [True] * 3 + [False] * 5
    assert cov.high_quality_rate == pytest.approx(79 / 180)
    assert "3/8 modes" in str(cov)
    # A wider threshold turns the far points into high-quality samples of mode 4.
    wide = metrics.mode_coverage(np.concatenate([on_modes, far]), centers, 0.02, threshold=0.25)
    assert wide.modes_covered == 4 and wide.high_quality_rate == 1.0
    with pytest.raises(ValueError, match="min_count"):
        metrics.mode_coverage(on_modes[:10], centers, std=0.02)


# --- FID --------------------------------------------------------------------------------
def _diagonal_gaussian_features(mean, variance, n=4):
    """Features whose sample mean and sample covariance (np.cov, N - 1) are exactly mean and diag(variance)."""
    d = len(mean)
    # +-sqrt(v (n - 1) / n) in each dimension, on an orthogonal pattern: zero mean, diagonal covariance.
    signs = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float)[:, :d]
    return np.asarray(mean) + signs * np.sqrt(np.asarray(variance) * (n - 1) / n)


def test_fid_matches_the_closed_form_of_diagonal_covariances():
    mu_a, var_a = [0.0, 1.0, -2.0], [1.0, 4.0, 0.25]
    mu_b, var_b = [0.5, 1.0, 0.0], [9.0, 1.0, 0.25]
    a, b = _diagonal_gaussian_features(mu_a, var_a), _diagonal_gaussian_features(mu_b, var_b)
    np.testing.assert_allclose(np.cov(a, rowvar=False), np.diag(var_a), atol=1e-12)
    # By hand: sum (mu diff)^2 = 0.25 + 0 + 4 = 4.25; sum (sqrt s1 - sqrt s2)^2 = 4 + 1 + 0 = 5.
    assert metrics.frechet_inception_distance(a, b) == pytest.approx(9.25, abs=1e-9)


def test_fid_is_zero_for_a_set_with_itself_symmetric_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8))      # correlated features
    b = rng.normal(size=(200, 8)) * 2.0
    assert metrics.frechet_inception_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert metrics.frechet_inception_distance(a, b) == pytest.approx(metrics.frechet_inception_distance(b, a), rel=1e-9)
    assert metrics.frechet_inception_distance(a, a + 1.0) == pytest.approx(8.0, rel=1e-9)   # |mu diff|^2 = 8 x 1


def test_fid_is_biased_upwards_on_small_samples_where_kid_is_not():
    rng = np.random.default_rng(1)
    small = [metrics.frechet_inception_distance(rng.normal(size=(20, 16)), rng.normal(size=(20, 16)))
             for _ in range(20)]
    large = [metrics.frechet_inception_distance(rng.normal(size=(400, 16)), rng.normal(size=(400, 16)))
             for _ in range(5)]
    kid = [metrics.kid_from_features(rng.normal(size=(20, 16)), rng.normal(size=(20, 16))).value for _ in range(20)]
    assert np.mean(small) > 3 * np.mean(large) > 0
    assert abs(np.mean(kid)) < 3 * np.std(kid) / np.sqrt(len(kid))


def test_fid_refuses_mismatched_or_broken_features():
    with pytest.raises(ValueError, match="same dimension"):
        metrics.frechet_inception_distance(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        metrics.frechet_inception_distance(np.zeros((1, 3)), np.zeros((4, 3)))


def test_the_stand_in_extractor_is_fixed_by_its_seed_and_feeds_kid_and_fid():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, size=(6, 16, 16, 3)).astype(np.float32)
    f = metrics.stand_in_feature_extractor(dim=8, seed=3)
    a = f(images)
    assert a.shape == (6, 8) and np.array_equal(a, metrics.stand_in_feature_extractor(dim=8, seed=3)(images))
    assert not np.allclose(a, metrics.stand_in_feature_extractor(dim=8, seed=4)(images))
    assert metrics.frechet_inception_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert np.isfinite(metrics.kernel_inception_distance(images, images[::-1], feature_extractor=f).value)


def test_fid_with_fewer_samples_than_features_agrees_with_the_covariance_route():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(12, 30)), rng.normal(0.3, 2.0, size=(9, 30))      # N < D: the singular-value route
    mu = np.sum((a.mean(0) - b.mean(0)) ** 2)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = metrics._sqrtm_psd(cov_a)
    by_covariances = mu + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(metrics._sqrtm_psd(root_a @ cov_b @ root_a))
    assert metrics.frechet_inception_distance(a, b) == pytest.approx(by_covariances, rel=1e-8)
