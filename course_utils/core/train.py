"""Training GANs, Pix2Pix and CycleGAN: the engine behind the lessons.

Read this module top to bottom as an appendix to the lessons:

1. **The training steps**: :func:`gan_train_step`, :func:`pix2pix_train_step` and
   :func:`cyclegan_train_step`, each one function on one screen written the way the TensorFlow
   tutorials write it: forward pass, losses, ``tf.GradientTape``, then one update per network
   (``tape.gradient`` and ``apply_gradients``, in :func:`_update`). They are the one place each
   model's objective is written, and what the lessons write in front of the learner.
2. **Two helpers from the papers**: :class:`ImagePool`, the history of 50 generated images that
   CycleGAN's discriminators learn from, and :class:`LinearDecay`, the learning rate that stays
   constant for 100 epochs and then falls linearly to zero over 100 more.
3. **Trainers**: :class:`GAN`, :class:`Pix2Pix` and :class:`CycleGAN` are ``keras.Model``
   subclasses whose ``train_step`` *is* the explicit step above, called with the trainer's
   networks and optimizers, so ``fit()``, callbacks and progress bars work. Around it they add
   only a global step and metrics; loss scaling for mixed precision (:func:`precision`: the
   trainers wrap their optimizers in ``keras.optimizers.LossScaleOptimizer``) and
   ``tf.distribute``'s replicas are handled inside :func:`_update`.

What a long run needs around a trainer (checkpoints, callbacks, TensorBoard records, the loss
history, exports, resume checks and ``run_training``) lives in :mod:`course_utils.tools.runs`.

Conventions: images are float32, channels last, in [-1, 1]; discriminators output logits; all
losses come from :mod:`course_utils.core.losses` and are computed in float32. Outside ``train_step``
(``evaluate``, sample grids, exports) image-to-image generators run by
:mod:`course_utils.core.inference`'s convention: batch norm with each image's own statistics, as
the pix2pix paper does at test time, and dropout off.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, ClassVar, Iterator, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from course_utils.core import inference, losses, metrics
from course_utils.core.counts import HORSE2ZEBRA_EPOCH_STEPS, positive_int
from course_utils.core.images import ssim_fits, tile, to_unit
from course_utils.core.model_config import BETA_1, LEARNING_RATE

#: The precision policies a trainer can run under.
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


# ===========================================================================
# 1. The training steps: forward pass, losses, tapes and updates of each model
# ===========================================================================
# Written the way the TensorFlow tutorials write them, and the very functions the trainers'
# train_step runs. Every network runs with training=True (dropout on, batch norm on batch
# statistics). Each update is the tutorials' two lines, tape.gradient then apply_gradients, in
# _update below, which also carries what fit() may add around a step: loss scaling and replicas.
def _update(tape: tf.GradientTape, loss: tf.Tensor, network: keras.Model,
            optimizer: keras.optimizers.Optimizer) -> None:
    """One gradient step of ``network`` on ``loss``: ``tape.gradient``, then ``apply_gradients``.

    Backpropagation starts from ``output_gradients``: 1 in a plain float32 step, which is the
    tutorials' ``tape.gradient(loss, weights)`` exactly. Under mixed_float16 the optimizer is a
    ``keras.optimizers.LossScaleOptimizer``: it starts from its loss scale (``opt.scale_loss(1)``,
    the same as differentiating ``scale * loss``) so that small float16 gradients do not underflow,
    and its ``apply_gradients`` divides the scale out again and skips a step that overflowed.
    Under ``tf.distribute`` each replica's gradients are summed, so each starts from
    ``1 / replicas`` and the update is their mean.
    """
    weights = network.trainable_variables
    replica = tf.distribute.get_replica_context()    # None outside a replica (nothing to share with)
    replicas = replica.num_replicas_in_sync if replica is not None else 1
    start = optimizer.scale_loss(tf.ones_like(loss)) / replicas
    grads = tape.gradient(loss, weights, output_gradients=start)
    optimizer.apply_gradients(zip(grads, weights))


def gan_train_step(generator: keras.Model, discriminator: keras.Model,
                   g_opt: keras.optimizers.Optimizer, d_opt: keras.optimizers.Optimizer,
                   real: tf.Tensor, noise: tf.Tensor, loss_form: str = "bce",
                   real_label: float = 1.0) -> dict[str, tf.Tensor]:
    """One DCGAN step as the TensorFlow tutorial writes it (the :class:`GAN` trainer's step).

    The generator turns ``noise`` into fakes, the discriminator scores real and fake images,
    and two tapes watch it all; then each network takes one gradient step on its own loss. The
    discriminator loss is *not* halved, as in the tutorial. ``real_label`` 0.9 instead of 1 is
    one-sided label smoothing (:func:`course_utils.core.losses.check_real_label`); the tutorial uses 1.

    Returns ``{"d_loss", "g_loss"}`` (float32 scalars, before the update).
    """
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        g_loss = losses.generator_loss(fake_logits, loss_form)
        d_loss = losses.discriminator_loss(real_logits, fake_logits, loss_form, real_label=real_label)
    _update(g_tape, g_loss, generator, g_opt)
    _update(d_tape, d_loss, discriminator, d_opt)
    return {"d_loss": d_loss, "g_loss": g_loss}


def pix2pix_train_step(generator: keras.Model, discriminator: keras.Model,
                       g_opt: keras.optimizers.Optimizer, d_opt: keras.optimizers.Optimizer,
                       inp: tf.Tensor, target: tf.Tensor, l1_weight: float = losses.L1_WEIGHT,
                       loss_form: str = "bce") -> dict[str, tf.Tensor]:
    """One Pix2Pix step as the TensorFlow tutorial writes it (the :class:`Pix2Pix` trainer's step).

    The generator translates ``inp``; the PatchGAN judges the real pair ``(inp, target)`` and
    the generated pair ``(inp, G(inp))``. The generator steps on "fool the discriminator" plus
    ``l1_weight`` times the L1 distance to the target, the discriminator on its adversarial
    loss, halved as in the paper.

    Returns ``{"d_loss", "g_loss", "g_adv", "g_l1"}`` (float32 scalars, before the update);
    ``g_loss`` is the generator's total and ``g_l1`` the unweighted L1.
    """
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(inp, training=True)
        real_logits = discriminator([inp, target], training=True)
        fake_logits = discriminator([inp, fake], training=True)
        g_loss, g_adv, g_l1 = losses.pix2pix_generator_loss(fake_logits, fake, target, l1_weight, loss_form)
        d_loss = losses.discriminator_loss(real_logits, fake_logits, loss_form, halve=True)
    _update(g_tape, g_loss, generator, g_opt)
    _update(d_tape, d_loss, discriminator, d_opt)
    return {"d_loss": d_loss, "g_loss": g_loss, "g_adv": g_adv, "g_l1": g_l1}


def cyclegan_train_step(generator_g: keras.Model, generator_f: keras.Model,
                        discriminator_x: keras.Model, discriminator_y: keras.Model,
                        g_opt: keras.optimizers.Optimizer, f_opt: keras.optimizers.Optimizer,
                        dx_opt: keras.optimizers.Optimizer, dy_opt: keras.optimizers.Optimizer,
                        real_x: tf.Tensor, real_y: tf.Tensor, cycle_weight: float = losses.CYCLE_WEIGHT,
                        identity_weight: float = losses.IDENTITY_WEIGHT, loss_form: str = "lsgan",
                        pool_x: "ImagePool | None" = None,
                        pool_y: "ImagePool | None" = None) -> dict[str, tf.Tensor]:
    """One CycleGAN step as the TensorFlow tutorial writes it: one persistent tape, four optimizers.

    ``G: X -> Y`` and ``F: Y -> X``. Each generator's loss: fool its discriminator, come back to
    where it started (both cycle terms, shared by G and F), and leave images already in its
    output domain alone (the identity term; skipped when ``identity_weight`` is the number 0, while
    a tensor weight always computes it, so one traced step serves any weight). ``D_X``
    tells real ``x`` from ``F(y)``, ``D_Y`` real ``y`` from ``G(x)``; with ``pool_x``/``pool_y``
    they learn from fakes drawn from a history of past fakes (:class:`ImagePool`; size 0 counts
    as none) instead of the newest ones. Discriminator losses are halved, as in the paper.

    Returns ``{"g_loss", "f_loss", "dx_loss", "dy_loss", "g_adv", "f_adv", "cycle", "identity"}``
    (float32 scalars, before the update); ``cycle`` and ``identity`` are the weighted terms as
    they enter the objective (``identity`` sums G's and F's).
    """
    with tf.GradientTape(persistent=True) as tape:
        fake_y = generator_g(real_x, training=True)       # x -> G(x)
        cycled_x = generator_f(fake_y, training=True)     # -> F(G(x)), should be x again
        fake_x = generator_f(real_y, training=True)       # y -> F(y)
        cycled_y = generator_g(fake_x, training=True)     # -> G(F(y)), should be y again
        d_real_x = discriminator_x(real_x, training=True)
        d_real_y = discriminator_y(real_y, training=True)
        d_fake_x = discriminator_x(fake_x, training=True)
        d_fake_y = discriminator_y(fake_y, training=True)

        g_adv = losses.generator_loss(d_fake_y, loss_form)
        f_adv = losses.generator_loss(d_fake_x, loss_form)
        cycle = (losses.cycle_consistency_loss(real_x, cycled_x, cycle_weight)
                 + losses.cycle_consistency_loss(real_y, cycled_y, cycle_weight))
        id_g = id_f = tf.constant(0.0)
        if tf.is_tensor(identity_weight) or identity_weight:
            id_g = losses.identity_loss(real_y, generator_g(real_y, training=True), identity_weight)  # G(y) ~ y
            id_f = losses.identity_loss(real_x, generator_f(real_x, training=True), identity_weight)  # F(x) ~ x
        g_loss = g_adv + cycle + id_g
        f_loss = f_adv + cycle + id_f

        if pool_x is not None and pool_x.pool_size:   # the discriminators learn from the pools' fakes
            d_fake_x = discriminator_x(pool_x.query(fake_x), training=True)
        if pool_y is not None and pool_y.pool_size:
            d_fake_y = discriminator_y(pool_y.query(fake_y), training=True)
        dx_loss = losses.discriminator_loss(d_real_x, d_fake_x, loss_form, halve=True)
        dy_loss = losses.discriminator_loss(d_real_y, d_fake_y, loss_form, halve=True)
    _update(tape, g_loss, generator_g, g_opt)
    _update(tape, f_loss, generator_f, f_opt)
    _update(tape, dx_loss, discriminator_x, dx_opt)
    _update(tape, dy_loss, discriminator_y, dy_opt)
    del tape
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss,
            "g_adv": g_adv, "f_adv": f_adv, "cycle": cycle, "identity": id_g + id_f}

# ===========================================================================
# 2. The image pool and the learning-rate schedule
# ===========================================================================
def _replica_local(initial_value: Any, name: str, dtype: tf.DType | None = None) -> tf.Variable:
    """A variable each ``tf.distribute`` replica keeps for itself (checkpointed from the first).

    Outside a distribution strategy this is an ordinary variable.
    """
    return tf.Variable(initial_value, dtype=dtype, trainable=False, name=name,
                       synchronization=tf.VariableSynchronization.ON_READ,
                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)


class ImagePool(tf.Module):
    """A history of generated images for the discriminators (Shrivastava et al. 2017; CycleGAN).

    ``query(fakes)`` takes a batch of new fakes and returns a batch of the same shape:

    * while the pool holds fewer than ``pool_size`` images, each new image is stored and
      returned as it is;
    * once it is full, for each image a fair coin decides: heads, a random stored image is
      returned and the new one takes its place; tails, the new image is returned and the pool
      is left alone.

    So the discriminator sees a mix of current and older fakes, which damps oscillation.
    Everything lives in ``tf.Variable``\\ s (the images, how many are stored, the random
    counter): the pool works inside ``tf.function`` and XLA, and ``tf.train.Checkpoint`` saves
    and restores it. Randomness is stateless, from ``(seed, number of queries so far)``, so a
    run is repeatable and a resumed run draws what an uninterrupted one would have drawn.
    Under ``tf.distribute`` each replica keeps its own pool.

    Args:
        pool_size: images kept (50 in the paper); 0 turns the pool off (fakes pass through).
        image_shape: ``(height, width, channels)`` of one image.
        seed: seed of the coin flips and slot choices.
    """

    def __init__(self, pool_size: int = 50, image_shape: Sequence[int] = (256, 256, 3), seed: int = 0,
                 name: str | None = None):
        super().__init__(name=name)
        if not isinstance(pool_size, int) or isinstance(pool_size, bool) or pool_size < 0:
            raise ValueError(f"pool_size must be a non-negative integer (50 in the paper, 0 for no pool); "
                             f"got {pool_size!r}.")
        shape = tuple(int(s) for s in image_shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"image_shape must be (height, width, channels) of one image, got {image_shape!r}.")
        self.pool_size = pool_size
        self.image_shape = shape
        self.seed = int(seed)
        self.images = _replica_local(tf.zeros((max(pool_size, 1),) + shape, tf.float32), "images")
        self.count = _replica_local(0, "count", tf.int32)      # images stored so far (<= pool_size)
        self.queries = _replica_local(0, "queries", tf.int64)  # drives the stateless random draws

    @property
    def size(self) -> int:
        """How many images the pool holds now."""
        return int(self.count.numpy())

    def query(self, images: tf.Tensor) -> tf.Tensor:
        """Return a batch for the discriminator and update the pool (see the class docstring)."""
        images = tf.cast(tf.stop_gradient(images), tf.float32)
        if self.pool_size == 0:
            return images
        n = tf.shape(images)[0]
        draws = tf.random.stateless_uniform(
            tf.stack([n, 2]), seed=tf.stack([tf.constant(self.seed, tf.int64), self.queries.read_value()]))
        coins = draws[:, 0]                                              # < 0.5: hand back an old image
        slots = tf.minimum(tf.cast(draws[:, 1] * self.pool_size, tf.int32), self.pool_size - 1)

        def body(i, pool, count, out):
            image = images[i]

            def store():   # pool not full yet: keep the new image, return it
                return tf.tensor_scatter_nd_update(pool, [[count]], image[None]), count + 1, image

            def swap():    # return a stored image, keep the new one in its slot
                # gather, not pool[slots[i]]: XLA treats a slice's start as a compile-time
                # constant and would recompile the whole step for every random slot.
                old = tf.gather(pool, slots[i])
                return tf.tensor_scatter_nd_update(pool, [[slots[i]]], image[None]), count, old

            def keep():    # return the new image, pool unchanged
                return pool, count, image

            pool, count, chosen = tf.cond(count < self.pool_size, store,
                                          lambda: tf.cond(coins[i] < 0.5, swap, keep))
            return i + 1, pool, count, out.write(i, chosen)

        out = tf.TensorArray(tf.float32, size=n, element_shape=self.image_shape)
        _, pool, count, out = tf.while_loop(
            lambda i, *_: i < n, body, (tf.constant(0), self.images.read_value(), self.count.read_value(), out))
        self.images.assign(pool)
        self.count.assign(count)
        self.queries.assign_add(1)
        return out.stack()


@keras.saving.register_keras_serializable(package="course_utils")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate for ``constant_steps`` updates, then linearly down to zero.

    ``lr(step) = initial_learning_rate * clip(1 - (step - constant_steps) / decay_steps, 0, 1)``:
    the full rate up to ``constant_steps``, half of it at ``constant_steps + decay_steps / 2``,
    zero from ``constant_steps + decay_steps`` on. CycleGAN trains 100 epochs at 2e-4 and 100
    more decaying to zero: ``LinearDecay(2e-4, 100 * steps_per_epoch, 100 * steps_per_epoch)``.
    ``step`` is the optimizer's ``iterations`` (updates applied so far), which checkpoints keep,
    so a resumed run continues the schedule where it stopped.
    """

    def __init__(self, initial_learning_rate: float, constant_steps: int, decay_steps: int,
                 name: str = "LinearDecay"):
        super().__init__()
        if not (isinstance(initial_learning_rate, (int, float)) and initial_learning_rate > 0):
            raise ValueError(f"initial_learning_rate must be a positive number, got {initial_learning_rate!r}.")
        for what, value in (("constant_steps", constant_steps), ("decay_steps", decay_steps)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{what} must be a non-negative integer number of optimizer steps, got {value!r}.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        past = step - float(self.constant_steps)            # steps into the decay (negative before)
        if self.decay_steps == 0:                           # a cliff: full rate, then zero
            fraction = ops.where(past < 0.0, 1.0, 0.0)
        else:
            fraction = ops.clip(1.0 - past / float(self.decay_steps), 0.0, 1.0)
        return self.initial_learning_rate * fraction

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "constant_steps": self.constant_steps,
                "decay_steps": self.decay_steps, "name": self.name}


def cyclegan_schedule(steps_per_epoch: int, learning_rate: float = LEARNING_RATE, constant_epochs: int = 100,
                      decay_epochs: int = 100) -> LinearDecay:
    """The CycleGAN paper's schedule in optimizer steps: 100 epochs constant, 100 decaying to zero."""
    steps_per_epoch = positive_int(steps_per_epoch, "steps_per_epoch", "images per epoch / batch size")
    return LinearDecay(learning_rate, constant_epochs * steps_per_epoch, decay_epochs * steps_per_epoch)


# ===========================================================================
# 3. Trainers: the same steps inside keras.Model.fit
# ===========================================================================
@contextlib.contextmanager
def precision(policy: str) -> Iterator[None]:
    """``with precision("mixed_float16"): build networks...``, then the previous global policy is back.

    ``"float32"``; ``"mixed_float16"`` (float16 compute, float32 weights; needs loss scaling,
    which the trainers add by themselves; fast on T4/V100/A100); ``"mixed_bfloat16"`` (no loss
    scaling needed; TPUs, A100 and newer). Build the networks inside the block.
    """
    if policy not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {policy!r}.")
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _seed_states(network: keras.Model) -> list[Any]:
    """The random-state variables of a network's dropout layers (tf checkpoints skip them)."""
    return [v for v in network.variables if v.path.endswith("seed_generator_state")]


class Trainer(keras.Model):
    """What the three trainers share: networks, optimizers, the training step, a step counter, metrics.

    Subclasses pass their networks (name -> ``keras.Model``) and implement ``train_step`` (their
    model's explicit step, e.g. :func:`pix2pix_train_step`, then :meth:`_record`), ``test_step`` and
    ``sample_grid``; ``generators`` and ``call`` where theirs differ from the image-to-image default
    (one network named ``generator``). The global ``step`` counts training steps and is what checkpoints, sample
    files and the loss history are numbered by.

    ``train_step`` returns this step's losses (the progress bar shows them, the loss history
    records them); the same values also feed ``keras.metrics.Mean`` trackers, whose averages
    since the start of the epoch ``get_metrics_result()`` returns. ``test_step`` reports the
    lesson's quality metrics averaged over the validation batches.
    """

    #: Names of the values train_step returns, and of those test_step returns.
    train_metric_names: tuple[str, ...] = ()
    val_metric_names: tuple[str, ...] = ()
    #: Whether the trainer draws random numbers of its own, and so takes a ``seed`` (GAN's noise,
    #: CycleGAN's pools). Pix2Pix draws none: its dropout's random state lives in the generator.
    takes_seed: ClassVar[bool] = False

    def __init__(self, networks: Mapping[str, keras.Model], name: str | None = None):
        super().__init__(name=name)
        for key, net in networks.items():
            if not isinstance(net, keras.Model):
                raise ValueError(f"{key} must be a keras.Model (e.g. from course_utils.core.models), "
                                 f"got {type(net).__name__}.")
        self.networks = dict(networks)
        for key, net in networks.items():
            setattr(self, key, net)
        #: Training steps taken so far (restored from checkpoints).
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step",
                                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.trackers = {n: keras.metrics.Mean(name=n)
                         for n in self.train_metric_names + self.val_metric_names}
        self.optimizers: dict[str, keras.optimizers.Optimizer] = {}
        self.built = True   # the networks are built functional models

    # -- compile ------------------------------------------------------------
    def compile(self, g_optimizer: keras.optimizers.Optimizer | None = None,
                d_optimizer: keras.optimizers.Optimizer | None = None, loss_form: str = "bce",
                jit_compile: bool = False, loss_scaling: bool = True, **kwargs: Any) -> None:
        """A generator and a discriminator (GAN, Pix2Pix): default optimizers Adam(2e-4, beta_1=0.5)."""
        self._compile_common({"generator": g_optimizer, "discriminator": d_optimizer},
                             loss_form, jit_compile, loss_scaling, **kwargs)

    def _compile_common(self, optimizers: Mapping[str, keras.optimizers.Optimizer | None], loss_form: str,
                        jit_compile: bool, loss_scaling: bool, learning_rate: Any = LEARNING_RATE,
                        **kwargs: Any) -> None:
        """Wrap, build and remember one optimizer per network (None: Adam(learning_rate, beta_1=0.5));
        set up Keras's compile."""
        self.loss_form = losses.check_form(loss_form, "loss_form")
        super().compile(optimizer=None, jit_compile=bool(jit_compile), **kwargs)
        self.optimizers = {}
        for key, opt in optimizers.items():
            net = self.networks[key]
            opt = opt or keras.optimizers.Adam(learning_rate, beta_1=BETA_1)
            if isinstance(opt, (str, dict)):
                opt = keras.optimizers.get(opt)
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise ValueError(f"The optimizer for {key} must be a keras.optimizers.Optimizer, got {opt!r}.")
            needs_scaling = net.dtype_policy.name == "mixed_float16"
            if needs_scaling and loss_scaling and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
                # float16 gradients underflow to zero: scale the loss up, the gradients back down.
                opt = keras.optimizers.LossScaleOptimizer(opt, name=f"{key}_loss_scale_optimizer")
            # Build now (slots exist before a checkpoint is restored into them).
            opt.build(net.trainable_variables)
            self.optimizers[key] = opt
            setattr(self, f"{key}_optimizer", opt)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())

    # Keras 3.13 hands back evaluate()'s values as tensors, 3.14+ as Python floats (it
    # "pythonifies" the logs): return floats on every version, so results print, compare and
    # go into JSON the same way.
    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.evaluate``, with every value a Python ``float`` (any Keras 3 version)."""
        return _pythonify(super().evaluate(*args, **kwargs))

    def fit(self, *args: Any, **kwargs: Any) -> keras.callbacks.History:
        """``keras.Model.fit``; the returned ``history.history`` holds lists of Python floats.

        A ``tf.data.Dataset`` is trained on in the order it yields (it shuffles itself, see
        :mod:`course_utils.core.data`): ``shuffle`` defaults to False for one, where Keras would warn
        that it ignores its default True.
        """
        x = args[0] if args else kwargs.get("x")
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)
        history = super().fit(*args, **kwargs)
        history.history = {key: [float(v) for v in values] for key, values in history.history.items()}
        return history

    # -- one training step in fit() ------------------------------------------
    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """Each trainer runs its model's explicit step on the batch, then :meth:`_record`."""
        raise NotImplementedError

    def _record(self, values: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Count the step, feed the trackers, return this step's values."""
        self.step.assign_add(1)
        for key, value in values.items():
            self.trackers[key].update_state(value)
        return values

    def _require_compiled(self) -> None:
        if not self.optimizers:
            raise ValueError(f"Call {type(self).__name__}.compile() before training: it creates the optimizers.")

    # -- what checkpoints hold -----------------------------------------------
    def random_state(self) -> list[Any]:
        """Every random-state variable: dropout seed generators and the trainer's own."""
        states = [s for net in self.networks.values() for s in _seed_states(net)]
        own = getattr(self, "noise_seed", None)
        if own is not None:
            states.append(own.state)
        return states

    def checkpoint_items(self) -> dict[str, Any]:
        """Everything a checkpoint must hold to resume exactly (see :func:`course_utils.tools.runs.make_checkpoint`)."""
        self._require_compiled()
        items: dict[str, Any] = dict(self.networks)
        items.update({f"{k}_optimizer": o for k, o in self.optimizers.items()})
        items["step"] = self.step
        items["random_state"] = self.random_state()
        return items

    @property
    def global_step(self) -> int:
        """Training steps taken so far, as a Python int."""
        return int(self.step.numpy())

    def generators(self) -> dict[str, keras.Model]:
        """The networks to export: file stem -> model (the first is what :meth:`call` runs)."""
        return {"generator": self.networks["generator"]}

    def call(self, inputs: Any, training: bool = False) -> Any:
        """The first generator: as in training with ``training=True``, by the inference convention otherwise."""
        generator = next(iter(self.generators().values()))
        if training:
            return generator(inputs, training=True)
        return inference.inference_model(generator)(inputs, training=False)

    def sample_grid(self, inputs: Any) -> np.ndarray:
        """A picture of the current results, ``(H, W, C)`` float in [0, 1]."""
        raise NotImplementedError


def _pythonify(result: Any) -> Any:
    """evaluate()'s dict, list or single value with each value a Python float."""
    if isinstance(result, Mapping):
        return {key: float(value) for key, value in result.items()}
    if isinstance(result, (list, tuple)):
        return [float(value) for value in result]
    return float(result)


def _first(data: Any) -> Any:
    """Images from a batch that may be ``images`` or ``(images, labels)``."""
    return data[0] if isinstance(data, (tuple, list)) else data


class GAN(Trainer):
    """The DCGAN of lesson 01: ``fit(images)`` with the step of :func:`gan_train_step`.

    Args:
        generator: noise ``(b, latent_dim)`` -> image.
        discriminator: image -> logit.
        latent_dim: length of the noise vector (default: read from the generator's input).
        seed: seeds the noise the trainer draws (``keras.random.SeedGenerator``); ``None`` for a
            fresh seed each time.
        real_label: the discriminator's target on real images: 1 (the tutorial's) or about 0.9,
            one-sided label smoothing (Salimans et al. 2016; the course's reference DCGAN uses it).

    ``compile(g_optimizer=None, d_optimizer=None, loss_form="bce", jit_compile=False)``:
    default optimizers Adam(2e-4, beta_1=0.5) as in Radford et al. 2016 (the DCGAN config's defaults).

    Training reports ``d_loss`` and ``g_loss`` (plus running means via the trackers);
    ``evaluate(real_images)`` reports how often D is right: ``d_real_accuracy`` (real images
    scored real) and ``d_fake_accuracy`` (fakes from a fixed evaluation noise scored fake).
    """

    train_metric_names = ("d_loss", "g_loss")
    val_metric_names = ("d_real_accuracy", "d_fake_accuracy")
    takes_seed = True

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int | None = None,
                 seed: int | None = None, real_label: float = 1.0, name: str = "gan"):
        super().__init__({"generator": generator, "discriminator": discriminator}, name=name)
        self.real_label = losses.check_real_label(real_label)
        inferred = generator.input_shape[-1]
        self.latent_dim = int(latent_dim if latent_dim is not None else inferred)
        if inferred is not None and self.latent_dim != inferred:
            raise ValueError(f"latent_dim={latent_dim} but the generator takes noise of length {inferred}.")
        self.seed = seed
        self.noise_seed = keras.random.SeedGenerator(seed)

    def sample_noise(self, batch_size: Any) -> tf.Tensor:
        """Draw ``(batch_size, latent_dim)`` standard normal noise from the trainer's seed generator."""
        return keras.random.normal((batch_size, self.latent_dim), seed=self.noise_seed)

    def call(self, noise: Any, training: bool = False) -> Any:
        return self.generator(noise, training=training)

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        real = _first(data)
        noise = self.sample_noise(tf.shape(real)[0])
        opts = self.optimizers
        return self._record(gan_train_step(self.generator, self.discriminator, opts["generator"],
                                           opts["discriminator"], real, noise, self.loss_form,
                                           self.real_label))

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        real = _first(data)
        # A fixed evaluation noise (a stateless seed), so evaluating never moves the training RNG.
        noise = keras.random.normal((tf.shape(real)[0], self.latent_dim), seed=1234)
        real_logits = ops.cast(self.discriminator(real, training=False), "float32")
        fake_logits = ops.cast(self.discriminator(self.generator(noise, training=False), training=False), "float32")
        self.trackers["d_real_accuracy"].update_state(ops.cast(real_logits > 0, "float32"))
        self.trackers["d_fake_accuracy"].update_state(ops.cast(fake_logits < 0, "float32"))
        return {n: self.trackers[n].result() for n in self.val_metric_names}

    def sample_grid(self, inputs: Any) -> np.ndarray:
        """``inputs``: fixed noise ``(n, latent_dim)``; the n generated images in a near-square grid."""
        images = to_unit(self.generator(np.asarray(inputs, np.float32), training=False))
        cols = int(math.ceil(math.sqrt(len(images))))
        return tile([list(images[i:i + cols]) for i in range(0, len(images), cols)])


class Pix2Pix(Trainer):
    """The conditional GAN of lesson 02: ``fit((input, target) batches)`` with :func:`pix2pix_train_step`.

    Args:
        generator: the U-Net, input image -> output image.
        discriminator: the PatchGAN, ``[input, image]`` -> grid of logits.
        l1_weight: lambda of the L1 term (100 in the paper).

    Pix2Pix draws no random numbers of its own, so it takes no seed: its only randomness is the
    generator's dropout, whose state lives in the network (seed it with
    ``keras.utils.set_random_seed`` before building the networks).

    ``compile(g_optimizer=None, d_optimizer=None, loss_form="bce", jit_compile=False)``:
    default optimizers Adam(2e-4, beta_1=0.5) as in the paper.

    Training reports ``d_loss``, ``g_loss`` (total), ``g_adv`` and ``g_l1`` (unweighted L1);
    ``evaluate`` on validation pairs reports ``l1``, ``psnr`` (dB) and ``ssim`` (images of at
    least 11x11), with the conventions of :mod:`course_utils.core.metrics`.
    """

    train_metric_names = ("d_loss", "g_loss", "g_adv", "g_l1")
    val_metric_names = ("l1", "psnr", "ssim")

    def __init__(self, generator: keras.Model, discriminator: keras.Model, l1_weight: float = losses.L1_WEIGHT,
                 name: str = "pix2pix"):
        super().__init__({"generator": generator, "discriminator": discriminator}, name=name)
        inference.inference_model(generator)   # built now, outside any tf.function
        if l1_weight < 0:
            raise ValueError(f"l1_weight must be >= 0 (100 in the paper), got {l1_weight}.")
        self.l1_weight = float(l1_weight)

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        inp, target = data
        opts = self.optimizers
        return self._record(pix2pix_train_step(self.generator, self.discriminator, opts["generator"],
                                               opts["discriminator"], inp, target, self.l1_weight, self.loss_form))

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        inp, target = data
        fake = ops.cast(inference.inference_model(self.generator)(inp, training=False), "float32")
        target = ops.cast(target, "float32")
        self.trackers["l1"].update_state(ops.mean(ops.abs(fake - target), axis=(1, 2, 3)))
        self.trackers["psnr"].update_state(metrics.psnr_per_image(fake, target))
        names = ["l1", "psnr"]
        if ssim_fits(fake.shape[1], fake.shape[2]):
            a, b = (fake + 1.0) / 2.0, (target + 1.0) / 2.0   # images.to_unit, as graph ops: [-1, 1] -> [0, 1]
            self.trackers["ssim"].update_state(tf.image.ssim(a, b, max_val=1.0))
            names.append("ssim")
        return {n: self.trackers[n].result() for n in names}

    def sample_grid(self, inputs: Any) -> np.ndarray:
        """``inputs``: a batch ``(input, target)``; one row per pair: input | target | prediction."""
        inp, target = inputs
        pred = inference.translate(self.generator, inp)
        return tile([[a, b, c] for a, b, c in zip(to_unit(inp), to_unit(target), to_unit(pred))])


class CycleGAN(Trainer):
    """The unpaired translator of lesson 03: ``fit((x, y) batches)`` with :func:`cyclegan_train_step`.

    Args:
        generator_g: G, domain X (A) -> domain Y (B).
        generator_f: F, Y -> X.
        discriminator_x, discriminator_y: D_X judges X images, D_Y judges Y images.
        cycle_weight: lambda of both cycle terms (10).
        identity_weight: weight of each identity term (0.5 * lambda = 5; 0 turns it off).
        pool_size: fakes remembered for the discriminators (50; 0 for none).
        seed: seed of the image pools' random draws (``None`` counts as 0).

    ``compile(..., loss_form="lsgan", learning_rate=None, steps_per_epoch=1334)``: default
    optimizers Adam(lr, beta_1=0.5) with the paper's schedule, 100 epochs constant then 100
    decaying to zero (:func:`cyclegan_schedule`; 1334 steps is one epoch of horse2zebra's
    larger domain at batch 1, so pass your own ``steps_per_epoch``, or a float or schedule as
    ``learning_rate``).

    Training reports ``g_loss``, ``f_loss``, ``dx_loss``, ``dy_loss``, ``g_adv``, ``f_adv`` and
    the weighted ``cycle`` and ``identity`` terms; ``evaluate`` on ``(x, y)`` batches reports
    ``cycle_error`` (mean |F(G(x)) - x| and |G(F(y)) - y|) and ``identity_error``.
    """

    train_metric_names = ("g_loss", "f_loss", "dx_loss", "dy_loss", "g_adv", "f_adv", "cycle", "identity")
    val_metric_names = ("cycle_error", "identity_error")
    takes_seed = True

    def __init__(self, generator_g: keras.Model, generator_f: keras.Model, discriminator_x: keras.Model,
                 discriminator_y: keras.Model, cycle_weight: float = losses.CYCLE_WEIGHT, identity_weight: float = losses.IDENTITY_WEIGHT,
                 pool_size: int = 50, seed: int | None = None, name: str = "cyclegan"):
        super().__init__({"generator_g": generator_g, "generator_f": generator_f,
                          "discriminator_x": discriminator_x, "discriminator_y": discriminator_y},
                         name=name)
        inference.inference_model(generator_g)   # built now, outside any tf.function
        inference.inference_model(generator_f)
        if cycle_weight < 0 or identity_weight < 0:
            raise ValueError(f"cycle_weight and identity_weight must be >= 0 (10 and 5 in the paper), "
                             f"got {cycle_weight} and {identity_weight}.")
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.seed = 0 if seed is None else int(seed)
        self.pool_x = ImagePool(pool_size, generator_f.output_shape[1:], seed=self.seed, name="pool_x")
        self.pool_y = ImagePool(pool_size, generator_g.output_shape[1:], seed=self.seed + 1, name="pool_y")

    def compile(self, g_optimizer: keras.optimizers.Optimizer | None = None,
                f_optimizer: keras.optimizers.Optimizer | None = None,
                dx_optimizer: keras.optimizers.Optimizer | None = None,
                dy_optimizer: keras.optimizers.Optimizer | None = None, loss_form: str = "lsgan",
                learning_rate: float | keras.optimizers.schedules.LearningRateSchedule | None = None,
                steps_per_epoch: int = HORSE2ZEBRA_EPOCH_STEPS, jit_compile: bool = False, loss_scaling: bool = True,
                **kwargs: Any) -> None:
        lr = cyclegan_schedule(steps_per_epoch) if learning_rate is None else learning_rate
        self._compile_common({"generator_g": g_optimizer, "generator_f": f_optimizer, "discriminator_x": dx_optimizer,
                              "discriminator_y": dy_optimizer}, loss_form, jit_compile, loss_scaling, lr, **kwargs)

    def checkpoint_items(self) -> dict[str, Any]:
        items = super().checkpoint_items()
        items["pool_x"], items["pool_y"] = self.pool_x, self.pool_y
        return items

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        real_x, real_y = data
        opts = self.optimizers
        return self._record(cyclegan_train_step(
            self.generator_g, self.generator_f, self.discriminator_x, self.discriminator_y, opts["generator_g"],
            opts["generator_f"], opts["discriminator_x"], opts["discriminator_y"], real_x, real_y,
            self.cycle_weight, self.identity_weight, self.loss_form, self.pool_x, self.pool_y))

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        x, y = (ops.cast(t, "float32") for t in data)
        g, f = inference.inference_model(self.generator_g), inference.inference_model(self.generator_f)
        fake_y = g(x, training=False)
        fake_x = f(y, training=False)
        back_x = ops.cast(f(fake_y, training=False), "float32")
        back_y = ops.cast(g(fake_x, training=False), "float32")
        per_image = lambda a, b: ops.mean(ops.abs(a - b), axis=(1, 2, 3))  # noqa: E731
        self.trackers["cycle_error"].update_state(ops.concatenate([per_image(x, back_x), per_image(y, back_y)], 0))
        same_y = ops.cast(g(y, training=False), "float32")
        same_x = ops.cast(f(x, training=False), "float32")
        self.trackers["identity_error"].update_state(
            ops.concatenate([per_image(y, same_y), per_image(x, same_x)], 0))
        return {n: self.trackers[n].result() for n in self.val_metric_names}

    def generators(self) -> dict[str, keras.Model]:
        return {"generator_g": self.generator_g, "generator_f": self.generator_f}

    def sample_grid(self, inputs: Any) -> np.ndarray:
        """``inputs``: a batch ``(x, y)``; rows x | G(x) | F(G(x)), then y | F(y) | G(F(y))."""
        x, y = inputs
        gx = inference.translate(self.generator_g, x)
        fgx = inference.translate(self.generator_f, gx)
        fy = inference.translate(self.generator_f, y)
        gfy = inference.translate(self.generator_g, fy)
        rows = [list(r) for r in zip(to_unit(x), to_unit(gx), to_unit(fgx))]
        rows += [list(r) for r in zip(to_unit(y), to_unit(fy), to_unit(gfy))]
        return tile(rows)

