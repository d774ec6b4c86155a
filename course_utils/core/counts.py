"""The one check behind every "how many" argument of the package.

Batch sizes, steps, blocks, samples, checkpoints to keep: each is a whole number >= 1, and
:func:`positive_int` says so in one place with one message. It imports nothing from the
package, so every module can use it.
"""

from __future__ import annotations

import numbers

#: Optimizer steps in one epoch of horse2zebra at batch 1: its larger domain holds 1,334 zebras
#: (TFDS ``cycle_gan/horse2zebra``). The CycleGAN trainer's schedule and the cost estimates count in it.
HORSE2ZEBRA_EPOCH_STEPS = 1334

def positive_int(value: object, name: str, meaning: str = "") -> int:
    """``value`` if it is a whole number >= 1 (``True``/``False`` are not), else a ``ValueError``.

    ``meaning`` says what the number counts, in the message; NumPy integers are accepted and
    returned as a Python ``int``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be a positive integer{what}, got {value!r}.")
    return int(value)


def positive_ints(**values: object) -> None:
    """:func:`positive_int` on each keyword argument, named by its keyword: ``positive_ints(filters=filters)``."""
    for name, value in values.items():
        positive_int(value, name)
