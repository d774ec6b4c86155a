"""The exercises of lesson 02, Pix2Pix: each one's reference, inputs, hint and known mistakes.

:mod:`course_utils.exercises` gathers :data:`EXERCISES` from here into the course's registry.
"""

from __future__ import annotations

import numpy as np

from course_utils.checkers import Exercise
from course_utils.exercise_sets._common import _bce, _mean_abs


def _ref_receptive_field(layer_list):
    from course_utils.models import receptive_field_size
    return receptive_field_size(layer_list)


def _random_layers(rng):
    n = int(rng.integers(1, 7))
    return ([(int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(0, 3))) for _ in range(n)],)


def _ref_pix2pix_g_loss(fake_logits, generated, target, l1_weight=100.0):
    from course_utils import losses
    return tuple(losses.pix2pix_generator_loss(fake_logits, generated, target, l1_weight))


def _pix2pix_inputs(rng):
    fake_logits = rng.normal(0, 2, size=(2, 6, 6, 1)).astype("float32")
    generated, target = rng.uniform(-1, 1, size=(2, 2, 32, 32, 3)).astype("float32")
    return fake_logits, generated, target, float(rng.choice([100.0, 10.0, 1.0]))


def _ref_upsample_with_skip(x, skip, filters, dropout=False):
    import keras
    from course_utils.layers import conv_block
    up = conv_block(x, filters, transpose=True, norm="batch", activation="relu", dropout=0.5 if dropout else 0.0)
    return keras.layers.Concatenate()([up, skip])


EXERCISES: list[Exercise] = [
    Exercise(
        "02.upsample_with_skip", _ref_upsample_with_skip,
        builds=(([(4, 4, 32), (8, 8, 16)], {"filters": 16, "dropout": True}),
                ([(4, 4, 32), (8, 8, 16)], {"filters": 16, "dropout": False})),
        hint="Compare your block with the description above, one step at a time: the kind of convolution "
             "and its stride, the order of batch norm, dropout and ReLU, when dropout is there at all, and "
             "what is joined to what at the end."),
    Exercise(
        "02.receptive_field", _ref_receptive_field, inputs=_random_layers, trials=8,
        hint="Start from one output cell and apply the formula once per layer; check in which order you "
             "visit the layers.",
        mistakes=(
            (lambda layer_list: _ref_receptive_field(list(reversed(list(layer_list)))),
             "You seem to walk the layers from the input to the output; the formula takes the field at a "
             "layer's output back to its input."),
            (lambda layer_list: _ref_receptive_field([(k, 1, p) for k, s, p in layer_list]),
             "Your answer does not change when the strides do: look at what a stride does to the field."),
        )),
    Exercise(
        "02.generator_loss", _ref_pix2pix_g_loss, inputs=_pix2pix_inputs,
        hint="Compare each of your three results with the formula for L_G: the adversarial term, the "
             "unweighted L1 term, and the total that weights them.",
        mistakes=(
            (lambda fl, g, t, w=100.0: (_bce(0.0, fl) + w * _mean_abs(t, g), _bce(0.0, fl), _mean_abs(t, g)),
             "Your adversarial term uses the discriminator's label for fakes; the generator wants the "
             "opposite verdict."),
            (lambda fl, g, t, w=100.0: (_bce(1.0, fl) + w * _mean_abs(t, g), _bce(1.0, fl), w * _mean_abs(t, g)),
             "Your third result looks weighted: reread what the exercise asks `l1` to be."),
            (lambda fl, g, t, w=100.0: (_bce(1.0, fl) + 100.0 * _mean_abs(t, g), _bce(1.0, fl), _mean_abs(t, g)),
             "Your total does not follow the `l1_weight` argument: look for a number written in by hand."),
        )),
]
