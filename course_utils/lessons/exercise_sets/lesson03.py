"""The exercises of lesson 03, CycleGAN: each one's reference, inputs, hint and known mistakes.

:mod:`course_utils.lessons.exercises` gathers :data:`EXERCISES` from here into the course's registry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from course_utils.core.model_config import BETA_1

from course_utils.lessons.checkers import (NOT_WRITTEN, Exercise, ExerciseError, NotWrittenYet, _fail, check_function,
                                   check_model_builder, check_training_step)
from course_utils.lessons.exercise_sets._common import SQUARED_HINT, _mean_abs, _mean_sq
from course_utils.core.cyclegan import CycleGanConfig

#: The paper's loss weights, the defaults of the learners' steps (written once, in CycleGanConfig).
CYCLE_WEIGHT, IDENTITY_WEIGHT = CycleGanConfig.cycle_weight, CycleGanConfig.identity_weight


def _ref_cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=CYCLE_WEIGHT):
    from course_utils.core import losses
    return (losses.cycle_consistency_loss(real_x, cycled_x, weight)
            + losses.cycle_consistency_loss(real_y, cycled_y, weight))


def _ref_identity_term(real_x, same_x, real_y, same_y, weight=IDENTITY_WEIGHT):
    from course_utils.core import losses
    return losses.identity_loss(real_y, same_y, weight) + losses.identity_loss(real_x, same_x, weight)


def _four_images(weight_range):
    def make(rng):
        images = [rng.uniform(-1, 1, (2, 8, 8, 3)).astype("float32") for _ in range(4)]
        return (*images, float(rng.uniform(*weight_range)))
    return make


def _ref_residual_block(x, filters):
    from course_utils.core.layers import residual_block
    return residual_block(x, filters, norm="instance")


_ONE_DIRECTION = ("Only the round trip that starts in {this} seems to count, one direction: the cycle loss adds both "
                  "directions, x -> G(x) -> F(G(x)) compared with x and y -> F(y) -> G(F(y)) compared with y. Where "
                  "is the one that starts in {other}?")

EXERCISES: list[Exercise] = [
    Exercise(
        "03.cycle_loss", _ref_cycle_loss, inputs=_four_images((1.0, 20.0)),
        hint="Check the formula for L_cyc: which image is compared with which, with what distance, and "
             "where the weight goes.",
        mistakes=(
            (lambda rx, cx, ry, cy, w=CYCLE_WEIGHT: w * _mean_abs(cx, rx),
             _ONE_DIRECTION.format(this="X", other="Y")),
            (lambda rx, cx, ry, cy, w=CYCLE_WEIGHT: w * _mean_abs(cy, ry),
             _ONE_DIRECTION.format(this="Y", other="X")),
            (lambda rx, cx, ry, cy, w=CYCLE_WEIGHT: 0.5 * w * (_mean_abs(cx, rx) + _mean_abs(cy, ry)),
             "Your value is half the expected one: the two directions are added, not averaged."),
            (lambda rx, cx, ry, cy, w=CYCLE_WEIGHT: w * (_mean_sq(cx, rx) + _mean_sq(cy, ry)), SQUARED_HINT),
            (lambda rx, cx, ry, cy, w=CYCLE_WEIGHT: w * (_mean_abs(cx, ry) + _mean_abs(cy, rx)),
             "Each round trip should be compared with the image it started from."),
        )),
    Exercise(
        "03.identity_term", _ref_identity_term, inputs=_four_images((1.0, 10.0)),
        hint="Check the formula for L_id: which image each generator's output is compared with, with "
             "what distance, and with what weight.",
        mistakes=(
            (lambda rx, sx, ry, sy, w=IDENTITY_WEIGHT: w * (_mean_abs(sy, rx) + _mean_abs(sx, ry)),
             "Your pairs are mixed up: each generator's output is compared with an image of the other domain "
             "(G(y) with x, F(x) with y). The identity term asks a generator to leave alone an image that is "
             "already in its output domain, so pair each output with the image it was given."),
            (lambda rx, sx, ry, sy, w=IDENTITY_WEIGHT: w * _mean_abs(sy, ry),
             "Only G's identity term seems to count: where is F's?"),
            (lambda rx, sx, ry, sy, w=IDENTITY_WEIGHT: w * (_mean_sq(sy, ry) + _mean_sq(sx, rx)), SQUARED_HINT),
            (lambda rx, sx, ry, sy, w=IDENTITY_WEIGHT: 2 * w * (_mean_abs(sy, ry) + _mean_abs(sx, rx)),
             "Your value is twice the expected one: look at the weight you use."),
        )),
    Exercise(
        "03.my_residual_block", _ref_residual_block, builds=(([(8, 8, 16)], {"filters": 16}),),
        hint="Compare your block with the description above, one step at a time: the padding and the "
             "convolution's own padding, where the ReLU goes (and where it does not), and what the block "
             "adds at the end."),
]


# --------------------------------------------------------------------------- build exercises
# These four check things a learner builds (a layer class, a network, a stateful pool, a whole
# training step), so each has its own runner instead of one function call per input.
@dataclasses.dataclass(frozen=True)
class _Built(Exercise):
    """An exercise whose ``runner(answer)`` does the whole check (raising as the checkers do)."""

    runner: Any = None

    def run(self, answer: Callable) -> bool:
        if not callable(answer):
            raise ExerciseError(f"❌ {self.name}: expected your class or function, got {type(answer).__name__}.")
        self.runner(answer)
        return True


def _call(name: str, hint: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run the learner's code: a stub becomes NotWrittenYet, any other error a message."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        _fail(name, NOT_WRITTEN, hint, NotWrittenYet)
    except ExerciseError:
        raise
    except Exception as exc:
        _fail(name, f"running it raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", hint)


# ---- 03.instance_norm ------------------------------------------------------------------------
_IN_HINT = ("Which axes does each image's each channel have its own mean and variance over? Then compare "
            "your normalisation with the formula in section 8, term by term, and what `affine` adds.")


def _instance_norm_inputs(rng):
    """(x, gamma, beta, epsilon): 3 images with channels of very different means and spreads."""
    c = 5
    x = rng.normal(size=(3, 6, 7, c)) * rng.uniform(0.5, 4.0, c) + rng.normal(0, 3, c)
    x[..., 0] = 2.0 + rng.normal(0, 1e-3, size=x.shape[:3])          # a nearly flat channel: epsilon matters
    x[1] *= 3.0                                                      # images in a batch differ
    affine = bool(rng.integers(0, 2))
    gamma = (rng.uniform(0.5, 1.5, c) * np.where(np.arange(c) % 2, -1, 1)) if affine else None
    beta = rng.normal(0, 0.5, c) if affine else None
    return x.astype("float32"), gamma, beta, float(rng.choice([1e-5, 1e-3]))


def _norm_np(axes, denom):
    def fn(x, gamma, beta, eps):
        x = np.asarray(x, np.float64)
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        y = (x - mean) / denom(var, eps)
        return y * gamma + beta if gamma is not None else y
    return fn


_SQRT_VAR_EPS = lambda v, e: np.sqrt(v + e)   # noqa: E731


def _ref_instance_norm_values(x, gamma, beta, epsilon):
    import keras
    affine = gamma is not None
    layer = keras.layers.GroupNormalization(groups=-1, epsilon=epsilon, center=affine, scale=affine)
    layer.build(x.shape)
    if gamma is not None:
        layer.gamma.assign(gamma.astype("float32")), layer.beta.assign(beta.astype("float32"))
    return np.asarray(layer(x))


def _run_layer(layer_class):
    def fn(x, gamma, beta, eps):
        layer = layer_class(epsilon=eps, affine=gamma is not None)
        layer.build(x.shape)
        if gamma is not None:
            found = {w.name.split("/")[-1].split(":")[0]: w for w in layer.weights}
            if set(found) != {"gamma", "beta"}:
                raise ValueError(f"with affine=True the layer should hold weights 'gamma' and 'beta', it holds {sorted(found)}")
            found["gamma"].assign(gamma.astype("float32")), found["beta"].assign(beta.astype("float32"))
        return np.asarray(layer(x))
    return fn


_IN_MISTAKES = (
    (_norm_np((0, 1, 2), _SQRT_VAR_EPS),
     "Your statistics seem to mix the images of the batch: then one image's output depends on its neighbours."),
    (_norm_np((1, 2, 3), _SQRT_VAR_EPS),
     "Your statistics seem to be shared by all the channels of an image: each channel needs its own."),
    (_norm_np((1, 2), lambda v, e: np.sqrt(v)),
     "A nearly flat channel comes out far too large: look at what keeps the denominator away from zero."),
    (_norm_np((1, 2), lambda v, e: np.sqrt(v) + e),
     "A nearly flat channel comes out wrong: look at where epsilon goes relative to the square root."),
    (_norm_np((1, 2), lambda v, e: v + e),
     "Your output's spread is not 1: divide by a standard deviation, not by a variance."),
    (lambda x, g, b, e: _norm_np((1, 2), _SQRT_VAR_EPS)(x, None, None, e),
     "Right without affine; with affine=True the layer's own scale and offset must be applied too."),
)


def _check_instance_norm(answer):
    """The learner's layer class against GroupNormalization(groups=-1) on six inputs, with and without affine."""
    mine = _run_layer(answer)   # check_function turns a stub's NotImplementedError into "not written yet"
    rng = np.random.default_rng(3)
    cases = [_instance_norm_inputs(rng) for _ in range(4)]
    cases[0] = (*cases[0][:1], None, None, cases[0][3])                       # one without affine for sure
    g = np.linspace(-1.5, 1.5, 5).astype("float32")
    cases[1] = (cases[1][0], g, np.linspace(-1, 1, 5).astype("float32"), cases[1][3])   # one with affine for sure
    check_function(mine, _ref_instance_norm_values, cases, name="instance_norm", hint=_IN_HINT,
                   mistakes=_IN_MISTAKES, rtol=1e-3, atol=1e-3)


