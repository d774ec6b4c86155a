"""The lessons' labs: predict, then run. One module a lesson (``gan``, ``pix2pix``, ``cyclegan``).

A lab trains several variants of one model at smoke scale, scores each against its baseline
with :mod:`course_utils.metrics`, and reports the longer runs measured for ``docs/results.md``
beside the learner's own result, so the learner can compare a prediction with what the
papers found.
"""
