"""The exercises of lesson 01, GAN basics: each one's reference, inputs, hint and known mistakes.

:mod:`course_utils.exercises` gathers :data:`EXERCISES` from here into the course's registry.
"""

from __future__ import annotations

import numpy as np

from course_utils.checkers import Exercise
from course_utils.exercise_sets._common import _bce, _sigmoid


def _logit_pair(rng):
    return (rng.normal(0, 3, size=(16, 1)).astype("float32"), rng.normal(0, 3, size=(16, 1)).astype("float32"))


def _logits(rng):
    return (rng.normal(0, 3, size=(16, 1)).astype("float32"),)


def _ref_d_loss(real_logits, fake_logits):
    from course_utils import losses
    return losses.discriminator_loss(real_logits, fake_logits, form="bce", halve=False)


def _ref_g_loss(fake_logits):
    from course_utils import losses
    return losses.generator_loss(fake_logits, form="bce")


EXERCISES: list[Exercise] = [
    Exercise(
        "01.discriminator_loss", _ref_d_loss, inputs=_logit_pair,
        hint="Go back to the formula for L_D above: which label does each kind of input get, and how "
             "are the two terms combined?",
        mistakes=(
            (lambda r, f: _bce(0.0, r) + _bce(1.0, f),
             "Your loss is smallest when D calls real images fake and fakes real: look at which label "
             "goes with which logits."),
            (lambda r, f: 0.5 * (_bce(1.0, r) + _bce(0.0, f)),
             "Your value is exactly half the expected one: look at how you combine the two terms."),
            (lambda r, f: _bce(1.0, _sigmoid(r)) + _bce(0.0, _sigmoid(f)),
             "The logits seem to go through a sigmoid before the BCE; look at what bce_from_logits "
             "expects as its input."),
            (lambda r, f: _bce(1.0, r), "Only the real logits seem to count: where do the fakes come in?"),
        )),
    Exercise(
        "01.generator_loss", _ref_g_loss, inputs=_logits,
        hint="Reread section 5: which label does the non-saturating loss give to the fakes, and in which "
             "direction should the loss push D(G(z))?",
        mistakes=(
            (lambda f: _bce(0.0, f),
             "This is the discriminator's target for the fakes; the generator wants the opposite verdict."),
            (lambda f: -_bce(0.0, f),
             "This is the saturating minimax form, log(1 - D(G(z))): reread why section 5 replaces it."),
            (lambda f: _bce(1.0, _sigmoid(f)),
             "The logits seem to go through a sigmoid before the BCE; look at what bce_from_logits expects."),
        )),
]
