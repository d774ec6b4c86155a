import dataclasses
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import keras

from course_utils import checkers, config, counts, files, losses, runtime


def test_profiles_follow_course_smoke(monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    assert config.is_smoke() and config.Pix2PixConfig.current().image_size == 64
    monkeypatch.setenv("COURSE_SMOKE", "0")
    cfg = config.Pix2PixConfig.current()
    assert not cfg.is_smoke and cfg.image_size == 256 and cfg.l1_weight == 100.0


@pytest.mark.parametrize("cls", [config.DcganConfig, config.Pix2PixConfig, config.CycleGanConfig,
                                 config.ColabTrainingConfig, config.CapstoneConfig])
def test_configs_are_frozen_and_smoke_only_shrinks_sizes(cls):
    full, smoke = cls.paper(), cls.smoke()
    with pytest.raises(dataclasses.FrozenInstanceError):
        full.seed = 3
    changed = {f.name for f in dataclasses.fields(cls) if getattr(full, f.name) != getattr(smoke, f.name)}
    allowed = {"profile", "dataset", "image_size", "batch_size", "epochs", "steps", "steps_per_epoch",
               "num_examples", "ring_steps", "ring_seeds", "filters", "n_blocks", "decay_epochs", "sample_every", "checkpoint_every",
               "bench_steps", "out_dir", "generator_filters", "discriminator_filters", "payoff_steps",
               "payoff_checkpoint_every", "payoff_sample_every", "eval_images", "report_images"}
    # One named exception, taught in lesson 03: a 200-step CycleGAN at the paper's 2e-4 keeps the
    # transposed convolutions' checkerboard (speckle ratio 1.87 / 1.52); at 1e-3 it is gone (0.97 / 0.94).
    # Lesson 05's 400-step smoke run likewise (val L1 0.71x the mean image's at 2e-4, 0.62x at 5e-4).
    # Lesson 01's smoke DCGAN likewise (section 10): 3,000 steps at batch 32 and 4e-4 reach 67.7 % recognisable
    # digits, 3,000 steps at batch 64 and 2e-4 65.8 %, each step 1.75x as long (scripts/dcgan_length_study.py).
    if cls in (config.CycleGanConfig, config.CapstoneConfig, config.DcganConfig):
        allowed = allowed | {"learning_rate"}
        assert smoke.learning_rate > full.learning_rate == 2e-4
    # Lesson 04's smoke payoff run, for lesson 03's reason: 200 steps at 2e-4 ended at 0.36x doing
    # nothing with speckle 1.21 / 1.33; at 1e-3, 0.30x / 0.28x and 0.8; 1,200 steps at 1e-3 (the profile
    # now), 0.24x / 0.24x (scripts/speckle_study.py).
    if cls is config.ColabTrainingConfig:
        allowed = allowed | {"payoff_learning_rate"}
        assert smoke.payoff_learning_rate > full.payoff_learning_rate == 2e-4
    assert changed <= allowed, f"the smoke profile may only shrink sizes and counts: {changed - allowed}"


def test_data_dir_holds_the_three_shipped_sets():
    # From a clone (make install) it is the repository's data/; from a wheel, the packaged copy.
    root = config.data_dir()
    expected = config.REPO_ROOT / "data" if config.REPO_ROOT is not None else config.PACKAGED_DATA
    assert root == expected
    assert (root / "digits" / "digits.npz").is_file()
    assert len(list((root / "label2scene" / "train").glob("*.jpg"))) == 300
    assert len(list((root / "day2dusk" / "trainA").glob("*.jpg"))) == 200


@pytest.mark.slow  # starts TensorFlow in a subprocess
def test_check_gpu_does_not_start_tensorflows_devices():
    script = ("from course_utils import config, distribute, runtime; runtime.check_gpu(verbose=False); "
              "print(distribute.split_cpu(2))")   # still possible after check_gpu
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "True"


def test_start_lesson_picks_the_profile_prints_it_and_seeds(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    cfg = runtime.start_lesson(config.CycleGanConfig)
    assert cfg == config.CycleGanConfig.smoke()
    first = np.random.rand(3)
    assert repr(cfg) in capsys.readouterr().out
    runtime.start_lesson(config.CycleGanConfig)
    np.testing.assert_array_equal(np.random.rand(3), first)   # NumPy seeded with cfg.seed each time


@pytest.mark.slow  # starts TensorFlow in a subprocess
def test_start_lesson_leaves_tensorflows_devices_alone():
    script = ("from course_utils import config, distribute, runtime; runtime.start_lesson(config.ColabTrainingConfig); "
              "print(distribute.split_cpu(2))")   # lesson 04 splits the CPU after its setup cell
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "True"


def _fake_gpus(monkeypatch, details):
    """Make TensorFlow report one physical GPU per entry of ``details`` (or none), whatever the machine."""
    import types

    tf = runtime.import_tensorflow()
    devices = [types.SimpleNamespace(name=f"/physical_device:GPU:{i}", device_type="GPU") for i in range(len(details))]
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: devices if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda d: details[devices.index(d)])


def test_check_gpu_without_a_gpu_says_what_to_do(capsys, monkeypatch):
    _fake_gpus(monkeypatch, [])
    monkeypatch.setattr(config, "in_colab", lambda: False)
    assert runtime.check_gpu() == []
    assert "No GPU found: lessons run on the CPU" in capsys.readouterr().out
    monkeypatch.setattr(config, "in_colab", lambda: True)
    assert runtime.check_gpu() == []
    assert "Runtime > Change runtime type > T4 GPU" in capsys.readouterr().out


def test_check_gpu_lists_each_gpu_by_name(capsys, monkeypatch):
    _fake_gpus(monkeypatch, [{"device_name": "Tesla T4", "compute_capability": (7, 5)}, {}])
    assert runtime.check_gpu() == [{"name": "Tesla T4", "compute_capability": (7, 5)},
                                  {"name": "/physical_device:GPU:1", "compute_capability": None}]
    assert capsys.readouterr().out.splitlines() == ["GPU 0: Tesla T4", "GPU 1: /physical_device:GPU:1"]
    assert runtime.check_gpu(verbose=False) and capsys.readouterr().out == ""


def _loss_inputs(rng):
    return rng.normal(size=(4, 1)).astype("float32"), rng.normal(size=(4, 1)).astype("float32")


def test_check_function_accepts_a_right_answer(capsys):
    assert checkers.check_function(lambda r, f: losses.bce_discriminator_loss(r, f),
                                    losses.bce_discriminator_loss, _loss_inputs, name="d_loss")
    assert "✅ d_loss" in capsys.readouterr().out


def test_check_function_explains_a_wrong_answer():
    wrong = lambda r, f: losses.bce_with_logits(0.0, r) + losses.bce_with_logits(1.0, f)   # labels swapped
    with pytest.raises(checkers.ExerciseError, match="(?s)expected.*Hint: swap"):
        checkers.check_function(wrong, losses.bce_discriminator_loss, _loss_inputs, hint="swap?")


def test_check_function_reports_not_implemented_and_none():
    def todo(r, f):
        raise NotImplementedError

    with pytest.raises(checkers.ExerciseError, match="not written yet"):
        checkers.check_function(todo, losses.bce_discriminator_loss, _loss_inputs)
    with pytest.raises(checkers.ExerciseError, match="forget `return`"):
        checkers.check_function(lambda r, f: None, losses.bce_discriminator_loss, _loss_inputs)


def test_check_model_builder_compares_blocks():
    from course_utils.core.layers import residual_block

    def ref(x):
        return residual_block(x, 8, norm="instance")

    assert checkers.check_model_builder(ref, ref, [(8, 8, 8)])

    def no_skip(x):   # forgets to add the input back
        y = keras.layers.Conv2D(8, 3, padding="same")(x)
        return keras.layers.Conv2D(8, 3, padding="same")(y)

    with pytest.raises(checkers.ExerciseError, match="residual blocks|expected"):
        checkers.check_model_builder(no_skip, ref, [(8, 8, 8)])

    def wrong_shape(x):
        return keras.layers.Conv2D(4, 3, padding="same")(x)

    with pytest.raises(checkers.ExerciseError, match="output shape"):
        checkers.check_model_builder(wrong_shape, ref, [(8, 8, 8)])


def test_data_dir_uses_the_packaged_copy_without_a_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(files, "REPO_ROOT", None)
    packaged = tmp_path / "shipped_data"
    (packaged / "digits").mkdir(parents=True)
    monkeypatch.setattr(files, "PACKAGED_DATA", packaged)
    assert config.data_dir() == packaged


def test_data_dir_explains_itself_when_the_data_is_missing(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(files, "REPO_ROOT", None)
    monkeypatch.setattr(files, "PACKAGED_DATA", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="COURSE_DATA_DIR"):
        config.data_dir()


def test_course_data_dir_overrides_and_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert config.data_dir() == tmp_path
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        config.data_dir()


def test_native_stderr_filter_drops_only_the_noise(capfd):
    with runtime._drop_native_stderr(runtime.TF_STARTUP_NOISE):
        os.write(2, b"I0000 00:00 cudart_stub.cc:31] Could not find cuda drivers on your machine\n"
                    b"E0000 00:00 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
                    b"E0000 00:00 something.cc:1] a real problem\n")
    err = capfd.readouterr().err
    assert "a real problem" in err
    assert "cuda drivers" not in err and "cuInit" not in err


@pytest.mark.slow
def test_a_lesson_start_is_quiet_but_warnings_still_show():
    # What a lesson's first cells do, in a fresh Python without TF_CPP_MIN_LOG_LEVEL set.
    code = ("import os, warnings\n"
            "from course_utils import runtime\n"
            "assert os.environ['TF_CPP_MIN_LOG_LEVEL'] == '3'\n"
            "runtime.check_gpu()\n"
            "import tensorflow as tf\n"
            "x = tf.Variable(1.0)\n"
            "warnings.warn('a warning for the learner')\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "a warning for the learner" in done.stderr
    noise = [line for line in done.stderr.splitlines() if re.search(r"^[IWE]\d{4} |absl::InitializeLog|cuInit", line)]
    assert noise == [], noise


@pytest.mark.parametrize("bad", [0, -3, 2.0, "4", True, None])
def test_positive_int_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match=r"steps must be a positive integer \(training steps\), got"):
        counts.positive_int(bad, "steps", "training steps")


def test_positive_int_accepts_numpy_integers_and_returns_a_python_int():
    value = counts.positive_int(np.int64(3), "n")
    assert value == 3 and type(value) is int
