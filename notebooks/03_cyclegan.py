# %% [markdown]
# # 03 CycleGAN: translating between two unpaired collections
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/03_cyclegan.ipynb)
#
# You will learn why CycleGAN needs **two** generators and **two** discriminators, what the cycle
# and identity losses add, why its least-squares loss still gives a gradient where binary
# cross-entropy gives almost none, and how to judge a translation.
#
# **You write** (each checked, then used): the cycle and identity losses, an instance-norm layer, a
# residual block and the ResNet generator, the image pool's query, and the training step. The
# **lab**: predict which ingredient matters most, then measure it.

# %%
# Setup: on Colab, install the course's helper package at the pinned release (with --no-deps, then only
# what is missing: Colab's TensorFlow, Keras and NumPy are never touched); elsewhere it is installed.
import subprocess, sys
if "google.colab" in sys.modules:
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "course_utils @ git+https://github.com/gan-course/image-to-image-gans@v0.1.0"],
                         capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError("pip could not install course_utils:\n" + pip.stdout + pip.stderr)
import course_utils as course   # the course's package: course.config, course.plotting, ...
if "google.colab" in sys.modules:
    course.install.install_requirements()   # what is still missing; never TensorFlow, Keras or NumPy
cfg = course.runtime.start_lesson(course.config.CycleGanConfig)   # the profile's settings (lesson 00), the GPU check, the seeds
course.costs.print_estimate(cfg)   # the learner and paper profiles on a Colab T4: an estimate from FLOP counts

# %% [markdown]
# The tools (`course_utils` holds tested versions of everything we build):

# %%
import shutil
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import display
from keras import layers, ops

from course_utils import data, losses, models, train
from course_utils.lessons.labs import cyclegan as labs_cyclegan

# %% [markdown]
# ## 1. Why paired data is a limit
#
# Pix2Pix (lesson 02) learns from **pairs**, each input with its exact output. Pairs are often
# impossible: nobody can photograph the *same* horse as a zebra. Two **unaligned collections** are
# easy: horses and zebras, Monet paintings and photos, sunny and overcast beaches. CycleGAN
# ([Zhu et al. 2017](https://arxiv.org/abs/1703.10593)) learns a translation between two such
# [domains](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#domain) $X$ and $Y$ without knowing which $y$ belongs to which $x$.

# %% [markdown]
# ## 2. The two collections we use
#
# The learner profile uses TFDS `cycle_gan/horse2zebra` (1,067 horses, 1,334 zebras); the smoke
# profile the shipped `day2dusk`: **X** day scenes, **Y** dusk renders of *other* scenes.

# %%
unpaired_path = data.shipped_unpaired_path()
print(unpaired_path.name, {split: len(list((unpaired_path / split).glob("*.jpg")))
                           for split in ("trainA", "trainB", "testA", "testB")})
# Plain resize, no jitter, fixed order: just for looking.
show_a, show_b = data.load_unpaired_folder(unpaired_path, "train", image_size=64, jitter=False,
                                           batch_size=6, shuffle=False, cache=False)
day = next(iter(show_a))    # (6, 64, 64, 3) in [-1, 1]
dusk = next(iter(show_b))   # (6, 64, 64, 3), different scenes
course.plotting.show_images(tf.concat([day, dusk], 0), ncols=6,
                     titles=[f"X: day {i}" for i in range(6)] + [f"Y: dusk {i}" for i in range(6)]);

# %% [markdown]
# Unlike real data, `day2dusk` has a known **true** translation (swap red and blue, darken with
# $x^{1.5}$): `data.true_translation`. Training never sees it; we use it to measure the result.

# %%
truth = data.true_translation(day.numpy(), "AtoB")   # (6, 64, 64, 3): what G should produce
course.plotting.plot_image_rows({"day x (X)": day, "true translation (hidden from training)": truth}, max_rows=2);

# %% [markdown]
# ## 3. Two generators, two discriminators
#
# A [generator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generator) $G: X \to Y$ and one $F: Y \to X$; a [discriminator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminator)
# $D_Y$ that tells real $y$ from $G(x)$, and $D_X$ that tells real $x$ from $F(y)$.

# %%
course.diagrams.cyclegan_diagram();

# %% [markdown]
# ## 4. Adversarial losses: binary cross-entropy and least squares
#
# Our discriminators output a raw score $a$ per patch (no [sigmoid](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#sigmoid)). With
# **[binary cross-entropy](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#binary-cross-entropy)** the score is a [logit](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#logit):
#
# $$\mathcal{L}^{\text{BCE}}_{D_Y} = -\tfrac12\Bigl[\log \sigma(D_Y(y)) + \log\bigl(1 - \sigma(D_Y(G(x)))\bigr)\Bigr],
# \qquad \mathcal{L}^{\text{BCE}}_{G} = -\log \sigma(D_Y(G(x))).$$
#
# With **least squares** ([LSGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#least-squares-gan), [Mao et al. 2017](https://arxiv.org/abs/1611.04076)),
# CycleGAN's choice, scores are pushed towards 1 (real) and 0 (fake):
#
# $$\mathcal{L}^{\text{LS}}_{D_Y} = \tfrac12\Bigl[\bigl(D_Y(y) - 1\bigr)^2 + D_Y(G(x))^2\Bigr],
# \qquad \mathcal{L}^{\text{LS}}_{G} = \bigl(D_Y(G(x)) - 1\bigr)^2.$$
#
# Likewise for $F$ and $D_X$. The $\tfrac12$ slows $D$ relative to the generator
# ([Isola et al. 2017](https://arxiv.org/abs/1611.07004)). We write both forms and check them:

# %%
def lsgan_d_loss(real_scores, fake_scores):
    """Halved least-squares loss of a discriminator: real -> 1, fake -> 0."""
    return 0.5 * (tf.reduce_mean((real_scores - 1.0) ** 2) + tf.reduce_mean(fake_scores ** 2))


def lsgan_g_loss(fake_scores):
    """Least-squares loss of a generator: make the discriminator say 1 on fakes."""
    return tf.reduce_mean((fake_scores - 1.0) ** 2)


