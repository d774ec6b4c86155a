"""The checkers against catalogues of learners' answers (issue 33): every wrong answer caught, with
the words that name its cause, and every equivalent answer passed.

The catalogues are ``tests/checker_catalogue/lessonNN.py``; each answer is the source of a lesson cell,
run in a namespace with what that lesson has defined by then (:func:`lesson_namespace`). A summary per
exercise (wrong answers caught with their words / all, equivalent answers passed / all) is printed at
the end of the session by ``tests/conftest.py``.
"""

from __future__ import annotations

import importlib
import os

import pytest

from course_utils.lessons.checkers import ExerciseError, NotWrittenYet

CATALOGUES = [m for m in os.environ.get("COURSE_CATALOGUES", "lesson01,lesson02,lesson03,lesson04,independent,blind,blind2,blind3").split(",") if m]
ENTRIES = [entry for name in CATALOGUES
           for entry in importlib.import_module(f"checker_catalogue.{name}").ENTRIES]

#: The name each exercise's cell defines, which the lesson hands to exercises.check.
DEFINES = {
    "01.discriminator_loss": "discriminator_loss", "01.generator_loss": "generator_loss",
    "01.build_generator": "build_generator", "01.train_step": "gan_train_step",
    "02.upsample_with_skip": "upsample_with_skip", "02.unet": "build_unet", "02.patchgan": "build_patchgan",
    "02.receptive_field": "receptive_field", "02.generator_loss": "generator_loss", "02.train_step": "train_step",
    "03.cycle_loss": "cycle_loss", "03.identity_term": "identity_term", "03.instance_norm": "InstanceNormalization",
    "03.my_residual_block": "my_residual_block", "03.resnet_generator": "my_resnet_generator",
    "03.image_pool": "MyImagePool", "03.train_step": "cyclegan_step",
    "04.linear_decay": "linear_decay", "04.update_loss_scale": "update_loss_scale",
}


def lesson_namespace(lesson: str) -> dict:
    """What a lesson's exercise cells can use: its imports and the helpers it defined above them."""
    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers, ops

    from course_utils import exercises, layers as course_layers, losses, models, train

    ns = {"np": np, "tf": tf, "keras": keras, "layers": layers, "ops": ops, "losses": losses, "models": models,
          "train": train, "INIT": keras.initializers.RandomNormal(mean=0.0, stddev=0.02)}
    if lesson == "01":
        def bce_from_logits(labels, logits):
            logits = tf.cast(logits, tf.float32)
            labels = tf.broadcast_to(tf.cast(labels, tf.float32), tf.shape(logits))
            return tf.reduce_mean(tf.nn.relu(logits) - logits * labels + tf.math.log1p(tf.exp(-tf.abs(logits))))
        ns.update(bce_from_logits=bce_from_logits,
                  discriminator_loss=exercises.EXERCISES["01.discriminator_loss"].reference,
                  generator_loss=exercises.EXERCISES["01.generator_loss"].reference)
    if lesson == "02":
        init = ns["INIT"]

        def downsample(x, filters, norm=True):
            x = layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init)(x)
            if norm:
                x = layers.BatchNormalization()(x)
            return layers.LeakyReLU(negative_slope=0.2)(x)

        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        ns.update(downsample=downsample, bce=bce,
                  upsample_with_skip=exercises.EXERCISES["02.upsample_with_skip"].reference,
                  discriminator_loss=lambda r, f: 0.5 * (bce(tf.ones_like(r), r) + bce(tf.zeros_like(f), f)),
                  generator_loss=exercises.EXERCISES["02.generator_loss"].reference)
    if lesson == "03":
        init = ns["INIT"]

        def conv_norm_relu(x, filters, kernel, strides=1, transpose=False, padding="same"):
            conv = layers.Conv2DTranspose if transpose else layers.Conv2D
            x = conv(filters, kernel, strides=strides, padding=padding, kernel_initializer=init)(x)
            return layers.ReLU()(course_layers.InstanceNormalization()(x))

        ns.update(ReflectionPadding2D=course_layers.ReflectionPadding2D,
                  InstanceNormalization=course_layers.InstanceNormalization, conv_norm_relu=conv_norm_relu,
                  my_residual_block=exercises.EXERCISES["03.my_residual_block"].reference)
    return ns


def run_entry(entry) -> tuple[bool, str]:
    """Check one catalogued answer: (whether it behaved as catalogued, what the checker said)."""
    from course_utils import exercises

    ns = lesson_namespace(entry.key[:2])
    exec(compile(entry.code, f"<{entry.key}: {entry.what}>", "exec"), ns)
    answer = ns[DEFINES[entry.key]]
    try:
        exercises.check(entry.key, answer)
    except NotWrittenYet as error:
        return False, f"taken for a stub: {error}"
    except ExerciseError as error:
        message = str(error)
        if entry.kind == "equivalent":
            return False, message
        missing = [w for w in entry.words if w.lower() not in message.lower()]
        return not missing, message + (f"\n(missing words: {missing})" if missing else "")
    return entry.kind == "equivalent", "passed"


#: An entry whose description starts with "[miss] " records a checker's known miss (or an equivalent
#: answer it rejects): kept as written, expected to fail, so the finding stays visible.
PARAMS = [pytest.param(e, marks=pytest.mark.xfail(strict=True, reason="a known miss of the checker"))
          if e.what.startswith("[miss] ") else e for e in ENTRIES]


@pytest.mark.slow
@pytest.mark.parametrize("entry", PARAMS, ids=[f"{e.key} {e.kind}: {e.what}" for e in ENTRIES])
def test_catalogued_answer(entry, record_property, capsys):
    ok, said = run_entry(entry)
    capsys.readouterr()
    record_property("catalogue", (entry.key, entry.kind, ok))
    assert ok, f"{entry.key} ({entry.kind}: {entry.what}):\n{said}"


def test_every_exercise_is_catalogued_enough():
    """At least 5 wrong and 2 equivalent answers for each network, block and step; 3 wrong for each formula."""
    if not {"lesson01", "lesson02", "lesson03", "lesson04"} <= set(CATALOGUES):
        pytest.skip("a partial catalogue")
    from course_utils.lessons.exercises import EXERCISES
    built = {"01.build_generator", "01.train_step", "02.upsample_with_skip", "02.unet", "02.patchgan",
             "02.train_step", "03.my_residual_block", "03.instance_norm", "03.resnet_generator", "03.image_pool",
             "03.train_step"}
    assert set(DEFINES) == set(EXERCISES)
    for key in EXERCISES:
        n_wrong = sum(e.key == key and e.kind == "wrong" for e in ENTRIES)
        n_same = sum(e.key == key and e.kind == "equivalent" for e in ENTRIES)
        assert n_wrong >= (5 if key in built else 3), (key, n_wrong)
        assert key not in built or n_same >= 2, (key, n_same)
