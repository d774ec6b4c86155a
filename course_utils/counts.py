"""The one check behind every "how many" argument of the package.

Batch sizes, steps, blocks, samples, checkpoints to keep: each is a whole number >= 1, and
:func:`positive_int` says so in one place with one message. It imports nothing from the
package, so every module can use it.
"""

from __future__ import annotations

import numbers


def positive_int(value: object, name: str, meaning: str = "") -> int:
    """``value`` if it is a whole number >= 1 (``True``/``False`` are not), else a ``ValueError``.

    ``meaning`` says what the number counts, in the message; NumPy integers are accepted and
    returned as a Python ``int``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be a positive integer{what}, got {value!r}.")
    return int(value)


__all__ = ["positive_int"]
