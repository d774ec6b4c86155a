"""Lesson 03's build exercises: each checker passes the solution and fails known-wrong answers with a hint."""


import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, ops

from course_utils import exercises, losses
from course_utils.lessons.exercise_sets import lesson03
from course_utils.core.layers import ReflectionPadding2D

INIT = keras.initializers.RandomNormal(0.0, 0.02)


# ---- 03.instance_norm: the learner's layer, right and wrong ---------------------------------------
def norm_layer(axes=(1, 2), denom=lambda v, e: ops.sqrt(v + e), apply_affine=True):
    class InstanceNormalization(layers.Layer):
        def __init__(self, epsilon=1e-5, affine=False, **kwargs):
            super().__init__(**kwargs)
            self.epsilon, self.affine = epsilon, affine

        def build(self, input_shape):
            if self.affine:
                self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],), initializer="ones")
                self.beta = self.add_weight(name="beta", shape=(input_shape[-1],), initializer="zeros")

        def call(self, x):
            mean, var = ops.moments(x, axes=list(axes), keepdims=True)
            y = (x - mean) / denom(var, self.epsilon)
            if self.affine and apply_affine:
                y = y * self.gamma + self.beta
            return y
    return InstanceNormalization


IN_RIGHT = norm_layer()
IN_WRONG = [
    ("batch norm", norm_layer(axes=(0, 1, 2)), "mix the images"),
    ("layer norm", norm_layer(axes=(1, 2, 3)), "each channel needs its own"),
    ("no epsilon", norm_layer(denom=lambda v, e: ops.sqrt(v)), "away from zero"),
    ("std plus epsilon", norm_layer(denom=lambda v, e: ops.sqrt(v) + e), "relative to the square root"),
    ("variance, not std", norm_layer(denom=lambda v, e: v + e), "not by a variance"),
    ("affine forgotten", norm_layer(apply_affine=False), "scale and offset"),
]


# ---- 03.resnet_generator ----------------------------------------------------------------------------
def block(x, filters, pad=ReflectionPadding2D, relu_after_add=False):
    from course_utils.core.layers import InstanceNormalization
    y = pad(1)(x)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)
    y = layers.ReLU()(InstanceNormalization()(y))
    y = pad(1)(y)
    y = InstanceNormalization()(layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y))
    y = layers.Add()([x, y])
    return layers.ReLU()(y) if relu_after_add else y


def generator(pad=ReflectionPadding2D, tanh=True, relu_after_add=False, downs=2):
    from course_utils.core.layers import InstanceNormalization

    def build(image_size=256, n_blocks=9, filters=64):
        def conv(x, f, k, strides=1, transpose=False, padding="same"):
            cls = layers.Conv2DTranspose if transpose else layers.Conv2D
            x = cls(f, k, strides=strides, padding=padding, kernel_initializer=INIT)(x)
            return layers.ReLU()(InstanceNormalization()(x))

        inp = keras.Input((image_size, image_size, 3))
        x = conv(pad(3)(inp), filters, 7, padding="valid")
        for i in range(downs):
            x = conv(x, filters * 2 ** (i + 1), 3, strides=2)
        for _ in range(n_blocks):
            x = block(x, filters * 2 ** downs, pad, relu_after_add)
        for i in reversed(range(downs)):
            x = conv(x, filters * 2 ** i, 3, strides=2, transpose=True)
        out = layers.Conv2D(3, 7, activation="tanh" if tanh else None, kernel_initializer=INIT)(pad(3)(x))
        return keras.Model(inp, out)
    return build


def zero_pad(p):
    return layers.ZeroPadding2D(p)


GEN_WRONG = [
    ("zero padding", generator(pad=zero_pad), "ZeroPadding2D"),
    ("no tanh", generator(tanh=False), "yours stops there"),
    ("ReLU after the addition", generator(relu_after_add=True), r"Add -> ReLU|ReLU"),
    ("three downsamplings", generator(downs=3), r"stride-2|output shape"),
]


# ---- 03.image_pool ----------------------------------------------------------------------------------
def pool_class(kind="right"):
    class MyImagePool:
        def __init__(self, pool_size=50, seed=0):
            self.pool_size, self.seed = pool_size, seed
            self.images = [np.zeros((1, 1, 1), np.float32)] * pool_size if kind == "never fills" else []
            self.queries = 0

        def draws(self, n):
            u = tf.random.stateless_uniform((n, 2), seed=(self.seed, self.queries)).numpy()
            self.queries += 1
            return u[:, 0], np.minimum((u[:, 1] * self.pool_size).astype(int), self.pool_size - 1)

        def query(self, images):
            coins, slots = self.draws(len(images))
            out = []
            for i, image in enumerate(images):
                if len(self.images) < self.pool_size:
                    self.images.append(image)
                    out.append(image)
                elif kind == "always new":
                    out.append(image)
                elif kind == "always old":
                    old = self.images[slots[i]]
                    self.images[slots[i]] = image
                    out.append(old)
                elif coins[i] < 0.5:
                    old = self.images[slots[i]]
                    if kind != "no store on swap":
                        self.images[slots[i]] = image
                    out.append(old)
                else:
                    out.append(image)
            return np.stack(out)
    return MyImagePool


def pool_other_coin(pool_size=50, seed=0):
    """Right logic, but the coin read the other way round: same statistics, other draws."""
    pool = pool_class()(pool_size, seed)
    draws = pool.draws
    pool.draws = lambda n: (lambda c, s: (1.0 - c, s))(*draws(n))
    return pool