# ---- 03.resnet_generator ---------------------------------------------------------------------
_GEN_HINT = ("Walk through the five steps of section 9 and compare each with your layers: the padding before "
             "each 7x7 convolution, how many times the image is halved and doubled, what each residual block "
             "returns, and the activation of the very last layer.")


def _ref_resnet_generator(image_size=256, n_blocks=9, filters=64):
    from course_utils.core import models
    return models.resnet_generator(image_size, n_blocks=n_blocks, filters=filters)


def _check_resnet_generator(answer):
    from course_utils.core import models
    for size, blocks, filters in ((32, 2, 8), (16, 1, 4)):
        check_model_builder(lambda t: answer(size, n_blocks=blocks, filters=filters)(t),
                            lambda t: models.resnet_generator(size, n_blocks=blocks, filters=filters)(t),
                            input_shapes=[(size, size, 3)], hint=_GEN_HINT,
                            name=f"my_resnet_generator({size}, n_blocks={blocks}, filters={filters})")


# ---- 03.image_pool ---------------------------------------------------------------------------
_POOL_HINT = ("Go through the three cases of section 12 for one image: the pool is not full yet; it is full "
              "and the coin says 'old'; it is full and the coin says 'new'. What is returned, and what is "
              "stored, in each?")


class _ReferencePool:
    """The course's ``train.ImagePool`` behind the lesson's interface: ``query(numpy batch) -> numpy batch``."""

    def __init__(self, pool_size: int = 50, seed: int = 0):
        self.pool_size, self.seed, self._pool = pool_size, seed, None

    def query(self, images):
        from course_utils.core import train
        images = np.asarray(images, np.float32)
        if self._pool is None:
            self._pool = train.ImagePool(self.pool_size, images.shape[1:], seed=self.seed)
        return self._pool.query(images).numpy()

    @property
    def images(self) -> list:
        """The stored images, a list of at most ``pool_size``."""
        return [] if self._pool is None else list(self._pool.images.numpy()[:self._pool.size])


