"""The exercises of lesson 02, Pix2Pix: each one's reference, inputs, hint and known mistakes.

:mod:`course_utils.lessons.exercises` gathers :data:`EXERCISES` from here into the course's registry.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from course_utils.core.model_config import BETA_1

from course_utils.lessons.checkers import Exercise, ExerciseError, check_model_builder, check_training_step
from course_utils.lessons.exercise_sets._common import SQUARED_HINT, _bce, _mean_abs, _mean_sq, _sigmoid as _sig
from course_utils.core.pix2pix import Pix2PixConfig

#: The paper's lambda_L1, the default of the learners' functions (written once, in Pix2PixConfig).
L1_WEIGHT = Pix2PixConfig.l1_weight


def _ref_receptive_field(layer_list):
    from course_utils.core.models import receptive_field_size
    return receptive_field_size(layer_list)


def _rf_variant(layer_list, rule, start=1):
    field = start
    for k, s, p in reversed(list(layer_list)):
        field = rule(field, k, s, p)
    return field


def _random_layers(rng):
    n = int(rng.integers(1, 7))
    return ([(int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(0, 3))) for _ in range(n)],)


def _ref_pix2pix_g_loss(fake_logits, generated, target, l1_weight=L1_WEIGHT):
    from course_utils.core import losses
    return tuple(losses.pix2pix_generator_loss(fake_logits, generated, target, l1_weight))


def _pix2pix_inputs(rng):
    fake_logits = rng.normal(0, 2, size=(2, 6, 6, 1)).astype("float32")
    generated, target = rng.uniform(-1, 1, size=(2, 2, 32, 32, 3)).astype("float32")
    return fake_logits, generated, target, float(rng.choice([100.0, 10.0, 1.0]))


def _ref_upsample_with_skip(x, skip, filters, dropout=False):
    import keras
    from course_utils.core.layers import conv_block
    up = conv_block(x, filters, transpose=True, norm="batch", activation="relu", dropout=0.5 if dropout else 0.0)
    return keras.layers.Concatenate()([up, skip])


EXERCISES: list[Exercise] = [
    Exercise(
        "02.upsample_with_skip", _ref_upsample_with_skip,
        builds=(([(4, 4, 32), (8, 8, 16)], {"filters": 16, "dropout": True}),
                ([(4, 4, 32), (8, 8, 16)], {"filters": 16, "dropout": False})),
        input_names=("`x`, the tensor to upsample", "`skip`, the encoder's output to join"),
        hint="Compare your block with the description above, one step at a time: the kind of convolution "
             "and its stride, the order of batch norm, dropout and ReLU, when dropout is there at all, and "
             "what is joined to what at the end (in either order)."),
    Exercise(
        "02.receptive_field", _ref_receptive_field, inputs=_random_layers, trials=8,
        hint="Start from one cell at the last layer's output and widen it one layer at a time, back to the "
             "input: r cells at a layer's output need (r - 1) strides plus one kernel at its input. Check in "
             "which order you visit the layers.",
        mistakes=(
            (lambda layer_list: _ref_receptive_field(list(reversed(list(layer_list)))),
             "Your answer is what the formula gives with the layers in the other order: you seem to walk the "
             "layers from the input to the output. The formula takes the field at a layer's output back to its "
             "input, so the walk starts at the last layer (one cell of the verdict grid) and ends at the first. "
             "Check the order in which your loop visits the list."),
            (lambda layer_list: _ref_receptive_field([(k, 1, p) for k, s, p in layer_list]),
             "Your answer does not change when the strides do: look at what a stride does to the field."),
            (lambda layer_list: _rf_variant(layer_list, lambda r, k, s, p: r * s + k),
             "Your field grows by one stride too many at each layer: look at the (r - 1) of the formula."),
            (lambda layer_list: _rf_variant(layer_list, lambda r, k, s, p: (r - 1) * s + k - 2 * p),
             "Your field shrinks with the padding: padding adds zeros at the border, it does not change how "
             "many input cells one output cell sees."),
            (lambda layer_list: _rf_variant(layer_list, lambda r, k, s, p: (r - 1) * s + k, start=0),
             "Look at where you start: one cell at the last layer's output, so r = 1."),
        )),
    Exercise(
        "02.generator_loss", _ref_pix2pix_g_loss, inputs=_pix2pix_inputs,
        hint="Compare each of your three results with the formula for L_G: the adversarial term, the "
             "unweighted L1 term, and the total that weights them.",
        mistakes=(
            (lambda fl, g, t, w=L1_WEIGHT: (_bce(0.0, fl) + w * _mean_abs(t, g), _bce(0.0, fl), _mean_abs(t, g)),
             "Your adversarial term uses the discriminator's label for fakes; the generator wants the "
             "opposite verdict."),
            (lambda fl, g, t, w=L1_WEIGHT: (_bce(1.0, fl) + w * _mean_abs(t, g), _bce(1.0, fl), w * _mean_abs(t, g)),
             "Your third result looks weighted: reread what the exercise asks `l1` to be."),
            (lambda fl, g, t, w=L1_WEIGHT: (_bce(1.0, fl) + L1_WEIGHT * _mean_abs(t, g), _bce(1.0, fl), _mean_abs(t, g)),
             "Your total does not follow the `l1_weight` argument: look for a number written in by hand."),
            (lambda fl, g, t, w=L1_WEIGHT: (_bce(1.0, fl) + w * _mean_sq(t, g), _bce(1.0, fl), _mean_sq(t, g)),
             SQUARED_HINT),
            (lambda fl, g, t, w=L1_WEIGHT: (_bce(1.0, _sig(fl)) + w * _mean_abs(t, g), _bce(1.0, _sig(fl)), _mean_abs(t, g)),
             "The logits seem to go through a sigmoid before the BCE: `bce` expects logits."),
        )),
]


# --------------------------------------------------------------------------- whole networks and the step
def _ref_unet(image_size=256, channels=3, filters=64):
    from course_utils.core import models
    return models.unet_generator(image_size, channels, channels, filters=filters)


def _ref_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    from course_utils.core import models
    return models.patchgan_discriminator(image_size, channels, channels, filters=filters, n_downsampling=n_down)


def _ref_train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=L1_WEIGHT):
    from course_utils.core import train
    return train.pix2pix_train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=l1_weight)


_STEP_NETS: list = []


def _tiny_players():
    """A 16x16 U-Net and PatchGAN with 4 base filters (no dropout: the two passes must agree) and two Adams."""
    import keras
    from course_utils.core import models
    adam = lambda lr: keras.optimizers.Adam(lr, beta_1=BETA_1)   # noqa: E731
    if not _STEP_NETS:   # built once: the checker sets their weights before every run
        _STEP_NETS.extend([models.unet_generator(16, filters=4, dropout=0.0), models.patchgan_discriminator(16, filters=4)])
    return (*_STEP_NETS, adam(2e-4), adam(3e-4))   # D's steps a little further: swapped optimizers change the update


def _step_pair(seed):
    import tensorflow as tf
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, size=(2, 2, 16, 16, 3)).astype("float32")   # two pairs of 16x16 images
    return tf.constant(x), tf.constant(y)


@dataclasses.dataclass(frozen=True)
class NetworkExercise(Exercise):
    """A whole network: ``answer(image_size, **kwargs)`` returns a ``keras.Model``, compared layer by layer.

    ``builds`` holds ``(image_size, kwargs)`` pairs; each pair is checked with
    :func:`course_utils.lessons.checkers.check_model_builder` on inputs of ``image_size`` (one image, or
    ``inputs`` images for a conditional discriminator).
    """

    n_inputs: int = 1

    def run(self, answer) -> bool:
        if not callable(answer):
            raise ExerciseError(f"❌ {self.name}: expected your function, got {type(answer).__name__}.")
        for size, kwargs in self.builds:
            label = f"{self.name}({size}, {', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
            shapes = [(size, size, kwargs.get("channels", 3))] * self.n_inputs

            def call(net_fn, *tensors, kw=kwargs, size=size):
                return net_fn(size, **kw)(list(tensors) if len(tensors) > 1 else tensors[0])

            check_model_builder(lambda *t: call(answer, *t), lambda *t: call(self.reference, *t),
                                input_shapes=shapes, name=label, hint=self.hint, input_names=self.input_names)
        return True


@dataclasses.dataclass(frozen=True)
class StepExercise(Exercise):
    """A training step, compared with the course's by :func:`course_utils.lessons.checkers.check_training_step`.

    ``builds`` holds keyword arguments for the step, one a step taken (e.g. several ``l1_weight``),
    each step on its own batch; ``mistakes`` known wrong steps, each with its hint, recognised when the
    learner's step takes exactly their updates.
    """

    def run(self, answer) -> bool:
        if not callable(answer):
            raise ExerciseError(f"❌ {self.name}: expected your function, got {type(answer).__name__}.")
        batches = []
        for i, kwargs in enumerate(self.builds):
            x, y = _step_pair(i)
            label = f"pair of seed {i}" + "".join(f", {k}={v!r}" for k, v in kwargs.items())
            batches.append(((x, y, kwargs), label))

        def adapt(fn):
            return lambda p, data: fn(*p, data[0], data[1], **data[2])

        return check_training_step(adapt(answer), adapt(self.reference), _tiny_players, batches, name=self.name,
                                   hint=self.hint, mistakes=[(adapt(w), h) for w, h in self.mistakes], cache_key=self.key)


# Known wrong steps: each returns the same logs as the right one would, from the wrong computation.
def _wrong_step(no_input=False, l1_weight_fixed=None, l1_unweighted=False, fake_label=False,
                one_tape=False, eval_mode=False, swap_pair=False, swap_optimizers=False, order=None,
                d_halve=True, l1_to_input=False, fake_image="generated", fake_condition="x", g_eval=False,
                g_grad_of="total", detach=False, d_eval=False):
    def step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=L1_WEIGHT):
        import tensorflow as tf
        from course_utils.core import losses
        weight = 1.0 if l1_unweighted else (l1_weight_fixed if l1_weight_fixed is not None else l1_weight)
        training = not eval_mode
        if swap_optimizers:
            gen_optimizer, disc_optimizer = disc_optimizer, gen_optimizer
        if order is not None:
            return _alternating(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight, order)
        with tf.GradientTape(persistent=True) as tape:
            fake = generator(x, training=training and not g_eval)
            judged = {"generated": fake, "target": y, "input": x}[fake_image]   # what the fake pair holds
            judged = tf.stop_gradient(judged) if detach else judged
            condition = {"x": x, "y": y}[fake_condition]                        # what the fake pair is conditioned on
            real_pair, fake_pair = ([y, y], [judged, judged]) if no_input else ([x, y], [condition, judged])
            if swap_pair:
                real_pair, fake_pair = real_pair[::-1], fake_pair[::-1]
            real_logits = discriminator(real_pair, training=training and not d_eval)
            fake_logits = discriminator(fake_pair, training=training and not d_eval)
            label = tf.zeros_like if fake_label else tf.ones_like
            g_adv = losses.bce_with_logits(label(fake_logits), fake_logits)
            g_l1 = tf.reduce_mean(tf.abs((x if l1_to_input else y) - fake))
            g_total = g_adv + weight * g_l1
            d_loss = losses.discriminator_loss(real_logits, fake_logits, form="bce", halve=d_halve)
            both = g_total + d_loss
        g_grads = tape.gradient(both if one_tape else {"total": g_total, "adv": g_adv}[g_grad_of],
                                generator.trainable_variables)
        d_grads = tape.gradient(both if one_tape else d_loss, discriminator.trainable_variables)
        gen_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
        disc_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}
    return step


def _alternating(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight, order):
    """The alternating update: one player steps, then the other's loss is computed again with its new weights."""
    import tensorflow as tf
    from course_utils.core import losses

    def d_update():
        with tf.GradientTape() as tape:
            fake = generator(x, training=True)
            d_loss = losses.discriminator_loss(discriminator([x, y], training=True),
                                               discriminator([x, fake], training=True), form="bce", halve=True)
        disc_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables),
                                           discriminator.trainable_variables))
        return d_loss

    def g_update():
        with tf.GradientTape() as tape:
            fake = generator(x, training=True)
            fake_logits = discriminator([x, fake], training=True)
            g_adv = losses.bce_with_logits(tf.ones_like(fake_logits), fake_logits)
            g_l1 = tf.reduce_mean(tf.abs(y - fake))
            g_total = g_adv + l1_weight * g_l1
        gen_optimizer.apply_gradients(zip(tape.gradient(g_total, generator.trainable_variables),
                                          generator.trainable_variables))
        return g_total, g_adv, g_l1

    if order == "D then G":
        d_loss = d_update()
        g_total, g_adv, g_l1 = g_update()
    else:
        g_total, g_adv, g_l1 = g_update()
        d_loss = d_update()
    return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}


