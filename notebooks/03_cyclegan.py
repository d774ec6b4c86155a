# %% [markdown]
# # 03 CycleGAN: translating between two unpaired collections
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/03_cyclegan.ipynb)
#
# By the end of this lesson you will be able to:
#
# - explain why CycleGAN needs **two** generators and **two** discriminators, and what the
#   cycle-consistency and identity losses add to the adversarial ones;
# - say why the least-squares (LSGAN) adversarial loss keeps pulling fakes towards the real data
#   where binary cross-entropy stops;
# - judge a translation with cycle rows, the cycle error and, on data whose answer is known, the
#   error against the true translation.
#
# **What you write** (each checked against the course's tested version, and then used by the
# lesson): the cycle loss and the identity term (two functions); an **instance-norm layer** of
# your own; a **residual block** and the whole **ResNet generator** (reflection padding, 7x7 stem,
# two downsamplings, residual blocks, two upsamplings, tanh); the **image pool's query**; and the
# **training step** with one persistent `GradientTape` and four optimizers. In the **lab** you
# predict which ingredient of the objective matters most, then train five variants and see.
# Cells that only run a checker on code the lesson wrote for you say that they are demonstrations.

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
    from course_utils import install; install.install_requirements()
from course_utils import config, runtime
cfg = runtime.start_lesson(config.CycleGanConfig)   # the settings (smoke with COURSE_SMOKE=1), the GPU check, the seeds
from course_utils import costs
costs.print_estimate(cfg)   # what the full profile costs on a Colab T4: an estimate from FLOP counts

# %% [markdown]
# The rest of the tools we need. `course_utils` holds the tested versions of everything we build
# below, so that we can check our own code against them.

# %%
import shutil
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import display
from keras import layers, ops

from course_utils import checkers, data, diagrams, exercises, inference, losses, metrics, models, perf, plotting, results, runs, train, widgets
from course_utils.labs import cyclegan as labs_cyclegan
from course_utils.layers import InstanceNormalization, ReflectionPadding2D, residual_block

# %% [markdown]
# ## 1. Why paired data is a limit
#
# Pix2Pix (lesson 02) learns from **pairs**: every input comes with the exact output we want,
# pixel for pixel. That is a strong signal, but pairs are expensive or simply impossible to get:
#
# - nobody can photograph the *same* horse, in the same pose and light, as a zebra;
# - there is no photograph of the scene Monet was painting on the day he painted it;
# - aligning a summer and a winter photo of a valley needs the same camera spot, lens and framing.
#
# What we *can* collect easily is two **unaligned collections**: a folder of horse photos and a
# folder of zebra photos, a folder of Monet paintings and a folder of landscape photos, sunny
# and overcast beaches. CycleGAN ([Zhu et al. 2017](https://arxiv.org/abs/1703.10593)) learns a translation between two such
# [domains](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#domain) $X$ and $Y$ without ever seeing which $y$ belongs to which $x$.

# %% [markdown]
# ## 2. The two collections we use
#
# On Colab (full profile) we train on TFDS `cycle_gan/horse2zebra`: 1,067 horse and 1,334 zebra
# photos. On a CPU ([smoke profile](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#smoke-profile)) we use the course's shipped unpaired set `day2dusk`:
#
# - **X = A**: daylight scenes (blue sky, yellow sun, green grass);
# - **Y = B**: dusk scenes of *other* scenes, drawn from other random seeds.
#
# Every folder draws its own scenes, so no dusk image shows the scene of any day image: the
# sets really are unpaired. Let us look at both.

# %%
unpaired_path = data.shipped_unpaired_path()
print(unpaired_path.name, {split: len(list((unpaired_path / split).glob("*.jpg")))
                           for split in ("trainA", "trainB", "testA", "testB")})
# Plain resize, no jitter, fixed order: just for looking.
show_a, show_b = data.load_unpaired_folder(unpaired_path, "train", image_size=64, jitter=False,
                                           batch_size=6, shuffle=False, cache=False)
day = next(iter(show_a))    # (6, 64, 64, 3) in [-1, 1]
dusk = next(iter(show_b))   # (6, 64, 64, 3), different scenes
plotting.show_images(tf.concat([day, dusk], 0), ncols=6,
                     titles=[f"X: day {i}" for i in range(6)] + [f"Y: dusk {i}" for i in range(6)]);

# %% [markdown]
# The shipped set has one property real datasets lack: we know the **true** translation. Each
# dusk image was made from a day render by a fixed colour map (swap red and blue, then darken with
# $x^{1.5}$), so `data.true_translation` gives the right answer for any image. The CycleGAN never
# sees it; we use it only at the end, to measure how close the learned translation comes.

# %%
truth = data.true_translation(day.numpy(), "AtoB")   # (6, 64, 64, 3): what G should produce
plotting.plot_image_rows({"day x (X)": day, "true translation (hidden from training)": truth}, max_rows=2);

# %% [markdown]
# ## 3. Two generators, two discriminators
#
# CycleGAN trains four networks at once:
#
# - a [generator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generator) $G: X \to Y$ (day $\to$ dusk, horse $\to$ zebra),
# - a generator $F: Y \to X$ (dusk $\to$ day, zebra $\to$ horse),
# - a [discriminator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminator) $D_Y$ that tells real $y$ from translated $G(x)$,
# - a discriminator $D_X$ that tells real $x$ from translated $F(y)$.
#
# Each discriminator only knows its own domain. The picture shows who talks to whom.

# %%
diagrams.cyclegan_diagram();

# %% [markdown]
# ## 4. Adversarial losses: binary cross-entropy and least squares
#
# Our discriminators output a raw score $a = D(\cdot)$ per patch (no [sigmoid](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#sigmoid) in the network).
# With **[binary cross-entropy](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#binary-cross-entropy)** ([Goodfellow et al. 2014](https://arxiv.org/abs/1406.2661)) the score is read as a [logit](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#logit),
# $\sigma(a)$ = probability of "real", and, for $G$ and $D_Y$:
#
# $$\mathcal{L}^{\text{BCE}}_{D_Y} = -\tfrac12\Bigl[\log \sigma(D_Y(y)) + \log\bigl(1 - \sigma(D_Y(G(x)))\bigr)\Bigr],
# \qquad \mathcal{L}^{\text{BCE}}_{G} = -\log \sigma(D_Y(G(x))).$$
#
# With **least squares** ([LSGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#least-squares-gan), [Mao et al. 2017](https://arxiv.org/abs/1611.04076)), the form CycleGAN uses, the score is a
# plain number pushed towards targets 1 (real) and 0 (fake):
#
# $$\mathcal{L}^{\text{LS}}_{D_Y} = \tfrac12\Bigl[\bigl(D_Y(y) - 1\bigr)^2 + D_Y(G(x))^2\Bigr],
# \qquad \mathcal{L}^{\text{LS}}_{G} = \bigl(D_Y(G(x)) - 1\bigr)^2.$$
#
# The same pair of formulas holds for $F$ and $D_X$ with $x$ and $y$ swapped. The factor
# $\tfrac12$ in both discriminator losses is the papers' "divide the discriminator's objective
# by 2", which slows $D$ down relative to the generator ([Isola et al. 2017](https://arxiv.org/abs/1611.07004); Zhu et al. 2017).
# Each term is a mean over the patches of the score grid and over the batch. Let us write both forms
# ourselves and check them against `course_utils.losses`.

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
    checkers.check_function(ours_d, lambda r, f: losses.discriminator_loss(r, f, form=form, halve=True), scores)
    checkers.check_function(ours_g, lambda f: losses.generator_loss(f, form=form), lambda rng: scores(rng)[1:])

# %% [markdown]
# **Why least squares?** Look at the generator's loss as a function of the discriminator's score
# $a$ on one fake, and at its gradient $\partial\mathcal{L}_G/\partial a$ (right), which is what
# reaches the generator. The original [minimax](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#minimax-game) BCE loss $\log(1-\sigma(a))$ is flat when $D$
# confidently rejects the fake ($a \ll 0$, typical early in training): no signal at all. The
# [non-saturating](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#non-saturating-loss) BCE fixes that side, but goes flat once $D$ is fooled ($a \gg 0$), even if the
# fake is still far from real images. The least-squares gradient $2(a-1)$ is proportional to
# the distance from the target on *both* sides, so fakes keep being pulled towards the real data
# (Mao et al. 2017).

# %% [markdown]
# **Reading the plot.** All three curves share one horizontal axis, the discriminator's raw output
# $a$, but $a$ means different things. For the two BCE curves it is a logit: $a = 0$ means
# "undecided" ($\sigma(0) = 0.5$) and $D$ is fully fooled only as $a \to +\infty$. For least squares
# it is the score itself: 0 means "fake", 1 means "real" (the dotted line), and a discriminator
# trained with this loss keeps its scores near that range. So compare the *shapes*, where each
# gradient vanishes and where it keeps pulling, not the values of different curves at the same $a$.

# %%
plotting.plot_generator_losses(d_output=-3.0);

# %% [markdown]
# Play with it: slide the discriminator's score and read each loss and gradient. Where is a BCE
# gradient marked *saturated*? Is least squares ever saturated? (The widget needs a live kernel;
# in a static copy of the notebook you only see its first picture.)