def _pool_stream(answer, pool_size, seed, batches):
    """Feed 'images' of one pixel whose value is the step they were made at; return (made, shown, pool)."""
    pool = _call("image_pool", _POOL_HINT, answer, pool_size=pool_size, seed=seed)
    made, shown, step = [], [], 0
    for b in batches:
        new = np.arange(step, step + b, dtype=np.float32).reshape(b, 1, 1, 1) + 1.0   # 1, 2, ...: 0 means never made
        out = _call("image_pool", _POOL_HINT, pool.query, new)
        if out is None or np.shape(out) != new.shape:
            _fail("image_pool", f"query returned {None if out is None else np.shape(out)} for a batch of shape "
                                f"{new.shape}: it should return a batch of the same shape.", _POOL_HINT)
        made += list(new.ravel())
        shown += list(np.asarray(out, np.float32).ravel())
        step += b
    return np.array(made), np.array(shown), pool


def _stored_values(pool) -> np.ndarray | None:
    """The one-pixel images a pool of :func:`_pool_stream` holds, as their values (None if it cannot be read)."""
    try:
        return np.array(sorted(float(np.asarray(image).ravel()[0]) for image in pool.images))
    except Exception:
        return None


def _queue_behaviour(made, shown, stored, size: int) -> str | None:
    """Words for a pool that is a queue (first in, first out) rather than a random history, else None.

    Fed one fake a step: a queue keeps the newest ``size`` fakes, and either always hands out the new
    one or always the one made ``size`` steps earlier (the oldest it held). Neither draws anything."""
    if len(made) <= 2 * size:
        return None
    keeps_newest = stored is not None and np.array_equal(stored, made[-size:])
    if keeps_newest and np.array_equal(shown[size:], made[size:]):
        return (f"once the pool is full, your pool keeps the newest {size} fakes, a queue (first in, first out), and "
                "always hands the discriminator the new fake: it never shows an old one, so the history is never "
                "used, and nothing is decided at random.")
    if np.array_equal(shown[size:], made[:-size]):
        return (f"once the pool is full, your pool always hands out the fake made {size} steps earlier: a queue "
                "(first in, first out) that delays every fake by pool_size steps. The discriminator never sees a "
                "new fake, and nothing is decided at random.")
    return None


