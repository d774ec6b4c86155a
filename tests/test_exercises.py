"""Every exercise's checker fails known-wrong answers with a hint, and passes the solution."""

import re
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from course_utils import checkers, exercises
from course_utils.lessons.checkers import ExerciseError, check_model_builder
from course_utils.lessons.exercises import EXERCISES
from course_utils.core.layers import InstanceNormalization, ReflectionPadding2D

ROOT = Path(__file__).resolve().parent.parent


def bce(labels, logits):
    """Mean BCE on logits, written out here so the wrong answers do not lean on the references."""
    x = np.asarray(logits, np.float64)
    return float(np.mean(np.maximum(x, 0) - x * labels + np.log1p(np.exp(-np.abs(x)))))


def mae(a, b):
    return float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# ---- model answers, right and wrong ---------------------------------------------------------
def up_right(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT0)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)
    return layers.Concatenate()([x, skip])


def up_relu_before_norm(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.ReLU()(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    return layers.Concatenate()([x, skip])


def up_no_skip(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    return layers.ReLU()(x)


def up_dropout_after_relu(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT0)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    return layers.Concatenate()([x, skip])


def up_wrong_stride(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=1, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.Concatenate()([layers.UpSampling2D()(x), skip])


def up_skip_first(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT0)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)
    return layers.Concatenate()([skip, x])        # same shape, channels in the other order


INIT0 = keras.initializers.RandomNormal(0.0, 0.02)


def res_right(x, filters):
    y = ReflectionPadding2D(1)(x)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT0)(y)
    y = InstanceNormalization()(y)
    y = layers.ReLU()(y)
    y = ReflectionPadding2D(1)(y)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT0)(y)
    y = InstanceNormalization()(y)
    return layers.Add()([x, y])


def res_no_add(x, filters):
    y = ReflectionPadding2D(1)(x)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT0)(y)
    y = InstanceNormalization()(y)
    y = layers.ReLU()(y)
    y = ReflectionPadding2D(1)(y)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT0)(y)
    return InstanceNormalization()(y)


def res_relu_at_end(x, filters):
    return layers.ReLU()(res_right(x, filters))


def res_same_padding(x, filters):
    y = ReflectionPadding2D(1)(x)
    y = layers.Conv2D(filters, 3, padding="same", kernel_initializer=INIT0)(y)
    y = InstanceNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", kernel_initializer=INIT0)(y)
    y = InstanceNormalization()(y)
    return layers.Add()([layers.ZeroPadding2D(1)(x), y])


def res_glorot(x, filters):
    y = ReflectionPadding2D(1)(x)
    y = layers.Conv2D(filters, 3, padding="valid")(y)
    y = InstanceNormalization()(y)
    y = layers.ReLU()(y)
    y = ReflectionPadding2D(1)(y)
    y = layers.Conv2D(filters, 3, padding="valid")(y)
    y = InstanceNormalization()(y)
    return layers.Add()([x, y])


def linear_decay_right(step, lr0, constant_steps, decay_steps):
    step = np.asarray(step, dtype=np.float64)
    return lr0 * np.clip(1.0 - (step - constant_steps) / decay_steps, 0.0, 1.0)


def loss_scale_right(scale, good_steps, finite, growth_steps=2000):
    if not finite:
        return scale / 2, 0, False
    good_steps += 1
    if good_steps == growth_steps:
        return scale * 2, 0, True
    return scale, good_steps, True


def receptive_right(layer_list):
    field = 1
    for kernel, stride, _ in reversed(list(layer_list)):
        field = (field - 1) * stride + kernel
    return field


def receptive_forward(layer_list):
    field = 1
    for kernel, stride, _ in layer_list:
        field = (field - 1) * stride + kernel
    return field


def receptive_no_minus_one(layer_list):
    field = 1
    for kernel, stride, _ in reversed(list(layer_list)):
        field = field * stride + kernel
    return field


# For every exercise: the solution, and known-wrong answers with a pattern the failure message must show.
# A wrong answer the exercise has no hint of its own for must fail on its values with the general hint.
SOLUTIONS = {
    "01.discriminator_loss": lambda r, f: bce(1, r) + bce(0, f),
    "01.generator_loss": lambda f: bce(1, f),
    "02.upsample_with_skip": up_right,
    "02.receptive_field": receptive_right,
    "02.generator_loss": lambda fl, g, t, w=100.0: (bce(1, fl) + w * mae(t, g), bce(1, fl), mae(t, g)),
    "03.cycle_loss": lambda rx, cx, ry, cy, w=10.0: w * (mae(cx, rx) + mae(cy, ry)),
    "03.identity_term": lambda rx, sx, ry, sy, w=5.0: w * (mae(sy, ry) + mae(sx, rx)),
    "03.my_residual_block": res_right,
    "04.linear_decay": linear_decay_right,
    "04.update_loss_scale": loss_scale_right,
}

