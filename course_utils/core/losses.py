r"""The losses of GANs, Pix2Pix and CycleGAN, all computed from logits.

A discriminator here ends in a linear layer: it outputs a *logit* :math:`\ell`,
and :math:`D = \sigma(\ell)` is the probability it gives to "real". Working from
logits is numerically safer than taking ``log`` of a sigmoid.

Two adversarial forms:

* **bce** (binary cross-entropy, Goodfellow et al. 2014). The discriminator
  minimises :math:`-\log D(y) - \log(1 - D(G(x)))`; the generator minimises the
  *non-saturating* :math:`-\log D(G(x))`, i.e. BCE with the "real" label on fakes.
* **lsgan** (least squares, Mao et al. 2017; used by CycleGAN). With raw outputs
  :math:`\ell`: the discriminator minimises :math:`(\ell(y) - 1)^2 + \ell(G(x))^2`,
  the generator :math:`(\ell(G(x)) - 1)^2`.

Both papers halve the discriminator loss ("we divide the objective by 2 while
optimizing D", Isola et al. 2017), which slows D relative to G; ``halve=True``
does that. The DCGAN tutorial does not halve.

Everything is averaged over all elements (every patch of a PatchGAN), and
computed in float32, also when the model runs in mixed precision.
"""

from __future__ import annotations

from typing import NamedTuple

from keras import ops

#: The papers' loss weights, written once (the model configs and the functions below default to them):
#: lambda_L1 of Pix2Pix (Isola et al. 2017), lambda of CycleGAN's cycle terms and half of it for the
#: identity terms (Zhu et al. 2017).
L1_WEIGHT = 100.0
CYCLE_WEIGHT = 10.0
IDENTITY_WEIGHT = 0.5 * CYCLE_WEIGHT

FORMS = ("bce", "lsgan")


def _f32(x):
    return ops.cast(x, "float32")


def check_form(form: str, name: str = "form") -> str:
    """Return ``form`` if it is one of :data:`FORMS`; otherwise a ``ValueError`` naming ``name``.

    The one check of a loss form in the package: the loss functions below and the trainers'
    ``compile(loss_form=...)`` (``name="loss_form"``) both use it.
    """
    if form not in FORMS:
        raise ValueError(f"{name} must be 'bce' (binary cross-entropy) or 'lsgan' (least squares), got {form!r}.")
    return form


def bce_with_logits(labels, logits):
    r"""Mean binary cross-entropy of ``logits`` against ``labels`` (0 or 1).

    Per element: :math:`\max(\ell, 0) - \ell t + \log(1 + e^{-|\ell|})`, the stable
    form of :math:`-t\log\sigma(\ell) - (1-t)\log(1-\sigma(\ell))`.
    """
    logits = _f32(logits)
    labels = ops.broadcast_to(_f32(labels), ops.shape(logits))
    per_element = ops.relu(logits) - logits * labels + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.mean(per_element)


# ---------------------------------------------------------------------------
# Adversarial losses
# ---------------------------------------------------------------------------
def check_real_label(real_label: float) -> float:
    """Return ``real_label`` if it is in (0.5, 1]; otherwise a ``ValueError`` that says what it is for.

    1 is the plain loss. Slightly less, e.g. 0.9, is *one-sided label smoothing* (Salimans et al.
    2016, sec. 3.4): the discriminator is asked for 90 % confidence on real images, never 100 %,
    so it cannot grow its real logits without bound, and the fakes' label stays 0.
    """
    label = float(real_label)
    if not 0.5 < label <= 1.0:
        raise ValueError(f"real_label must be in (0.5, 1]: 1 for the plain loss, about 0.9 for one-sided label "
                         f"smoothing (Salimans et al. 2016); got {real_label!r}. At 0.5 or below the discriminator "
                         f"would be taught that real images are no more real than fakes.")
    return label


def bce_discriminator_loss(real_logits, fake_logits, real_label: float = 1.0):
    """BCE: label real outputs ``real_label`` (1, or 0.9 smoothed) and fake outputs 0, and add the two means."""
    return bce_with_logits(check_real_label(real_label), real_logits) + bce_with_logits(0.0, fake_logits)


def bce_generator_loss(fake_logits):
    """Non-saturating generator loss: BCE of the fakes against the *real* label."""
    return bce_with_logits(1.0, fake_logits)


def lsgan_discriminator_loss(real_logits, fake_logits, real_label: float = 1.0):
    """Least squares: push real outputs to ``real_label`` (1 unless smoothed) and fake outputs to 0."""
    real_logits, fake_logits = _f32(real_logits), _f32(fake_logits)
    return ops.mean(ops.square(real_logits - check_real_label(real_label))) + ops.mean(ops.square(fake_logits))


def lsgan_generator_loss(fake_logits):
    """Least squares: push the discriminator's outputs on fakes to 1."""
    return ops.mean(ops.square(_f32(fake_logits) - 1.0))


def discriminator_loss(real_logits, fake_logits, form: str = "bce", halve: bool = False, real_label: float = 1.0):
    """The discriminator's loss in ``form`` ``"bce"`` or ``"lsgan"``; multiplied by 0.5 if ``halve``.

    ``real_label`` below 1 smooths the real images' target (one-sided: the fakes' stays 0).
    """
    loss = (bce_discriminator_loss if check_form(form) == "bce" else lsgan_discriminator_loss)(
        real_logits, fake_logits, real_label)
    return 0.5 * loss if halve else loss


def generator_loss(fake_logits, form: str = "bce"):
    """The generator's adversarial loss in ``form`` ``"bce"`` or ``"lsgan"``."""
    return (bce_generator_loss if check_form(form) == "bce" else lsgan_generator_loss)(fake_logits)


# ---------------------------------------------------------------------------
# Reconstruction losses
# ---------------------------------------------------------------------------
def l1_loss(a, b):
    """Mean absolute error between two images (or batches)."""
    return ops.mean(ops.abs(_f32(a) - _f32(b)))


class Pix2PixGeneratorLoss(NamedTuple):
    total: object
    adversarial: object
    l1: object


def pix2pix_generator_loss(fake_logits, generated, target, l1_weight: float = L1_WEIGHT,
                           form: str = "bce") -> Pix2PixGeneratorLoss:
    r"""Pix2Pix's generator objective: fool the discriminator and stay close to the target.

    :math:`\mathcal{L}_G = \mathcal{L}_{adv} + \lambda\,\lVert y - G(x)\rVert_1`, :math:`\lambda = 100`.
    Returns ``(total, adversarial, l1)``; ``l1`` is unweighted.
    """
    adv = generator_loss(fake_logits, form)
    l1 = l1_loss(target, generated)
    return Pix2PixGeneratorLoss(adv + l1_weight * l1, adv, l1)


def cycle_consistency_loss(real, cycled, weight: float = CYCLE_WEIGHT):
    r"""One direction of CycleGAN's cycle loss: :math:`\lambda\,\lVert F(G(x)) - x\rVert_1`, :math:`\lambda = 10`.

    The full cycle term adds both directions:
    ``cycle_consistency_loss(x, F(G(x))) + cycle_consistency_loss(y, G(F(y)))``.
    """
    return weight * l1_loss(real, cycled)


def identity_loss(real, same, weight: float = IDENTITY_WEIGHT):
    r"""CycleGAN's identity term for one generator: :math:`0.5\lambda\,\lVert G(y) - y\rVert_1`.

    A generator fed an image already in its output domain should change little;
    this keeps colours from drifting. Weight :math:`0.5 \times 10 = 5`.
    """
    return weight * l1_loss(real, same)
