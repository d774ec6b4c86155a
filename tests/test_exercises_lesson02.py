"""Lesson 02's build exercises (U-Net, PatchGAN, training step): the solution passes, known-wrong answers fail with a hint."""


import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from course_utils import exercises

KEYS = ("02.unet", "02.patchgan", "02.train_step")
INIT = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)   # the lesson's INIT: the checkers compare initialisers


# ---- the U-Net, right and wrong ----------------------------------------------------------------
def down(x, f, norm=True, bias=False):
    x = layers.Conv2D(f, 4, strides=2, padding="same", use_bias=bias, kernel_initializer=INIT)(x)
    if norm:
        x = layers.BatchNormalization()(x)
    return layers.LeakyReLU(negative_slope=0.2)(x)


def up(x, skip, f, dropout=False):
    x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)
    return x if skip is None else layers.Concatenate()([x, skip])


def unet(image_size=256, channels=3, filters=64, *, skip_order="reverse", drop_skip=None, dropout_blocks=(0, 1, 2),
         first_norm=False, out_activation="tanh"):
    widths = [min(filters * 2 ** i, filters * 8) for i in range(int(np.log2(image_size)))]
    inputs = keras.Input((image_size, image_size, channels))
    x, skips = inputs, []
    for i, f in enumerate(widths):
        last = i == len(widths) - 1
        x = down(x, f, norm=not last and (i > 0 or first_norm), bias=last)
        skips.append(x)
    partners = list(reversed(skips[:-1])) if skip_order == "reverse" else skips[:-1]
    for j, (f, skip) in enumerate(zip(reversed(widths[:-1]), partners)):
        x = up(x, None if j == drop_skip else skip, f, dropout=j in dropout_blocks)
    out = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation=out_activation,
                                 kernel_initializer=INIT)(x)
    return keras.Model(inputs, out)


# ---- the PatchGAN, right and wrong -------------------------------------------------------------
def patchgan(image_size=256, channels=3, filters=64, n_down=3, *, judge="pair", first_norm=False,
             strides=None, sigmoid=False):
    x_in = keras.Input((image_size, image_size, channels))
    y_in = keras.Input((image_size, image_size, channels))
    x = layers.Concatenate()([x_in, y_in]) if judge == "pair" else y_in
    for i in range(n_down):
        x = down(x, filters * 2 ** i, norm=i > 0 or first_norm)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(filters * 2 ** n_down, 4, strides=(strides or 1), use_bias=False, kernel_initializer=INIT)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(x))
    x = layers.ZeroPadding2D()(x)
    logits = layers.Conv2D(1, 4, activation="sigmoid" if sigmoid else None, kernel_initializer=INIT)(x)
    return keras.Model([x_in, y_in] if judge == "pair" else y_in, logits)


# ---- the training step, right and wrong --------------------------------------------------------
def bce(labels, logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0, *, no_input=False,
         weight=None, fake_label=False, one_tape=False, training=True, swap_pair=False):
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        fake = generator(x, training=training)
        if no_input:
            real_logits, fake_logits = discriminator([y, y], training=training), discriminator([fake, fake], training=training)
        elif swap_pair:
            real_logits, fake_logits = discriminator([y, x], training=training), discriminator([fake, x], training=training)
        else:
            real_logits, fake_logits = discriminator([x, y], training=training), discriminator([x, fake], training=training)
        g_adv = bce(tf.zeros_like(fake_logits) if fake_label else tf.ones_like(fake_logits), fake_logits)
        g_l1 = tf.reduce_mean(tf.abs(y - fake))
        g_loss = g_adv + (l1_weight if weight is None else weight) * g_l1
        d_loss = 0.5 * (bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits))
    if one_tape:   # one non-persistent tape asked twice
        d_grads = disc_tape.gradient(d_loss, discriminator.trainable_variables)
        g_grads = disc_tape.gradient(g_loss, generator.trainable_variables)
    else:
        d_grads = disc_tape.gradient(d_loss, discriminator.trainable_variables)
        g_grads = gen_tape.gradient(g_loss, generator.trainable_variables)
    disc_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    gen_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss, "g_adv": g_adv, "g_l1": g_l1}


def step_l1_unweighted(*args, l1_weight=100.0):
    return step(*args, weight=1.0)


def step_l1_fixed(*args, l1_weight=100.0):
    return step(*args, weight=100.0)