POOL_WRONG = [
    ("always returns the new images", pool_class("always new"), "coin says 'old'"),
    ("always returns history", pool_class("always old"), "what does the coin decide"),
    ("does not store the new image on a swap", pool_class("no store on swap"), "takes its place"),
    ("never fills (starts from a full pool of blanks)", pool_class("never fills"), "not full yet"),
    ("coin read the other way", pool_other_coin, "first differs from train.ImagePool"),
]


# ---- 03.train_step ----------------------------------------------------------------------------------
def make_step(pairing="right", identity=True, halve=True, g_from_d=False, persistent=True):
    def step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
             form="lsgan", cycle_weight=10.0, identity_weight=5.0):
        with tf.GradientTape(persistent=persistent) as tape:
            fake_y, fake_x = G(x, training=True), F(y, training=True)
            cycled_x, cycled_y = F(fake_y, training=True), G(fake_x, training=True)
            same_y, same_x = G(y, training=True), F(x, training=True)
            s_real_x, s_real_y = D_X(x, training=True), D_Y(y, training=True)
            s_fake_x, s_fake_y = D_X(fake_x, training=True), D_Y(fake_y, training=True)
            s_pool_x = D_X(pool_x.query(fake_x), training=True)
            s_pool_y = D_Y(pool_y.query(fake_y), training=True)
            a, b = (x, y) if pairing == "right" else (y, x)
            cycle = (losses.cycle_consistency_loss(a, cycled_x, cycle_weight)
                     + losses.cycle_consistency_loss(b, cycled_y, cycle_weight))
            w = identity_weight if identity else 0.0
            g_loss = losses.generator_loss(s_fake_y, form) + cycle + losses.identity_loss(y, same_y, w)
            f_loss = losses.generator_loss(s_fake_x, form) + cycle + losses.identity_loss(x, same_x, w)
            dx_loss = losses.discriminator_loss(s_real_x, s_pool_x, form, halve=halve)
            dy_loss = losses.discriminator_loss(s_real_y, s_pool_y, form, halve=halve)
        g_source, f_source = (-dy_loss, -dx_loss) if g_from_d else (g_loss, f_loss)
        for loss, net, opt in ((g_source, G, opt_G), (f_source, F, opt_F), (dx_loss, D_X, opt_DX),
                               (dy_loss, D_Y, opt_DY)):
            grads = tape.gradient(loss, net.trainable_variables)
            opt.apply_gradients(zip(grads, net.trainable_variables))
        del tape
        return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
    return step


STEP_WRONG = [
    ("cycle loss with the wrong pairing", make_step(pairing="swapped"), r"(g_loss|cycle) is"),
    ("identity loss missing", make_step(identity=False), "g_loss is"),
    ("discriminator loss not halved", make_step(halve=False), "dx_loss is"),
    ("generators updated with the discriminators' loss", make_step(g_from_d=True), r"raised|weights after the update"),
    ("non-persistent tape", make_step(persistent=False), "persistent|GradientTape"),
]

SOLUTIONS = {"03.instance_norm": IN_RIGHT, "03.resnet_generator": generator(), "03.image_pool": pool_class(),
             "03.train_step": make_step()}
WRONG = {"03.instance_norm": IN_WRONG, "03.resnet_generator": GEN_WRONG, "03.image_pool": POOL_WRONG,
         "03.train_step": STEP_WRONG}


def test_every_build_exercise_is_registered_with_three_wrong_answers_or_more():
    assert set(SOLUTIONS) == set(WRONG) == {e.key for e in lesson03.EXERCISES if isinstance(e, lesson03._Built)}
    assert all(len(v) >= 3 for v in WRONG.values())


def test_the_solution_passes(solution, assert_solution_passes):
    assert_solution_passes(*solution)


def test_a_wrong_answer_fails_with_a_hint(wrong_answer, assert_wrong_answer_fails):
    assert_wrong_answer_fails(*wrong_answer)


def test_stubs_fall_back_to_working_references(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_REQUIRE_SOLUTIONS", raising=False)

    class StubNorm(layers.Layer):
        def __init__(self, epsilon=1e-5, affine=False, **kwargs):
            super().__init__(**kwargs)

        def call(self, x):
            raise NotImplementedError

    class StubPool:
        def __init__(self, pool_size=50, seed=0):
            self.images = []

        def query(self, images):
            raise NotImplementedError

    def stub_generator(image_size=256, n_blocks=9, filters=64):
        raise NotImplementedError

    def stub_step(*args, **kwargs):
        raise NotImplementedError

    norm = exercises.check("03.instance_norm", StubNorm)
    x = np.random.default_rng(0).normal(3, 2, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(norm()(x)).mean(axis=(1, 2)), 0.0, atol=1e-4)
    pool = exercises.check("03.image_pool", StubPool)(pool_size=2, seed=0)
    assert pool.query(np.ones((1, 2, 2, 3), np.float32)).shape == (1, 2, 2, 3) and len(pool.images) == 1
    assert exercises.check("03.resnet_generator", stub_generator)(32, n_blocks=1, filters=4).output_shape == (None, 32, 32, 3)
    assert exercises.check("03.train_step", stub_step) is lesson03._ref_train_step
    out = capsys.readouterr().out
    assert out.count("not written yet") == 4 and "❌" not in out
