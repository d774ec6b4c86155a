"""The runtime a lesson runs on: TensorFlow started quietly, the accelerator checked, the seeds set.

1. :func:`import_tensorflow` imports TensorFlow without the start-up lines its C++ runtime
   prints on a machine without a GPU (:data:`TF_STARTUP_NOISE`); every other line still shows.
   (``course_utils/__init__.py`` sets ``TF_CPP_MIN_LOG_LEVEL`` for what comes later.)
2. :func:`check_gpu` lists the GPUs TensorFlow sees and says what to do if there is none.
3. :func:`start_lesson` is what every lesson runs after its install lines: its settings, the
   GPU check and the seeds.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from typing import Iterator, TypeVar

from course_utils.lessons import config

C = TypeVar("C", bound=config.LessonConfig)


#: Lines TensorFlow's C++ runtime prints while it starts on a machine without a GPU: none of
#: them asks anything of a learner. They are written before TensorFlow reads
#: ``TF_CPP_MIN_LOG_LEVEL`` (course_utils sets it, see ``course_utils/__init__.py``), so
#: :func:`import_tensorflow` drops them from what it catches; any other line still shows.
TF_STARTUP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations are on|cudart_stub\.cc"
    r"|Could not find cuda drivers|cpu_feature_guard\.cc|To enable the following instructions:"
    r"|rebuild TensorFlow with the appropriate compiler flags|failed call to cuInit"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation_placer\.cc|TF-TRT Warning"
)


@contextlib.contextmanager
def _drop_native_stderr(noise: re.Pattern) -> Iterator[None]:
    """Catch what C/C++ code writes to file descriptor 2 in the block; re-show the lines not ``noise``."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):   # no real stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if line.strip() and not noise.search(line))
            if kept:
                sys.stderr.write(kept)


def import_tensorflow():
    """``import tensorflow``, without the start-up lines it prints on a CPU runtime.

    The lines of :data:`TF_STARTUP_NOISE` (no CUDA driver, oneDNN, CPU instructions) are
    dropped; any other message TensorFlow writes while it starts is shown as usual, and Python
    warnings are never touched.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with _drop_native_stderr(TF_STARTUP_NOISE):
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")   # a CPU runtime's failed cuInit is logged here
    return tf


def check_gpu(verbose: bool = True) -> list[dict]:
    """List the GPUs TensorFlow sees (name, memory when known) and say what to do if there are none.

    With ``verbose`` it prints its verdict: telling the learner in the notebook is its job.

    Returns one dict per GPU: ``{"name": ..., "compute_capability": (major, minor) or None}``.

    It only reads the physical devices, so TensorFlow's devices are not initialised yet: a lesson
    can still configure logical devices afterwards (see ``course_utils.tools.distribute``).
    """
    tf = import_tensorflow()

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append({"name": details.get("device_name", device.name),
                     "compute_capability": details.get("compute_capability")})
    if verbose:
        if gpus:
            for i, g in enumerate(gpus):
                print(f"GPU {i}: {g['name']}")
        elif config.in_colab():
            print("No GPU. In Colab choose Runtime > Change runtime type > T4 GPU, then run the notebook again.")
        else:
            print("No GPU found: lessons run on the CPU, in the smoke profile unless COURSE_PROFILE says otherwise.")
    return gpus


def start_lesson(lesson: type[C]) -> C:
    """What every lesson does right after its install lines: its settings, the GPU check, the seeds.

    Returns ``lesson.current()`` (``COURSE_PROFILE``, else learner on a GPU and smoke without one:
    :func:`course_utils.lessons.config.profile_name`) after printing it and :func:`check_gpu`'s verdict, and seeds Python, NumPy and TensorFlow
    with its ``seed`` (``keras.utils.set_random_seed``). TensorFlow's devices are not initialised:
    a lesson can still configure logical devices afterwards (lesson 04 splits the CPU).
    """
    cfg = lesson.current()
    print(cfg)
    check_gpu()
    import keras

    keras.utils.set_random_seed(cfg.seed)
    return cfg