def step_one_persistent_tape(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape(persistent=True) as tape:
        fake = generator(x, training=True)
        real_logits, fake_logits = discriminator([x, y], training=True), discriminator([x, fake], training=True)
        g_adv = bce(tf.ones_like(fake_logits), fake_logits)
        g_l1 = tf.reduce_mean(tf.abs(y - fake))
        g_loss = g_adv + l1_weight * g_l1
        d_loss = 0.5 * (bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits))
        total = g_loss + d_loss
    for net, opt in ((discriminator, disc_optimizer), (generator, gen_optimizer)):
        opt.apply_gradients(zip(tape.gradient(total, net.trainable_variables), net.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss, "g_adv": g_adv, "g_l1": g_l1}


SOLUTIONS = {"02.unet": unet, "02.patchgan": patchgan, "02.train_step": step}

WRONG = {
    "02.unet": [
        ("skips joined in forward order", lambda *a, **k: unet(*a, **k, skip_order="forward"),
         r"building it raised|output shape"),
        ("a missing skip", lambda *a, **k: unet(*a, **k, drop_skip=1), r"expected `Concatenate`.*skip connection"),
        ("dropout in the last decoder blocks", lambda *a, **k: unet(*a, **k, dropout_blocks=(1, 2, 3)),
         r"Dropout"),
        ("batch norm on the first encoder block", lambda *a, **k: unet(*a, **k, first_norm=True),
         r"layer 2: expected `LeakyReLU\(0.2\)`.*found `BatchNormalization`"),
        ("no tanh", lambda *a, **k: unet(*a, **k, out_activation=None), r"yours stops there"),
    ],
    "02.patchgan": [
        ("judges only the target", lambda *a, **k: patchgan(*a, **k, judge="target"),
         r"building it raised|from step 1 on"),
        ("batch norm on the first block", lambda *a, **k: patchgan(*a, **k, first_norm=True),
         r"layer 3: expected `LeakyReLU\(0.2\)`.*found `BatchNormalization`"),
        ("stride 2 in the last blocks", lambda *a, **k: patchgan(*a, **k, strides=2),
         r"output shape"),
        ("sigmoid output", lambda *a, **k: patchgan(*a, **k, sigmoid=True), r"sigmoid"),
    ],
    "02.train_step": [
        ("discriminator shown the target without the input", lambda *a, **k: step(*a, **k, no_input=True),
         "judges pairs"),
        ("L1 weight not applied", step_l1_unweighted, "ignores `l1_weight`"),
        ("L1 weight written in", step_l1_fixed, "written in by hand"),
        ("generator's adversarial term with the fake label", lambda *a, **k: step(*a, **k, fake_label=True),
         "opposite verdict"),
        ("one persistent tape for the sum", step_one_persistent_tape, "its own loss"),
        ("one tape asked twice", lambda *a, **k: step(*a, **k, one_tape=True), "raised RuntimeError"),
        ("training=False inside the step", lambda *a, **k: step(*a, **k, training=False), "inference mode"),
        ("the pair in the other order", lambda *a, **k: step(*a, **k, swap_pair=True),
         r"(?s)d_loss is \S+, the reference's is .*other order"),
    ],
}


def test_every_lesson02_build_exercise_has_a_solution_and_three_wrong_answers():
    assert set(KEYS) <= set(exercises.EXERCISES)
    assert all(len(WRONG[k]) >= 3 for k in KEYS)


def test_the_solution_passes(solution, assert_solution_passes):
    assert_solution_passes(*solution)


def test_a_wrong_answer_fails_with_a_hint(wrong_answer, assert_wrong_answer_fails):
    assert_wrong_answer_fails(*wrong_answer)


@pytest.mark.parametrize("key", KEYS)
def test_a_stub_falls_back_to_the_reference(key, capsys, monkeypatch):
    monkeypatch.delenv("COURSE_REQUIRE_SOLUTIONS", raising=False)

    def stub(*args, **kwargs):
        raise NotImplementedError

    assert exercises.check(key, stub) is exercises.EXERCISES[key].reference
    assert "not written yet" in capsys.readouterr().out


def test_the_hints_do_not_give_the_answer_away():
    for key in KEYS:
        exercise = exercises.EXERCISES[key]
        for text in [exercise.hint] + [h for _, h in exercise.mistakes]:
            assert "reversed(" not in text and "Concatenate()" not in text and "tf.ones_like" not in text, text