def _check_image_pool(answer):
    """Statistics first (they say what is wrong), then the exact draws of train.ImagePool under fixed seeds."""
    size = 10
    made, shown, pool = _pool_stream(answer, size, seed=5, batches=[1] * 400)
    stored = len(pool.images)
    if np.any(shown == 0) or np.any(shown > made):
        _fail("image_pool", "it returned images that were never made (or made later) while the pool was filling.",
              "While the pool is not full yet, what should the discriminator be shown?")
    if not np.array_equal(shown[:size], made[:size]):
        _fail("image_pool", f"of the first {size} fakes (pool filling) it returned {np.mean(shown[:size] == made[:size]):.0%} "
                            "fresh ones; all should be.", "While the pool is not full yet, what is returned?")
    if stored != size:
        _fail("image_pool", f"after 400 single-image queries your pool holds {stored} images, not pool_size = {size}.",
              "Look at when a new image is stored, and that a swap replaces one instead of adding one.")
    old = shown[size:] != made[size:]
    queue = _queue_behaviour(made, shown, _stored_values(pool), size)
    if queue:
        _fail("image_pool", queue, "The pool is a random history: once it is full, a coin decides for each new fake "
                                   "whether the discriminator sees it or an old one drawn at random from the pool "
                                   "(which the new fake then replaces). Go through the three cases of section 12 again.")
    if old.mean() < 0.3:
        _fail("image_pool", f"once the pool is full, only {old.mean():.0%} of the returned fakes come from the history "
                            "(a fair coin gives about half).", "Once the pool is full, what happens when the coin says 'old'?")
    if old.mean() > 0.7:
        _fail("image_pool", f"once the pool is full, {old.mean():.0%} of the returned fakes come from the history "
                            "(a fair coin gives about half).", "Once the pool is full, what does the coin decide?")
    if shown[size:][old].max() <= size:
        _fail("image_pool", f"every old fake it returns was made in the first {size} steps: the history never changes.",
              "When an old image is handed out, what takes its place in the pool?")
    for seed, batches in ((0, [1] * 120), (7, [3] * 40 + [2] * 10)):
        made, shown, _ = _pool_stream(answer, size, seed, batches)
        _, want, _ = _pool_stream(_ReferencePool, size, seed, batches)
        if not np.array_equal(shown, want):
            first = int(np.argmax(shown != want))
            _fail("image_pool", f"with seed {seed} your pool first differs from train.ImagePool at image {first + 1} "
                                f"(batches of {batches[0]}): it returned the fake made at step {shown[first]:.0f}, "
                                f"the reference the one made at step {want[first]:.0f}.",
                  "Use `coins[i]` and `slots[i]` for image i of the batch, as the reference does: heads (< 0.5) "
                  "means 'hand out an old one'.")
    print(f"✅ image_pool: fills first, then hands out about half old fakes ({old.mean():.0%} here), keeps {size} "
          "images, and returns exactly what train.ImagePool returns under two seeds.")


