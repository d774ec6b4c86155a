"""The exercises of lesson 01, GAN basics: each one's reference, inputs, hint and known mistakes.

:mod:`course_utils.lessons.exercises` gathers :data:`EXERCISES` from here into the course's registry.
"""

from __future__ import annotations

import numpy as np

from course_utils.core.model_config import BETA_1

import dataclasses
from collections.abc import Callable

from course_utils.lessons import checkers
from course_utils.lessons.checkers import Exercise, ExerciseError
from course_utils.lessons.exercise_sets._common import _bce, _sigmoid


def _logit_pair(rng):
    return (rng.normal(0, 3, size=(16, 1)).astype("float32"), rng.normal(0, 3, size=(16, 1)).astype("float32"))


def _logits(rng):
    return (rng.normal(0, 3, size=(16, 1)).astype("float32"),)


def _ref_d_loss(real_logits, fake_logits):
    from course_utils.core import losses
    return losses.discriminator_loss(real_logits, fake_logits, form="bce", halve=False)


def _ref_g_loss(fake_logits):
    from course_utils.core import losses
    return losses.generator_loss(fake_logits, form="bce")


# --------------------------------------------------------------------------- the DCGAN generator
def _ref_generator(latent_dim=100, filters=256):
    """The lesson's ``build_generator``: the course's DCGAN generator at width ``filters``."""
    from course_utils.core import models
    return models.dcgan_generator(latent_dim, base_filters=filters)


@dataclasses.dataclass(frozen=True)
class _NetworkExercise(Exercise):
    """A builder ``build(**kwargs) -> keras.Model``, compared with the reference for each of ``builds``.

    Each of ``builds`` is ``(input_shapes, kwargs)``, as for :class:`Exercise`, but the learner's
    function makes the whole model from its keyword arguments (it is not called on tensors).
    """

    def run(self, answer: Callable) -> bool:
        if not callable(answer):
            raise ExerciseError(f"❌ {self.name}: expected your function, got {type(answer).__name__}.")
        for shapes, kwargs in self.builds:
            label = f"{self.name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
            checkers.check_model_builder(lambda *t, kw=kwargs: answer(**kw)(*t),
                                         lambda *t, kw=kwargs: self.reference(**kw)(*t),
                                         input_shapes=shapes, name=label, hint=self.hint)
        return True


# --------------------------------------------------------------------------- the training step
def _ref_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    """The lesson's ``gan_train_step``: :func:`course_utils.core.train.gan_train_step`, its two losses."""
    from course_utils.core import train
    out = train.gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise)
    return {"d_loss": out["d_loss"], "g_loss": out["g_loss"]}


_STEP_NETS: list = []


def _step_players():
    """Small DCGAN twins without dropout (it would make two passes differ), two fresh Adams.

    The discriminator's Adam steps a little further than the generator's, so that optimizers
    swapped between the players change the update.
    """
    import keras
    from course_utils.core import models
    if not _STEP_NETS:   # built once: the checker sets their weights before every run
        # The lesson's discriminator has dropout, this one none: the checker watches its training flag instead.
        _STEP_NETS.extend([models.dcgan_generator(latent_dim=_STEP_LATENT, base_filters=16),
                           checkers.watch_training_flag(models.dcgan_discriminator(base_filters=8, dropout=0.0),
                                                        "dropout")])
    return (*_STEP_NETS, keras.optimizers.Adam(2e-4, beta_1=BETA_1), keras.optimizers.Adam(3e-4, beta_1=BETA_1))


_STEP_LATENT = 16


def _wrong_step(d_real_label=1.0, d_fake_label=0.0, g_form="non-saturating", training=True, one_tape=False,
                d_grad_of="d_loss", g_grad_of="g_loss"):
    """A training step with one of the mistakes learners make; the defaults give the right step.

    ``d_grad_of`` and ``g_grad_of`` name the loss each network's gradient is taken of."""
    def step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
        import tensorflow as tf
        from course_utils.core import losses
        with tf.GradientTape(persistent=True) as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=training)
            real_logits = discriminator(real, training=training)
            fake_logits = discriminator(fake, training=training)
            d_loss = (losses.bce_with_logits(d_real_label, real_logits)
                      + losses.bce_with_logits(d_fake_label, fake_logits))
            g_loss = (losses.bce_with_logits(1.0, fake_logits) if g_form == "non-saturating"
                      else -losses.bce_with_logits(0.0, fake_logits))
            total = d_loss + g_loss
        if one_tape:   # one loss for both players: each network also follows the other's loss
            variables = generator.trainable_variables + discriminator.trainable_variables
            grads = g_tape.gradient(total, variables)
            n = len(generator.trainable_variables)
            g_grads, d_grads = grads[:n], grads[n:]
        else:
            named = {"d_loss": d_loss, "g_loss": g_loss}
            g_grads = g_tape.gradient(named[g_grad_of], generator.trainable_variables)
            d_grads = d_tape.gradient(named[d_grad_of], discriminator.trainable_variables)
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}
    return step