# %%
widgets.loss_explorer(d_output=-3.0)

# %% [markdown]
# ## 5. Cycle consistency: there and back again
#
# The adversarial losses alone are not enough. $D_Y$ only checks that $G(x)$ *looks like* a dusk
# image, not that it is the dusk version of **this** $x$: $G$ could map every day scene to the
# same good-looking dusk picture. CycleGAN adds a constraint, [cycle consistency](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#cycle-consistency), borrowed
# from translators: translate
# a sentence from English to French and back, and you should get your sentence again. If $F$
# undoes $G$ and $G$ undoes $F$, then $G(x)$ must keep what makes $x$ this particular $x$:
#
# - forward cycle: $x \to G(x) \to F(G(x)) \approx x$,
# - backward cycle: $y \to F(y) \to G(F(y)) \approx y$.
#
# With the mean absolute error (L1) and weight $\lambda = 10$:
#
# $$\mathcal{L}_{\text{cyc}}(G, F) = \lambda\,\mathbb{E}_x\bigl[\lVert F(G(x)) - x\rVert_1\bigr]
# + \lambda\,\mathbb{E}_y\bigl[\lVert G(F(y)) - y\rVert_1\bigr].$$
#
# So $F$ is trained to be an approximate **inverse** of $G$ (and $G$ of $F$). On the shipped set
# we can try this with the true colour maps, which are exact inverses, and with a "lazy" $G$ that
# ignores its input and always paints the same dusk image.

# %%
true_g = lambda images: data.true_translation(images, "AtoB")   # day -> dusk, exact
true_f = lambda images: data.true_translation(images, "BtoA")   # dusk -> day, its inverse
lazy_g = lambda images: np.repeat(dusk.numpy()[:1], len(images), axis=0)  # same dusk picture for every x

x = day.numpy()                                                  # (6, 64, 64, 3)
print(f"cycle error with the true G and F:  {metrics.mean_l1(x, true_f(true_g(x))):.4f}")
print(f"cycle error with the lazy G:        {metrics.mean_l1(x, true_f(lazy_g(x))):.4f}")
plotting.plot_cycle_rows(x[:2], lazy_g(x[:2]), true_f(lazy_g(x[:2])),
                         names=("x", "lazy G(x)", "F(lazy G(x))", ""));

# %% [markdown]
# The lazy generator's outputs are perfectly plausible dusk images, so a discriminator cannot
# object. But even the exact inverse $F$ cannot find the houses of $x$ again in them: the round
# trip fails, and the cycle loss punishes the lazy $G$.
#
# ### Your turn 1: the cycle-consistency loss
#
# Write the full cycle loss, both directions, with weight `weight` (= $\lambda$ = 10). Inputs are
# batches in $[-1, 1]$: `real_x`, its round trip `cycled_x` $= F(G(x))$, `real_y` and
# `cycled_y` $= G(F(y))$. Write it in place of the `raise NotImplementedError` line and run the
# check, which compares it with two calls of `losses.cycle_consistency_loss` on random images and
# weights. While it is still the stub, the rest of the lesson uses the course's version.

# %%
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    """Four batches (b, h, w, 3) in [-1, 1] -> the weighted cycle loss, a scalar."""
    # BEGIN SOLUTION: return L_cyc, both directions, each an L1 distance averaged over every value
    forward = tf.reduce_mean(tf.abs(cycled_x - real_x))    # ||F(G(x)) - x||_1, averaged
    backward = tf.reduce_mean(tf.abs(cycled_y - real_y))   # ||G(F(y)) - y||_1, averaged
    return weight * (forward + backward)
    # END SOLUTION


cycle_loss = exercises.check("03.cycle_loss", cycle_loss)

# %% [markdown]
# ## 6. The identity loss: keep the colours when there is nothing to do
#
# A second, gentler constraint: if we feed $G$ an image that is *already* in its output domain
# $Y$, it should change it little, and the same for $F$ with an $x$:
#
# $$\mathcal{L}_{\text{id}}(G, F) = 0.5\lambda\,\mathbb{E}_y\bigl[\lVert G(y) - y\rVert_1\bigr]
# + 0.5\lambda\,\mathbb{E}_x\bigl[\lVert F(x) - x\rVert_1\bigr], \qquad 0.5\lambda = 5.$$
#
# Zhu et al. (2017) adopted it from [Taigman et al. (2017)](https://arxiv.org/abs/1611.02200), who used it for
# unsupervised cross-domain generation, and applied it to painting $\to$ photo, where without it
# the generators happily shifted the tint of a whole picture (a daytime painting turned into a
# sunset photo): the [identity loss](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#identity-loss) makes them **preserve colour composition** unless changing it is needed.
#
# It is a prior, not a truth. On our day $\to$ dusk set the true $G$ is a colour change, so it
# does *not* leave a dusk image alone: the identity term pulls slightly against the right answer.
# A quick measurement shows how large that pull is.

# %%
y = dusk.numpy()
print(f"|G_true(y) - y| on dusk images: {metrics.mean_l1(true_g(y), y):.3f} "
      f"(identity loss of the true G: {float(losses.identity_loss(y, true_g(y), weight=5.0)):.3f})")
print(f"|F_true(x) - x| on day images:  {metrics.mean_l1(true_f(x), x):.3f}")

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


identity_term = exercises.check("03.identity_term", identity_term)

# %% [markdown]
# ## 7. The full objective, and who learns from which term
#
# $$\mathcal{L}(G, F, D_X, D_Y) = \mathcal{L}_{\text{GAN}}(G, D_Y) + \mathcal{L}_{\text{GAN}}(F, D_X)
# + \mathcal{L}_{\text{cyc}}(G, F) + \mathcal{L}_{\text{id}}(G, F)$$
#
# The generators minimise it and the discriminators maximise their adversarial parts. In practice
# each network gets its own loss and its own optimizer:
#
# | network | adversarial term | cycle $\lambda=10$ | identity $0.5\lambda=5$ |
# |---|---|---|---|
# | $G: X\to Y$ | $(D_Y(G(x)) - 1)^2$ | both directions (shared with $F$) | $\lVert G(y) - y\rVert_1$ |
# | $F: Y\to X$ | $(D_X(F(y)) - 1)^2$ | both directions (shared with $G$) | $\lVert F(x) - x\rVert_1$ |
# | $D_Y$ | $\tfrac12[(D_Y(y)-1)^2 + D_Y(G(x))^2]$ | – | – |
# | $D_X$ | $\tfrac12[(D_X(x)-1)^2 + D_X(F(y))^2]$ | – | – |
#
# Both cycle directions appear in both generators' losses, because each round trip passes through
# both $G$ and $F$. A discriminator's loss contains no generator weights it could change (we feed
# it the fakes as they are), so it only updates $D$.

# %% [markdown]
# ## 8. Instance norm versus batch norm
#
# The networks of this lesson normalise with **instance norm**, not batch norm. [Batch norm](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#batch-normalisation) normalises each channel with the mean and variance of the **whole batch**, so the
# output for one image depends on which other images share its batch, and training and inference
# behave differently. Instance norm ([Ulyanov et al. 2016](https://arxiv.org/abs/1607.08022)) normalises each channel of **each
# image** over its own pixels:
#
# $$\hat{x}_{nhwc} = \frac{x_{nhwc} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}}, \qquad
# \mu_{nc} = \frac{1}{HW}\sum_{h,w} x_{nhwc}, \qquad \sigma^2_{nc} = \frac{1}{HW}\sum_{h,w} (x_{nhwc} - \mu_{nc})^2,$$
#
# optionally followed by a learned scale and offset per channel, $\gamma_c \hat{x}_{nhwc} + \beta_c$
# ("affine"; the CycleGAN code switches it off). For style and colour translation that is what we
# want: each image's contrast is removed per image, and with batch size 1 (the paper's choice)
# batch norm would be instance norm during training anyway but not at test time. A small numeric
# demo with the course's layer: one bright and one dark "image", then the bright one with a
# different partner.

# %%
rng = np.random.default_rng(0)
bright = 5.0 + rng.normal(size=(1, 4, 4, 1)).astype("float32")    # (1, 4, 4, 1), mean ~ 5
dark = -5.0 + rng.normal(size=(1, 4, 4, 1)).astype("float32")     # mean ~ -5
other = 20.0 + rng.normal(size=(1, 4, 4, 1)).astype("float32")    # a very bright partner

