import math

import numpy as np
import pytest

from course_utils import losses

LOG2 = math.log(2.0)


def f(x):
    return float(np.asarray(x))


def test_bce_at_zero_logits_is_log_two():
    # D(x) = sigmoid(0) = 0.5: -log 0.5 = log 2 for either label.
    assert f(losses.bce_with_logits(1.0, np.zeros(4))) == pytest.approx(LOG2)
    assert f(losses.bce_with_logits(0.0, np.zeros(4))) == pytest.approx(LOG2)


def test_bce_hand_computed():
    logits = np.array([2.0, -1.0], "float32")
    # label 1: -log(sigmoid(l)) = log(1 + e^-l)
    expected = (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(1.0))) / 2
    assert f(losses.bce_with_logits(1.0, logits)) == pytest.approx(expected, rel=1e-6)


def test_bce_is_stable_for_huge_logits():
    assert f(losses.bce_with_logits(1.0, np.array([1e4], "float32"))) == pytest.approx(0.0, abs=1e-6)
    assert f(losses.bce_with_logits(0.0, np.array([1e4], "float32"))) == pytest.approx(1e4, rel=1e-6)


def test_bce_discriminator_and_generator_losses():
    real = np.array([[3.0], [1.0]], "float32")
    fake = np.array([[-2.0], [0.0]], "float32")
    sp = lambda x: math.log1p(math.exp(x))   # softplus
    d_expected = (sp(-3) + sp(-1)) / 2 + (sp(-2) + sp(0)) / 2   # real->1, fake->0
    g_expected = (sp(2) + sp(0)) / 2                            # fake->1 (non-saturating)
    assert f(losses.bce_discriminator_loss(real, fake)) == pytest.approx(d_expected, rel=1e-6)
    assert f(losses.discriminator_loss(real, fake, "bce", halve=True)) == pytest.approx(d_expected / 2, rel=1e-6)
    assert f(losses.bce_generator_loss(fake)) == pytest.approx(g_expected, rel=1e-6)
    assert f(losses.generator_loss(fake, "bce")) == pytest.approx(g_expected, rel=1e-6)


def test_one_sided_label_smoothing_by_hand():
    # Real target 0.9: per element -0.9 log s(l) - 0.1 log(1 - s(l)) = 0.9 softplus(-l) + 0.1 softplus(l);
    # the fakes' target stays 0 (one-sided, Salimans et al. 2016).
    real = np.array([[3.0], [1.0]], "float32")
    fake = np.array([[-2.0], [0.0]], "float32")
    sp = lambda x: math.log1p(math.exp(x))
    real_part = (0.9 * sp(-3) + 0.1 * sp(3) + 0.9 * sp(-1) + 0.1 * sp(1)) / 2
    fake_part = (sp(-2) + sp(0)) / 2
    assert f(losses.discriminator_loss(real, fake, "bce", real_label=0.9)) == pytest.approx(real_part + fake_part, rel=1e-6)
    assert f(losses.bce_discriminator_loss(real, fake, 1.0)) == pytest.approx(f(losses.bce_discriminator_loss(real, fake)))
    # The smoothed loss no longer rewards an ever larger real logit: its minimum is at logit(0.9) = log 9.
    at = lambda l: f(losses.bce_discriminator_loss(np.array([l], "float32"), np.array([-50.0], "float32"), 0.9))
    assert at(math.log(9)) < at(math.log(9) + 1) and at(math.log(9)) < at(math.log(9) - 1)
    assert at(math.log(9) + 5) > at(math.log(9))
    # least squares: (1.5 - 0.9)^2, (0.5 - 0.9)^2 -> (0.36 + 0.16) / 2 = 0.26; fakes 0.10 as below
    assert f(losses.lsgan_discriminator_loss(np.array([1.5, 0.5], "float32"), np.array([0.2, -0.4], "float32"),
                                             0.9)) == pytest.approx(0.36, rel=1e-6)


@pytest.mark.parametrize("label", [0.5, 0.0, 1.1, -1.0])
def test_a_real_label_outside_half_to_one_is_refused_with_its_purpose(label):
    with pytest.raises(ValueError, match="one-sided label smoothing"):
        losses.discriminator_loss(np.zeros(2), np.zeros(2), real_label=label)


def test_lsgan_losses_hand_computed():
    real = np.array([1.5, 0.5], "float32")    # (0.5^2 + 0.5^2) / 2 = 0.25
    fake = np.array([0.2, -0.4], "float32")   # (0.04 + 0.16) / 2 = 0.10
    assert f(losses.lsgan_discriminator_loss(real, fake)) == pytest.approx(0.35, rel=1e-6)
    assert f(losses.discriminator_loss(real, fake, "lsgan", halve=True)) == pytest.approx(0.175, rel=1e-6)
    # generator: ((0.2-1)^2 + (-0.4-1)^2) / 2 = (0.64 + 1.96) / 2 = 1.3
    assert f(losses.lsgan_generator_loss(fake)) == pytest.approx(1.3, rel=1e-6)
    assert f(losses.generator_loss(fake, "lsgan")) == pytest.approx(1.3, rel=1e-6)


def test_perfect_discriminator_and_fooled_discriminator():
    big = np.full((2, 30, 30, 1), 50.0, "float32")
    assert f(losses.bce_discriminator_loss(big, -big)) == pytest.approx(0.0, abs=1e-6)
    assert f(losses.lsgan_generator_loss(np.ones((3, 3)))) == 0.0


def test_unknown_form_is_explained():
    with pytest.raises(ValueError, match="least squares"):
        losses.generator_loss(np.zeros(2), form="wgan")


def test_pix2pix_generator_loss_parts():
    fake_logits = np.zeros((1, 30, 30, 1), "float32")          # adversarial part = log 2
    generated = np.zeros((1, 4, 4, 3), "float32")
    target = np.full((1, 4, 4, 3), 0.5, "float32")             # L1 = 0.5
    total, adv, l1 = losses.pix2pix_generator_loss(fake_logits, generated, target)
    assert f(adv) == pytest.approx(LOG2, rel=1e-6)
    assert f(l1) == pytest.approx(0.5)
    assert f(total) == pytest.approx(LOG2 + 100 * 0.5, rel=1e-6)
    total_ls, adv_ls, _ = losses.pix2pix_generator_loss(fake_logits, generated, target, l1_weight=10, form="lsgan")
    assert f(adv_ls) == 1.0 and f(total_ls) == pytest.approx(6.0)


def test_cycle_and_identity_weights():
    x = np.zeros((2, 4, 4, 3), "float32")
    cycled = np.full_like(x, -0.1)                              # |x - F(G(x))| = 0.1
    assert f(losses.cycle_consistency_loss(x, cycled)) == pytest.approx(1.0, rel=1e-5)      # 10 * 0.1
    assert f(losses.identity_loss(x, cycled)) == pytest.approx(0.5, rel=1e-5)              # 5 * 0.1
    assert f(losses.cycle_consistency_loss(x, cycled, weight=2.0)) == pytest.approx(0.2, rel=1e-5)


def test_losses_are_float32_for_float16_inputs():
    import keras

    logits = keras.ops.cast(np.array([300.0, -300.0]), "float16")
    out = losses.bce_generator_loss(logits)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert f(out) == pytest.approx(150.0, rel=1e-3)