def _step_batches():
    """Three steps, each on its own batch of reals and noise (seeds 1, 2, 3)."""
    out = []
    for seed in (1, 2, 3):
        rng = np.random.default_rng(seed)
        out.append(((rng.uniform(-1, 1, (8, 28, 28, 1)).astype("float32"),
                     rng.normal(size=(8, _STEP_LATENT)).astype("float32")), f"batch and noise of seed {seed}"))
    return out


def _alternating_step(d_first=True):
    """The alternating update: one player steps, then the other's loss is computed again with its new weights."""
    def step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
        import tensorflow as tf
        from course_utils.core import losses

        def d_update():
            with tf.GradientTape() as tape:
                fake_logits = discriminator(generator(noise, training=True), training=True)
                real_logits = discriminator(real, training=True)
                d_loss = losses.bce_with_logits(1.0, real_logits) + losses.bce_with_logits(0.0, fake_logits)
            d_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables),
                                            discriminator.trainable_variables))
            return d_loss

        def g_update():
            with tf.GradientTape() as tape:
                g_loss = losses.bce_with_logits(1.0, discriminator(generator(noise, training=True), training=True))
            g_optimizer.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_variables),
                                            generator.trainable_variables))
            return g_loss

        if d_first:
            d_loss = d_update()
            g_loss = g_update()
        else:
            g_loss = g_update()
            d_loss = d_update()
        return {"d_loss": d_loss, "g_loss": g_loss}
    return step