# ---- 03.train_step ---------------------------------------------------------------------------
_STEP_HINT = ("Compare which outputs each loss is computed from with the table of section 7, which loss each "
              "network's gradient comes from, and how many gradients you take from one tape.")


_POOL_CHECK_SIZE = 6
_STEP_NETS: dict = {}


def _step_players():
    """Tiny networks (16x16, 4 filters, 1 residual block), four fresh Adams, two seeded pools already full.

    The pools are full before the first step (so about half the fakes the discriminators see come from
    the history, and a step that skips the pools changes their losses), and the four optimizers step
    slightly different distances (so optimizers swapped between networks change the update).
    """
    import keras

    from course_utils.core import models, train
    if not _STEP_NETS:   # built once: the checker sets their weights before every run
        _STEP_NETS.update(models.cyclegan_networks(16, filters=4, n_blocks=1))
    nets = _STEP_NETS
    pools = []
    for seed in (0, 1):
        pool = train.ImagePool(_POOL_CHECK_SIZE, (16, 16, 3), seed=seed)
        history = np.random.default_rng(100 + seed).uniform(-1, 1, (_POOL_CHECK_SIZE, 16, 16, 3)).astype("float32")
        pool.query(history)   # fills it
        pools.append(pool)
    return (nets["generator_g"], nets["generator_f"], nets["discriminator_x"], nets["discriminator_y"],
            *[keras.optimizers.Adam(lr, beta_1=BETA_1) for lr in (2e-4, 2.5e-4, 3e-4, 3.5e-4)], *pools)


def _step_batches():
    """Three steps on unrelated batches of seeds 11, 12, 13; the third with the BCE form and other weights."""
    import tensorflow as tf
    out = []
    for seed, kwargs in ((11, {}), (12, {}), (13, {"form": "bce", "cycle_weight": 5.0, "identity_weight": 2.0})):
        rng = np.random.default_rng(seed)
        x, y = (tf.constant(rng.uniform(-1, 1, (2, 16, 16, 3)), tf.float32) for _ in range(2))
        label = f"batches of seed {seed}" + "".join(f", {k}={v!r}" for k, v in kwargs.items())
        out.append(((x, y, kwargs), label))
    return out


