"""Training on several devices with ``tf.distribute.MirroredStrategy``, even on a machine with one.

``MirroredStrategy`` keeps one copy (a *replica*) of every variable on each device, gives each
replica its share of the global batch, and adds the replicas' gradients before every update.
To see two replicas at work without two GPUs, TensorFlow can split the CPU into two *logical*
devices; that has to happen before TensorFlow first uses a device (the first operation, or
listing the logical devices), so lessons call :func:`split_cpu` right after their imports.

>>> split_cpu(2)                       # before any TensorFlow operation
>>> strategy = tf.distribute.MirroredStrategy(replica_devices(2))       # two replicas
>>> one = tf.distribute.MirroredStrategy(default_devices())             # every GPU, else one CPU
>>> per_replica_batch(4, strategy.num_replicas_in_sync)
2
"""

from __future__ import annotations

import tensorflow as tf
from course_utils.core.counts import positive_int


def split_cpu(n: int = 2) -> bool:
    """Split the CPU into ``n`` logical devices (``/cpu:0`` ... ``/cpu:{n-1}``) for replicas.

    Nothing changes if the machine already has ``n`` GPUs (they are the replicas then) or the CPU
    is already split that way. Returns True when the CPU is (now) split into ``n`` devices.

    Raises:
        RuntimeError: TensorFlow has already initialised its devices (an operation ran), so the
            split cannot happen any more in this process. The message says how to fix it.
    """
    positive_int(n, "n")
    if len(tf.config.list_physical_devices("GPU")) >= n:
        return False
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == n:
        return True
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError as err:
        raise RuntimeError(
            f"Cannot split the CPU into {n} logical devices: TensorFlow has already initialised its devices "
            f"({err}). Call distribute.split_cpu({n}) before any TensorFlow operation runs: put it right after "
            "the imports, then restart the runtime (Colab: Runtime > Restart session) and run from the top."
        ) from err
    return True


def default_devices() -> list[str]:
    """The devices ``MirroredStrategy()`` would use on this machine: every GPU, else the first CPU.

    Pass them explicitly (``MirroredStrategy(default_devices())``) once the CPU is split: without
    devices, ``MirroredStrategy()`` takes *every* logical CPU of a split CPU as a replica.
    """
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in gpus] if gpus else [tf.config.list_logical_devices("CPU")[0].name]


def replica_devices(n: int = 2) -> list[str]:
    """Names of ``n`` devices for ``MirroredStrategy``: the first ``n`` GPUs, else ``n`` logical CPUs.

    Raises:
        RuntimeError: there are fewer than ``n`` GPUs and the CPU was not split with
            :func:`split_cpu` before TensorFlow started.
    """
    positive_int(n, "n")
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) >= n:
        return [d.name for d in gpus[:n]]
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) >= n:
        return [d.name for d in cpus[:n]]
    raise RuntimeError(
        f"{n} replicas need {n} devices; this process has {len(gpus)} GPU(s) and {len(cpus)} logical CPU(s). "
        f"Call distribute.split_cpu({n}) right after the imports, before any TensorFlow operation, then "
        "restart the runtime and run from the top."
    )


def per_replica_batch(global_batch: int, replicas: int) -> int:
    """The images each replica receives from a global batch: ``global_batch / replicas``.

    ``MirroredStrategy`` splits every global batch evenly, so the global batch must be a multiple
    of the number of replicas (with the papers' batch of 1 per device: global batch = replicas).
    """
    positive_int(global_batch, "global_batch")
    positive_int(replicas, "replicas")
    if global_batch % replicas:
        raise ValueError(
            f"A global batch of {global_batch} does not split evenly over {replicas} replicas; use a multiple "
            f"of {replicas}, e.g. {replicas * max(1, global_batch // replicas)} "
            f"(per-replica batch x replicas)."
        )
    return global_batch // replicas
