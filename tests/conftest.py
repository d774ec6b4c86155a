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


# The files that train for minutes run first: pytest-xdist (make test's two workers, each test file
# in one of them) hands out files in collection order, so a long file collected last would leave
# the other worker idle at the end. Longest first (measured with --durations), the rest in order.
LONGEST_FIRST = ["test_results.py", "test_train.py", "test_bench.py", "test_grade.py", "test_labs_cyclegan.py",
                 "test_exercises_lesson02.py", "test_cli.py"]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))   # stable: the rest keep their order
