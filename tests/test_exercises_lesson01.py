"""Lesson 01's build exercises, the DCGAN generator and the training step: the solution passes,
and each known-wrong answer fails with a hint that says where to look without giving the answer."""

import re

import keras
import pytest
import tensorflow as tf
from keras import layers

from course_utils import exercises, losses
from course_utils.lessons.checkers import NotWrittenYet
from course_utils.lessons.exercise_sets import lesson01


def bce(labels, logits):
    return losses.bce_with_logits(labels, logits)


# ---- the generator, right and wrong ----------------------------------------------------------
def generator(latent_dim=100, filters=256, *, relu_first=False, first_stride=1, out="tanh", bias=False,
              dense_norm=True):
    """The lesson's build_generator; the keyword arguments after * plant one mistake each."""
    def act_norm(x):
        if relu_first:
            return layers.BatchNormalization()(layers.LeakyReLU(negative_slope=0.3)(x))
        return layers.LeakyReLU(negative_slope=0.3)(layers.BatchNormalization()(x))

    z = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * filters, use_bias=bias)(z)
    x = act_norm(x) if dense_norm else layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape((7, 7, filters))(x)
    x = act_norm(layers.Conv2DTranspose(filters // 2, 5, strides=first_stride, padding="same", use_bias=bias)(x))
    x = act_norm(layers.Conv2DTranspose(filters // 4, 5, strides=2, padding="same", use_bias=bias)(x))
    image = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=bias, activation=out)(x)
    return keras.Model(z, image)


GENERATOR_WRONG = [
    ("LeakyReLU before batch norm", dict(relu_first=True), r"(?s)layer 2: expected `BatchNormalization` \(after the `Dense`\), found `LeakyReLU.*order"),
    ("first transposed convolution with stride 2", dict(first_stride=2), "output shape"),
    ("sigmoid output", dict(out="sigmoid"), r"expected `tanh`.*found `sigmoid`"),
    ("biases before batch norm", dict(bias=True), "parameters, expected"),
    ("no batch norm after the Dense layer", dict(dense_norm=False), r"(?s)expected `BatchNormalization`.*yours has no `BatchNormalization`"),
]


def test_the_generator_solution_passes(assert_solution_passes):
    assert_solution_passes("01.build_generator", generator, ticks=2)


@pytest.mark.parametrize("label,mistake,pattern", GENERATOR_WRONG, ids=[w[0] for w in GENERATOR_WRONG])
def test_a_wrong_generator_fails_with_a_hint_that_names_no_layer(label, mistake, pattern, assert_wrong_answer_fails):
    def wrong(latent_dim=100, filters=256):
        return generator(latent_dim, filters, **mistake)

    message = assert_wrong_answer_fails("01.build_generator", wrong, pattern, label)
    hint = message.split("💡 Hint:")[1]
    assert not re.search(r"Conv2DTranspose\(|tanh|use_bias=|strides=", hint), hint   # where to look, not what


def test_the_generator_stub_hands_back_a_builder_with_the_lessons_signature(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_REQUIRE_SOLUTIONS", raising=False)

    def stub(latent_dim=100, filters=256):
        raise NotImplementedError

    used = exercises.check("01.build_generator", stub)
    assert used(latent_dim=100, filters=256).count_params() == 2_330_944   # the lesson asserts this count
    assert "not written yet" in capsys.readouterr().out


# ---- the training step, right and wrong ------------------------------------------------------
def forward(generator, discriminator, real, noise, d_fake_label=0.0, saturating=False, training=True):
    """The step's forward pass and its two losses, (d_loss, g_loss); the steps call it inside their tapes.
    The keyword arguments away from their defaults plant one mistake each."""
    fake = generator(noise, training=training)
    real_logits, fake_logits = discriminator(real, training=training), discriminator(fake, training=training)
    d_loss = bce(1.0, real_logits) + bce(d_fake_label, fake_logits)
    g_loss = -bce(0.0, fake_logits) if saturating else bce(1.0, fake_logits)
    return d_loss, g_loss


def make_step(**mistake):
    """The lesson's train_step, with ``forward``'s planted mistake if one is named."""
    def step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            d_loss, g_loss = forward(generator, discriminator, real, noise, **mistake)
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                                        generator.trainable_variables))
        d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                        discriminator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}
    return step


step = make_step()


def one_tape_for_both(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        d_loss, g_loss = forward(generator, discriminator, real, noise)
        total = d_loss + g_loss
    variables = generator.trainable_variables + discriminator.trainable_variables
    grads = tape.gradient(total, variables)
    n = len(generator.trainable_variables)
    g_optimizer.apply_gradients(zip(grads[:n], generator.trainable_variables))
    d_optimizer.apply_gradients(zip(grads[n:], discriminator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}


def one_plain_tape_asked_twice(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        d_loss, g_loss = forward(generator, discriminator, real, noise)
    d_grads = tape.gradient(d_loss, discriminator.trainable_variables)
    g_grads = tape.gradient(g_loss, generator.trainable_variables)   # a non-persistent tape refuses
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}


STEP_WRONG = [
    ("one tape, one summed loss for both players", one_tape_for_both, r"weights after the update differ",
     "own loss"),
    ("saturating generator loss", make_step(saturating=True), r"g_loss is", "saturates"),
    ("discriminator calls the fakes real", make_step(d_fake_label=1.0), r"d_loss is", "which label do the fakes"),
    ("training=False inside the step", make_step(training=False), r"loss is", "inference mode"),
    ("one plain tape asked twice", one_plain_tape_asked_twice, r"your step raised RuntimeError", "own tape"),
]


@pytest.mark.slow
def test_the_step_solution_passes_and_its_stub_hands_back_the_reference(monkeypatch, assert_solution_passes):
    assert "the same losses and weights" in assert_solution_passes("01.train_step", step, ticks=1)

    def stub(generator, discriminator, g_optimizer, d_optimizer, real, noise):
        raise NotImplementedError

    monkeypatch.delenv("COURSE_REQUIRE_SOLUTIONS", raising=False)
    assert exercises.check("01.train_step", stub) is exercises.EXERCISES["01.train_step"].reference
    monkeypatch.setenv("COURSE_REQUIRE_SOLUTIONS", "1")
    with pytest.raises(NotWrittenYet):
        exercises.check("01.train_step", stub)


@pytest.mark.slow
@pytest.mark.parametrize("label,wrong,what,hint", STEP_WRONG, ids=[w[0] for w in STEP_WRONG])
def test_a_wrong_step_fails_with_its_own_hint(label, wrong, what, hint, assert_wrong_answer_fails):
    message = assert_wrong_answer_fails("01.train_step", wrong, what, label)
    assert message.startswith("❌ train_step:"), f"{label}: {message}"
    given = message.split("💡 Hint:")[1]
    assert hint in given, f"{label}: {message}"
    assert not re.search(r"ones_like|zeros_like|bce_from_logits\(|GradientTape\(\)", given), given


def test_every_known_step_mistake_is_fed_here():
    assert len(lesson01.STEP_MISTAKES) >= 4 and len(STEP_WRONG) >= 4   # the others: tests/checker_catalogue
