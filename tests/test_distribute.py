"""course_utils.tools.distribute: two replicas on any machine, and the per-replica batch."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from course_utils import distribute


def test_per_replica_batch_divides_the_global_batch():
    assert distribute.per_replica_batch(4, 2) == 2
    assert distribute.per_replica_batch(2, 2) == 1
    assert distribute.per_replica_batch(3, 1) == 3


@pytest.mark.parametrize("global_batch, replicas", [(3, 2), (1, 2), (5, 4)])
def test_per_replica_batch_refuses_an_uneven_split(global_batch, replicas):
    with pytest.raises(ValueError, match=f"does not split evenly over {replicas} replicas"):
        distribute.per_replica_batch(global_batch, replicas)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_per_replica_batch_refuses_non_positive_integers(bad):
    with pytest.raises(ValueError, match="positive integer"):
        distribute.per_replica_batch(bad, 2)


def test_split_cpu_after_tensorflow_started_says_how_to_fix_it():
    (tf.constant(1.0) + 1.0).numpy()                      # the devices are initialised now
    if len(tf.config.list_logical_devices("CPU")) >= 3 or tf.config.list_physical_devices("GPU"):
        pytest.skip("this process already has the devices")
    with pytest.raises(RuntimeError, match=r"before any TensorFlow operation.*restart the runtime"):
        distribute.split_cpu(3)
    with pytest.raises(RuntimeError, match=r"3 replicas need 3 devices.*split_cpu\(3\)"):
        distribute.replica_devices(3)


@pytest.mark.slow
def test_two_logical_cpus_give_two_replicas_with_half_the_batch_each():
    script = textwrap.dedent("""
        import json
        import tensorflow as tf
        from course_utils import distribute
        first = distribute.split_cpu(2)
        again = distribute.split_cpu(2)                   # idempotent
        devices = distribute.replica_devices(2)
        strategy = tf.distribute.MirroredStrategy(devices)
        ds = tf.data.Dataset.from_tensor_slices(tf.reshape(tf.range(16.0), (8, 2))).batch(4)
        dist = strategy.experimental_distribute_dataset(ds)
        per_replica = strategy.run(lambda b: tf.shape(b)[0], args=(next(iter(dist)),))
        sizes = [int(v) for v in strategy.experimental_local_results(per_replica)]
        one = tf.distribute.MirroredStrategy(distribute.default_devices())
        print(json.dumps({"first": first, "again": again, "devices": devices,
                          "replicas": strategy.num_replicas_in_sync, "sizes": sizes,
                          "default": distribute.default_devices(), "one": one.num_replicas_in_sync,
                          "unnamed": tf.distribute.MirroredStrategy().num_replicas_in_sync}))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["first"] is True and out["again"] is True
    assert [d.lower().rsplit("/", 1)[-1] for d in out["devices"]] == ["device:cpu:0", "device:cpu:1"]
    assert out["replicas"] == 2
    assert out["sizes"] == [2, 2]                        # a global batch of 4: 2 images per replica
    assert len(out["default"]) == 1 and out["default"][0].lower().endswith("cpu:0") and out["one"] == 1
    assert out["unnamed"] == 2        # why the lessons name the devices: MirroredStrategy() takes both CPUs
