"""The lessons' labs: predict, then run. One module a lesson (``gan``, ``pix2pix``, ``cyclegan``).

A lab trains several variants of one model at smoke scale, scores each against its baseline
with :mod:`course_utils.core.metrics`, and reports the longer runs measured for ``docs/results.md``
beside the learner's own result, so the learner can compare a prediction with what the
papers found.
"""


def prediction_opening(prediction: str | None, choices: list[str], stated: str) -> tuple[str, str | None]:
    """The first sentence of a lab's conclusion, and the prediction left to compare (None: nothing to compare).

    ``stated`` is the sentence for a prediction among ``choices``; no prediction, or one that is not a
    choice, is said as such.
    """
    if prediction is None:
        return "You made no prediction (PREDICTION is None), so there is nothing to compare: here is what was measured.", None
    if prediction not in choices:
        return (f"Your prediction {prediction!r} is not one of {', '.join(map(repr, choices))}, so it cannot be "
                "compared: here is what was measured.", None)
    return stated, prediction