def bce_d_loss(real_logits, fake_logits):
    """Halved BCE loss of a discriminator (Keras's BCE on logits)."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    return 0.5 * (bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits))


def bce_g_loss(fake_logits):
    """Non-saturating BCE loss of a generator: label the fakes 'real'."""
    return keras.losses.BinaryCrossentropy(from_logits=True)(tf.ones_like(fake_logits), fake_logits)


scores = lambda rng: [tf.constant(rng.normal(size=(4, 6, 6, 1)), tf.float32) for _ in range(2)]   # real, fake grids
for form, ours_d, ours_g in (("lsgan", lsgan_d_loss, lsgan_g_loss), ("bce", bce_d_loss, bce_g_loss)):
    course.checkers.check_function(ours_d, lambda r, f: losses.discriminator_loss(r, f, form=form, halve=True), scores)
    course.checkers.check_function(ours_g, lambda f: losses.generator_loss(f, form=form), lambda rng: scores(rng)[1:])

# %% [markdown]
# **Why least squares?** The generator learns through $\partial\mathcal{L}_G/\partial a$ (right
# panel). The [minimax](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#minimax-game) BCE loss is flat where $D$ confidently rejects a fake
# ($a \ll 0$). The [non-saturating](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#non-saturating-loss) loss $-\log\sigma(a)$ fixes that side,
# but its gradient $-(1-\sigma(a))$ vanishes once $D$ places the fake on the real side of its decision
# boundary ($a \gg 0$), even if the fake is still far from the real data: the sigmoid has saturated.
# The least-squares gradient $2(a-1)$ vanishes only at the target score 1, so that fake still gets a
# gradient, towards the target *score*. That is a distance in $D$'s output, not to the data: Mao et
# al. argue that since $D$ learns to give the real data that score, fakes moved towards it move
# towards the real data, and that the gradients that do not vanish make training more stable.

# %% [markdown]
# **Reading the plot.** For BCE, $a$ is a logit ($a = 0$: undecided); for least squares a score with
# targets 0 and 1 (dotted). Compare where each gradient vanishes, not the values.

# %%
course.plotting.plot_generator_losses(d_output=-3.0);

# %% [markdown]
# Slide the score: where is a BCE gradient *saturated*? Is least squares ever? (Needs a live kernel.)

# %%
course.widgets.loss_explorer(d_output=-3.0)

# %% [markdown]
# ## 5. Cycle consistency: there and back again
#
# $D_Y$ only checks that $G(x)$ *looks like* dusk, not that it is the dusk version of **this** $x$:
# $G$ could paint every day as one good dusk picture. [Cycle consistency](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#cycle-consistency)
# borrows from translators: English to French and back should give your sentence again.
#
# $$\mathcal{L}_{\text{cyc}}(G, F) = \lambda\,\mathbb{E}_x\bigl[\lVert F(G(x)) - x\rVert_1\bigr]
# + \lambda\,\mathbb{E}_y\bigl[\lVert G(F(y)) - y\rVert_1\bigr], \qquad \lambda = 10:$$
#
# a forward cycle $x \to G(x) \to F(G(x)) \approx x$ and a backward one $y \to F(y) \to G(F(y)) \approx y$,
# with the mean absolute error (L1). $F$ becomes an approximate **inverse** of $G$. Below: the true
# colour maps, exact inverses, and a "lazy" $G$ that always paints the same dusk image.

# %%
true_g = lambda images: data.true_translation(images, "AtoB")   # day -> dusk, exact
true_f = lambda images: data.true_translation(images, "BtoA")   # dusk -> day, its inverse
lazy_g = lambda images: np.repeat(dusk.numpy()[:1], len(images), axis=0)  # same dusk picture for every x

x = day.numpy()                                                  # (6, 64, 64, 3)
print(f"cycle error with the true G and F:  {course.metrics.mean_l1(x, true_f(true_g(x))):.4f}")
print(f"cycle error with the lazy G:        {course.metrics.mean_l1(x, true_f(lazy_g(x))):.4f}")
course.plotting.plot_cycle_rows(x[:2], lazy_g(x[:2]), true_f(lazy_g(x[:2])),
                         names=("x", "lazy G(x)", "F(lazy G(x))", ""));

# %% [markdown]
# The lazy $G$'s outputs look like dusk, but no $F$ can find the houses of $x$ in them: the cycle
# loss punishes it.

# %% [markdown]
# ### Your turn 1: the cycle-consistency loss
#
# Write the cycle loss, both directions, weighted by `weight` ($\lambda$). `cycled_x` is
# $F(G(x))$, `cycled_y` is $G(F(y))$, all batches in $[-1, 1]$. The check compares it with
# `losses.cycle_consistency_loss`; while it is the stub, the lesson uses the course's version.

# %%
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    """Four batches (b, h, w, 3) in [-1, 1] -> the weighted cycle loss, a scalar."""
    # BEGIN SOLUTION: return L_cyc, both directions, each an L1 distance averaged over every value
    forward = tf.reduce_mean(tf.abs(cycled_x - real_x))    # ||F(G(x)) - x||_1, averaged
    backward = tf.reduce_mean(tf.abs(cycled_y - real_y))   # ||G(F(y)) - y||_1, averaged
    return weight * (forward + backward)
    # END SOLUTION


cycle_loss = course.exercises.check("03.cycle_loss", cycle_loss)

# %% [markdown]
# ## 6. The identity loss: keep the colours when there is nothing to do
#
# A generator fed an image *already* in its output domain should change it little:
#
# $$\mathcal{L}_{\text{id}}(G, F) = 0.5\lambda\,\mathbb{E}_y\bigl[\lVert G(y) - y\rVert_1\bigr]
# + 0.5\lambda\,\mathbb{E}_x\bigl[\lVert F(x) - x\rVert_1\bigr].$$
#
# Zhu et al. took it from [Taigman et al. (2017)](https://arxiv.org/abs/1611.02200): without it, their
# painting $\to$ photo generators shifted the tint of whole pictures (a daytime painting became a
# sunset photo). The [identity loss](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#identity-loss)
# **preserves colour composition**. It is a prior, not a truth: our true $G$ changes a dusk image too.

# %%
y = dusk.numpy()
print(f"|G_true(y) - y| on dusk images: {course.metrics.mean_l1(true_g(y), y):.3f} "
      f"(identity loss of the true G: {float(losses.identity_loss(y, true_g(y), weight=5.0)):.3f})")
print(f"|F_true(x) - x| on day images:  {course.metrics.mean_l1(true_f(x), x):.3f}")

# %% [markdown]
# ### Your turn 2: the identity loss
#
# Write the identity term for both generators: `same_y` is $G(y)$, `same_x` is $F(x)$, and the
# weight is $0.5\lambda = 5$. As before, write it in place of the `raise NotImplementedError` line
# and run the check.

# %%
def identity_term(real_x, same_x, real_y, same_y, weight=5.0):
    """Four batches (b, h, w, 3) in [-1, 1] -> the weighted identity loss, a scalar."""
    # BEGIN SOLUTION: return L_id, one L1 term per generator, with the weight given
    return weight * (tf.reduce_mean(tf.abs(same_y - real_y)) + tf.reduce_mean(tf.abs(same_x - real_x)))
    # END SOLUTION


identity_term = course.exercises.check("03.identity_term", identity_term)

# %% [markdown]
# ## 7. The full objective, and who learns from which term
#
# $$\mathcal{L} = \mathcal{L}_{\text{GAN}}(G, D_Y) + \mathcal{L}_{\text{GAN}}(F, D_X)
# + \mathcal{L}_{\text{cyc}}(G, F) + \mathcal{L}_{\text{id}}(G, F)$$
#
# Each network gets its own loss and optimizer:
#
# | network | adversarial | cycle | identity |
# |---|---|---|---|
# | $G$ | $(D_Y(G(x)) - 1)^2$ | both directions | $5\lVert G(y) - y\rVert_1$ |
# | $F$ | $(D_X(F(y)) - 1)^2$ | both directions | $5\lVert F(x) - x\rVert_1$ |
# | $D_Y$ | $\tfrac12[(D_Y(y)-1)^2 + D_Y(G(x))^2]$ | – | – |
# | $D_X$ | $\tfrac12[(D_X(x)-1)^2 + D_X(F(y))^2]$ | – | – |
#
# Each round trip passes through $G$ and $F$, so both cycle terms feed both generators.

# %% [markdown]
# ## 8. Instance norm versus batch norm
#
# [Batch norm](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#batch-normalisation) uses the **whole batch's** statistics, so an image's output
# depends on its batch-mates. Instance norm ([Ulyanov et al. 2016](https://arxiv.org/abs/1607.08022))
# normalises each channel of **each image** over its own pixels:
#
# $$\hat{x}_{nhwc} = \frac{x_{nhwc} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}}, \qquad
# \mu_{nc}, \sigma^2_{nc}: \text{mean and variance over } h, w,$$
#
# optionally then $\gamma_c \hat{x} + \beta_c$ ("affine"; CycleGAN's code has it off). Below, one
# bright image beside two different partners:

# %%
rng = np.random.default_rng(0)
bright = 5.0 + rng.normal(size=(1, 4, 4, 1)).astype("float32")    # (1, 4, 4, 1), mean ~ 5
dark = -5.0 + rng.normal(size=(1, 4, 4, 1)).astype("float32")     # mean ~ -5
other = 20.0 + rng.normal(size=(1, 4, 4, 1)).astype("float32")    # a very bright partner

bn = layers.BatchNormalization(center=False, scale=False)
inorm = course.layers.InstanceNormalization()                                   # course_utils.core.layers' version, for now
bright_by_bn, bright_by_in = [], []                               # the bright image's outputs, (4, 4, 1) each
for partner_name, partner in (("dark", dark), ("very bright", other)):
    batch = np.concatenate([bright, partner])                     # (2, 4, 4, 1)
    b = bn(batch, training=True).numpy()                          # (2, 4, 4, 1)
    i = inorm(batch).numpy()                                      # (2, 4, 4, 1)
    bright_by_bn.append(b[0]), bright_by_in.append(i[0])
    print(f"bright image next to a {partner_name:11s} one -> "
          f"batch norm: mean {b[0].mean():+.2f}, std {b[0].std():.2f} | "
          f"instance norm: mean {i[0].mean():+.2f}, std {i[0].std():.2f}")

# The same image, two partners: batch norm's output moves, instance norm's does not.
assert np.abs(bright_by_bn[0] - bright_by_bn[1]).max() > 0.5
np.testing.assert_allclose(bright_by_in[0], bright_by_in[1], atol=1e-5)
np.testing.assert_allclose([bright_by_in[0].mean(), bright_by_in[0].std()], [0.0, 1.0], atol=1e-2)

# %% [markdown]
# Batch norm's output moved with the partner; instance norm's did not.

# %% [markdown]
# **In Keras 3**, `tensorflow-addons` (where TensorFlow 2 code found `InstanceNormalization`) no
# longer works; `GroupNormalization(groups=-1)` computes it, and so will your layer.

# %% [markdown]
# ### Your turn 3: your own instance-norm layer
#
# Complete `call`: normalise `x` (batch, height, width, channels) by the formula with
# `self.epsilon`, then apply `self.gamma` and `self.beta` when `self.affine`. Use `keras.ops`
# (`ops.moments` or `ops.mean` and `ops.var`, `ops.sqrt`). The check compares it with
# `GroupNormalization(groups=-1)`. From here on the lesson's networks use **your** layer.

# %%
class InstanceNormalization(layers.Layer):
    """Normalise each channel of each image over its own pixels; optional per-channel scale and offset."""

    def __init__(self, epsilon=1e-5, affine=False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.affine = float(epsilon), bool(affine)

    def build(self, input_shape):                 # input_shape: (batch, h, w, channels)
        if self.affine:
            self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(input_shape[-1],), initializer="zeros")

    def call(self, x):
        """x (batch, h, w, channels) -> same shape, each image's each channel normalised."""
        # BEGIN SOLUTION: normalise with each image's own per-channel mean and variance (and epsilon), then apply gamma and beta if affine
        mean, var = ops.moments(x, axes=[1, 2], keepdims=True)   # (batch, 1, 1, channels) each
        y = (x - mean) / ops.sqrt(var + self.epsilon)
        if self.affine:
            y = y * self.gamma + self.beta
        return y
        # END SOLUTION

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "affine": self.affine}