bn = layers.BatchNormalization(center=False, scale=False)
inorm = InstanceNormalization()                                   # course_utils.layers' version, for now
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
# Batch norm's output for the *same* bright image changed with its partner; instance norm gave
# mean 0 and standard deviation 1 both times.
#
# **Instance norm in Keras 3.** TensorFlow 2 users used to import `InstanceNormalization` from
# `tensorflow-addons`, which has reached end of life and does not work with Keras 3. Keras's own
# `GroupNormalization` with one group per channel (`groups=-1`) computes it, and so will your own
# layer.
#
# ### Your turn 3: your own instance-norm layer
#
# Complete `call` of the layer below: it gets a batch `x` of shape (batch, height, width,
# channels) and returns the normalised batch of the same shape, following the formula above, with
# `self.epsilon` and, when `self.affine` is true, the weights `self.gamma` and `self.beta` that
# `build` creates. `keras.ops` has what you need (`ops.mean`, `ops.var` or `ops.moments`,
# `ops.sqrt`). The check compares your layer with `keras.layers.GroupNormalization(groups=-1)` with
# the same $\epsilon$, with and without the affine weights, on batches whose channels have very
# different means and spreads (one of them almost flat, where $\epsilon$ matters). Your class keeps
# the name `InstanceNormalization`, so from here on the lesson builds its networks with **your**
# layer.

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
# The check: your layer against `GroupNormalization(groups=-1)` on six batches. While the cell
# above is still the stub, the course's layer takes its place.

# %%
InstanceNormalization = exercises.check("03.instance_norm", InstanceNormalization)

# %% [markdown]
# One way to write it: `mean, var = ops.moments(x, axes=[1, 2], keepdims=True)` (height and width
# only: not the batch axis, which would be batch norm, and not the channels, which would be layer
# norm), then `(x - mean) / ops.sqrt(var + epsilon)`. The course's
# `course_utils.layers.InstanceNormalization` is the same 20 lines. With no learned scale and
# offset (the CycleGAN code's setting) it agrees with Keras's layer:

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
# CycleGAN's generator comes from [Johnson et al. (2016)](https://arxiv.org/abs/1603.08155), *Perceptual losses for real-time style
# transfer*. Unlike the [U-Net](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#u-net) of lesson 02 it has no long [skip connections](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#skip-connection): the image is
# squeezed to 1/4 of its size, transformed there by a stack of [residual blocks](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#residual-block), and expanded back.
#
# 1. **[Reflection padding](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#reflection-padding)** by 3, then a **7x7 convolution** (64 filters): reflection mirrors the
#    border pixels instead of adding black ones, so no dark frame creeps into the output.
# 2. **Two stride-2 3x3 convolutions** (128, 256 filters): $256 \to 128 \to 64$.
# 3. **Residual blocks** at $64 \times 64 \times 256$: 9 at 256x256, 6 at 128x128.
# 4. **Two stride-2 [transposed convolutions](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#transposed-convolution)** (128, 64): $64 \to 128 \to 256$.
# 5. Reflection padding by 3, a **7x7 convolution to 3 channels** and **tanh** for $[-1, 1]$.
#
# Every convolution except the last is followed by [instance norm](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#instance-normalisation) and ReLU. In the sketch each
# box is a feature map: its height follows the spatial size, its width the number of channels.

# %%
diagrams.resnet_generator_diagram(image_size=256, n_blocks=9, filters=64);

# %% [markdown]
# ### The residual block
#
# A residual block does not learn the mapping $M(x)$ it should compute directly; it learns the
# *change* $F(x) = M(x) - x$ and outputs $x + F(x)$ ([He et al. 2016](https://arxiv.org/abs/1512.03385)). For translation this is a
# natural fit: most of a zebra is still the horse, and a block that should change little only
# has to keep $F$ small. (This $F$ is the block's residual, not the generator $F$.)
#
# Inside: reflection pad 1, conv 3x3, instance norm, ReLU, reflection pad 1, conv 3x3, instance
# norm, then add the input. The shape never changes.
#
# ### Your turn 4: a residual block
#
# Write the block with `ReflectionPadding2D`, `layers.Conv2D` (`padding="valid"`, since the
# padding is already there) and your `InstanceNormalization`. [Initialise](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#weight-initialisation) the kernels from a normal
# distribution with mean 0 and **standard deviation** 0.02 (not variance 0.02), as the paper's code
# does (`INIT` below), not with Keras's default [Glorot](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#glorot-initialisation) initializer (lesson 01). We write it
# $\mathcal{N}(0, 0.02^2)$, since $\mathcal{N}(\mu, \sigma^2)$ names the variance. The check
# compares the block with `course_utils.layers.residual_block`: parameter count, output shape, the
# layers in order, and outputs with the same weights (in inference and training mode); a second
# check looks at the spread of the freshly initialised kernels. Write it in place of the
# `raise NotImplementedError` line, and keep the convolutions' default bias (the paragraph after the
# check says why it does nothing here).

# %%
INIT = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)   # the paper's N(0, 0.02^2): std 0.02


def my_residual_block(x, filters):
    """x (batch, h, w, filters) -> x + F(x), same shape."""
    # BEGIN SOLUTION: the residual block described above, ending with the addition of x
    y = ReflectionPadding2D(1)(x)                                         # (batch, h + 2, w + 2, filters)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)  # (batch, h, w, filters)
    y = InstanceNormalization()(y)
    y = layers.ReLU()(y)
    y = ReflectionPadding2D(1)(y)                                         # (batch, h + 2, w + 2, filters)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)  # (batch, h, w, filters)
    y = InstanceNormalization()(y)                   # no ReLU here: F(x) may be negative
    return layers.Add()([x, y])                      # x + F(x), (batch, h, w, filters)
    # END SOLUTION


# %% [markdown]
# Now the check described above: your block against `layers.residual_block`, then the spread of
# your fresh kernels.

# %%
my_residual_block = exercises.check("03.my_residual_block", my_residual_block)

# %% [markdown]
# **Why the conv bias does nothing here.** A conv's bias adds one constant $b_c$ to every pixel of
# channel $c$. Instance norm then subtracts that channel's mean over the pixels, which contains
# the same $b_c$, so the bias cancels exactly: $(x + b_c) - \mu(x + b_c) = x - \mu(x)$. The
# CycleGAN code keeps these biases anyway, and they are part of its published parameter count
# (11,378,179 below). A quick check that a random bias changes nothing:

# %%
features = tf.random.normal((2, 8, 8, 4))                              # (batch, h, w, channels)
bias = tf.random.normal((4,)) * 5.0                                   # one constant per channel
change = tf.reduce_max(tf.abs(InstanceNormalization()(features + bias) - InstanceNormalization()(features)))
assert change < 1e-4, change
print(f"instance norm with and without a per-channel bias: max difference {float(change):.1e}")

# %% [markdown]
# ### Your turn 5: the whole ResNet generator
#
# Now build the generator of the five steps above from your block. `conv_norm_relu` (given) is
# one convolution (or transposed convolution) with the paper's initialiser, then your instance
# norm and a ReLU. Use `padding="valid"` after a reflection padding and `"same"` for the stride-2
# layers; the last layer is a plain `layers.Conv2D` with the tanh activation and no norm. The
# shapes in the comments are for 256x256 with 64 filters; write the widths from `filters` and the
# number of blocks from `n_blocks`. The check builds yours at two small sizes and compares it with
# `models.resnet_generator` layer by layer, with the same weights copied in.

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
    x = ReflectionPadding2D(3)(inp)                               # (b, 262, 262, 3)
    x = conv_norm_relu(x, filters, 7, padding="valid")            # (b, 256, 256, 64)
    x = conv_norm_relu(x, filters * 2, 3, strides=2)              # (b, 128, 128, 128)
    x = conv_norm_relu(x, filters * 4, 3, strides=2)              # (b, 64, 64, 256)
    for _ in range(n_blocks):
        x = my_residual_block(x, filters * 4)                     # (b, 64, 64, 256)
    x = conv_norm_relu(x, filters * 2, 3, strides=2, transpose=True)   # (b, 128, 128, 128)
    x = conv_norm_relu(x, filters, 3, strides=2, transpose=True)       # (b, 256, 256, 64)
    x = ReflectionPadding2D(3)(x)                                 # (b, 262, 262, 64)
    out = layers.Conv2D(3, 7, activation="tanh", kernel_initializer=INIT)(x)  # (b, 256, 256, 3)
    # END SOLUTION
    return keras.Model(inp, out, name="my_resnet_generator")


# %% [markdown]
# The check (two small sizes, layer by layer, then outputs with the reference's weights):

# %%
my_resnet_generator = exercises.check("03.resnet_generator", my_resnet_generator)

# %% [markdown]
# At the paper's size, yours has the published parameter count:

# %%
mine_256 = my_resnet_generator(256, n_blocks=9)
resnet_256, resnet_128 = models.resnet_generator(256), models.resnet_generator(128)   # 9 and 6 blocks
print(f"ours at 256, 9 blocks:          {mine_256.count_params():,} parameters")
print(f"course_utils at 256 (9 blocks): {resnet_256.count_params():,}")
print(f"course_utils at 128 (6 blocks): {resnet_128.count_params():,}")
assert mine_256.count_params() == resnet_256.count_params() == 11_378_179

# %% [markdown]
# Most of the 11.4 million parameters sit in the residual blocks: each has two 3x3 convs of
# $256 \to 256$ channels, $2 \times (3\cdot3\cdot256\cdot256 + 256) = 1{,}180{,}160$ parameters,
# and there are nine of them. The bar chart shows where the weights are.

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
diagrams.parameter_bars(stages, "ResNet generator at 256x256, 9 residual blocks");

