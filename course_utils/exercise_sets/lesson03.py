"""The exercises of lesson 03, CycleGAN: each one's reference, inputs, hint and known mistakes.

:mod:`course_utils.exercises` gathers :data:`EXERCISES` from here into the course's registry.
"""

from __future__ import annotations

import numpy as np

from course_utils.checkers import Exercise, _fail
from course_utils.exercise_sets._common import _mean_abs


def _ref_cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    from course_utils import losses
    return (losses.cycle_consistency_loss(real_x, cycled_x, weight)
            + losses.cycle_consistency_loss(real_y, cycled_y, weight))


def _ref_identity_term(real_x, same_x, real_y, same_y, weight=5.0):
    from course_utils import losses
    return losses.identity_loss(real_y, same_y, weight) + losses.identity_loss(real_x, same_x, weight)


def _four_images(weight_range):
    def make(rng):
        images = [rng.uniform(-1, 1, (2, 8, 8, 3)).astype("float32") for _ in range(4)]
        return (*images, float(rng.uniform(*weight_range)))
    return make


def _ref_residual_block(x, filters):
    from course_utils.layers import residual_block
    return residual_block(x, filters, norm="instance")


def _check_paper_init(answer):
    """The weights checker copies weights in, so it cannot see the initializer: look at it here."""
    import keras
    block_in = keras.Input((8, 8, 64))
    block = keras.Model(block_in, answer(block_in, 64))
    stds = [float(np.std(w)) for w in block.weights if len(w.shape) == 4]
    if not all(0.015 < s < 0.025 for s in stds):
        _fail("my_residual_block", f"the freshly built kernels have standard deviations "
              f"{', '.join(f'{s:.3f}' for s in stds)}, where a normal with standard deviation 0.02 gives about 0.020.",
              "Look at how your convolutions initialise their kernels: the paper does not use Keras's default.")
    print(f"✅ my_residual_block: kernels drawn with standard deviation 0.02 (measured "
          f"{', '.join(f'{s:.4f}' for s in stds)}).")


EXERCISES: list[Exercise] = [
    Exercise(
        "03.cycle_loss", _ref_cycle_loss, inputs=_four_images((1.0, 20.0)),
        hint="Check the formula for L_cyc: which image is compared with which, with what distance, and "
             "where the weight goes.",
        mistakes=(
            (lambda rx, cx, ry, cy, w=10.0: w * _mean_abs(cx, rx),
             "Only the round trip that starts in X seems to count: where is the one that starts in Y?"),
            (lambda rx, cx, ry, cy, w=10.0: w * (np.mean((cx - rx) ** 2) + np.mean((cy - ry) ** 2)),
             "Your distances look squared: which norm does the cycle loss use?"),
            (lambda rx, cx, ry, cy, w=10.0: w * (_mean_abs(cx, ry) + _mean_abs(cy, rx)),
             "Each round trip should be compared with the image it started from."),
        )),
    Exercise(
        "03.identity_term", _ref_identity_term, inputs=_four_images((1.0, 10.0)),
        hint="Check the formula for L_id: which image each generator's output is compared with, with "
             "what distance, and with what weight.",
        mistakes=(
            (lambda rx, sx, ry, sy, w=5.0: w * (_mean_abs(sy, rx) + _mean_abs(sx, ry)),
             "Compare each generator's output with the image it was given, not with one of the other domain."),
            (lambda rx, sx, ry, sy, w=5.0: w * _mean_abs(sy, ry),
             "Only G's identity term seems to count: where is F's?"),
            (lambda rx, sx, ry, sy, w=5.0: 2 * w * (_mean_abs(sy, ry) + _mean_abs(sx, rx)),
             "Your value is twice the expected one: look at the weight you use."),
        )),
    Exercise(
        "03.my_residual_block", _ref_residual_block, builds=(([(8, 8, 16)], {"filters": 16}),),
        extra=_check_paper_init,
        hint="Compare your block with the description above, one step at a time: the padding and the "
             "convolution's own padding, where the ReLU goes (and where it does not), and what the block "
             "adds at the end."),
]