_ORDER_HINT = ("Your step takes the alternating update: {what}. The lesson's step is simultaneous (section 7): "
               "one forward pass, both gradients taken at the weights from before the step, then each optimizer "
               "updates its own network; in that update the order of the two optimizer calls changes nothing.")

_FAKE_PAIR_HINT = ("Your discriminator's fake pair does not hold the generated image: it seems to be given {what} "
                   "where the generator's output should be. Then the discriminator never sees a fake, and the "
                   "generator's adversarial term does not depend on the generator at all (only the L1 term trains "
                   "it). Look at what the second discriminator call, the one that judges the fake, is given.")

EXERCISES += [
    NetworkExercise(
        "02.unet", _ref_unet,
        builds=((32, {"filters": 8}), (16, {"filters": 4, "channels": 1})),
        hint="Walk through your U-Net block by block next to the description in section 4.3: which encoder "
             "blocks have batch norm, what the bottleneck has, which decoder blocks get dropout, which encoder "
             "output each decoder block is joined to (same height and width), and what the last layer ends with."),
    NetworkExercise(
        "02.patchgan", _ref_patchgan, n_inputs=2,
        input_names=("the input image (the condition)", "the target image (or the generated one) to judge"),
        builds=((32, {"filters": 8, "n_down": 2}), (64, {"filters": 4, "n_down": 3})),
        hint="Compare your PatchGAN with the description in section 5, layer by layer: what the network is "
             "given to judge (the pair, joined in either order), which blocks have batch norm, the stride of each 4x4 convolution (it sets the "
             "size of the verdict grid), and what the last layer outputs: logits, not probabilities."),
    StepExercise(
        "02.train_step", _ref_train_step, builds=({}, {"l1_weight": 10.0}, {}),
        hint="Go through your step against the description of section 7: what each discriminator call "
             "is given, which label each loss uses, how `l1_weight` enters, which tape watches which loss, "
             "and in which mode the networks run while they train.",
        mistakes=(
            (_wrong_step(no_input=True),
             "Your discriminator judges images on their own: a conditional discriminator judges pairs. Look "
             "at what you pass to each of its calls."),
            (_wrong_step(l1_unweighted=True),
             "Your total ignores `l1_weight`: look at how the two terms of L_G are added."),
            (_wrong_step(l1_weight_fixed=L1_WEIGHT),
             "Your step gives the same result for every `l1_weight`: look for a number written in by hand."),
            (_wrong_step(fake_label=True),
             "Your generator's adversarial term uses the label the discriminator gives to fakes; the "
             "generator wants the opposite verdict."),
            (_wrong_step(one_tape=True),
             "Each player's gradient should come from its own loss only: look at what each `tape.gradient` "
             "differentiates."),
            (_wrong_step(eval_mode=True),
             "The networks run in inference mode inside your step: batch norm then uses its running averages "
             "instead of the batch's statistics. Look at the `training` argument of each call."),
            (_wrong_step(order="D then G"),
             _ORDER_HINT.format(what="you update the discriminator first, then run it again with its new weights "
                                     "for the generator's loss (the order of Goodfellow et al. and the authors' code)")),
            (_wrong_step(order="G then D"),
             _ORDER_HINT.format(what="you update the generator first, then judge the fakes of the generator's new "
                                     "weights for the discriminator's loss")),
            (_wrong_step(swap_pair=True),
             "Your discriminator is given each pair in the other order than its inputs, (input image, target or "
             "generated image): its first input is the input image. Look at the order of the two images in each call."),
            (_wrong_step(fake_image="target"),
             _FAKE_PAIR_HINT.format(what="the real target `y`")),
            (_wrong_step(fake_image="input"),
             _FAKE_PAIR_HINT.format(what="the input image `x` a second time")),
            (_wrong_step(d_halve=False),
             "Your discriminator's loss is twice the reference's: pix2pix takes half of the sum of the two BCEs "
             "(section 6), which slows the discriminator down relative to the generator. Look at how you combine "
             "the real and the fake terms."),
            (_wrong_step(l1_to_input=True),
             "Your L1 term compares the generated image with the input: it should stay close to the target."),
            (_wrong_step(swap_optimizers=True),
             "Each network should be updated by its own optimizer: look at which optimizer applies which gradients."),
            (_wrong_step(fake_condition="y"),
             "Your fake pair is conditioned on the target `y` instead of the input `x`: the discriminator judges "
             "(input image, image) pairs, the real one (x, y) and the fake one (x, G(x)). With y beside the fake, "
             "the pair gives away the answer, and the generator is not judged on how well G(x) fits its input."),
            (_wrong_step(g_eval=True),
             "Your generator runs in inference mode inside the step (`training=False`, or no `training` argument): "
             "its batch norm then uses its running averages instead of the batch's statistics, and its dropout, "
             "pix2pix's noise, is off. Call the generator with `training=True` while it learns."),
            (_wrong_step(g_grad_of="adv"),
             "Your generator's gradient comes from the adversarial term alone: it should come from the total, "
             "g_adv + l1_weight * g_l1, so that the L1 term pulls the output towards the target too. Look at "
             "which loss the generator's `tape.gradient` differentiates."),
            (_wrong_step(detach=True),
             "Your fakes are detached (`tf.stop_gradient`) before the discriminator judges them, for the "
             "generator's loss too: then the adversarial term sends no gradient to the generator, which learns "
             "from L1 alone. Detach (if at all) only for the discriminator's loss; the generator's adversarial "
             "term must reach the generator through the discriminator."),
            (_wrong_step(d_eval=True),
             "Your discriminator runs in inference mode inside the step (`training=False`, or no `training` "
             "argument), while the generator trains: the PatchGAN's batch norm then normalises with its running "
             "averages instead of the batch's statistics, and does not update them, so the discriminator judges "
             "and learns as a different network. Call the discriminator with `training=True` in both of its "
             "calls while it learns."),
        )),
]
