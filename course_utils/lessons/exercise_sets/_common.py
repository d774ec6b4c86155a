"""Helpers that several lessons' exercise sets share: BCE on logits, a sigmoid, a mean absolute difference."""

from __future__ import annotations

import numpy as np


def _bce(labels, logits):
    from course_utils.core import losses
    return losses.bce_with_logits(labels, logits)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _mean_abs(a, b):
    return float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def _mean_sq(a, b):
    return float(np.mean(np.square(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


#: The hint for an L1 distance written as a squared one (the cycle and identity terms, pix2pix's L1).
SQUARED_HINT = ("Your distance looks squared (a mean squared error, L2): this term is an L1 distance, the mean of the "
                "absolute differences (`tf.abs`, `ops.abs`), which penalises large errors less and blurs less.")