def _ref_train_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                    form="lsgan", cycle_weight=CYCLE_WEIGHT, identity_weight=IDENTITY_WEIGHT):
    from course_utils.core import train
    return train.cyclegan_train_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, cycle_weight,
                                     identity_weight, form, pool_x, pool_y)


def _wrong_cyclegan_step(no_pool=False, pool_for_generators=False, cycle="both", identity=True, halve=True,
                         order=None, swap_optimizers=False, identity_swapped=False, cycle_in="both",
                         identity_exchanged=False, own_cycle=False, cycle_twice=False, crossed=False,
                         identity_on_input=""):
    """A CycleGAN step with one of the mistakes learners make; the defaults give the right step.

    ``cycle`` says which round trips the cycle term holds, ``cycle_in`` which generators' losses hold it
    ("both", "G" or "F"); ``identity_exchanged`` puts each identity term in the other generator's loss;
    ``identity_on_input`` names the generators ("G", "F", "GF") whose identity term is fed their input domain."""
    def step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
             form="lsgan", cycle_weight=CYCLE_WEIGHT, identity_weight=IDENTITY_WEIGHT):
        import tensorflow as tf
        from course_utils.core import losses
        if swap_optimizers:
            opt_G, opt_F, opt_DX, opt_DY = opt_F, opt_G, opt_DY, opt_DX
        own_cycles: list = []

        def generators():
            fake_y, fake_x = G(x, training=True), F(y, training=True)
            cycled_x, cycled_y = F(fake_y, training=True), G(fake_x, training=True)
            terms = {"both": [(x, cycled_x), (y, cycled_y)], "x": [(x, cycled_x)], "y": [(y, cycled_y)]}[cycle]
            cyc = tf.add_n([losses.cycle_consistency_loss(a, b, cycle_weight) for a, b in terms])
            cyc = cycle_weight * cyc if cycle_twice else cyc
            w = identity_weight if identity else 0.0
            g_in, f_in = (x if "G" in identity_on_input else y), (y if "F" in identity_on_input else x)
            id_g = losses.identity_loss(x if identity_swapped else g_in, G(g_in, training=True), w)
            id_f = losses.identity_loss(y if identity_swapped else f_in, F(f_in, training=True), w)
            if identity_exchanged:   # each identity term in the other generator's loss
                id_g, id_f = id_f, id_g
            if own_cycle:   # each generator's loss holds the round trip that starts with it only
                own_cycles[:] = [losses.cycle_consistency_loss(x, cycled_x, cycle_weight),
                                 losses.cycle_consistency_loss(y, cycled_y, cycle_weight)]
            return fake_x, fake_y, cyc, id_g, id_f

        def d_losses(fake_x, fake_y):
            shown_x = fake_x if no_pool else pool_x.query(fake_x)
            shown_y = fake_y if no_pool else pool_y.query(fake_y)
            dx = losses.discriminator_loss(D_X(x, training=True), D_X(shown_x, training=True), form, halve=halve)
            dy = losses.discriminator_loss(D_Y(y, training=True), D_Y(shown_y, training=True), form, halve=halve)
            return dx, dy, shown_x, shown_y

        def apply(tape, pairs):
            for loss, net, opt in pairs:
                opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))

        if order == "generators first":   # update G and F, then the discriminators on the new generators' fakes
            with tf.GradientTape(persistent=True) as tape:
                fake_x, fake_y, cyc, id_g, id_f = generators()
                g_loss = losses.generator_loss(D_Y(fake_y, training=True), form) + cyc + id_g
                f_loss = losses.generator_loss(D_X(fake_x, training=True), form) + cyc + id_f
            apply(tape, [(g_loss, G, opt_G), (f_loss, F, opt_F)])
            with tf.GradientTape(persistent=True) as tape:
                dx_loss, dy_loss, _, _ = d_losses(F(y, training=True), G(x, training=True))
            apply(tape, [(dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)])
        elif order == "discriminators first":   # update D_X and D_Y, then the generators through the new ones
            with tf.GradientTape(persistent=True) as tape:
                dx_loss, dy_loss, _, _ = d_losses(F(y, training=True), G(x, training=True))
            apply(tape, [(dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)])
            with tf.GradientTape(persistent=True) as tape:
                fake_x, fake_y, cyc, id_g, id_f = generators()
                g_loss = losses.generator_loss(D_Y(fake_y, training=True), form) + cyc + id_g
                f_loss = losses.generator_loss(D_X(fake_x, training=True), form) + cyc + id_f
            apply(tape, [(g_loss, G, opt_G), (f_loss, F, opt_F)])
        else:
            with tf.GradientTape(persistent=True) as tape:
                fake_x, fake_y, cyc, id_g, id_f = generators()
                dx_loss, dy_loss, shown_x, shown_y = d_losses(fake_x, fake_y)
                judged_x, judged_y = (shown_x, shown_y) if pool_for_generators else (fake_x, fake_y)
                g_cyc = cyc if cycle_in in ("both", "G") else 0.0
                f_cyc = cyc if cycle_in in ("both", "F") else 0.0
                if own_cycle:
                    g_cyc, f_cyc = own_cycles
                d_of_y, d_of_x = (D_X, D_Y) if crossed else (D_Y, D_X)
                g_loss = losses.generator_loss(d_of_y(judged_y, training=True), form) + g_cyc + id_g
                f_loss = losses.generator_loss(d_of_x(judged_x, training=True), form) + f_cyc + id_f
            apply(tape, [(g_loss, G, opt_G), (f_loss, F, opt_F), (dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)])
        return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cyc}
    return step