def _swapped_optimizers(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    return _wrong_step()(generator, discriminator, d_optimizer, g_optimizer, real, noise)


ORDER_HINT = ("Your step takes the {order} update: {what}. The lesson's step is simultaneous: both "
              "losses, and so both gradients, come from one forward pass at the weights from before the step; "
              "only then does each optimizer update its own network, and the order in which the two optimizers "
              "are applied changes nothing.")

OTHER_LOSS_HINT = ("Your {net}'s gradient seems to be taken of the {other}'s loss: the {net}'s weights then "
                   "move to help its opponent{why}. Each player follows its own loss: the discriminator's gradient "
                   "is taken of d_loss, the generator's of g_loss. Look at which loss each `gradient` call "
                   "differentiates, and with which network's variables.")

#: The training step's known wrong answers, each with its hint (tests/test_exercises_lesson01.py feeds them).
STEP_MISTAKES = (
    (_wrong_step(one_tape=True),
     "Both networks seem to follow the sum of the two losses. Each player has its own loss: which "
     "loss should each network's gradient come from, and which tape records it?"),
    (_wrong_step(g_form="saturating"),
     "Your generator's loss is the minimax game's log(1 - D(G(z))), the one that saturates: reread "
     "section 5 and your generator_loss."),
    (_wrong_step(d_fake_label=1.0),
     "Your discriminator learns to call the generator's output real: which label do the fakes get "
     "in the discriminator's loss?"),
    (_wrong_step(training=False),
     "Your networks seem to run in inference mode during the step (the generator at least: it is the one with "
     "batch norm), called with `training=False` or with no `training` argument at all. Batch norm then "
     "normalises with its running averages instead of the batch's statistics, and does not update them. Look "
     "at the `training` argument of each network call: how should a network be called while it learns?"),
    (_alternating_step(d_first=True),
     ORDER_HINT.format(order="alternating", what="you update the discriminator first, then compute the "
                       "generator's loss again through the discriminator's new weights (Goodfellow et al.'s "
                       "order)")),
    (_alternating_step(d_first=False),
     ORDER_HINT.format(order="alternating", what="you update the generator first, then compute the "
                       "discriminator's loss on fakes from the generator's new weights (the other order)")),
    (_swapped_optimizers,
     "Each network should be updated by its own optimizer: look at which optimizer applies which gradients."),
    (_wrong_step(d_real_label=0.0, d_fake_label=1.0),
     "Your discriminator's loss gives the real images label 0 and the fakes label 1: `discriminator_loss` seems "
     "to get its arguments the wrong way round. It takes the real logits first, then the fakes' "
     "(`discriminator_loss(real_logits, fake_logits)`); look at the order you pass them in."),
    (_wrong_step(d_grad_of="g_loss"),
     OTHER_LOSS_HINT.format(net="discriminator", other="generator",
                            why=" (to take the fakes for real) instead of learning to tell real from fake")),
    (_wrong_step(g_grad_of="d_loss"),
     OTHER_LOSS_HINT.format(net="generator", other="discriminator",
                            why=" (to make fakes the discriminator spots more easily) instead of fooling it")),
    (_wrong_step(d_grad_of="g_loss", g_grad_of="d_loss"),
     "Your two gradients seem to be taken of each other's losses: the discriminator's of the generator's loss "
     "and the generator's of the discriminator's, so each network helps its opponent. Each player follows its "
     "own loss: the discriminator's gradient is taken of d_loss, the generator's of g_loss."),
)


@dataclasses.dataclass(frozen=True)
class _StepExercise(Exercise):
    """A training step ``step(generator, discriminator, g_optimizer, d_optimizer, real, noise)``,
    checked with :func:`course_utils.lessons.checkers.check_training_step` on small twins, over three steps."""

    def run(self, answer: Callable) -> bool:
        if not callable(answer):
            raise ExerciseError(f"❌ {self.name}: expected your function, got {type(answer).__name__}.")
        return checkers.check_training_step(
            lambda p, data: answer(*p, *data), lambda p, data: self.reference(*p, *data),
            _step_players, _step_batches(), name=self.name, hint=self.hint, cache_key=self.key,
            mistakes=[(lambda p, data, w=wrong: w(*p, *data), h) for wrong, h in self.mistakes],
            random_hint="Use the `noise` your step is given: the checker gives your step and the course's the "
                        "same noise, so noise drawn inside the step makes them differ (and each call differ).")


EXERCISES: list[Exercise] = [
    Exercise(
        "01.discriminator_loss", _ref_d_loss, inputs=_logit_pair,
        hint="Reread the description above the exercise: which label does each kind of input get, and "
             "how are the two mean BCEs combined (it asks for no weighting)?",
        mistakes=(
            (lambda r, f: _bce(0.0, r) + _bce(1.0, f),
             "Your loss is smallest when D calls real images fake and fakes real: look at which label "
             "goes with which logits."),
            (lambda r, f: 0.5 * (_bce(1.0, r) + _bce(0.0, f)),
             "Your value is exactly half the expected one: look at how you combine the two terms."),
            (lambda r, f: _bce(1.0, _sigmoid(r)) + _bce(0.0, _sigmoid(f)),
             "The logits seem to go through a sigmoid before the BCE; look at what bce_from_logits "
             "expects as its input."),
            (lambda r, f: _bce(1.0, r), "Only the real logits seem to count: where do the fakes come in?"),
        )),
    Exercise(
        "01.generator_loss", _ref_g_loss, inputs=_logits,
        hint="Reread section 5: the loss is -log D(G(z)), a BCE of the fakes' logits. Which label makes "
             "that BCE small exactly when D takes the fakes for real?",
        mistakes=(
            (lambda f: _bce(0.0, f),
             "Your loss gives the fakes label 0, the discriminator's target for them: it is small when D spots the "
             "fakes. The generator wants the opposite verdict: which label makes its loss small exactly when D "
             "takes the fakes for real?"),
            (lambda f: -_bce(0.0, f),
             "This is the saturating minimax form, log(1 - D(G(z))): reread why section 5 replaces it."),
            (lambda f: _bce(1.0, _sigmoid(f)),
             "The logits seem to go through a sigmoid before the BCE; look at what bce_from_logits expects."),
        )),
    _NetworkExercise(
        "01.build_generator", _ref_generator,
        builds=(([(100,)], {"latent_dim": 100, "filters": 16}), ([(8,)], {"latent_dim": 8, "filters": 32})),
        hint="Compare your network with the list and the diagram above, one layer at a time: the widths "
             "(filters, then half, then a quarter), each layer's kernel and stride, where batch norm and "
             "LeakyReLU come, which layers go without a bias, and the output's activation."),
    _StepExercise(
        "01.train_step", _ref_train_step,
        hint="Compare your step with the four steps listed above: one forward pass, each loss from the "
             "right logits, each gradient from its own tape and its own loss, each optimizer updating "
             "its own network, and the networks in training mode.",
        mistakes=STEP_MISTAKES),
]