# %% [markdown]
# The check (a stub is replaced by the course's layer):

# %%
InstanceNormalization = course.exercises.check("03.instance_norm", InstanceNormalization)

# %% [markdown]
# One way: `ops.moments(x, axes=[1, 2], keepdims=True)`, over height and width only. It agrees with
# Keras's layer:

# %%
features = tf.random.normal((2, 16, 16, 8)) * 3.0 + 1.0           # (batch, h, w, channels)
ours = InstanceNormalization(epsilon=1e-5)(features)
keras_group = layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False)(features)
np.testing.assert_allclose(ours, keras_group, atol=1e-4)
print("InstanceNormalization == GroupNormalization(groups=-1): max difference",
      f"{float(tf.reduce_max(tf.abs(ours - keras_group))):.1e}")

# %% [markdown]
# ## 9. The ResNet generator
#
# From [Johnson et al. (2016)](https://arxiv.org/abs/1603.08155): unlike lesson 02's
# [U-Net](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#u-net), no long [skip connections](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#skip-connection). The image is squeezed to 1/4 of
# its size, transformed by [residual blocks](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#residual-block), and expanded back:
#
# 1. [reflection padding](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#reflection-padding) 3 (mirrored borders, no dark frame), 7x7 conv, 64 filters;
# 2. two stride-2 3x3 convs (128, 256): $256 \to 64$ px;
# 3. residual blocks: 9 at 256 px, 6 at 128;
# 4. two stride-2 [transposed convs](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#transposed-convolution) (128, 64);
# 5. reflection padding 3, 7x7 conv to 3 channels, tanh.
#
# Each conv but the last: [instance norm](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#instance-normalisation), ReLU.

# %%
course.diagrams.resnet_generator_diagram(image_size=256, n_blocks=9, filters=64);

# %% [markdown]
# ### The residual block
#
# A residual block learns the *change* $F(x) = M(x) - x$ and outputs $x + F(x)$
# ([He et al. 2016](https://arxiv.org/abs/1512.03385)): most of a zebra is still the horse. (Not the
# generator $F$.) Inside: reflection pad 1, conv 3x3, instance norm, ReLU, reflection pad 1, conv 3x3,
# instance norm, add the input.

# %% [markdown]
# ### Your turn 4: a residual block
#
# Write it with `ReflectionPadding2D`, `layers.Conv2D(padding="valid")` and your norm. Kernels from
# `INIT`, $\mathcal{N}(0, 0.02^2)$ (standard deviation, not variance: [lesson 01](01_gan_basics.ipynb), "A DCGAN for digits:
# the generator"). Keep the default bias: a bias before a norm cancels ([lesson 01](01_gan_basics.ipynb), "Batch
# normalisation"), but the paper's code counts it. The check compares with `layers.residual_block`.

# %%
INIT = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)   # the paper's N(0, 0.02^2): std 0.02


def my_residual_block(x, filters):
    """x (batch, h, w, filters) -> x + F(x), same shape."""
    # BEGIN SOLUTION: the residual block described above, ending with the addition of x
    y = course.layers.ReflectionPadding2D(1)(x)                                         # (batch, h + 2, w + 2, filters)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)  # (batch, h, w, filters)
    y = InstanceNormalization()(y)
    y = layers.ReLU()(y)
    y = course.layers.ReflectionPadding2D(1)(y)                                         # (batch, h + 2, w + 2, filters)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)  # (batch, h, w, filters)
    y = InstanceNormalization()(y)                   # no ReLU here: F(x) may be negative
    return layers.Add()([x, y])                      # x + F(x), (batch, h, w, filters)
    # END SOLUTION


