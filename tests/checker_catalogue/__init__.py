"""Catalogues of learners' answers to the course's exercises, right and wrong (issue 33).

Each ``lessonNN.py`` lists :data:`ENTRIES`: answers written as a learner writes them in the lesson's
cell (source code, run in a namespace holding what that lesson has defined by then). A *wrong*
answer must be caught, with a message (what differs plus the hint) that contains each of its
``words``; an *equivalent* answer must pass. ``tests/test_checker_catalogue.py`` runs them all and
prints a summary per exercise.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Entry:
    key: str                  # the exercise, "NN.name"
    kind: str                 # "wrong" or "equivalent"
    what: str                 # a short description
    code: str                 # the learner's cell: defines the function or class the check is given
    words: tuple = ()         # wrong answers: words the message must contain (case-insensitive)


def wrong(key: str, what: str, code: str, *words: str) -> Entry:
    assert words, f"{key}: {what}: a wrong answer needs the words its message must contain"
    return Entry(key, "wrong", what, code, tuple(words))


def equivalent(key: str, what: str, code: str) -> Entry:
    return Entry(key, "equivalent", what, code)


def edit(code: str, *pairs: str) -> str:
    """``code`` with each ``old`` replaced by ``new`` (pairs given flat: old, new, old, new...); each old must occur."""
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert old in code, f"{old!r} not in the answer"
        code = code.replace(old, new)
    return code