WRONG = {
    "01.discriminator_loss": [
        ("swapped labels", lambda r, f: bce(0, r) + bce(1, f), "which label goes with which"),
        ("mean instead of sum", lambda r, f: (bce(1, r) + bce(0, f)) / 2, "half"),
        ("missing fake term", lambda r, f: bce(1, r), "fakes"),
    ],
    "01.generator_loss": [
        ("label 0", lambda f: bce(0, f), "opposite verdict"),
        ("saturating minimax", lambda f: float(np.mean(np.log(1 - 1 / (1 + np.exp(-f))))), "saturating"),
        ("squared error", lambda f: float(np.mean((f - 1) ** 2)), r"(?s)input \d+: got .*Hint: Reread section 5"),
    ],
    "02.upsample_with_skip": [
        ("ReLU before norm", up_relu_before_norm, r"(?s)layer 2: expected `BatchNormalization`.*found `ReLU`.*order"),
        ("no skip concatenation", up_no_skip, "output shape|not connected"),   # Keras 3.13 refuses to build it
        ("wrong stride", up_wrong_stride, r"Conv2DTranspose 4x4 stride 1"),
    ],
    "02.receptive_field": [
        ("walks forward", receptive_forward, "from the input to the output"),
        ("missing -1", receptive_no_minus_one, r"(?s)input \d+: got .*Hint: .*\(r - 1\)"),
        ("sum of kernels", lambda ls: 1 + sum(k - 1 for k, _, _ in ls), "strides"),
    ],
    "02.generator_loss": [
        ("weighted l1 returned", lambda fl, g, t, w=100.0: (bce(1, fl) + w * mae(t, g), bce(1, fl), w * mae(t, g)),
         "weighted"),
        ("squared error", lambda fl, g, t, w=100.0: (bce(1, fl) + w * float(np.mean((t - g) ** 2)), bce(1, fl),
                                                     float(np.mean((t - g) ** 2))),
         r"(?s)input \d+, result 0: got .*Hint: Your distance looks squared"),
        ("weight written in", lambda fl, g, t, w=100.0: (bce(1, fl) + 100 * mae(t, g), bce(1, fl), mae(t, g)),
         "by hand"),
    ],
    "03.cycle_loss": [
        ("one direction", lambda rx, cx, ry, cy, w=10.0: w * mae(cx, rx), "starts in Y"),
        ("squared error", lambda rx, cx, ry, cy, w=10.0: w * float(np.mean((cx - rx) ** 2) + np.mean((cy - ry) ** 2)),
         "squared"),
        ("weight written in", lambda rx, cx, ry, cy, w=10.0: 10 * (mae(cx, rx) + mae(cy, ry)),
         r"(?s)input \d+: got .*Hint: Check the formula for L_cyc"),
    ],
    "03.identity_term": [
        ("other domain", lambda rx, sx, ry, sy, w=5.0: w * (mae(sy, rx) + mae(sx, ry)), "other domain"),
        ("lambda instead of half", lambda rx, sx, ry, sy, w=5.0: 2 * w * (mae(sy, ry) + mae(sx, rx)), "twice"),
        ("missing F's term", lambda rx, sx, ry, sy, w=5.0: w * mae(sy, ry), "F's"),
    ],
    "03.my_residual_block": [
        ("no skip addition", res_no_add, r"(?s)expected `Add`.*yours stops there.*skip"),
        ("ReLU after the addition", res_relu_at_end, r"ReLU"),
        ("'same' padding after reflection", res_same_padding, "output shape"),
        ("Glorot initializer", res_glorot, "kernel initialiser, `GlorotUniform`"),
    ],
    "04.linear_decay": [
        ("no clip", lambda s, lr0, c, d: lr0 * (1 - (np.asarray(s, float) - c) / d), "between 0 and 1"),
        ("decays from step 0", lambda s, lr0, c, d: lr0 * np.clip(1 - np.asarray(s, float) / d, 0, 1), "step 0"),
        ("decays over constant + decay", lambda s, lr0, c, d: lr0 * np.clip(1 - (np.asarray(s, float) - c) / (c + d), 0, 1),
         r"(?s)input \d+: largest difference .*Hint: Your rate falls too slowly"),
    ],
    "04.update_loss_scale": [
        ("applies the update on overflow", lambda s, g, f, n=2000: (s / 2, 0, True) if not f else loss_scale_right(s, g, f, n),
         "inf or NaN"),
        ("keeps counting after an overflow", lambda s, g, f, n=2000: (s / 2, g, False) if not f else loss_scale_right(s, g, f, n),
         "after an overflow"),
        ("grows one step late", lambda s, g, f, n=2000: loss_scale_right(s, g, f, n + 1), "late"),
    ],
}