# %% [markdown]
# ### A named deviation: resize, then convolve (Odena et al. 2016)
#
# The paper's generator grows the image back with 3x3 **transposed** convolutions of stride 2.
# With a kernel of 3 and a stride of 2 the kernel's footprints overlap unevenly: along each axis,
# every other output pixel receives one kernel tap and its neighbours two, so in 2-D the output
# pixels fall into four classes receiving 1, 2, 2 or 4 taps. The layer has a **checkerboard**
# built in, which the network must learn to cancel (Odena, Dumoulin & Olah 2016,
# [*Deconvolution and checkerboard artifacts*](https://distill.pub/2016/deconv-checkerboard/)).
# Their remedy: double the size by nearest-neighbour **resizing**, then apply an ordinary
# stride-1 3x3 convolution, which treats every pixel alike. Below, both layers with all-ones
# kernels on a flat image: a flat input should give a flat output.

# %%
flat = tf.ones((1, 8, 8, 1))                                          # (1, 8, 8, 1): no structure at all
transposed = layers.Conv2DTranspose(1, 3, strides=2, padding="same", use_bias=False, kernel_initializer="ones")
resize_conv = keras.Sequential([layers.UpSampling2D(2, interpolation="nearest"),
                                layers.Conv2D(1, 3, padding="same", use_bias=False, kernel_initializer="ones")])
t_out = transposed(flat)[0, 2:-2, 2:-2, 0].numpy()                    # (12, 12) interior, away from the border
r_out = resize_conv(flat)[0, 2:-2, 2:-2, 0].numpy()
print("transposed conv, interior values:", np.unique(t_out))         # 1, 2, 4: a checkerboard
print("resize + conv,   interior values:", np.unique(r_out))         # one value: flat
assert len(np.unique(t_out)) == 3 and len(np.unique(r_out)) == 1
fig, axes = plt.subplots(1, 2, figsize=(5, 2.6))
for ax, img, title in zip(axes, (t_out, r_out), ("transposed conv", "resize, then conv")):
    ax.imshow(img, cmap="gray", vmin=0, vmax=max(4, img.max())), ax.set_title(title, fontsize=9), ax.axis("off")
fig.tight_layout()

# %% [markdown]
# A trained generator learns to cancel this pattern, but only with enough training; before that
# it shows as a per-pixel **speckle** on every output. We measured it on day2dusk, whose true
# translation is known, one setting at a time (`scripts/speckle_study.py`; the table is in
# `docs/results.md`), with the **speckle ratio**: the outputs' high-frequency energy over the true
# translation's (`results.speckle_ratio`; 1 is right, above 1 speckle, below 1 blur). At the
# paper's learning rate, a short run (200 steps) leaves the checkerboard in place. Two
# changes removed it: resizing instead of transposed convolutions (by construction; the outputs are
# then a little *smoother* than the answer), or a learning rate five times the paper's, with which
# the paper's generator cancels it within the run. So `models.resnet_generator` takes
# `upsample="transpose"` (the paper's, the default) or `upsample="resize"` (same parameter
# count), and this lesson's smoke profile keeps the paper's generator with
# the higher learning rate printed below. Section 15 prints the speckle ratio of your run.

# %%
resnet_resize_256 = models.resnet_generator(256, upsample="resize")      # 9 blocks, resize-then-convolve
assert resnet_resize_256.count_params() == resnet_256.count_params() == 11_378_179
print(f"paper's generator and the resize variant: {resnet_resize_256.count_params():,} parameters each")
print(f"this profile ({cfg.profile}): upsample={cfg.upsample!r}, learning rate {cfg.learning_rate:g}")

# %% [markdown]
# ## 10. The discriminator: a PatchGAN that judges one image
#
# CycleGAN's two discriminators are the 70x70 [PatchGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#patchgan) of lesson 02, with three changes
# (Zhu et al. 2017, appendix 7.2, and the
# [authors' code](https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix)):
#
# - it sees **one image**, not a pair: there is no input image to condition on, so $D_Y$ gets
#   either a real $y$ or a translated $G(x)$, 3 channels in (lesson 02's took 3 + 3);
# - it uses **instance norm** (section 8) instead of batch norm, again not on the first block;
# - its outputs are **raw scores** for the least-squares loss of section 4, one per patch, not
#   logits for BCE.
#
# The layers are otherwise the same: 4x4 convolutions with 64, 128 and 256 filters and [stride](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#strided-convolution) 2,
# one with 512 filters and stride 1, each followed by [LeakyReLU](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#leakyrelu) with slope 0.2, then a 4x4
# convolution to one channel. At 256x256 that is a 30x30 grid of scores, and each score still
# depends on a 70x70 patch of the image: the [receptive field](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#receptive-field) does not care about the
# normalisation. Its convolutions keep their biases before instance norm, where they have no
# effect (section 9), because the authors' code keeps them and they are in its parameter count.

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
# ## 11. The smaller variant
#
# A lighter CycleGAN works at 128x128. We build the one of Udacity's CycleGAN notebook
# (`cycle-gan/` in
# [udacity/deep-learning-v2-pytorch](https://github.com/udacity/deep-learning-v2-pytorch/tree/master/cycle-gan),
# summer to winter in Yosemite), layer for layer. It replaces some of the paper's choices with
# DCGAN-style ones:
#
# - generator: three 4x4 stride-2 convs with **batch norm** and ReLU ($128 \to 64 \to 32 \to 16$;
#   64, 128, 256 filters), 6 residual blocks (batch norm, zero padding) at $16 \times 16 \times 256$,
#   two 4x4 stride-2 transposed convs with batch norm and ReLU ($16 \to 32 \to 64$) and a last one
#   to 3 channels at 128 with tanh;
# - discriminator: five conv layers, four 4x4 stride-2 ($128 \to 8$; 64 to 512 filters,
#   `conv_dim = 64`, batch norm after all but the first), each followed by a plain **ReLU**, and a
#   last 4x4 stride-1 conv with one pixel of zero padding, which gives a **7x7** grid of scores;
# - **no conv has a bias**: the notebook's `conv` and `deconv` helpers create every layer with
#   `bias=False`. Where batch norm follows, a bias would be cancelled anyway (batch norm subtracts
#   the channel's mean over the batch and the pixels, and its learned offset $\beta$ takes the
#   bias's place); the first and last layers simply go without one;
# - **LSGAN** losses as above.
#
# PyTorch's `padding=1` on the 4x4 stride-2 layers does what Keras's `padding="same"` does at
# even sizes; only the last, stride-1 conv needs its padding written out (`ZeroPadding2D(1)`),
# which is how 8x8 becomes 7x7.
#
# Where this differs from the rest of the course, and from the notebook:
#
# - its discriminator uses ReLU, where [DCGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dcgan) and lesson 01 use LeakyReLU so that some gradient
#   always flows back to the generator; we keep the notebook's choice here;
# - our kernels start from $\mathcal{N}(0, 0.02^2)$ (standard deviation 0.02), as everywhere in
#   the course; the notebook keeps PyTorch's default initialisation;
# - the notebook trains it at batch size 16, updates the discriminators before the generators,
#   does not halve the discriminator loss and has no identity loss and no [image pool](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#image-pool); we do not
#   train this variant, so those choices do not appear here.
#
# Let us build both networks from Keras layers, print the shape after every convolution that
# changes it and after every run of residual blocks (`checkers.print_structure`), and check
# them against `models.small_cyclegan_*`.

# %%
def my_small_generator(image_size=128, conv_dim=64, n_res_blocks=6):
    def down_or_up(x, f, transpose=False):   # 4x4 stride-2 conv (no bias), batch norm, ReLU
        conv = layers.Conv2DTranspose if transpose else layers.Conv2D
        x = conv(f, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
        return layers.ReLU()(layers.BatchNormalization()(x))

    def res_block(x, f):                     # like our block, with batch norm and zero padding
        y = layers.Conv2D(f, 3, padding="same", use_bias=False, kernel_initializer=INIT)(x)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(f, 3, padding="same", use_bias=False, kernel_initializer=INIT)(y)
        return layers.Add()([x, layers.BatchNormalization()(y)])

    inp = keras.Input((image_size, image_size, 3))                    # (b, 128, 128, 3)
    x = down_or_up(inp, conv_dim)                                     # (b, 64, 64, 64)
    x = down_or_up(x, conv_dim * 2)                                   # (b, 32, 32, 128)
    x = down_or_up(x, conv_dim * 4)                                   # (b, 16, 16, 256)
    for _ in range(n_res_blocks):
        x = res_block(x, conv_dim * 4)                                # (b, 16, 16, 256)
    x = down_or_up(x, conv_dim * 2, transpose=True)                   # (b, 32, 32, 128)
    x = down_or_up(x, conv_dim, transpose=True)                       # (b, 64, 64, 64)
    out = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh", use_bias=False,
                                 kernel_initializer=INIT)(x)          # (b, 128, 128, 3)
    return keras.Model(inp, out, name="my_small_generator")


