"""The exercises of lesson 04, training on a Colab GPU: each one's reference, inputs, hint and known mistakes.

:mod:`course_utils.lessons.exercises` gathers :data:`EXERCISES` from here into the course's registry.
"""

from __future__ import annotations

import numpy as np

from course_utils.lessons.checkers import Exercise


def _ref_linear_decay(step, lr0, constant_steps, decay_steps):
    from course_utils.core import train
    return np.asarray(train.LinearDecay(lr0, constant_steps, decay_steps)(np.asarray(step, np.float32)))


def _decay_inputs(rng):
    # lr0 of 1 or 0.1, not only 2e-4: the comparison's absolute tolerance (1e-5) would hide an off-by-one step
    return rng.integers(0, 400, 16), float(rng.choice([1.0, 0.1, 2e-4])), int(rng.integers(1, 200)), int(rng.integers(1, 200))


def _ref_loss_scale(scale, good_steps, finite, growth_steps=2000):
    """One step of dynamic loss scaling, the rule of ``keras.optimizers.LossScaleOptimizer``.

    (Micikevicius et al. 2018.) When the scaled gradients overflowed (``finite`` is False) the
    update is skipped, the scale halves and the count of finite steps in a row starts again from 0;
    otherwise the update is applied and the count grows, and the step that completes
    ``growth_steps`` finite steps in a row doubles the scale and resets the count.
    Returns ``(new_scale, new_good_steps, apply_update)``.
    """
    if not finite:
        return scale / 2.0, 0, False
    if good_steps + 1 >= growth_steps:
        return scale * 2.0, 0, True
    return scale, good_steps + 1, True


# Every branch of the rule, then a few ordinary steps: (scale, good_steps, finite, growth_steps).
_LOSS_SCALE_CASES = [
    (32768.0, 0, True, 2000), (32768.0, 1998, True, 2000), (32768.0, 1999, True, 2000),
    (32768.0, 1999, False, 2000), (8.0, 3, False, 5), (1.0, 4, True, 5), (4.0, 0, False, 5),
    (2.0, 0, True, 1), (1024.0, 2, True, 4), (1024.0, 3, True, 4), (512.0, 1, False, 4),
]


EXERCISES: list[Exercise] = [
    Exercise(
        "04.linear_decay", _ref_linear_decay, inputs=_decay_inputs,
        hint="Work out three steps by hand: one before constant_steps, one halfway through the decay and "
             "one after it, reading the drawn schedule; compare with what your function returns.",
        mistakes=(
            (lambda step, lr0, c, d: lr0 * (1.0 - (np.asarray(step, np.float64) - c) / d),
             "Your rates go above lr0 before the decay, or below 0 after it: what keeps the fraction "
             "between 0 and 1?"),
            (lambda step, lr0, c, d: lr0 * np.clip(1.0 - np.asarray(step, np.float64) / d, 0.0, 1.0),
             "Your rate starts falling at step 0: where should the decay begin?"),
            (lambda step, lr0, c, d: lr0 * np.clip(1.0 - (np.asarray(step, np.float64) - c) / (c + d), 0.0, 1.0),
             "Your rate falls too slowly: over how many steps should it go from lr0 to 0 (decay_steps)?"),
            (lambda step, lr0, c, d: lr0 * np.clip(1.0 - (np.asarray(step, np.float64) - c + 1) / d, 0.0, 1.0),
             "Your rate is one step early: work out the rate at step constant_steps by hand."),
            (lambda step, lr0, c, d: lr0 * np.clip(1.0 - (np.asarray(step, np.float64) - c) / (d + 1), 0.0, 1.0),
             "Your rate never reaches zero: you divide by decay_steps + 1 (the per-epoch rule of the authors' "
             "PyTorch code). At step constant_steps + decay_steps the rate should be exactly 0."),
            (lambda step, lr0, c, d: lr0 * np.minimum(1.0 - (np.asarray(step, np.float64) - c) / d, 1.0),
             "Your rate goes negative once the decay is over: what keeps it at 0 after constant_steps + "
             "decay_steps?"),
            (lambda step, lr0, c, d: lr0 * (1.0 - np.maximum(0.0, np.asarray(step, np.float64) + 1 - c) / (d + 1)),
             "Your rate is the rule of the authors' PyTorch code, written per epoch: 1 - max(0, t + 1 - T_c) / (T_d "
             "+ 1). It starts falling one step early and falls over decay_steps + 1 steps, so it never reaches 0. "
             "The lesson's schedule keeps lr0 up to step constant_steps and is exactly 0 at constant_steps + "
             "decay_steps: check both steps by hand."),
            (lambda step, lr0, c, d: lr0 * np.clip(1 - (np.asarray(step) - c) // d, 0, 1),
             "Your rate drops from lr0 to 0 in one go, with nothing in between: `//` is integer (floor) "
             "division, so (t - constant_steps) // decay_steps is 0 all through the decay and 1 at its end. "
             "Divide with `/` (as floats) so the fraction falls a little each step."),
        )),
    Exercise(
        "04.update_loss_scale", _ref_loss_scale, inputs=_LOSS_SCALE_CASES,
        hint="Walk through the table's three kinds of row by hand: a step whose gradients overflowed, a "
             "finite step in the middle of a run, and the finite step that completes growth_steps in a "
             "row: in the table, what was the count just before the scale changed?",
        mistakes=(
            (lambda s, g, f, n=2000: (s / 2, 0, True) if not f else _ref_loss_scale(s, g, f, n),
             "On an overflow step your function still lets the optimizer apply the gradients: what would "
             "inf or NaN do to the weights? A step whose scaled gradients overflowed must skip its update "
             "(the third result says whether to apply it); only the scale and the count change."),
            (lambda s, g, f, n=2000: (s / 2, g, False) if not f else _ref_loss_scale(s, g, f, n),
             "Look at what your count of good steps does after an overflow."),
            (lambda s, g, f, n=2000: _ref_loss_scale(s, g, f, n + 1),
             "Your scale grows one step late: count how many finite steps in a row come before a doubling."),
            (lambda s, g, f, n=2000: (s * 2.0, g + 1, True) if f and g + 1 >= n else _ref_loss_scale(s, g, f, n),
             "When your function doubles the scale it keeps counting: the count of finite steps in a row must be "
             "reset to 0 when the scale doubles (as it is after an overflow), so the next doubling waits for "
             "another growth_steps finite steps."),
            (lambda s, g, f, n=2000: ((s * 2.0, 0, False) if not f else (s / 2.0, 0, True) if g + 1 >= n
                                      else _ref_loss_scale(s, g, f, n)),
             "Your scale goes the wrong way: an overflow means the scaled gradients got too large, so the scale must "
             "halve; a long run of finite steps means there is room, so it doubles. Look at which branch multiplies "
             "by 2 and which divides by 2."),
        )),
]
