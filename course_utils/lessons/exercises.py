"""The course's "your turn" exercises, and the one call a lesson makes to check one.

Every exercise of the course is registered here with its reference, its inputs, its hint and
the mistakes learners are known to make (each with its own hint); each lesson's exercises are
written in its own module of :mod:`course_utils.lessons.exercise_sets`. A lesson checks one with
:func:`check`, which returns the function the rest of the lesson should use::

    discriminator_loss = exercises.check("01.discriminator_loss", discriminator_loss)

A stub that still raises ``NotImplementedError`` is not an error there: the cell
says so in one line and hands back the course's reference, so the lesson runs to
its end before it is solved. With ``COURSE_REQUIRE_SOLUTIONS=1`` (the solution
notebooks' run in ``make check-solutions``) a stub fails instead.

The checkers themselves (comparing functions, models and training steps with the course's)
are in :mod:`course_utils.lessons.checkers`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from course_utils.lessons.checkers import Exercise, NotWrittenYet
from course_utils.lessons.exercise_sets import lesson01, lesson02, lesson03, lesson04

#: Every registered exercise by its key, ``"NN.name"`` (NN: the lesson), in lesson order.
EXERCISES: dict[str, Exercise] = {
    exercise.key: exercise
    for lesson in (lesson01, lesson02, lesson03, lesson04)
    for exercise in lesson.EXERCISES
}


def check(key: str, answer: Callable) -> Callable:
    """Check a lesson's exercise and return the function the rest of the lesson should use.

    The learner's ``answer`` when it is right; the course's reference, with a one-line
    note, when ``answer`` still raises ``NotImplementedError`` (unless the environment sets
    ``COURSE_REQUIRE_SOLUTIONS=1``); an :class:`ExerciseError` that says what is wrong
    and where to look otherwise.
    """
    if key not in EXERCISES:
        raise ValueError(f"no exercise {key!r}; the course has {', '.join(EXERCISES)}.")
    exercise = EXERCISES[key]
    try:
        exercise.run(answer)
    except NotWrittenYet:
        if os.environ.get("COURSE_REQUIRE_SOLUTIONS", "") not in ("", "0"):
            raise
        print(f"⏭️  {exercise.name} is not written yet: the rest of the lesson uses the course's reference. "
              "Write it, then run this cell again.")
        return exercise.reference
    return answer