def my_small_discriminator(image_size=128, conv_dim=64):
    inp = keras.Input((image_size, image_size, 3))                    # (b, 128, 128, 3)
    x = inp
    for i in range(4):                                                # 128 -> 64 -> 32 -> 16 -> 8
        x = layers.Conv2D(conv_dim * 2**i, 4, strides=2, padding="same", use_bias=False,
                          kernel_initializer=INIT)(x)                 # no bias, as in the notebook
        if i > 0:
            x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)                                          # last: (b, 8, 8, 512)
    x = layers.ZeroPadding2D(1)(x)                                    # (b, 10, 10, 512): PyTorch's padding=1
    out = layers.Conv2D(1, 4, padding="valid", use_bias=False,
                        kernel_initializer=INIT)(x)                   # (b, 7, 7, 1): one score per patch
    return keras.Model(inp, out, name="my_small_discriminator")


small_g, small_d = my_small_generator(), my_small_discriminator()
checkers.print_structure(small_g, "small generator")        # each shape-changing conv, and the residual blocks
checkers.print_structure(small_d, "small discriminator")

# %% [markdown]
# The check: same output shapes, the same layers in the same order, same parameter counts and,
# with the reference's weights copied in, the same outputs, in inference mode (batch norm uses its
# moving statistics) and in training mode (it uses the batch's).

# %%
checkers.check_model_builder(
    lambda t: my_small_generator()(t), lambda t: models.small_cyclegan_generator()(t),
    input_shapes=[(128, 128, 3)], name="my_small_generator",
    hint="Compare your layers with the description and the shapes in the comments: each convolution's "
         "width, kernel, stride and bias, the residual blocks, and the order of norm and activation.")
checkers.check_model_builder(
    lambda t: my_small_discriminator()(t), lambda t: models.small_cyclegan_discriminator()(t),
    input_shapes=[(128, 128, 3)], name="my_small_discriminator",
    hint="Compare your layers with the description: each convolution's width, stride and bias, which ones "
         "have batch norm, the activation, and the padding and size of the last layer.")
assert small_g.output_shape == (None, 128, 128, 3) and small_d.output_shape == (None, 7, 7, 1)

# %% [markdown]
# Compare it with the paper's networks: parameters (`count_params` includes batch norm's moving
# statistics, which are not trained) and the multiply-adds of one forward pass of one image
# (`perf.count_macs`), a measure of compute.