def test_every_exercise_has_a_solution_and_wrong_answers():
    # A lesson's build exercises may be fed by its own file, tests/test_exercises_lessonNN.py.
    own_files = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "tests").glob("test_exercises_lesson*.py"))]
    elsewhere = {k for k in EXERCISES if any(f'"{k}"' in text for text in own_files)}
    assert set(SOLUTIONS) == set(WRONG) and set(SOLUTIONS) | elsewhere == set(EXERCISES)
    assert all(len(v) >= 2 for v in WRONG.values())


def test_every_exercise_is_checked_in_its_lesson_and_every_check_is_registered():
    used = set()
    for py in sorted((ROOT / "notebooks").glob("*.py")):
        used |= {m for m in re.findall(r"exercises\.check\(\s*\"([^\"]+)\"", py.read_text(encoding="utf-8"))}
    assert used == set(EXERCISES)


def test_the_solution_passes(solution, assert_solution_passes):
    assert_solution_passes(*solution)


def test_a_wrong_answer_fails_with_a_hint(wrong_answer, assert_wrong_answer_fails):
    assert_wrong_answer_fails(*wrong_answer)


def test_the_concatenation_order_is_free(assert_solution_passes):
    """[skip, x] (the authors' order) is the same block: the next layer only sees its channels permuted."""
    assert_solution_passes("02.upsample_with_skip", up_skip_first)


def test_a_relu_and_a_dropout_commute(assert_solution_passes):
    """Dropout scales each value by 0 or 1 / (1 - rate), keeping its sign: ReLU before or after gives the same."""
    assert_solution_passes("02.upsample_with_skip", up_dropout_after_relu)


def test_a_stub_falls_back_to_the_reference_in_one_line(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_REQUIRE_SOLUTIONS", raising=False)

    def stub(real_logits, fake_logits):
        raise NotImplementedError

    used = exercises.check("01.discriminator_loss", stub)
    assert used is EXERCISES["01.discriminator_loss"].reference
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "not written yet" in out and "reference" in out

    def block_stub(x, skip, filters, dropout=False):
        raise NotImplementedError

    assert exercises.check("02.upsample_with_skip", block_stub) is EXERCISES["02.upsample_with_skip"].reference


def test_a_stub_fails_when_solutions_are_required(monkeypatch):
    monkeypatch.setenv("COURSE_REQUIRE_SOLUTIONS", "1")

    def stub(fake_logits):
        raise NotImplementedError

    with pytest.raises(checkers.NotWrittenYet, match="not written yet"):
        exercises.check("01.generator_loss", stub)


def test_check_rejects_an_unknown_exercise():
    with pytest.raises(ValueError, match="no exercise '01.nothing'"):
        exercises.check("01.nothing", lambda: None)


# ---- check_model_builder itself -------------------------------------------------------------
def _conv_bn_relu(relu_first=False):
    def build(x):
        x = layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
        if relu_first:
            return layers.BatchNormalization()(layers.ReLU()(x))
        return layers.ReLU()(layers.BatchNormalization()(x))
    return build


def test_relu_before_batch_norm_fails_even_when_the_layer_names_are_hidden():
    """Batch norm with a positive scale commutes with ReLU; with the checker's gammas of both signs it does not."""
    def relu_first_as_ops(x):   # keras.ops.relu is not a ReLU layer, but the order is still read
        x = layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
        return layers.BatchNormalization()(keras.ops.relu(x))

    for wrong in (_conv_bn_relu(relu_first=True), relu_first_as_ops):
        with pytest.raises(ExerciseError, match="ReLU -> BatchNormalization"):
            check_model_builder(wrong, _conv_bn_relu(), [(6, 6, 3)], hint="order?")


def test_outputs_are_compared_in_training_mode_too(monkeypatch):
    """A block that uses its moving statistics while training matches in inference mode only."""
    class FrozenBatchNormalization(layers.BatchNormalization):
        def call(self, inputs, training=None, mask=None):
            return super().call(inputs, training=False)

    monkeypatch.setattr(checkers, "_describe", lambda op: [type(op).__name__.replace("Frozen", "")])

    def frozen(x):
        return FrozenBatchNormalization()(layers.Conv2D(4, 3, padding="same", use_bias=False)(x))

    def ref(x):
        return layers.BatchNormalization()(layers.Conv2D(4, 3, padding="same", use_bias=False)(x))

    with pytest.raises(ExerciseError, match="training mode"):
        check_model_builder(frozen, ref, [(5, 5, 2)])


def test_dropout_rate_and_place_are_checked():
    def with_rate(rate):
        def build(x):
            return layers.Dropout(rate)(layers.Dense(4)(x))
        return build

    with pytest.raises(ExerciseError, match=r"Dropout\(0.3\)"):
        check_model_builder(with_rate(0.3), with_rate(0.5), [(6,)])
    assert check_model_builder(with_rate(0.5), with_rate(0.5), [(6,)])


def test_a_checker_that_cannot_copy_the_weights_fails_instead_of_passing(monkeypatch, capsys):
    """Same layers and parameter count, weights in another order: never a silent pass."""
    def two_branches(first):
        def build(x):
            a = layers.Dense(3, name="a")(x)
            b = layers.Dense(5, name="b")(x)
            return layers.Concatenate()([a, b] if first else [b, a])
        return build

    monkeypatch.setattr(checkers, "layer_sequence", lambda model: ["same"])
    with pytest.raises(ExerciseError, match="cannot copy"):
        check_model_builder(two_branches(True), lambda x: two_branches(False)(x)[..., ::1], [(4,)])
    assert "✅" not in capsys.readouterr().out


def test_negative_gammas_and_moving_statistics_are_set():
    inp = keras.Input((4, 4, 3))
    model = keras.Model(inp, layers.BatchNormalization()(layers.Conv2D(6, 1)(inp)))
    checkers._randomise(model, np.random.default_rng(0))
    bn = model.layers[-1]
    assert (bn.gamma.numpy() < 0).any() and (bn.gamma.numpy() > 0).any()
    assert np.abs(bn.moving_mean.numpy()).max() > 0.05 and not np.allclose(bn.moving_variance.numpy(), 1)


def test_course_networks_pass_against_themselves():
    from course_utils import models
    assert check_model_builder(lambda z: models.dcgan_discriminator()(z), lambda z: models.dcgan_discriminator()(z),
                               [(28, 28, 1)])


def test_relu_before_batch_norm_also_fails_on_outputs_alone(monkeypatch):
    """Even with the layer-order check blinded, the outputs differ: gammas of both signs, moved statistics."""
    monkeypatch.setattr(checkers, "layer_sequence", lambda model: ["same"])
    with pytest.raises(ExerciseError, match="inference mode"):
        check_model_builder(_conv_bn_relu(relu_first=True), _conv_bn_relu(), [(6, 6, 3)])


# --- check_same_update and print_structure: the lessons' one-line verifications ------------
def _tiny_players():
    """A one-layer 'generator' and 'discriminator' and two SGD optimizers."""
    g = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    return g, d, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1)