# %% [markdown]
# The check:

# %%
my_residual_block = course.exercises.check("03.my_residual_block", my_residual_block)

# %% [markdown]
# ### Your turn 5: the whole ResNet generator
#
# Build the five steps from your block. `conv_norm_relu` (given) is a conv (or transposed conv),
# your norm and a ReLU. Use `padding="valid"` after a reflection padding, `"same"` for stride 2; the
# last layer is a `Conv2D` with tanh. Widths from `filters`, blocks from `n_blocks` (comments:
# 256 px, 64 filters). The check compares with `models.resnet_generator` layer by layer.

# %%
def conv_norm_relu(x, filters, kernel, strides=1, transpose=False, padding="same"):
    """Conv (or transposed conv) with N(0, 0.02^2) kernels -> instance norm -> ReLU."""
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel, strides=strides, padding=padding, kernel_initializer=INIT)(x)
    return layers.ReLU()(InstanceNormalization()(x))


def my_resnet_generator(image_size=256, n_blocks=9, filters=64):
    """(b, S, S, 3) in [-1, 1] -> (b, S, S, 3) in [-1, 1], as a keras.Model."""
    inp = keras.Input((image_size, image_size, 3))                # (b, 256, 256, 3)
    # BEGIN SOLUTION: pad 3 + 7x7 stem, two stride-2 3x3 convs, n_blocks residual blocks, two stride-2 transposed convs, pad 3 + 7x7 conv to 3 channels with tanh
    x = course.layers.ReflectionPadding2D(3)(inp)                               # (b, 262, 262, 3)
    x = conv_norm_relu(x, filters, 7, padding="valid")            # (b, 256, 256, 64)
    x = conv_norm_relu(x, filters * 2, 3, strides=2)              # (b, 128, 128, 128)
    x = conv_norm_relu(x, filters * 4, 3, strides=2)              # (b, 64, 64, 256)
    for _ in range(n_blocks):
        x = my_residual_block(x, filters * 4)                     # (b, 64, 64, 256)
    x = conv_norm_relu(x, filters * 2, 3, strides=2, transpose=True)   # (b, 128, 128, 128)
    x = conv_norm_relu(x, filters, 3, strides=2, transpose=True)       # (b, 256, 256, 64)
    x = course.layers.ReflectionPadding2D(3)(x)                                 # (b, 262, 262, 64)
    out = layers.Conv2D(3, 7, activation="tanh", kernel_initializer=INIT)(x)  # (b, 256, 256, 3)
    # END SOLUTION
    return keras.Model(inp, out, name="my_resnet_generator")


# %% [markdown]
# The check:

# %%
my_resnet_generator = course.exercises.check("03.resnet_generator", my_resnet_generator)

# %% [markdown]
# At 256 px, the published parameter count:

# %%
mine_256 = my_resnet_generator(256, n_blocks=9)
resnet_256, resnet_128 = models.resnet_generator(256), models.resnet_generator(128)   # 9 and 6 blocks
print(f"ours at 256, 9 blocks:          {mine_256.count_params():,} parameters")
print(f"course_utils at 256 (9 blocks): {resnet_256.count_params():,}")
print(f"course_utils at 128 (6 blocks): {resnet_128.count_params():,}")
assert mine_256.count_params() == resnet_256.count_params() == 11_378_179

# %% [markdown]
# Most sit in the nine residual blocks, $2 \times (3\cdot3\cdot256\cdot256 + 256)$ each:

# %%
def parameters_by_stage(model):
    stages = {"stem 7x7": 0, "down": 0, "residual": 0, "up": 0, "to RGB": 0}
    for layer in model.layers:
        n = layer.count_params()
        key = ("stem 7x7" if layer.name.startswith("stem") else "down" if layer.name.startswith("down")
               else "residual" if layer.name.startswith("res") else "up" if layer.name.startswith("up")
               else "to RGB" if layer.name == "output" else None)
        if key:
            stages[key] += n
    return stages


stages = parameters_by_stage(resnet_256)   # {"stem 7x7": ..., "down": ..., "residual": ..., ...}
course.diagrams.parameter_bars(stages, "ResNet generator at 256x256, 9 residual blocks");

# %% [markdown]
# ## 10. The discriminator: a PatchGAN that judges one image
#
# Lesson 02's 70x70 [PatchGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#patchgan) (4x4 convs, [stride](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#strided-convolution) 2,
# [LeakyReLU](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#leakyrelu) 0.2), changed as in the
# [authors' code](https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix): it sees **one image**,
# not a pair; **instance norm** replaces batch norm; it outputs **raw scores** for least squares,
# 30x30 at 256 px, each seeing a 70x70 patch (its [receptive field](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#receptive-field)).

# %%
paper_d = models.patchgan_discriminator(256, target_channels=None, norm="instance")   # (b, 256, 256, 3) -> (b, 30, 30, 1)
norm_layers = [type(layer).__name__ for layer in paper_d.layers if "norm" in layer.name]
print(f"PatchGAN for CycleGAN: {paper_d.count_params():,} parameters, input {paper_d.input_shape}, "
      f"output {paper_d.output_shape}")
print("normalisation layers:", norm_layers)
print("receptive field of one score:", models.receptive_field_size(models.PIX2PIX_PATCHGAN_LAYERS), "pixels a side")
assert paper_d.input_shape == (None, 256, 256, 3) and paper_d.output_shape == (None, 30, 30, 1)
assert norm_layers == ["GroupNormalization"] * 3               # instance norm (groups=-1); none on the first block
assert paper_d.count_params() == 2_764_737                    # the authors' NLayerDiscriminator with 3 input channels
assert models.receptive_field_size(models.PIX2PIX_PATCHGAN_LAYERS) == 70

# %% [markdown]
# ## 11. A smaller variant
#
# Udacity's lighter 128-px CycleGAN is built in the [going-further notebook](03_cyclegan_further.ipynb).

# %% [markdown]
# ## 12. The image pool
#
# If $D$ sees only the *latest* fakes, the players can chase each other in circles: $D$ forgets old
# mistakes and $G$ returns to them. Following [Shrivastava et al. (2017)](https://arxiv.org/abs/1612.07828),
# CycleGAN keeps an [image pool](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#image-pool), a **history of 50 fakes** per domain, refreshed by **random replacement** (not "the
# last 50"). For each new fake:
#
# - while the pool is not full, store it and show it;
# - then toss a coin: heads, show a random *stored* fake and put the new one in its slot; tails, show
#   the new one and leave the pool alone.

# %% [markdown]
# ### Your turn 6: the pool's query
#
# Complete `query` in NumPy: return a batch like `images` for $D$ and update `self.images` (at most
# `pool_size`). `self.draws(n)` gives each image a coin `coins[i]` (below 0.5 is heads) and a slot
# `slots[i]`: the draws of `train.ImagePool`, so the check compares yours with it exactly.

