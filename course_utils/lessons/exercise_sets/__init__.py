"""The course's registered exercises, one module a lesson (``lesson01`` ... ``lesson04``).

Each module holds a list ``EXERCISES`` of :class:`course_utils.lessons.checkers.Exercise` with the
references, inputs, hints and known mistakes of that lesson's "your turn" cells;
:mod:`course_utils.lessons.exercises` gathers them into one registry.
"""