_STEP_ORDER = ("Your step takes an alternating update: {what}. The lesson's step is simultaneous (section 13): "
               "one forward pass under one persistent tape, the four gradients all taken at the weights from "
               "before the step, then the four optimizers; in that update their order changes nothing.")

_CYCLE_IN_ONE = ("Your cycle term seems to be in {has}'s loss only, not in {lacks}'s: each round trip passes through "
                 "both generators, so the cycle loss belongs in both generators' losses (the table of section 7) and "
                 "trains both. Without it {lacks} learns only from its discriminator and its identity term.")

_IDENTITY_ON_INPUT = ("Your identity term{s} feed{verb} {which} an image of its own input domain and compare{verb} "
                      "the output with it ({pairs}). The identity term gives each generator an image already of its "
                      "output domain and asks it to leave that image alone: G(y) compared with y, F(x) compared "
                      "with x. Fed its input domain, a generator is told not to translate at all, against its "
                      "adversarial term. Look at which image each identity call passes through which generator.")

_STEP_MISTAKES = (
    (_wrong_cyclegan_step(no_pool=True),
     "Your discriminators seem to learn from the newest fakes only: their losses should judge fakes drawn from "
     "the pools (`pool_x.query`, `pool_y.query`), which the checker filled before the first step."),
    (_wrong_cyclegan_step(pool_for_generators=True),
     "Your generators' adversarial terms seem to judge the pools' fakes: the pool is for the discriminators' "
     "losses; each generator is judged on its own fresh fakes."),
    (_wrong_cyclegan_step(cycle="x"),
     "Your cycle term has only the round trip that starts in X, one direction: where is the one that starts in Y?"),
    (_wrong_cyclegan_step(cycle="y"),
     "Your cycle term has only the round trip that starts in Y, one direction: where is the one that starts in X?"),
    (_wrong_cyclegan_step(cycle_in="G"), _CYCLE_IN_ONE.format(has="G", lacks="F")),
    (_wrong_cyclegan_step(cycle_in="F"), _CYCLE_IN_ONE.format(has="F", lacks="G")),
    (_wrong_cyclegan_step(identity=False),
     "Your generators' losses have no identity term: look at the table of section 7."),
    (_wrong_cyclegan_step(identity_swapped=True),
     "Your identity terms compare each generator's output with an image of the other domain: compare G(y) with y."),
    (_wrong_cyclegan_step(identity_exchanged=True),
     "Your identity terms seem to sit in each other's losses: G's loss holds F's term (F(x) compared with x) and F's "
     "loss holds G's (G(y) compared with y). A term only trains the network whose output it measures, so "
     "neither generator learns from its identity term: each generator's loss needs its own."),
    (_wrong_cyclegan_step(own_cycle=True),
     "Each of your generators' losses holds only the round trip that starts with it (G's x -> G(x) -> F(G(x)), F's "
     "y -> F(y) -> G(F(y))). Both round trips pass through both generators, so both generators' losses hold the "
     "whole cycle term, both directions (the table of section 7); otherwise G gets no gradient from the trip "
     "that starts in Y, nor F from the one that starts in X."),
    (_wrong_cyclegan_step(cycle_twice=True),
     "Your cycle term is weighted twice: `cycle_consistency_loss(real, cycled, cycle_weight)` already multiplies "
     "by the weight, so multiplying its sum by `cycle_weight` again makes it cycle_weight times too large. "
     "Apply the weight once."),
    (_wrong_cyclegan_step(crossed=True),
     "Your generators' fakes are judged by the other domain's discriminator: G makes images of domain Y, so "
     "D_Y judges G(x), and D_X judges F(y). Look at which discriminator each generator's adversarial term "
     "calls."),
    (_wrong_cyclegan_step(halve=False),
     "Your discriminators' losses are twice the reference's: the paper halves them (`halve`)."),
    (_wrong_cyclegan_step(order="generators first"),
     _STEP_ORDER.format(what="you update the generators first, then the discriminators on the fakes of the "
                             "generators' new weights")),
    (_wrong_cyclegan_step(order="discriminators first"),
     _STEP_ORDER.format(what="you update the discriminators first, then the generators through the "
                             "discriminators' new weights")),
    (_wrong_cyclegan_step(swap_optimizers=True),
     "Each network should be updated by its own optimizer: look at which optimizer applies which gradients."),
    (_wrong_cyclegan_step(identity_on_input="G"),
     _IDENTITY_ON_INPUT.format(s="", verb="s", which="G", pairs="G(x) compared with x")),
    (_wrong_cyclegan_step(identity_on_input="F"),
     _IDENTITY_ON_INPUT.format(s="", verb="s", which="F", pairs="F(y) compared with y")),
    (_wrong_cyclegan_step(identity_on_input="GF"),
     _IDENTITY_ON_INPUT.format(s="s", verb="", which="each generator",
                               pairs="G(x) compared with x, F(y) compared with y")),
)


def _check_train_step(answer):
    def adapt(fn):
        return lambda p, data: fn(*p[:8], data[0], data[1], *p[8:], **data[2])

    check_training_step(adapt(answer), adapt(_ref_train_step), _step_players, _step_batches(),
                        name="train_step", hint=_STEP_HINT, cache_key="03.train_step",
                        mistakes=[(adapt(w), h) for w, h in _STEP_MISTAKES])


def _ref_instance_norm(epsilon: float = 1e-5, affine: bool = False, **kwargs: Any):
    from course_utils.core.layers import InstanceNormalization
    return InstanceNormalization(epsilon=epsilon, affine=affine, **kwargs)


EXERCISES += [
    _Built("03.instance_norm", _ref_instance_norm, hint=_IN_HINT, runner=_check_instance_norm),
    _Built("03.resnet_generator", _ref_resnet_generator, hint=_GEN_HINT, runner=_check_resnet_generator),
    _Built("03.image_pool", _ReferencePool, hint=_POOL_HINT, runner=_check_image_pool),
    _Built("03.train_step", _ref_train_step, hint=_STEP_HINT, runner=_check_train_step),
]