# %%
class MyImagePool:
    """A history of generated images for a discriminator (NumPy; the course's runs inside TensorFlow)."""

    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.seed = pool_size, seed
        self.images = []      # the stored fakes, at most pool_size, each (h, w, c)
        self.queries = 0      # batches queried so far: drives the random draws

    def draws(self, n):
        """n coins in [0, 1) and n slots in [0, pool_size): the same draws as train.ImagePool."""
        u = tf.random.stateless_uniform((n, 2), seed=(self.seed, self.queries)).numpy()
        self.queries += 1
        return u[:, 0], np.minimum((u[:, 1] * self.pool_size).astype(int), self.pool_size - 1)

    def query(self, images):
        """images (b, h, w, c) -> (b, h, w, c) for the discriminator; updates the pool."""
        coins, slots = self.draws(len(images))
        shown = []
        # BEGIN SOLUTION: for each image: store and show it while the pool fills; once full, on heads show a stored one and put the new one in its slot, on tails show the new one
        for i, image in enumerate(images):
            if len(self.images) < self.pool_size:      # still filling
                self.images.append(image)
                shown.append(image)
            elif coins[i] < 0.5:                       # heads: an old one, replaced by the new one
                old = self.images[slots[i]]
                self.images[slots[i]] = image
                shown.append(old)
            else:                                      # tails: the new one, pool unchanged
                shown.append(image)
        # END SOLUTION
        return np.stack(shown)


# %% [markdown]
# The check:

# %%
MyImagePool = course.exercises.check("03.image_pool", MyImagePool)

# %% [markdown]
# Your pool over 300 steps, fed one-pixel "images" holding the step that made them
# (`train.ImagePool` does the same in TensorFlow, [checkpoint](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkpoint)ed with the run):

# %%
demo_pool = MyImagePool(cfg.pool_size, seed=0)
steps = np.arange(300)
made_at = []
for s in steps:
    new_fake = np.full((1, 1, 1, 1), float(s), np.float32)   # (batch 1, 1, 1, 1 channel): a fake made at step s
    shown = demo_pool.query(new_fake)                        # (1, 1, 1, 1): what D sees, fresh or from the pool
    made_at.append(float(shown[0, 0, 0, 0]))
made_at = np.array(made_at)                      # (300,): the step each shown fake was made at
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(steps, made_at, ".", ms=3)
ax.axvline(cfg.pool_size, color="gray", ls="--", label=f"pool full ({cfg.pool_size} images)")
ax.set_xlabel("training step"), ax.set_ylabel("step the shown fake was made")
ax.set_title("What the discriminator is shown: fresh fakes and older ones"), ax.legend()
fig.tight_layout()
fresh = np.mean(made_at[cfg.pool_size:] == steps[cfg.pool_size:])
print(f"pool holds {len(demo_pool.images)} images; after filling, {fresh:.0%} of the shown fakes are fresh")

assert np.all(made_at <= steps), "the pool never shows a fake from the future"
assert np.all(made_at[:cfg.pool_size] == steps[:cfg.pool_size]), "while filling, every fake is shown fresh"
assert len(demo_pool.images) == cfg.pool_size, "once full, the pool keeps exactly pool_size images"
assert 0.35 < fresh < 0.65, f"after filling, a fair coin should show about half fresh fakes, got {fresh:.0%}"

# %% [markdown]
# On the diagonal: fresh fakes; below it: older ones.

# %% [markdown]
# ## 13. The training step
#
# One step takes a batch $x$ and an unrelated batch $y$, runs $G(x)$, $F(y)$, both round trips and
# both identity images, and scores them; each discriminator runs three times (real images, pooled
# fakes for its own loss, fresh fakes for its generator's). It computes section 7's four losses and
# takes four gradients from **one persistent tape** (an ordinary one gives only one gradient) for
# **four optimizers**.

# %% [markdown]
# ### Your turn 7: the training step
#
# Write it with `losses.generator_loss(scores, form)`, `losses.discriminator_loss(real, fake, form,
# halve=...)`, `losses.cycle_consistency_loss(real, cycled, weight)` and `losses.identity_loss(real,
# same, weight)`, every network with `training=True`; `pool_x.query(fakes)` works as yours. Return
# `g_loss`, `f_loss`, `dx_loss`, `dy_loss` and `cycle` (weighted). The check takes three steps on twin
# networks with pools already full, and compares losses and weights with `train.cyclegan_train_step`'s.

# %%
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    """One CycleGAN update of all four networks; returns the losses."""
    # BEGIN SOLUTION: one persistent tape around the forward pass and the four losses, then four gradients and four optimizer steps
    with tf.GradientTape(persistent=True) as tape:
        fake_y = G(x, training=True)          # G(x)          (b, S, S, 3)
        cycled_x = F(fake_y, training=True)   # F(G(x)) ~ x
        fake_x = F(y, training=True)          # F(y)
        cycled_y = G(fake_x, training=True)   # G(F(y)) ~ y
        same_y = G(y, training=True)          # G(y) ~ y      (identity)
        same_x = F(x, training=True)          # F(x) ~ x      (identity)

        # Discriminator scores: grids (b, s, s, 1), one score per patch.
        score_real_x, score_real_y = D_X(x, training=True), D_Y(y, training=True)
        score_fake_x, score_fake_y = D_X(fake_x, training=True), D_Y(fake_y, training=True)  # for F and G
        score_pool_x = D_X(pool_x.query(fake_x), training=True)   # for D_X: fakes from the history
        score_pool_y = D_Y(pool_y.query(fake_y), training=True)   # for D_Y

        cycle = (losses.cycle_consistency_loss(x, cycled_x, cycle_weight)
                 + losses.cycle_consistency_loss(y, cycled_y, cycle_weight))
        g_loss = losses.generator_loss(score_fake_y, form) + cycle + losses.identity_loss(y, same_y, identity_weight)
        f_loss = losses.generator_loss(score_fake_x, form) + cycle + losses.identity_loss(x, same_x, identity_weight)
        dx_loss = losses.discriminator_loss(score_real_x, score_pool_x, form, halve=True)
        dy_loss = losses.discriminator_loss(score_real_y, score_pool_y, form, halve=True)

    for loss, net, opt in ((g_loss, G, opt_G), (f_loss, F, opt_F), (dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)):
        grads = tape.gradient(loss, net.trainable_variables)   # only this network's weights
        opt.apply_gradients(zip(grads, net.trainable_variables))
    del tape   # a persistent tape keeps its tensors until it is deleted
    # END SOLUTION
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}


# %% [markdown]
# The check:

# %%
cyclegan_step = course.exercises.check("03.train_step", cyclegan_step)

# %% [markdown]
# **A demonstration**: `train.CycleGAN`, the `keras.Model` that trains below, takes the same update
# as your step, on networks built with your generator.

# %%
def make_cyclegan(image_size, filters, n_blocks=None, upsample="transpose"):
    """G, F (your ResNet generators; the course's for the resize variant) and D_X, D_Y (PatchGANs
    with instance norm, as in the paper)."""
    n_blocks = n_blocks or (9 if image_size >= 256 else 6)   # the paper's choice
    if upsample == "transpose":                              # the paper's generator: yours
        G = my_resnet_generator(image_size, n_blocks=n_blocks, filters=filters)
        F = my_resnet_generator(image_size, n_blocks=n_blocks, filters=filters)
    else:                                                    # the resize variant (going-further notebook)
        G = models.resnet_generator(image_size, n_blocks=n_blocks, filters=filters, upsample=upsample)
        F = models.resnet_generator(image_size, n_blocks=n_blocks, filters=filters, upsample=upsample)
    D_X = models.patchgan_discriminator(image_size, target_channels=None, norm="instance", filters=filters)
    D_Y = models.patchgan_discriminator(image_size, target_channels=None, norm="instance", filters=filters)
    return G, F, D_X, D_Y