# %%
def count(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


nets = {
    "ResNet generator, 256, 9 blocks (paper)": resnet_256,
    "ResNet generator, 128, 6 blocks (paper)": resnet_128,
    "PatchGAN 70x70, instance norm (paper)": paper_d,
    "small generator, 128, 6 blocks": small_g,
    "small discriminator, 128, 5 layers": small_d,
}
for name, net in nets.items():
    total, trainable = count(net)
    print(f"{name:40s} {total:>10,} parameters ({trainable:>10,} trainable), "
          f"{perf.count_macs(net) / 1e9:5.1f} GMAC, output {net.output_shape}")

# %% [markdown]
# The small generator has slightly *more* weights than the paper's at 128 (its 4x4 kernels), but
# it runs its residual blocks on a 16x16 grid instead of 32x32, so one image costs about a quarter
# of the multiply-adds. Its batch norm makes each output depend on the rest of the batch
# (section 8). We keep the paper's networks for the rest of the lesson.

# %% [markdown]
# ## 12. The image pool
#
# If a discriminator only ever sees the generator's *latest* outputs, the two can chase each
# other in circles: $D$ learns to reject today's fakes, $G$ moves somewhere else, $D$ forgets
# the old mistakes, and $G$ can move back. Following [Shrivastava et al. (2017)](https://arxiv.org/abs/1612.07828), CycleGAN keeps a
# **history of generated images** per domain (50 in the paper) and updates each discriminator on
# a mix of new and old fakes. The history is not "the last 50": once it is full, new fakes enter
# it by **random replacement**, so an image can stay for a long time or leave soon. For each new
# fake:
#
# - while the pool is not full, store it and show it to $D$;
# - afterwards, toss a coin: heads, show $D$ a random *old* fake from the pool and put the new one
#   in its place; tails, show $D$ the new fake and leave the pool alone.
#
# ### Your turn 6: the pool's query
#
# Complete `query` below, in NumPy. `images` is a batch of new fakes (b, h, w, c); return a batch
# of the same shape for the discriminator and update `self.images`, a list of at most
# `pool_size` stored images. `self.draws(len(images))` (given) returns, for image `i` of the
# batch, a coin `coins[i]` in [0, 1) (below 0.5 counts as heads) and a random slot `slots[i]` in
# the pool: the very draws the course's `train.ImagePool` makes, so the check can compare yours
# with it exactly under fixed seeds. It also checks the statistics: the pool fills first, then
# about half of what it hands out is old.

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
# The check: statistics first, then the exact draws of `train.ImagePool` under two seeds.

# %%
MyImagePool = exercises.check("03.image_pool", MyImagePool)

# %% [markdown]
# What does your pool hand out over 300 steps? We feed it "images" of one pixel whose value is the
# step at which they were made. (The course's `train.ImagePool`, which the training below uses,
# does the same with `tf.Variable`s, so it works inside a compiled training step and is saved with
# [checkpoints](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkpoint).)

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
# The points on the diagonal are fresh fakes; those below it are older fakes pulled from the
# history, some made hundreds of steps earlier.
#
# ## 13. The training step
#
# One step takes a batch $x$ from $X$ and an unrelated batch $y$ from $Y$ and:
#
# 1. runs both generators: $G(x)$, $F(y)$, the round trips $F(G(x))$, $G(F(y))$ and the identity
#    images $G(y)$, $F(x)$;
# 2. scores real images and fakes with the discriminators; the discriminators' own losses use
#    fakes drawn from the pools, so each discriminator runs three times: on real images, on the
#    pooled fakes (for its own loss) and on the fresh fakes (for its generator's loss), as in the
#    authors' code;
# 3. computes the four losses of the table above;
# 4. takes four gradients from **one persistent tape** (an ordinary tape can be asked for a
#    gradient only once) and applies them with **four optimizers**, one per network.

# %% [markdown]
# ### Your turn 7: the training step
#
# Write the whole step. `G, F, D_X, D_Y` are the four networks, `opt_G` ... `opt_DY` their
# optimizers, `x` and `y` two unrelated batches, `pool_x` and `pool_y` two image pools (the course's
# `train.ImagePool`; their `query(fakes)` works as yours does). Use `losses.generator_loss(scores,
# form)`, `losses.discriminator_loss(real_scores, fake_scores, form, halve=...)`,
# `losses.cycle_consistency_loss(real, cycled, weight)` and `losses.identity_loss(real, same,
# weight)` with the table of section 7, run every network with `training=True`, and return the
# losses in a dict with the keys `g_loss`, `f_loss`, `dx_loss`, `dy_loss` and `cycle` (the weighted
# cycle term, both directions). The check builds two identical sets of tiny networks, with pools
# already full, takes three steps with yours and three with `train.cyclegan_train_step`, and
# compares the losses and every weight after each step.

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
# The check: your step against `train.cyclegan_train_step` on twin tiny networks.

# %%
cyclegan_step = exercises.check("03.train_step", cyclegan_step)

# %% [markdown]
# **A demonstration** (nothing to write): the course's `train.CycleGAN` trainer, the
# `keras.Model` whose `fit` trains below and in lesson 04, takes the same update as your step.
# We build two identical sets of tiny networks (same weights), give each its own optimizers and
# identically seeded pools, and compare the losses and the weights after one step of each
# (`checkers.check_same_update`). The networks are built with your generator.

# %%
def make_cyclegan(image_size, filters, n_blocks=None, upsample="transpose"):
    """G, F (your ResNet generators; the course's for the resize variant) and D_X, D_Y (PatchGANs
    with instance norm, as in the paper)."""
    n_blocks = n_blocks or (9 if image_size >= 256 else 6)   # the paper's choice
    if upsample == "transpose":                              # the paper's generator: yours
        G = my_resnet_generator(image_size, n_blocks=n_blocks, filters=filters)
        F = my_resnet_generator(image_size, n_blocks=n_blocks, filters=filters)
    else:                                                    # the named deviation above
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
checkers.check_same_update(our_step, one_trainer_step, players, name="your step vs train.CycleGAN")

# %% [markdown]
# ## 14. Training
#
# The paper's settings (Zhu et al. 2017): batch size 1, [Adam](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam) with learning rate $2\cdot10^{-4}$
# and $\beta_1 = 0.5$, 100 epochs at that rate, then 100 epochs in which it [decays linearly](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#linear-decay) to
# zero; images jittered (resize to 286, random crop to 256, mirror). `train.LinearDecay` is that
# schedule, counted in optimizer steps, so it survives a restart from a checkpoint.

# %%
paper_schedule = train.cyclegan_schedule(steps_per_epoch=1334)   # horse2zebra: 1,334 zebras, batch 1
epochs_axis = np.linspace(0, 200, 401)
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(epochs_axis, paper_schedule(epochs_axis * 1334))   # the schedule takes optimizer steps
ax.set_xlabel("epoch"), ax.set_ylabel("learning rate"), ax.set_title("The paper's schedule: 100 + 100 epochs")
fig.tight_layout()

# %% [markdown]
# ### How long the paper's run takes
#
# 200 epochs of 1,334 steps are 266,800 training steps at 256x256. A step runs each generator
# forward three times and each discriminator three times (section 13), and the backward pass
# costs about twice the forward; `course_utils.perf` counts the multiply-adds of our networks
# (lesson 04 explains the count and measures real steps). Dividing by the T4's [data-sheet peak](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#peak-flops),
# 8.1 [TFLOP](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#flop)/s in float32, gives the shortest time the run could possibly take: an estimate from
# arithmetic, not a measurement.

# %%
paper_macs = perf.network_macs({"generator_g": resnet_256, "generator_f": resnet_256,
                                "discriminator_x": paper_d, "discriminator_y": paper_d})
paper_step_flops = perf.step_flops(paper_macs, perf.CYCLEGAN_POOL_PASSES, 1)   # batch 1, 3 passes per D
t4_seconds = paper_step_flops / perf.PEAK_FLOPS["T4"].fp32   # if the T4 ran at its fp32 peak all the time
paper_steps = 200 * 1334
floor_hours = paper_steps * t4_seconds / 3600
print(f"one step at 256: {paper_step_flops / 1e12:.2f} TFLOP -> at least {t4_seconds:.2f} s on a T4 (fp32 peak)")
print(f"{paper_steps:,} steps -> at least {floor_hours:.0f} hours, even at peak")
for share in (0.5, 0.25):
    print(f"at {share:.0%} of that peak: {floor_hours / share:.0f} hours")
assert 16 < floor_hours < 19, floor_hours   # the "about 17 hours" floor quoted below

# %% [markdown]
# That floor, about **17 hours**, is a bound no real run reaches: at batch size 1 the GPU spends
# much of each step on normalisation, memory traffic and the optimizer, not on peak-speed
# arithmetic. How large a share of the peak a T4 reaches on this step has not been measured for
# this course yet (lesson 04 measures it on your GPU). If it reaches between a half and a quarter,
# the paper's 200 epochs take about **35 to 70 hours** of T4 time in float32: two to four times the
# floor, and far longer than any Colab session (at most 12 hours on the free tier, often less, and
# idle sessions are ended sooner). [Mixed precision](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#mixed-precision) (lesson 04) runs on the T4's [float16](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#float16-and-loss-scaling) tensor
# cores, whose peak is eight times higher, and lowers the floor accordingly. Either way the full
# profile trains with checkpoints on Google Drive and resumes when you run it again.
#
# **Shortening it honestly.** Set fewer epochs but keep the paper's 1:1 split between constant
# and decaying learning rate, e.g. `import dataclasses` and
# `cfg = dataclasses.replace(cfg, epochs=50, decay_epochs=25)` before the cells below (a quarter of the time), so the run still ends at learning rate zero.
# Stopping the paper's schedule half-way is not the same: the rate is still high there. A shorter
# run gives weaker translations; say how many epochs you trained when you show them. Mixed
# precision and [XLA](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#xla) (lesson 04) make every step faster without changing what is learned.
#
# ### The data
#
# In the full profile we train on horse2zebra from TFDS. In the smoke profile the shipped
# day/dusk set at 32x32, with 16 base filters and 3 residual blocks instead of 6, runs through
# the very same code: 800 steps, the last 400 with a decaying learning rate, in about a minute on
# a CPU.
#
# The data come as two independent streams, one per domain. They have different lengths (1,067
# horses, 1,334 zebras), so both repeat and an epoch is as many steps as the larger one has
# batches.

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
if cfg.is_smoke:   # what the words above say: 800 steps, the last 400 decaying
    assert (total_steps, cfg.decay_epochs * steps_per_epoch) == (800, 400)
print(f"{cfg.dataset}: {cfg.image_size}x{cfg.image_size}, batch {cfg.batch_size}, "
      f"{steps_per_epoch} steps per epoch, {cfg.epochs} epochs ({cfg.decay_epochs} of them decaying) "
      f"= {total_steps:,} steps")

# %% [markdown]
# ### A run folder that survives a disconnect
#
# Everything the run writes goes into one folder: checkpoints (the four networks, the four
# optimizers with their step counters, which are also the schedule's position, the two pools
# and the random state), the loss history, sample grids, TensorBoard logs and, at the end, the
# exported generators. On Colab we put it on Google Drive, which outlives the session; elsewhere
# under `build/runs/03_cyclegan`. The folder name records the settings, so a run with other
# settings does not try to resume this one. The smoke profile starts fresh every time; the full
# profile resumes whatever is there.

# %%
if config.in_colab():
    try:
        from google.colab import drive
        drive.mount("/content/drive")
        RUNS = Path("/content/drive/MyDrive/gan-course/runs")
    except Exception as error:   # no Drive (declined, or another account): train, but without a safety net
        RUNS = Path("/content/runs")
        print(f"Google Drive is not mounted ({error}); the run goes to {RUNS}, which a disconnect erases.")
else:
    RUNS = (config.REPO_ROOT or Path.cwd()) / "build" / "runs"
    print("Not on Colab: the run goes to a local folder.")
RUN_DIR = RUNS / "03_cyclegan" / f"{cfg.dataset}_{cfg.image_size}px_{cfg.epochs}epochs_{cfg.profile}"
if cfg.starts_fresh and RUN_DIR.exists():
    shutil.rmtree(RUN_DIR)   # smoke (and COURSE_STEPS cuts): a fresh run every time, so the result does not depend on earlier runs
CHECKPOINT_EVERY = cfg.checkpoint_every   # full: 1,000 steps, so a disconnect loses minutes, not hours
SAMPLE_EVERY = cfg.sample_every           # full: 2,000
print("run folder:", RUN_DIR)

# %% [markdown]
# ### The trainer
#
# `train.CycleGAN` is the `keras.Model` whose `train_step` is the step we built and checked in
# section 13. We give it the four networks and four Adam optimizers that share the paper's
# schedule (`train.LinearDecay`, counted in optimizer steps, so it resumes at the right rate).

# %%
G, F, D_X, D_Y = make_cyclegan(cfg.image_size, cfg.filters, cfg.n_blocks,   # n_blocks None: 9 at 256, 6 below
                               upsample=cfg.upsample)                        # the paper's "transpose" in both profiles
schedule = train.LinearDecay(cfg.learning_rate, constant_steps=(cfg.epochs - cfg.decay_epochs) * steps_per_epoch,
                             decay_steps=cfg.decay_epochs * steps_per_epoch)
trainer = train.CycleGAN(G, F, D_X, D_Y, cycle_weight=cfg.cycle_weight, identity_weight=cfg.identity_weight,
                         pool_size=cfg.pool_size, seed=cfg.seed)
trainer.compile(*[keras.optimizers.Adam(schedule, beta_1=cfg.beta_1) for _ in range(4)], loss_form=cfg.loss_form)
print(f"G and F: {G.count_params():,} parameters each; D_X and D_Y: {D_X.count_params():,} each")

# %% [markdown]
# `runs.run_training` restores the latest checkpoint in the run folder (if there is one), skips
# the batches the earlier session already used, and calls `fit` until the global step reaches
# `total_steps`, with a progress bar. It writes a checkpoint every `CHECKPOINT_EVERY` steps and
# at the end, a sample grid of fixed test images every `SAMPLE_EVERY` steps, and one row of
# losses per step. **After a disconnect, reconnect, run the notebook from the top (mounting the
# same Drive) and this cell continues from the last checkpoint.** Once the run is complete,
# running it again only reloads the weights.

# %%
sample_x, sample_y = next(iter(test_x))[:3], next(iter(test_y))[:3]   # (3, S, S, 3) each, fixed
result = runs.run_training(trainer, train_pairs, total_steps, RUN_DIR, checkpoint_every=CHECKPOINT_EVERY,
                            sample_inputs=(sample_x, sample_y), sample_every=SAMPLE_EVERY,
                            verbose=2 if cfg.is_smoke else 1)
print(f"started at step {result['resumed_from']:,}, ran {result['steps_run']:,} steps, now at "
      f"step {result['step']:,} of {total_steps:,}; learning rate now {float(schedule(total_steps)):.1e}")
assert result["step"] == total_steps

# %% [markdown]
# The losses, read back from the run folder's `history.csv` (so after a resumed run they cover
# all sessions). GAN losses do not fall steadily as in supervised learning; the cycle term, which
# has a fixed target, is the one to watch falling.

# %%
plotting.plot_loss_history(RUN_DIR / "history.csv", keys=["g_loss", "f_loss", "dx_loss", "dy_loss", "cycle"],
                           smoothing=0.0 if cfg.is_smoke else 0.9);

# %% [markdown]
# The sample grids saved during training show the same test images at every `SAMPLE_EVERY`
# steps: rows $x$, $G(x)$, $F(G(x))$, then $y$, $F(y)$, $G(F(y))$. Slide through them or press
# play (a live kernel is needed; the last grid is also drawn below it for static copies).

# %%
browser = widgets.sample_browser(RUN_DIR / "samples", image_width="360px")
browser.controls["index"].value = len(browser.paths) - 1   # start at the latest grid
display(browser)
fig, ax = plt.subplots(figsize=(3.6, 7.2))
ax.imshow(plt.imread(browser.paths[-1])), ax.axis("off")
ax.set_title(f"{browser.paths[-1].stem}\ncolumns: input | translated | round trip", fontsize=9)
fig.tight_layout()

# %% [markdown]
# ## 15. What did it learn?
#
# Each row shows a test image $x$, its translation $G(x)$, the round trip $F(G(x))$, which
# should look like $x$, and the identity image $F(x)$, which should also look like $x$.
# Then the same for the backward direction. After the 800 steps of the smoke profile, $G$ turns
# the blue day sky orange and darkens the grass, the houses keep their shapes, and $F$ brings the
# day colours back; the full run on horse2zebra paints stripes on horses. The generators run through
# `inference.translate`, the course's one way of running a trained generator (lesson 02, section 9.1;
# with instance norm both of Keras's modes agree anyway).

# %%
x_test, y_test = (t.numpy() for t in (next(iter(test_x)), next(iter(test_y))))   # (8, S, S, 3) each
g_x, f_y = inference.translate(G, x_test), inference.translate(F, y_test)           # translations
f_g_x, g_f_y = inference.translate(F, g_x), inference.translate(G, f_y)             # round trips
f_x, g_y = inference.translate(F, x_test), inference.translate(G, y_test)           # identity images
plotting.plot_cycle_rows(x_test, g_x, f_g_x, f_x, max_rows=3);

# %% [markdown]
# The backward direction: $y$, $F(y)$, the round trip $G(F(y))$ and the identity image $G(y)$.

# %%
plotting.plot_cycle_rows(y_test, f_y, g_f_y, g_y, max_rows=3,
                         names=("y", "F(y)", "G(F(y))", "identity G(y)"));

# %% [markdown]
# Two numbers. The **cycle error** $\text{mean}\,|F(G(x)) - x|$ is the cycle loss without
# $\lambda$; it can be computed on any data. On the shipped set we can also measure the
# **correspondence error** $\text{mean}\,|G(x) - G_{\text{true}}(x)|$: how far the translation
# lands from the right answer, which unpaired training never saw. For scale, doing nothing
# ($G(x) = x$) scores the error printed last.

# %%
print(f"cycle error    X -> Y -> X: {metrics.mean_l1(x_test, f_g_x):.3f}, "
      f"Y -> X -> Y: {metrics.mean_l1(y_test, g_f_y):.3f}")
if cfg.dataset == "shipped":
    judged = results.cyclegan_results(G, F)   # all 40 + 40 test images
    for way, name in (("AtoB", "G: day -> dusk"), ("BtoA", "F: dusk -> day")):
        ours, none = judged["generator"][way], judged["identity"][way]
        print(f"correspondence error of {name}: {ours:.3f}; doing nothing: {none:.3f} (ratio {ours / none:.2f})")
        print(f"  speckle ratio (its high-frequency energy / the true translation's; 1 is right): "
              f"{judged['speckle'][way]:.2f}")
        assert ours < none, f"{name} is no better than leaving the image unchanged"
        if cfg.is_smoke:
            assert ours <= 0.3 * none, "the smoke run should cut the do-nothing error to under a third (measured: 0.23 / 0.23)"
else:
    print("horse2zebra has no known true translation, so only the cycle error and your eyes can judge it.")

# %% [markdown]
# ### What longer training gives
#
# The course ships **reference weights** for this CycleGAN, the same networks trained much longer on
# the same shipped set by `make reference-models` (the steps printed below, with the paper's schedule
# shape: constant, then a linear decay; `data/reference/manifest.json` records the command, time
# and scores), at the same learning rate as your run, on images **twice as large** (64 px). Why
# larger? At 32 px most pixels of these scenes sit next to an edge, where any softness in $G(x)$
# costs error; the first line below counts them. Every CycleGAN we trained at 32 px stopped well
# above the 64-px reference's error however long it ran (docs/results.md). Its translations, next to
# yours and the true answer:

# %%
def edge_share(images):
    """Share of pixels whose colour differs from the next pixel right or below by more than 0.1 (RGB summed)."""
    down = np.abs(np.diff(images, axis=1)).sum(-1)[:, :, :-1]     # (n, S-1, S-1)
    right = np.abs(np.diff(images, axis=2)).sum(-1)[:, :-1, :]    # (n, S-1, S-1)
    return float(((down + right) > 0.1).mean())

edges = {size: edge_share(data.true_translation(results.unpaired_split("test", size)[0], "AtoB")) for size in (32, 64)}
print("pixels next to an edge in the true dusk test images: " + ", ".join(f"{s} px {v:.0%}" for s, v in edges.items()))
assert edges[32] > 0.5 and edges[64] < edges[32], edges      # "most pixels at 32 px", fewer at 64
reference_nets, reference = results.load_reference("cyclegan")
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
    ref_x, _ = results.unpaired_split("test", ref_size)                   # the same test images at its size
    ref_gx = inference.translate(reference_nets["generator_g"], ref_x[:3])
    plotting.plot_image_rows({"day x": x_test[:3], "our G(x)": g_x[:3], f"reference G(x), {ref_size} px": ref_gx,
                              "true dusk": true_g(x_test[:3])}, size=1.6);

# %% [markdown]
# Browse the test images one by one: the explorer shows $x$, $G(x)$, the true target when it is
# known, the round trip and the identity image, with their errors.

# %%
widgets.translation_explorer(x_test, G, F, names=("G", "F"),
                             targets=true_g(x_test) if cfg.dataset == "shipped" else None)

# %% [markdown]
# ## Lab: which ingredient matters? Predict, then run
#
# The full objective has four ingredients besides the adversarial game: least squares instead of
# BCE, the cycle loss, the identity loss and the image pool. Which one can you remove at no cost,
# and which one matters most *on this data*? We train five variants from the same starting weights
# for the same number of steps, and score each by its error against the **true** day $\to$ dusk
# translation of the 40 test images, beside doing nothing ($G(x) = x$):
#
# | variant | what changes |
# |---|---|
# | full | the objective of section 7, as trained above |
# | no cycle | cycle weight $\lambda = 0$ |
# | no identity | identity weight 0 |
# | BCE | binary cross-entropy instead of least squares |
# | no pool | the discriminators learn from the newest fakes only |
#
# **Predict first.** Which variant ends furthest from the true dusk images, and which ends
# closest to the full objective? Write your answer in the next cell before you run the one after it.

# %%
your_prediction = None   # e.g. {"furthest": "...", "closest to full": "..."}: write yours before running on

# %% [markdown]
# Now the run: five variants at a small scale (about a minute on two CPU cores, with one step
# compiled once and shared by all five), each scored against the truth. Beside each score, the
# longer run (more steps, two seeds: `python -m course_utils.labs.cyclegan`, in `docs/results.md`).
# Every variant learns at the raised rate of section 9's speckle study, not the paper's: runs this
# short at the paper's rate leave the checkerboard in every variant, and the rows below would
# differ only in their noise.

# %%
lab_scale = config.cut_lab_scale(labs_cyclegan.SMOKE if cfg.is_smoke else labs_cyclegan.LONGER)   # COURSE_STEPS: make check-full
print(f"each variant: {lab_scale.steps} steps at {lab_scale.image_size} px, {lab_scale.filters} filters, "
      f"{lab_scale.n_blocks} residual blocks, learning rate {lab_scale.learning_rate:g}, seeds {lab_scale.seeds}")
lab_show = results.unpaired_split("test", lab_scale.image_size)[0][:3]       # (3, s, s, 3): day test images
lab = labs_cyclegan.run_lab(lab_scale, show=lab_show, verbose=2 if cfg.is_smoke else 1)
longer = labs_cyclegan.load_longer_run()
print("\n".join(labs_cyclegan.report_lines(lab, longer)))
print("your prediction:", your_prediction if your_prediction is not None else "none written")
config.expect_quality(all(s["AtoB"] < lab["baseline"]["AtoB"] for s in lab["scores"].values()), "every variant beats doing nothing")

# %% [markdown]
# One row per variant: what its $G$ makes of three test days, under the days themselves and the
# true dusk images.

# %%
lab_rows = {"day x": lab_show, "true dusk": true_g(lab_show), **lab["translations"]}
plotting.show_images([img for row in lab_rows.values() for img in row], ncols=3, size=1.3,
                     titles=[f"{name}" if k == 0 else "" for name in lab_rows for k in range(3)]);

# %% [markdown]
# **What the paper found, and what we measured.** The cell prints, for each removed ingredient,
# whether the full objective beat it here and in the longer run, and what Zhu et al. (2017)
# report. Only the cycle loss has a quantitative ablation in the paper (table 4 and fig. 7); for
# the identity loss it shows pictures (fig. 9); for least squares and the pool it states the reason
# for the choice without an ablation. Where our runs do not show the paper's ordering, the printout
# says so: at this scale, and with these few test images, small differences are within the spread
# between seeds (the longer run prints one score per seed).

# %%
smoke_beats = labs_cyclegan.orderings(lab["scores"])
for name, finding in labs_cyclegan.PAPER_FINDINGS.items():
    here = "yes" if smoke_beats[name] else "NO"
    if longer is None:
        there = "not run yet"
    else:
        full_seeds, other_seeds = longer["scores"]["full"]["AtoB per seed"], longer["scores"][name]["AtoB per seed"]
        clear = all(f + 0.01 < o for f, o in zip(full_seeds, other_seeds))   # 0.01: below that, seed noise
        there = (("yes, by more than 0.01 on every seed" if clear else "not clearly (within 0.01 on some seed)")
                 + f"; per seed: full {full_seeds} vs {other_seeds}")
    print(f"full better than '{name}'? this run: {here}; longer run: {there}\n   paper: {finding}\n")

# %% [markdown]
# ## 16. CycleGAN is not neural style transfer
#
# [Gatys et al. (2016)](https://arxiv.org/abs/1508.06576) turn a photo into "a Monet" by optimising
# the pixels of *one* image so that its deep features match the photo's (content) and the **Gram
# matrices** of its features, $G_{cd} = \frac{1}{HW}\sum_{h,w} f_{hwc} f_{hwd}$, match those of one
# painting (style). A Gram matrix sums over all positions, so it keeps which features occur
# together and forgets *where*: it describes texture and colour statistics, not a mapping. CycleGAN
# instead learns a feed-forward function between two *collections*, and the cycle loss ties each
# output pixel to its input.
#
# A tiny demonstration on pixels (the Gram matrix of the three colour channels): shuffle the pixels
# of the true dusk image. Its Gram matrix is exactly that of the true translation, so a Gram loss
# sees nothing wrong, yet pixel by pixel it is far from the answer, further than doing nothing.

# %%
def gram(images):
    """(b, h, w, c) -> (b, c, c): channel co-occurrences averaged over all positions."""
    f = images.reshape(len(images), -1, images.shape[-1])
    return np.einsum("bpc,bpd->bcd", f, f) / f.shape[1]


day_img = x[:1]                                                  # (1, 64, 64, 3)
true_dusk = true_g(day_img)                                      # what G should make
shuffled = np.random.default_rng(0).permutation(true_dusk.reshape(-1, 3)).reshape(true_dusk.shape)
for name, candidate in (("doing nothing (the day image)", day_img), ("shuffled true dusk", shuffled),
                        ("true dusk", true_dusk)):
    print(f"{name:30s} Gram distance {np.abs(gram(candidate) - gram(true_dusk)).mean():.4f}, "
          f"per-pixel error {metrics.mean_l1(candidate, true_dusk):.3f}")
assert np.allclose(gram(shuffled), gram(true_dusk), atol=1e-5)
assert metrics.mean_l1(shuffled, true_dusk) > metrics.mean_l1(day_img, true_dusk)
plotting.show_images(np.concatenate([day_img, true_dusk, shuffled]), ncols=3, size=2.0,
                     titles=["day x", "true dusk (Gram target)", "shuffled: same Gram matrix"]);

# %% [markdown]
# ## Check yourself
#
# Answer each question in your head (or on paper) first, then open the answer.
#
# **1.** Why does CycleGAN need two generators and two discriminators?
#
# <details><summary>Answer</summary>
#
# $G: X \to Y$ and $F: Y \to X$, each judged by the discriminator of its output domain ($D_Y$ and $D_X$). The cycle loss needs both directions: $F(G(x))$ should give back $x$ and $G(F(y))$ should give back $y$.
#
# </details>
#
# **2.** What does the cycle loss prevent that the adversarial loss alone cannot?
#
# <details><summary>Answer</summary>
#
# A generator that ignores its input and outputs plausible images of the other domain, like the lazy $G$ that always paints the same dusk picture. The discriminator cannot object to such outputs, but no $F$ can recover the input from them, so the cycle loss is large.
#
# </details>
#
# **3.** A fake is already scored far on the "real" side ($a \gg 1$). Compare the generator's gradient with least squares and with non-saturating BCE on the logit $a$.
#
# <details><summary>Answer</summary>
#
# Non-saturating BCE: the loss is $-\log\sigma(a)$ with gradient $-(1 - \sigma(a))$, which vanishes as $a$ grows: once $D$ is fooled, the generator gets no signal, however far the fake still is from real images. Least squares: the loss is $(a - 1)^2$ with gradient $2(a - 1)$, which grows with the distance from the target, so the fake keeps being pulled back. (At $a = 0$ nothing is saturated: $\sigma(0) = 0.5$ and the BCE gradient is $-0.5$.)
#
# </details>
#
# **4.** What does the image pool hold, and why is it there?
#
# <details><summary>Answer</summary>
#
# A history of up to 50 earlier fakes of each generator, refreshed by random replacement: once it is full, each new fake has an even chance of swapping with a random stored one, so it is not simply "the last 50". Each discriminator step sees a mix of new fakes and older ones from the pool, so the discriminator does not forget what earlier generators did, and the two players oscillate less.
#
# </details>
#
# **5.** On our day-to-dusk data, is the identity loss of the true translation $G$ zero?
#
# <details><summary>Answer</summary>
#
# No. The true $G$ changes colours, so it also changes a dusk image fed to it: the identity term pulls a little against the right answer. It is a prior (keep colours unless a change is needed), not a truth.
#
# </details>

# %% [markdown]
# ## Summary
#
# - Unpaired translation learns between two collections $X$ and $Y$ with two generators and two
#   discriminators.
# - Least-squares adversarial losses keep the generator's gradient alive where BCE saturates; the
#   discriminator loss is halved.
# - Cycle consistency ($\lambda = 10$) makes $F$ an approximate inverse of $G$, so translations
#   keep the content of their input; the identity loss ($0.5\lambda$) keeps colours when there is
#   nothing to translate.
# - The ResNet generator (11,378,179 parameters at 256) uses reflection padding, residual blocks
#   and instance norm, which in Keras 3 is `GroupNormalization(groups=-1)` or our own layer.
# - The discriminators are 70x70 PatchGANs on one image, with instance norm and raw scores for the
#   least-squares loss. A pool of up to 50 earlier fakes, refreshed by random replacement, steadies
#   them; with it, each runs three times a step.
# - The paper's 200 epochs are about 267,000 steps of at least 0.23 s each on a T4 in float32: a
#   floor of about 17 hours, and in practice two to four times that (an estimate, not yet measured),
#   so the run checkpoints to Drive and resumes; a shorter run keeps the 1:1 constant:decay split
#   and is reported as shorter.
#
# Next, lesson 04 trains these models on a Colab GPU and makes each step faster: the input
# pipeline, mixed precision, XLA, and measured step times.

# %% [markdown]
# ## Further reading
#
# **The papers this lesson teaches**
#
# - Zhu et al. (2017), *Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
#   Networks* (CycleGAN), [arXiv:1703.10593](https://arxiv.org/abs/1703.10593), and the
#   [authors' code](https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix).
# - Mao et al. (2017), *Least Squares Generative Adversarial Networks*,
#   [arXiv:1611.04076](https://arxiv.org/abs/1611.04076).
# - Johnson et al. (2016), *Perceptual Losses for Real-Time Style Transfer and Super-Resolution*,
#   [arXiv:1603.08155](https://arxiv.org/abs/1603.08155) (the generator); He et al. (2016), *Deep
#   Residual Learning*, [arXiv:1512.03385](https://arxiv.org/abs/1512.03385); Ulyanov et al. (2016),
#   *Instance Normalization*, [arXiv:1607.08022](https://arxiv.org/abs/1607.08022); Shrivastava et
#   al. (2017), *Learning from Simulated and Unsupervised Images through Adversarial Training*,
#   [arXiv:1612.07828](https://arxiv.org/abs/1612.07828) (the image pool).
# - Udacity's [CycleGAN notebook](https://github.com/udacity/deep-learning-v2-pytorch/tree/master/cycle-gan),
#   the source of the smaller variant.
#
# **The TensorFlow and Keras documentation we used**
#
# - The TensorFlow [CycleGAN tutorial](https://www.tensorflow.org/tutorials/generative/cyclegan) and
#   the TFDS [`cycle_gan` datasets](https://www.tensorflow.org/datasets/catalog/cycle_gan).
# - Keras [`GroupNormalization`](https://keras.io/api/layers/normalization_layers/group_normalization/)
#   (instance norm with `groups=-1`) and [learning-rate schedules](https://keras.io/api/optimizers/learning_rate_schedules/).
# - [Training checkpoints](https://www.tensorflow.org/guide/checkpoint) with `tf.train.Checkpoint`.
#
# **Where to go next**
#
# - Park et al. (2020), *Contrastive Learning for Unpaired Image-to-Image Translation* (CUT),
#   [arXiv:2007.15651](https://arxiv.org/abs/2007.15651): one direction, one generator, and a
#   contrastive loss in place of the cycle.
# - Huang et al. (2018), *Multimodal Unsupervised Image-to-Image Translation* (MUNIT),
#   [arXiv:1804.04732](https://arxiv.org/abs/1804.04732): separates content from style, so one input
#   has many translations.
# - Karras et al. (2019), *A Style-Based Generator Architecture for Generative Adversarial Networks*
#   (StyleGAN), [arXiv:1812.04948](https://arxiv.org/abs/1812.04948): where unconditional image
#   generation went after DCGAN.
