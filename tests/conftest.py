"""Shared test settings: quiet TensorFlow, headless matplotlib, fixed seeds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    import keras

    keras.utils.set_random_seed(0)
    yield


# The paper-sized networks take seconds to build (the U-Net has 54M weights). Tests that only
# read them (shapes, layer names, parameter and FLOP counts, gradients) share one of each; a test
# that trains a network or sets its weights must build its own.
@pytest.fixture(scope="session")
def unet_256():
    """``models.unet_generator()``: the pix2pix U-Net at 256x256 (54,424,323 weights). Read only."""
    from course_utils import models

    return models.unet_generator()


@pytest.fixture(scope="session")
def patchgan_256():
    """``models.patchgan_discriminator()``: the pix2pix 70x70 PatchGAN at 256x256. Read only."""
    from course_utils import models

    return models.patchgan_discriminator()


@pytest.fixture(scope="session")
def resnet_256():
    """``models.resnet_generator()``: the CycleGAN ResNet with 9 blocks at 256x256. Read only."""
    from course_utils import models

    return models.resnet_generator()


# ---- exercise checks, shared by tests/test_exercises*.py ----------------------------------------
# Every exercise is tested the same two ways: its solution passes, and each known-wrong answer fails
# with a message that says what went wrong. The two fixtures below hand a test one function each; a
# module that lists its answers in SOLUTIONS and WRONG gets its cases from pytest_generate_tests.
def pytest_generate_tests(metafunc):
    """Parametrize a test that asks for ``solution`` with ``(key, fn)`` for each item of its module's
    ``SOLUTIONS`` (key -> fn), and one that asks for ``wrong_answer`` with ``(key, fn, pattern, label)``
    for each known-wrong answer of its module's ``WRONG`` (key -> [(label, fn, pattern), ...])."""
    module = metafunc.module
    if "solution" in metafunc.fixturenames:
        keys = sorted(module.SOLUTIONS)
        metafunc.parametrize("solution", [(key, module.SOLUTIONS[key]) for key in keys], ids=keys)
    if "wrong_answer" in metafunc.fixturenames:
        cases = [(key, fn, pattern, label) for key, answers in module.WRONG.items() for label, fn, pattern in answers]
        metafunc.parametrize("wrong_answer", cases, ids=[f"{key}: {label}" for key, _, _, label in cases])


@pytest.fixture
def assert_solution_passes(capsys):
    """``assert_solution_passes(key, fn, ticks=None)``: ``exercises.check(key, fn)`` hands ``fn`` back
    and prints a ✅ (exactly ``ticks`` of them when given) and no ❌. Returns what it printed."""
    from course_utils import exercises

    def check(key, fn, ticks=None):
        assert exercises.check(key, fn) is fn
        out = capsys.readouterr().out
        assert "✅" in out and "❌" not in out, out
        if ticks is not None:
            assert out.count("✅") == ticks, out
        return out

    return check


@pytest.fixture
def assert_wrong_answer_fails(capsys):
    """``assert_wrong_answer_fails(key, fn, pattern, label="")``: ``exercises.check(key, fn)`` raises an
    ExerciseError (not the stub's NotWrittenYet) whose message starts with ❌, carries a 💡 Hint and
    matches the regular expression ``pattern``; nothing printed calls ``fn`` a stub. Returns the message."""
    import re

    from course_utils import exercises
    from course_utils.lessons.checkers import ExerciseError, NotWrittenYet

    def check(key, fn, pattern, label=""):
        with pytest.raises(ExerciseError) as info:
            exercises.check(key, fn)
        message = str(info.value)
        assert not isinstance(info.value, NotWrittenYet), f"{label}: {message}"
        assert message.startswith("❌") and "💡 Hint:" in message, f"{label}: {message}"
        assert re.search(pattern, message), f"{label}: {message}"
        assert "not written yet" not in capsys.readouterr().out   # a wrong answer is never taken for a stub
        return message

    return check

# The files that train for minutes run first: pytest-xdist (make test's two workers, each test file
# in one of them) hands out files in collection order, so a long file collected last would leave
# the other worker idle at the end. Longest first (measured with --durations), the rest in order.
LONGEST_FIRST = ["test_results.py", "test_train.py", "test_bench.py", "test_grade.py", "test_grade_attacks.py",
                 "test_labs_cyclegan.py", "test_checker_catalogue.py", "test_exercises_lesson02.py", "test_cli.py"]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))   # stable: the rest keep their order


# ---- the checker catalogue's summary (tests/test_checker_catalogue.py) ----------------------------
# Each catalogued answer records (exercise, kind, ok) as a user property, which pytest-xdist carries
# back from its workers; the table is printed at the end of the session.
_CATALOGUE: list = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _CATALOGUE.extend(value for name, value in report.user_properties if name == "catalogue")


def pytest_terminal_summary(terminalreporter):
    if not _CATALOGUE:
        return
    rows: dict = {}
    for key, kind, ok in _CATALOGUE:
        row = rows.setdefault(key, [0, 0, 0, 0])
        i = 0 if kind == "wrong" else 2
        row[i] += bool(ok)
        row[i + 1] += 1
    tr = terminalreporter
    tr.section("checker catalogue")
    tr.write_line(f"{'exercise':24s} {'wrong caught with its words':>28s} {'equivalents passed':>19s}")
    for key in sorted(rows):
        w, nw, e, ne = rows[key]
        tr.write_line(f"{key:24s} {f'{w} / {nw}':>28s} {f'{e} / {ne}' if ne else '-':>19s}")
    w = sum(r[0] for r in rows.values()); nw = sum(r[1] for r in rows.values())
    e = sum(r[2] for r in rows.values()); ne = sum(r[3] for r in rows.values())
    tr.write_line(f"{'all':24s} {f'{w} / {nw}':>28s} {f'{e} / {ne}':>19s}")