def adam(learning_rate=2e-4):
    return keras.optimizers.Adam(learning_rate, beta_1=0.5)


x_probe = tf.random.uniform((2, 16, 16, 3), -1, 1)   # (2, 16, 16, 3): a batch from X
y_probe = tf.random.uniform((2, 16, 16, 3), -1, 1)   # and an unrelated one from Y


def players():
    """Tiny networks (16x16, 4 filters, 1 residual block), four fresh optimizers, two seeded pools."""
    return (*make_cyclegan(image_size=16, filters=4, n_blocks=1), *[adam() for _ in range(4)],
            train.ImagePool(50, (16, 16, 3), seed=0), train.ImagePool(50, (16, 16, 3), seed=1))


def one_trainer_step(G, F, D_X, D_Y, *unused):     # the trainer makes its own optimizers and pools
    trainer = train.CycleGAN(G, F, D_X, D_Y, pool_size=50, seed=0)
    trainer.compile(learning_rate=2e-4)
    return trainer.train_step((x_probe, y_probe))


our_step = lambda *p: cyclegan_step(*p[:8], x_probe, y_probe, *p[8:])   # p: 4 networks, 4 optimizers, 2 pools
course.checkers.check_same_update(our_step, one_trainer_step, players, name="your step vs train.CycleGAN")

# %% [markdown]
# ## 14. Training
#
# The paper: batch 1, [Adam](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam) at $2\cdot10^{-4}$, $\beta_1 = 0.5$, 100 epochs, then 100 with
# a [linear decay](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#linear-decay) to zero (`train.LinearDecay`, counted in optimizer steps, so it
# resumes correctly).

# %%
paper_schedule = train.cyclegan_schedule(steps_per_epoch=1334)   # horse2zebra: 1,334 zebras, batch 1
epochs_axis = np.linspace(0, 200, 401)
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(epochs_axis, paper_schedule(epochs_axis * 1334))   # the schedule takes optimizer steps
ax.set_xlabel("epoch"), ax.set_ylabel("learning rate"), ax.set_title("The paper's schedule: 100 + 100 epochs")
fig.tight_layout()

# %% [markdown]
# The paper's 200 epochs at 256 px are lesson 04's long run (the paper profile). The learner profile trains at 128 px (6 blocks) for 14
# epochs, 7 constant and 7 decaying, the paper's 1:1 split. The smoke profile trains 800 steps at
# 32 px and 1e-3: at 2e-4 so short a run keeps the transposed convs' checkerboard ([going-further notebook](03_cyclegan_further.ipynb)).

# %% [markdown]
# **Why mixed precision.** The learner profile trains in [mixed precision](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#mixed-precision):
# [float16](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#float16-and-loss-scaling) arithmetic, float32 weights. That halves the memory traffic
# and uses the T4's tensor cores: about 2x by the course's estimate. Lesson 04 measures it and
# explains loss scaling, which `train.CycleGAN` adds by itself.

# %% [markdown]
# ### The data
#
# The two domains stream independently and repeat; an epoch is the larger domain's number of
# batches (1,334 zebras for horse2zebra).

# %%
if cfg.dataset == "shipped":
    train_x, train_y = data.load_unpaired_folder(unpaired_path, "train", image_size=cfg.image_size,
                                                 batch_size=cfg.batch_size, seed=cfg.seed)
    test_x, test_y = data.load_unpaired_folder(unpaired_path, "test", image_size=cfg.image_size,
                                               jitter=False, batch_size=8, shuffle=False, cache=False)
else:  # TFDS cycle_gan/horse2zebra: downloaded on first use
    train_x, train_y = data.load_cycle_gan_tfds(cfg.dataset, "train", image_size=cfg.image_size,
                                                batch_size=cfg.batch_size, seed=cfg.seed)
    test_x, test_y = data.load_cycle_gan_tfds(cfg.dataset, "test", image_size=cfg.image_size,
                                              jitter=False, batch_size=8, shuffle=False, cache=False)