def _step(g, d, g_opt, d_opt, scale=1.0):
    import tensorflow as tf

    x = tf.constant([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    with tf.GradientTape(persistent=True) as tape:
        score = d(g(x))
        d_loss, g_loss = tf.reduce_mean(score ** 2), scale * tf.reduce_mean((score - 1.0) ** 2)
    d_opt.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
    g_opt.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}


def test_check_same_update_passes_the_same_step_in_one_line(capsys):
    assert checkers.check_same_update(_step, _step, _tiny_players, name="tiny step")
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and out.startswith("✅ tiny step: same d_loss") and "g_loss" in out


def test_check_same_update_names_the_loss_that_differs():
    with pytest.raises(ExerciseError, match="g_loss is"):
        checkers.check_same_update(lambda *p: _step(*p, scale=2.0), _step, _tiny_players, name="tiny step")


def test_check_same_update_catches_equal_losses_but_different_weights():
    def swapped(g, d, g_opt, d_opt):   # the same losses, but G's optimizer steps twice as far
        return _step(g, d, keras.optimizers.SGD(0.2), d_opt)

    with pytest.raises(ExerciseError, match="weights after the update differ"):
        checkers.check_same_update(swapped, _step, _tiny_players, name="tiny step")


def test_check_same_update_fails_a_step_that_changes_nothing():
    def no_update(g, d, g_opt, d_opt):
        return {"d_loss": 0.0}

    with pytest.raises(ExerciseError, match="did not change any weight"):
        checkers.check_same_update(no_update, no_update, _tiny_players, name="tiny step")


def test_print_structure_counts_residual_blocks_and_skips_shape_keeping_convs(capsys):
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 4, strides=2, padding="same")(inp)                 # (8, 8, 8)
    for _ in range(3):
        x = layers.Add()([x, layers.Conv2D(8, 3, padding="same")(x)])      # a residual block, shape kept
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same")(x)          # (16, 16, 3)
    model = keras.Model(inp, x, name="toy")
    assert checkers.structure(model) == [("conv 4x4/2", (None, 8, 8, 8), 1),
                                          ("residual block", (None, 8, 8, 8), 3),
                                          ("transposed conv 4x4/2", (None, 16, 16, 3), 1)]
    checkers.print_structure(model)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "toy:" and "3 x residual block" in lines[2] and lines[2].endswith("(None, 8, 8, 8)")