# An epoch is one pass over the larger domain (horse2zebra: 1,334 images); the smoke profile fixes it.
sizes = [int(ds.cardinality()) for ds in (train_x, train_y)]   # batches per domain (< 0: unknown)
steps_per_epoch = cfg.steps_per_epoch or (max(sizes) if min(sizes) > 0 else 1334 // cfg.batch_size)
total_steps = cfg.epochs * steps_per_epoch
# (x, y) batches forever, in an order fixed by the seed, so a resumed run sees the same batches.
train_pairs = tf.data.Dataset.zip(train_x.repeat(), train_y.repeat())   # ((b, S, S, 3), (b, S, S, 3))
print(f"{cfg.dataset}: {cfg.image_size}x{cfg.image_size}, batch {cfg.batch_size}, "
      f"{steps_per_epoch} steps per epoch, {cfg.epochs} epochs ({cfg.decay_epochs} of them decaying) "
      f"= {total_steps:,} steps")

# %% [markdown]
# ### A run folder that survives a disconnect
#
# Checkpoints, losses, samples, TensorBoard logs and exports go in one folder, on Google Drive in
# Colab. Its name records the settings. Smoke runs start fresh; learner and paper runs resume.

# %%
if course.config.in_colab():
    try:
        from google.colab import drive
        drive.mount("/content/drive")
        RUNS = Path("/content/drive/MyDrive/gan-course/runs")
    except Exception as error:   # no Drive (declined, or another account): train, but without a safety net
        RUNS = Path("/content/runs")
        print(f"Google Drive is not mounted ({error}); the run goes to {RUNS}, which a disconnect erases.")
else:
    RUNS = (course.config.REPO_ROOT or Path.cwd()) / "build" / "runs"
    print("Not on Colab: the run goes to a local folder.")
RUN_DIR = RUNS / "03_cyclegan" / f"{cfg.dataset}_{cfg.image_size}px_{cfg.epochs}epochs_{cfg.profile}"
if cfg.starts_fresh and RUN_DIR.exists():
    shutil.rmtree(RUN_DIR)   # smoke: a fresh run every time, so the result does not depend on earlier runs
CHECKPOINT_EVERY = cfg.checkpoint_every   # learner: 1,000 steps, so a disconnect loses minutes, not hours
SAMPLE_EVERY = cfg.sample_every           # learner: 2,000
print("run folder:", RUN_DIR)

# %% [markdown]
# ### The trainer
#
# `train.CycleGAN` runs section 13's step in `fit`, with networks built in the profile's precision:

# %%
# Mixed float16 pays only on a GPU's tensor cores: on a CPU the networks stay in float32.
policy = cfg.precision if tf.config.list_physical_devices("GPU") else "float32"
with train.precision(policy):   # networks built inside compute in `policy`, their weights stay float32
    G, F, D_X, D_Y = make_cyclegan(cfg.image_size, cfg.filters, cfg.n_blocks,   # n_blocks None: 9 at 256, 6 below
                                   upsample=cfg.upsample)                        # the paper's "transpose"
schedule = train.LinearDecay(cfg.learning_rate, constant_steps=(cfg.epochs - cfg.decay_epochs) * steps_per_epoch,
                             decay_steps=cfg.decay_epochs * steps_per_epoch)
trainer = train.CycleGAN(G, F, D_X, D_Y, cycle_weight=cfg.cycle_weight, identity_weight=cfg.identity_weight,
                         pool_size=cfg.pool_size, seed=cfg.seed)
trainer.compile(*[keras.optimizers.Adam(schedule, beta_1=cfg.beta_1) for _ in range(4)], loss_form=cfg.loss_form)
print(f"G and F: {G.count_params():,} parameters each; D_X and D_Y: {D_X.count_params():,} each; "
      f"computing in {policy}")

# %% [markdown]
# `course.runs.run_training` resumes from the last checkpoint and trains to `total_steps`, checkpointing
# every `CHECKPOINT_EVERY` steps; `course.costs.Pace`
# prints the measured pace on a GPU. **After a disconnect, run the notebook from the top: this cell
# continues.**

# %%
sample_x, sample_y = next(iter(test_x))[:3], next(iter(test_y))[:3]   # (3, S, S, 3) each, fixed
pace = course.costs.Pace(total_steps, name="the CycleGAN run")               # silent on a CPU
# What decides a step, stored with the run: resuming with other settings is refused, naming them.
settings = {**cfg.identity(), "steps_per_epoch": steps_per_epoch, "precision": policy}
result = course.runs.run_training(trainer, train_pairs, total_steps, RUN_DIR, checkpoint_every=CHECKPOINT_EVERY,
                            sample_inputs=(sample_x, sample_y), sample_every=SAMPLE_EVERY,
                            callbacks=[pace.callback()], verbose=2 if cfg.is_smoke else 1, settings=settings)
print(f"started at step {result['resumed_from']:,}, ran {result['steps_run']:,} steps, now at "
      f"step {result['step']:,} of {total_steps:,}; learning rate now {float(schedule(total_steps)):.1e}")
assert result["step"] == total_steps

# %% [markdown]
# The losses from `history.csv`. GAN losses do not fall steadily; watch the cycle term.

# %%
course.plotting.plot_loss_history(RUN_DIR / "history.csv", keys=["g_loss", "f_loss", "dx_loss", "dy_loss", "cycle"],
                           smoothing=0.0 if cfg.is_smoke else 0.9);

# %% [markdown]
# The saved sample grids: $x$, $G(x)$, $F(G(x))$, then $y$, $F(y)$, $G(F(y))$.

# %%
browser = course.widgets.sample_browser(RUN_DIR / "samples", image_width="360px")
browser.controls["index"].value = len(browser.paths) - 1   # start at the latest grid
display(browser)
fig, ax = plt.subplots(figsize=(3.6, 7.2))
ax.imshow(plt.imread(browser.paths[-1])), ax.axis("off")
ax.set_title(f"{browser.paths[-1].stem}\ncolumns: input | translated | round trip", fontsize=9)
fig.tight_layout()

# %% [markdown]
# ## 15. What did it learn?
#
# Rows: $x$, $G(x)$, the round trip $F(G(x))$ and the identity image $F(x)$; the last two should
# look like $x$. Generators run through `course.inference.translate` (lesson 02).

# %%
x_test, y_test = (t.numpy() for t in (next(iter(test_x)), next(iter(test_y))))   # (8, S, S, 3) each
g_x, f_y = course.inference.translate(G, x_test), course.inference.translate(F, y_test)           # translations
f_g_x, g_f_y = course.inference.translate(F, g_x), course.inference.translate(G, f_y)             # round trips
f_x, g_y = course.inference.translate(F, x_test), course.inference.translate(G, y_test)           # identity images
course.plotting.plot_cycle_rows(x_test, g_x, f_g_x, f_x, max_rows=3);

# %% [markdown]
# Backward: $y$, $F(y)$, $G(F(y))$, $G(y)$.

# %%
course.plotting.plot_cycle_rows(y_test, f_y, g_f_y, g_y, max_rows=3,
                         names=("y", "F(y)", "G(F(y))", "identity G(y)"));

# %% [markdown]
# The **cycle error** $\text{mean}\,|F(G(x)) - x|$ works on any data; on day2dusk the
# **correspondence error** $\text{mean}\,|G(x) - G_{\text{true}}(x)|$ measures the translation
# against the right answer, beside doing nothing ($G(x) = x$).

# %%
print(f"cycle error    X -> Y -> X: {course.metrics.mean_l1(x_test, f_g_x):.3f}, "
      f"Y -> X -> Y: {course.metrics.mean_l1(y_test, g_f_y):.3f}")
if cfg.dataset == "shipped":
    judged = course.results.cyclegan_results(G, F)   # all 40 + 40 test images
    for way, name in (("AtoB", "G: day -> dusk"), ("BtoA", "F: dusk -> day")):
        ours, none = judged["generator"][way], judged["identity"][way]
        print(f"correspondence error of {name}: {ours:.3f}; doing nothing: {none:.3f} (ratio {ours / none:.2f})")
        print(f"  speckle ratio (its high-frequency energy / the true translation's; 1 is right): "
              f"{judged['speckle'][way]:.2f}")
        assert ours < none, f"{name} is no better than leaving the image unchanged"
else:
    print("horse2zebra has no known true translation, so only the cycle error and your eyes can judge it.")

# %% [markdown]
# ### What longer training gives
#
# The course's **reference weights**: the same networks trained longer at 64 px (why 64:
# [going-further notebook](03_cyclegan_further.ipynb)), beside yours:

# %%
reference_nets, reference = course.results.load_reference("cyclegan")
ref_size = reference_nets["generator_g"].input_shape[1]              # the reference's own image size
print(f"reference: {ref_size}x{ref_size} px, {reference['steps']:,} steps, {reference['seconds_training'] / 60:.0f} min, "
      f"{reference['settings']['schedule']}, upsample={reference['settings']['upsample']!r}")
ref_scores = reference["metrics"]
for way in ("AtoB", "BtoA"):   # each beside doing nothing at its own size
    mine, mine_nothing = ((judged["generator"][way], judged["identity"][way]) if cfg.dataset == "shipped"
                          else (float("nan"), float("nan")))
    print(f"{way}: our run {mine:.3f} (doing nothing {mine_nothing:.3f}) | reference {ref_scores['generator'][way]:.3f} "
          f"(doing nothing {ref_scores['identity'][way]:.3f}, speckle ratio {ref_scores['speckle'][way]:.2f})")
if cfg.dataset == "shipped":
    ref_x, _ = course.results.unpaired_split("test", ref_size)                   # the same test images at its size
    ref_gx = course.inference.translate(reference_nets["generator_g"], ref_x[:3])
    course.plotting.plot_image_rows({"day x": x_test[:3], "our G(x)": g_x[:3], f"reference G(x), {ref_size} px": ref_gx,
                              "true dusk": true_g(x_test[:3])}, size=1.6);

# %% [markdown]
# Browse the test images with their errors:

# %%
course.widgets.translation_explorer(x_test, G, F, names=("G", "F"),
                             targets=true_g(x_test) if cfg.dataset == "shipped" else None)

# %% [markdown]
# ## 16. What 200 epochs give
#
# Zhu et al. published the generators of their horse2zebra run (200 epochs at 256x256): $G$ (horse
# $\to$ zebra) and $F$ (zebra $\to$ horse), as PyTorch state dicts. They have exactly our ResNet's
# 11,378,179 parameters, yet copied into it they compute something else: a stride-2 conv in PyTorch
# (`padding=1`) pads one pixel on *every* side, where Keras's `"same"` pads only the bottom and right.
# Each output pixel then reads a window shifted by one pixel from the one the weights were trained on,
# layer after layer. So `pretrained.lesson_generator` builds our ResNet with the authors' padding
# (`models.resnet_generator(..., convention="pytorch")`) before copying the weights; the cell also
# copies them into the Keras-padded ResNet and measures how far its outputs land.
# Without a GPU (the smoke profile) nothing is downloaded: random weights stand in, and the pictures
# mean nothing.

# %%

size = cfg.image_size if cfg.is_smoke else 256                      # the authors trained at 256x256
G_paper = course.pretrained.lesson_generator("cyclegan/horse2zebra", cfg, image_size=size)   # X -> Y
F_paper = course.pretrained.lesson_generator("cyclegan/zebra2horse", cfg, image_size=size)   # Y -> X
x_paper = tf.image.resize(x_test, (size, size)).numpy()             # the same test images, (8, 256, 256, 3)
g_paper = course.inference.translate(G_paper, x_paper)
keras_padded = models.resnet_generator(size, n_blocks=9, filters=G_paper.get_layer("stem_conv").filters)
keras_padded.set_weights(G_paper.get_weights())                     # the same weights, Keras's "same" padding
shift = np.abs(course.inference.translate(keras_padded, x_paper) - g_paper)
print(f"the same weights with Keras's padding: outputs differ by up to {shift.max():.2f} "
      f"(mean {shift.mean():.2f}) on the [-1, 1] scale")
who = "stand-in (random weights)" if cfg.is_smoke else "the authors' (200 epochs)"
print(f"cycle error |F(G(x)) - x|: your run {course.metrics.mean_l1(x_test, f_g_x):.3f} at {cfg.image_size} px, "
      f"{who} {course.metrics.mean_l1(x_paper, course.inference.translate(F_paper, g_paper)):.3f} at {size} px")
course.plotting.plot_image_rows({"x": x_test[:3], "your G(x)": g_x[:3],
                          who: tf.image.resize(g_paper[:3], x_test.shape[1:3]).numpy()}, size=1.8);

# %% [markdown]
# ## Lab: which ingredient matters? Predict, then run
#
# Five variants train from the same weights for the same steps, each scored against the **true**
# dusk images of the 40 test days, beside doing nothing:
#
# | variant | change |
# |---|---|
# | full | section 7's objective |
# | no cycle | $\lambda = 0$ |
# | no identity | identity weight 0 |
# | BCE | BCE instead of least squares |
# | no pool | newest fakes only |
#
# **Predict first**: which variant ends furthest from the truth, i.e. which ingredient matters most?

# %%
PREDICTION = None  # your guess: "no cycle", "no identity", "BCE" or "no pool"

# %% [markdown]
# The run (about a minute on two CPU cores), beside the course's longer run (more steps, two seeds).
# All variants learn at the smoke rate, 1e-3.

# %%
lab_scale = course.config.cut_lab_scale(labs_cyclegan.SMOKE if cfg.is_smoke else labs_cyclegan.LONGER)
print(f"each variant: {lab_scale.steps} steps at {lab_scale.image_size} px, {lab_scale.filters} filters, "
      f"{lab_scale.n_blocks} residual blocks, learning rate {lab_scale.learning_rate:g}, seeds {lab_scale.seeds}")
lab_show = course.results.unpaired_split("test", lab_scale.image_size)[0][:3]       # (3, s, s, 3): day test images
pace = course.costs.Pace(len(labs_cyclegan.VARIANTS) * lab_scale.steps * len(lab_scale.seeds), name="the lab")
lab = labs_cyclegan.run_lab(lab_scale, show=lab_show, verbose=2 if cfg.is_smoke else 1, pace=pace)
longer = labs_cyclegan.load_longer_run()
print("\n".join(labs_cyclegan.report_lines(lab, longer)))
course.config.expect_quality(all(s["AtoB"] < lab["baseline"]["AtoB"] for s in lab["scores"].values()), "every variant beats doing nothing")

# %% [markdown]
# Each variant's $G$ on three test days:

# %%
lab_rows = {"day x": lab_show, "true dusk": true_g(lab_show), **lab["translations"]}
course.plotting.show_images([img for row in lab_rows.values() for img in row], ncols=3, size=1.3,
                     titles=[f"{name}" if k == 0 else "" for name in lab_rows for k in range(3)]);

# %% [markdown]
# **The paper** ablates only the cycle loss in numbers (table 4); identity: pictures (fig. 9); least
# squares and pool: reasons, no ablation.

# %%
for name, finding in labs_cyclegan.PAPER_FINDINGS.items():
    print(f"{name}: {finding}\n")

# %% [markdown]
# **Your prediction against the data** (computed from both runs):

# %%
print("\n".join(labs_cyclegan.conclusion(PREDICTION, lab, longer)))

# %% [markdown]
# ## Check yourself
#
# **1.** Why two generators and two discriminators?
#
# <details><summary>Answer</summary>
#
# $G$ and $F$, each judged by its output domain's discriminator; the cycle loss needs both directions.
#
# </details>
#
# **2.** What does the cycle loss prevent?
#
# <details><summary>Answer</summary>
#
# A generator that ignores its input, like the lazy $G$: no $F$ can recover the input.
#
# </details>
#
# **3.** $D$ scores a fake well on the real side of its decision boundary. What gradient does the generator get under non-saturating BCE, and under least squares?
#
# <details><summary>Answer</summary>
#
# BCE: $-(1 - \sigma(a))$, almost zero, though the fake may be far from the real data. Least squares: $2(a - 1)$, zero only at the target score 1, so it still pulls the fake's score towards 1. That is a distance in $D$'s score, not to the data.
#
# </details>
#
# **4.** What does the image pool hold, and why?
#
# <details><summary>Answer</summary>
#
# Up to 50 earlier fakes, refreshed at random, so $D$ does not forget old mistakes and the players oscillate less.
#
# </details>
#
# **5.** Is the true $G$'s identity loss zero on day2dusk?
#
# <details><summary>Answer</summary>
#
# No: it changes dusk images too. The identity loss is a prior.
#
# </details>

# %% [markdown]
# ## Summary
#
# - Two generators and two discriminators translate between unpaired collections.
# - Least squares still gives a gradient to fakes on the real side of $D$'s boundary, where BCE
#   saturates; $D$'s loss is halved.
# - The cycle loss ($\lambda = 10$) makes $F$ invert $G$; the identity loss ($0.5\lambda$) keeps colours.
# - ResNet generator (11,378,179 parameters at 256 px), instance norm, PatchGAN discriminators, a pool of 50.
# - The learner profile: 128 px, mixed precision, the paper's 1:1 schedule split.
#
# Next, lesson 04 trains these models on a Colab GPU, faster.

# %% [markdown]
# ## Further reading
#
# The [going-further notebook](03_cyclegan_further.ipynb): the Udacity variant, the checkerboard, why 64 px, and neural style transfer.
#
# - Zhu et al. (2017), [arXiv:1703.10593](https://arxiv.org/abs/1703.10593), and the
#   [authors' code](https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix).
# - Mao et al. (2017), LSGAN, [arXiv:1611.04076](https://arxiv.org/abs/1611.04076).
# - The TensorFlow [CycleGAN tutorial](https://www.tensorflow.org/tutorials/generative/cyclegan).
# - Next: CUT (Park et al. 2020, [arXiv:2007.15651](https://arxiv.org/abs/2007.15651)) replaces the
#   cycle with a contrastive loss.
