# %% [markdown]
# # 01 · GAN basics: two networks that teach each other
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/01_gan_basics.ipynb)
#
# Every model in this course (Pix2Pix, CycleGAN) is a generative adversarial network at heart.
# Before we translate images, we build the plain GAN once, by hand, on handwritten digits.
#
# By the end of this lesson you will be able to:
#
# - say what separates a generative model from a discriminative one, and what each player of a GAN does;
# - explain why the generator's loss is not the one the minimax game writes, and what "saturating" means;
# - recognise mode collapse and measure it as "modes covered" on a ring of Gaussians.
#
# What you write yourself, each checked against the course's tested version as soon as you run it:
#
# 1. `discriminator_loss(real_logits, fake_logits)`: the discriminator's loss, from logits;
# 2. `generator_loss(fake_logits)`: the generator's non-saturating loss;
# 3. `build_generator(latent_dim, filters)`: the DCGAN generator, a Keras model (transposed
#    convolutions, batch norm, LeakyReLU, $\tanh$);
# 4. `gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise)`: one training
#    step with two `tf.GradientTape`s and two optimizers; the lesson then trains the DCGAN and the ring
#    with *your* step under `tf.function`;
# 5. in the lab, a prediction (`your_prediction`) of what the saturating generator loss does, before
#    you measure it.

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
cfg = runtime.start_lesson(config.GanBasicsConfig)   # the settings (smoke with COURSE_SMOKE=1), the GPU check, the seeds
from course_utils import costs
costs.print_estimate(cfg)   # what the full profile costs on a Colab T4: an estimate from FLOP counts

# %% [markdown]
# `cfg` holds every size and step count of this lesson. On Colab you get the **full** profile:
# MNIST, 50 epochs, batch 256, the networks of the TensorFlow [DCGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dcgan) tutorial, trained with
# [Adam](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam) as Radford et al. (2016) set it (learning rate $2 \cdot 10^{-4}$, $\beta_1 = 0.5$). With
# `COURSE_SMOKE=1` (CI, a laptop without a GPU) the same code runs on the 3,000 shipped digits with
# a quarter of the widths for about 3,000 small steps: a few minutes on a CPU, and digits you can read.
# `runtime.start_lesson` also seeds Python, NumPy and TensorFlow in one call
# (`keras.utils.set_random_seed(cfg.seed)`), so running the lesson again draws the same numbers.
#
# Next, the libraries. `course_utils` gives us tested versions of everything we build here, so
# we can check our own code against them.

# %%
import shutil
import tempfile
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Image, display
from keras import layers
from tqdm.auto import tqdm

from course_utils import checkers, data, diagrams, exercises, losses, metrics, models, plotting, results, ring, train, widgets

OUT = Path(tempfile.gettempdir()) / "gan_course" / "01_gan_basics"   # sample grids go here
OUT.mkdir(parents=True, exist_ok=True)
print("TensorFlow", tf.__version__, "| Keras", keras.__version__, "| outputs in", OUT)

# %% [markdown]
# ## 1. Discriminative and generative models
#
# Most models you have trained so far are **[discriminative](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminative-model)**. A spam filter is the classic
# example: it reads an email $x$ and outputs $p(y \mid x)$, the probability that the label $y$ is
# "spam". It only has to learn where the border between spam and normal mail lies. It cannot
# write an email.
#
# A **generative** model learns how the data itself is distributed: $p(x \mid y)$ ("what does a
# spam email look like?") or simply $p(x)$ ("what does any handwritten digit look like?"). Once
# you have it, you can **draw new samples** $x$ from it. With Bayes' rule a [generative model](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generative-model) can
# also classify, $p(y \mid x) \propto p(x \mid y)\,p(y)$, but the reverse does not hold: knowing the
# border tells you nothing about what lies far from it.
#
# The picture makes this concrete with two made-up email features. On the left a discriminative
# model: one number per point, the probability of spam, and a boundary at 0.5. On the right a
# generative model: one density per class, from which we draw three brand-new "spam emails".

# %%
rng = np.random.default_rng(cfg.seed)
mean_ham, mean_spam, spread = np.array([1.0, 1.0]), np.array([3.0, 2.5]), 0.6
ham = rng.normal(mean_ham, spread, size=(60, 2))      # (60, 2) features of normal emails
spam = rng.normal(mean_spam, spread, size=(60, 2))    # (60, 2) features of spam

def gaussian_density(points, mean):
    """The density of an isotropic Gaussian with std `spread` at `points` (..., 2)."""
    d2 = np.sum((points - mean) ** 2, axis=-1)
    return np.exp(-d2 / (2 * spread**2)) / (2 * np.pi * spread**2)

g1, g2 = np.meshgrid(np.linspace(-1, 5, 200), np.linspace(-1, 5, 200))
grid = np.stack([g1, g2], axis=-1)                    # (200, 200, 2)
p_x_given_ham, p_x_given_spam = gaussian_density(grid, mean_ham), gaussian_density(grid, mean_spam)
p_spam_given_x = p_x_given_spam / (p_x_given_spam + p_x_given_ham)   # Bayes with p(spam) = 1/2

new_spam = rng.normal(mean_spam, spread, size=(3, 2))   # (3, 2) sampling: only a generative model can do this
diagrams.discriminative_vs_generative_diagram(
    (g1, g2), p_spam_given_x, densities=(p_x_given_ham, p_x_given_spam), samples=(ham, spam),
    new_samples=new_spam, names=("normal mail", "spam"),
    axis_labels=('x1: how often "free" appears', "x2: share of links"))
plt.show()

# %% [markdown]
# For images, $x$ has $28 \times 28 = 784$ dimensions (or $256 \times 256 \times 3$ later in the
# course), and no one can write its density down. A GAN sidesteps the problem: it never writes
# $p(x)$ at all. It learns a **sampler** instead.
#
# ## 2. The two players
#
# - The **[generator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generator)** $G$ takes a vector of random noise $z$ (100 numbers from a standard normal
#   distribution here) and turns it into an image $G(z)$.
# - The **[discriminator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminator)** $D$ takes an image and outputs the probability $D(x)$ that it is a real
#   one from the training set rather than a fake from $G$. It is an ordinary binary classifier.
#
# They learn from each other in a **double feedback loop**:
#
# 1. $D$ is scored against the **ground truth**: we know which images are real and which came
#    from $G$, so $D$ learns to tell them apart.
# 2. $G$ is scored against **the discriminator**: $G$ never sees a real image. Its only signal is
#    how real $D$ finds its fakes, passed back as gradients *through* $D$.
#
# As $D$ gets better at spotting fakes, $G$ has to make better fakes, and the other way round.
# The picture shows one round of the loop with this lesson's shapes ($b$ is the batch size): the
# orange arrow is $D$'s lesson from the ground truth, the green ones carry $G$'s lesson back
# through $D$.

# %%
diagrams.gan_loop_diagram(latent_dim=cfg.latent_dim, image_shape=(28, 28, 1))
plt.show()

# %% [markdown]
# ## 3. The minimax game
#
# [Goodfellow et al. (2014)](https://arxiv.org/abs/1406.2661) wrote the game as one value function that $D$ maximises and $G$
# minimises:
#
# $$\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}\big[\log D(x)\big]
#   + \mathbb{E}_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big].$$
#
# - $D$ wants $D(x) \to 1$ on real images (first term up) and $D(G(z)) \to 0$ on fakes (second
#   term up).
# - $G$ only appears in the second term and wants $D(G(z)) \to 1$, which pushes that term down.
#
# For a fixed $G$, the best discriminator is
# $D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}$, and the game has its optimum when
# the generator's distribution equals the data's, $p_g = p_\text{data}$. There the best $D$ can
# only guess, $D^* = \tfrac12$ everywhere, and $V = -\log 4$ (Goodfellow et al. 2014). Remember
# this point: we will meet it again when we read the loss curves.
#
# ## 4. Losses from logits
#
# Maximising $V$ for $D$ is the same as minimising the **[binary cross-entropy](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#binary-cross-entropy)** (BCE) of a classifier
# whose label is 1 for real and 0 for fake. For a label $t$ and a predicted probability $p$:
#
# $$\text{BCE}(t, p) = -t \log p - (1 - t) \log(1 - p).$$
#
# Our discriminator does not end in a [sigmoid](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#sigmoid). It outputs a raw score, a **[logit](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#logit)** $\ell$, and
# $D(x) = \sigma(\ell) = 1 / (1 + e^{-\ell})$. Computing $\sigma$ first and the log afterwards breaks
# in float32 as soon as the discriminator is sure of itself:

# %%
logits = tf.constant([-200.0, -5.0, 0.0, 5.0, 200.0])   # (5,) raw discriminator outputs
naive_label1 = -tf.math.log(tf.sigmoid(logits))          # BCE with label 1, the naive way
naive_label0 = -tf.math.log(1.0 - tf.sigmoid(logits))    # BCE with label 0, the naive way
print("sigmoid(logit):      ", tf.sigmoid(logits).numpy())
print("naive BCE, label 1:  ", naive_label1.numpy())
print("naive BCE, label 0:  ", naive_label0.numpy())

# %% [markdown]
# `sigmoid(200)` rounds to exactly 1 in float32, so $\log(1 - 1) = -\infty$: one confident
# verdict and the loss (and every gradient after it) is `inf` or `nan`. Rearranging the formula
# in terms of $\ell$ gives a version that never takes the log of a rounded number:
#
# $$\text{BCE}(t, \ell) = \max(\ell, 0) - \ell\, t + \log\big(1 + e^{-|\ell|}\big).$$
#
# This is what `from_logits=True` does in Keras, and what we write now.

# %%
def bce_from_logits(labels, logits):
    """Mean binary cross-entropy of `logits` against `labels` (0 or 1), computed stably."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.broadcast_to(tf.cast(labels, tf.float32), tf.shape(logits))
    per_element = tf.nn.relu(logits) - logits * labels + tf.math.log1p(tf.exp(-tf.abs(logits)))
    return tf.reduce_mean(per_element)

print("stable BCE, label 1: ", [round(float(bce_from_logits(1.0, l)), 4) for l in logits])
print("stable BCE, label 0: ", [round(float(bce_from_logits(0.0, l)), 4) for l in logits])

# %% [markdown]
# Every value is finite now. Let us check it against two references on random logits: Keras's own
# `BinaryCrossentropy(from_logits=True)` (what the TensorFlow DCGAN tutorial uses) and the course's
# `losses.bce_with_logits`.

# %%
keras_bce = keras.losses.BinaryCrossentropy(from_logits=True)
test_logits = rng.normal(0, 4, size=(32, 1)).astype("float32")        # (32, 1)
test_labels = rng.integers(0, 2, size=(32, 1)).astype("float32")      # (32, 1)
ours = float(bce_from_logits(test_labels, test_logits))
print(f"ours {ours:.6f} | keras {float(keras_bce(test_labels, test_logits)):.6f} "
      f"| course_utils {float(losses.bce_with_logits(test_labels, test_logits)):.6f}")
assert np.isclose(ours, float(keras_bce(test_labels, test_logits)), atol=1e-5)
assert np.isclose(ours, float(losses.bce_with_logits(test_labels, test_logits)), atol=1e-5)

# %% [markdown]
# ### Your turn 1: the discriminator's loss
#
# The discriminator is a classifier with two kinds of input, real images and fakes, and it gets
# one logit for each image of both batches. Its loss should be small when it scores the real images
# high and the fakes low, and it should count both batches equally, each with its own mean binary
# cross-entropy (no other weighting). Decide which label each kind of image gets, and write the loss
# with `bce_from_logits` in place of the `raise NotImplementedError` line. Then run the check cell
# below it; the formula follows the check.

# %%
def discriminator_loss(real_logits, fake_logits):
    """BCE of D's logits: real images should score 1, fakes 0. Logits (b, 1) each -> a scalar."""
    # BEGIN SOLUTION: return the discriminator's loss for these logits
    real_loss = bce_from_logits(tf.ones_like(real_logits), real_logits)
    fake_loss = bce_from_logits(tf.zeros_like(fake_logits), fake_logits)
    return real_loss + fake_loss
    # END SOLUTION

# %% [markdown]
# The check compares your function with `course_utils.losses.discriminator_loss` on five batches of
# random logits, (16, 1) each. A wrong answer stops here with what differs and a hint. While the
# function is still the stub, the check says so in one line and the rest of the lesson uses the
# course's version, so the notebook also runs to its end before you write it.

# %%
discriminator_loss = exercises.check("01.discriminator_loss", discriminator_loss)

# %% [markdown]
# In symbols, the loss you wrote (and the course's) is
# $\mathcal{L}_D = \text{BCE}(1, \ell_\text{real}) + \text{BCE}(0, \ell_\text{fake})$: label 1 for real
# images, label 0 for fakes.
#
# ## 5. The generator's loss, and why it does not saturate
#
# Read literally, the [minimax](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#minimax-game) game asks $G$ to **minimise** $\log(1 - D(G(z)))$. Early in training
# the fakes are poor, $D$ rejects them confidently, its logit $\ell$ on a fake is very negative
# and $D(G(z)) \approx 0$. Look at the slope there: $\log(1 - \sigma(\ell))$ is almost flat, so its
# gradient, $-\sigma(\ell)$, is almost zero. The generator gets no signal exactly when it needs it
# most. We say the loss **saturates**.
#
# Goodfellow et al. (2014) suggest a fix: let $G$ **maximise** $\log D(G(z))$ instead, that is,
# minimise
#
# $$\mathcal{L}_G = -\log D(G(z)).$$
#
# It has the same fixed point (both push $D(G(z))$ up) but a gradient $\sigma(\ell) - 1 \approx -1$
# when $D$ rejects the fake: a strong push when the fake is bad. This is the **[non-saturating](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#non-saturating-loss)** loss, and every GAN in this course uses it
# (or [least squares](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#least-squares-gan), lesson 03). The plot shows both BCE forms, and least squares for later;
# shaded areas are where a BCE gradient is tiny.

# %%
plotting.plot_generator_losses(d_output=-4.0)
plt.show()

# %% [markdown]
# The picture is made from formulas. We can get the same slopes from TensorFlow itself with
# [`tf.GradientTape`](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#gradienttape): it records the operations done inside its block and then differentiates the
# result with respect to any watched tensor. (The same tool trains the networks below.)

# %%
fake_logit = tf.Variable([-6.0, -4.0, 0.0, 4.0])   # D's logits on four fakes, from "clearly fake" to "fooled"
with tf.GradientTape(persistent=True) as tape:
    minimax = tf.math.log(1.0 - tf.sigmoid(fake_logit))              # G minimises this in the original game
    non_saturating = -tf.math.log(tf.sigmoid(fake_logit))            # -log D(G(z)), what we use
print("D(G(z))                   ", tf.sigmoid(fake_logit).numpy().round(4))
print("d minimax / d logit       ", tape.gradient(minimax, fake_logit).numpy().round(4))
print("d non-saturating / d logit", tape.gradient(non_saturating, fake_logit).numpy().round(4))
del tape

# %% [markdown]
# At $\ell = -6$ the minimax gradient is $-0.0025$, the non-saturating one about $-1$: four
# hundred times more signal for a fake that $D$ sees through.
#
# Play with it: drag the slider to move $D$'s output on a fake and read the losses and gradients.
# (Outside a live notebook the widget does not render; the plot above shows the same curves.)

# %%
widgets.loss_explorer(d_output=-4.0)

# %% [markdown]
# ### Your turn 2: the non-saturating generator loss
#
# Write $\mathcal{L}_G$, the non-saturating loss of this section, with `bce_from_logits`: it is a
# binary cross-entropy of the fakes' logits, and you choose the label. Ask yourself which label makes
# the loss small exactly when $D$ is fooled. Then run the check (against
# `course_utils.losses.generator_loss`).

# %%
def generator_loss(fake_logits):
    """Non-saturating: the generator wants D to call its fakes real. Logits (b, 1) -> a scalar."""
    # BEGIN SOLUTION: return the non-saturating generator loss for these logits
    return bce_from_logits(tf.ones_like(fake_logits), fake_logits)
    # END SOLUTION

# %% [markdown]
# The check feeds your function and the course's the same random logits, some for fakes $D$ sees
# through, some for fakes it takes for real, and compares the losses. While yours is still the
# stub, the rest of the lesson uses the course's.

# %%
generator_loss = exercises.check("01.generator_loss", generator_loss)

# %% [markdown]
# So $\mathcal{L}_G = -\log D(G(z)) = \text{BCE}(1, \ell_\text{fake})$: the generator's loss is a BCE
# with the **"real" label on the fakes**. The generator is scored as if its fakes were real images,
# and it learns to make $D$ agree.

# %% [markdown]
# ## 6. A DCGAN for digits: the generator
#
# For images we need convolutional networks, and with them a few new words. Some need only a
# sentence, which they get here; the others get their own subsection below, before we use them
# in code.
#
# - A **convolution** slides a small learned kernel over the image. With **[stride](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#strided-convolution)** $s$ the kernel
#   moves $s$ pixels at a time, so a convolution with stride 2 (a **strided convolution**) halves
#   the height and width. **[Pooling](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#pooling)** layers shrink an image too, but by a fixed rule (the maximum or
#   the mean of each small window), with nothing to learn.
# - A **[transposed convolution](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#transposed-convolution)** is the opposite: a learned layer that *enlarges* an image. It is
#   the subject of the first subsection below.
# - **[Batch normalisation](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#batch-normalisation)** rescales each channel with statistics of the current batch, and
#   **[LeakyReLU](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#leakyrelu)** is a ReLU that lets a little of its negative inputs through; both get a
#   subsection below.
# - **Adam** ([Kingma & Ba 2015](https://arxiv.org/abs/1412.6980)), the optimizer we use throughout, steps along a running average of
#   recent gradients. Its parameter $\beta_1$ ([glossary](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam-beta_1)) is the share of that average it keeps at each step,
#   adding $1 - \beta_1$ of the new gradient: $\beta_1 = 0.9$ (Keras's default) averages over
#   roughly the last 10 steps, $\beta_1 = 0.5$ over roughly the last 2, so the optimizer reacts
#   faster to an opponent that keeps changing.
# - Before training, every weight gets a random starting value, its **[initialisation](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#weight-initialisation)**. Keras's
#   default for `Dense` and convolution layers is **[Glorot](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#glorot-initialisation) uniform** ([Glorot & Bengio 2010](https://proceedings.mlr.press/v9/glorot10a.html)): uniform
#   in $\pm\sqrt{6 / (n_\text{in} + n_\text{out})}$, where $n_\text{in}$ and $n_\text{out}$ are the
#   numbers of inputs and outputs of one unit, a range chosen so that signals keep their size from
#   layer to layer. The GAN papers instead draw weights from $\mathcal{N}(0, 0.02^2)$: a normal
#   distribution with mean 0 and **standard deviation** 0.02 (the second number of
#   $\mathcal{N}(\mu, \sigma^2)$ is the variance, here $0.02^2 = 0.0004$).

# %% [markdown]
# With these words: [Radford et al. (2016)](https://arxiv.org/abs/1511.06434) found a recipe that makes convolutional GANs train
# reliably, the **DCGAN**: no pooling, strided convolutions to go down in $D$ and transposed
# convolutions to go up in $G$; batch normalisation in both networks, except $G$'s output layer
# and $D$'s input layer (on every layer it made the samples oscillate and the training unstable);
# ReLU in $G$ with a $\tanh$ output so images live in $[-1, 1]$; LeakyReLU with slope 0.2 in $D$;
# Adam with learning rate $2 \cdot 10^{-4}$ and $\beta_1 = 0.5$; weights drawn from
# $\mathcal{N}(0, 0.02^2)$.
#
# We build the **TensorFlow DCGAN tutorial's variant** for $28 \times 28$ digits, which keeps the
# layout (a projection of the noise reshaped into a small image, transposed convolutions up, strided
# convolutions down, $\tanh$ out, one logit out) but changes several ingredients:
#
# | | Radford et al. (2016) | TF tutorial, what we build |
# |---|---|---|
# | $G$'s activations | ReLU | LeakyReLU, slope 0.3 |
# | $D$'s activations | LeakyReLU, slope 0.2 | LeakyReLU, slope 0.3 |
# | batch norm | in $G$ and $D$ | in $G$ only |
# | [dropout](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dropout) | none | 0.3 in $D$ |
# | Adam | $2 \cdot 10^{-4}$, $\beta_1 = 0.5$ | $10^{-4}$, $\beta_1 = 0.9$ (Keras's default); we keep Radford's, which learned faster in our runs |
# | initial weights | $\mathcal{N}(0, 0.02^2)$, standard deviation 0.02 | Keras's default (Glorot uniform) |
#
# Our generator:
#
# - a `Dense` layer turns the 100 noise numbers into $7 \cdot 7 \cdot 256$ numbers, reshaped into a
#   small $7 \times 7$ image with 256 channels;
# - three `Conv2DTranspose` layers (kernel 5) take it to $7 \times 7$, then $14 \times 14$
#   (stride 2), then $28 \times 28$ (stride 2) with one channel;
# - batch norm and LeakyReLU after each layer but the last; no biases where batch norm follows
#   (it would cancel them); $\tanh$ at the end.
#
# The sketch shows both networks, one box per tensor: above it the layers that made it, below it
# its shape. Box height grows with the image size, box width with the number of channels. We
# explain the new layers one at a time below.

# %%
diagrams.network_diagram({
    "Generator: noise up to an image (ConvT = transposed convolution, BN = batch norm)": [
        ("noise z", (100,)),
        ("Dense, BN,\nLeakyReLU,\nreshape", (7, 7, 256)),
        ("ConvT 5x5, s1\nBN, LeakyReLU", (7, 7, 128)),
        ("ConvT 5x5, s2\nBN, LeakyReLU", (14, 14, 64)),
        ("ConvT 5x5, s2\ntanh", (28, 28, 1))],
    "Discriminator: an image down to one logit (no batch norm, no sigmoid)": [
        ("image", (28, 28, 1)),
        ("Conv 5x5, s2\nLeakyReLU,\ndropout", (14, 14, 64)),
        ("Conv 5x5, s2\nLeakyReLU,\ndropout", (7, 7, 128)),
        ("flatten", (6272,)),
        ("Dense(1): the logit", (1,))],
})
plt.show()

# %% [markdown]
# ### Going up: the transposed convolution
#
# A convolution with stride 2 halves the image. The generator needs the opposite: a learned layer
# that **doubles** it. A transposed convolution does this by letting every input value **stamp** a
# copy of the kernel, scaled by that value, onto the output; the stamps sit `stride` cells apart
# and where they overlap they add up. (It is called "transposed" because, written as a matrix, it is
# the transpose of a convolution's matrix: it maps the convolution's output shape back to its input
# shape. It does not undo the convolution.)
#
# Here is the smallest example: a $2 \times 2$ input, a $3 \times 3$ kernel of ones, stride 2, no
# padding. We write the stamping rule in NumPy and compare it with Keras's `Conv2DTranspose`, once
# with the all-ones kernel and once with a random one.

# %%
def transposed_conv(x, kernel, stride):
    """One channel, no padding: x (h, w), kernel (k, k) -> ((h-1)*stride + k, (w-1)*stride + k)."""
    (h, w), k = x.shape, kernel.shape[0]
    out = np.zeros(((h - 1) * stride + k, (w - 1) * stride + k), dtype=np.float32)
    for i in range(h):
        for j in range(w):
            out[i * stride:i * stride + k, j * stride:j * stride + k] += x[i, j] * kernel   # one stamp
    return out

def keras_transposed_conv(x, kernel, stride):
    """The same with keras.layers.Conv2DTranspose (one input and one output channel, no bias)."""
    layer = layers.Conv2DTranspose(1, kernel.shape[0], strides=stride, padding="valid", use_bias=False)
    layer.build((1, *x.shape, 1))
    layer.set_weights([kernel[:, :, None, None]])                # kernel (k, k, out=1, in=1)
    return layer(x[None, :, :, None])[0, :, :, 0].numpy()        # (1, h, w, 1) -> (out_h, out_w)

x_tiny = np.array([[1, 2], [3, 4]], dtype=np.float32)           # (2, 2)
ones_3x3 = np.ones((3, 3), dtype=np.float32)
y_tiny = transposed_conv(x_tiny, ones_3x3, stride=2)            # (5, 5)
print("input (2, 2):\n", x_tiny, "\noutput (5, 5):\n", y_tiny)
assert np.allclose(y_tiny, keras_transposed_conv(x_tiny, ones_3x3, 2))
random_kernel = np.random.default_rng(cfg.seed).normal(size=(3, 3)).astype(np.float32)
assert np.allclose(transposed_conv(x_tiny, random_kernel, 2), keras_transposed_conv(x_tiny, random_kernel, 2), atol=1e-5)
print("✅ the stamping rule gives Keras's Conv2DTranspose, for the ones kernel and a random one")

# %% [markdown]
# The picture shows where each stamp lands. Each input cell (left) touches its own $3 \times 3$
# block of the output (right, outlined in its colour). The centre cell is touched by all four
# stamps, so it holds $1 + 2 + 3 + 4 = 10$; the shading counts how many stamps reach each cell.

# %%
diagrams.transposed_conv_diagram(x_tiny, y_tiny, kernel_size=3, stride=2)
plt.show()

# %% [markdown]
# **The output-size rule.** With input size $n$, kernel $k$ and stride $s$, Keras's
# `Conv2DTranspose` gives (for $k \ge s$)
#
# $$n_\text{out} = (n - 1)\,s + k \quad \text{with } \texttt{padding="valid"}, \qquad
#   n_\text{out} = n \cdot s \quad \text{with } \texttt{padding="same"}.$$
#
# `"same"` crops the stamps' overhang so the size simply multiplies by the stride. That is why our
# generator, with `padding="same"`, goes $7 \to 7$ (stride 1), $7 \to 14$ and $14 \to 28$ (stride 2)
# whatever the kernel size. Let us check the rule against Keras on a few cases:

# %%
def transposed_output_size(n, k, s, padding):
    return (n - 1) * s + k if padding == "valid" else n * s

for n, k, s, padding in [(2, 3, 2, "valid"), (2, 4, 2, "valid"), (2, 4, 2, "same"),
                         (7, 5, 1, "same"), (7, 5, 2, "same"), (14, 5, 2, "same")]:
    layer = layers.Conv2DTranspose(1, k, strides=s, padding=padding)
    keras_size = layer.compute_output_shape((1, n, n, 1))[1]
    print(f"n={n:2d} k={k} s={s} {padding:>5}: rule {transposed_output_size(n, k, s, padding):2d}, Keras {keras_size:2d}")
    assert keras_size == transposed_output_size(n, k, s, padding)

# %% [markdown]
# The uneven shading above has a visible cost: when the kernel size is not a multiple of the stride,
# some output cells get more stamps than their neighbours, and a generator has to learn to hide
# that pattern. If it does not, its images show **[checkerboard artefacts](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkerboard-artefacts)** ([Odena et al. 2016](https://distill.pub/2016/deconv-checkerboard/)).
# One row of the stamp count, in the middle of a larger input, shows it:

# %%
for k in (3, 4, 5):
    counts = transposed_conv(np.ones((6, 6), dtype=np.float32), np.ones((k, k), dtype=np.float32), 2)
    middle = counts[counts.shape[0] // 2, k:-k] / counts[counts.shape[0] // 2, k:-k].min()
    print(f"kernel {k}, stride 2: stamps per cell along a middle row, relative: {middle.round(2)}")

# %% [markdown]
# With kernel 4 every cell gets the same number of stamps; with 3 or 5 they alternate. Our
# generator uses kernel 5 (the tutorial's choice); Pix2Pix and CycleGAN in later lessons use 4 or 3.
#
# ### Batch normalisation
#
# **Batch norm** ([Ioffe & Szegedy 2015](https://arxiv.org/abs/1502.03167)) normalises every channel over the batch (and, after a
# convolution, over all positions): with the batch's mean $\mu_B$ and variance $\sigma_B^2$ it
# computes $\hat{x} = (x - \mu_B) / \sqrt{\sigma_B^2 + \epsilon}$ and then $y = \gamma \hat{x} + \beta$
# with a learned scale $\gamma$ and shift $\beta$ per channel. Each layer then receives inputs of a
# steady scale however the earlier layers change, which keeps the generator's gradients in a useful
# range. During training it uses the batch's statistics; with `training=False` it uses running
# averages collected during training, which is why we sample with `training=False`. Because it
# subtracts the mean, a bias added just before it would be removed again: hence `use_bias=False`.
#
# ### LeakyReLU
#
# $\text{LeakyReLU}(x) = x$ for $x > 0$ and $a\,x$ otherwise, with a small slope $a$ (0.3 here, 0.2
# in Radford et al. 2016). Unlike ReLU, whose gradient is exactly 0 for negative inputs, it always
# lets some gradient through. That matters in a GAN: the generator learns *only* from the gradient
# that flows back through the discriminator, so a unit that outputs 0 for every fake would stop
# passing that signal on.

# %%
print("x              ", np.array([-2.0, -0.5, 0.0, 0.5, 2.0]))
print("ReLU(x)        ", keras.ops.relu(np.array([-2.0, -0.5, 0.0, 0.5, 2.0])).numpy())
print("LeakyReLU(x)   ", layers.LeakyReLU(negative_slope=0.3)(np.array([-2.0, -0.5, 0.0, 0.5, 2.0])).numpy())

# %% [markdown]
# ### Your turn 3: the generator
#
# Now you build the generator of the list and the diagram above, as a function
# `build_generator(latent_dim, filters)` that returns a `keras.Model`. `filters` is the width of the
# $7 \times 7$ stage (256 in the tutorial); the two transposed convolutions after it halve the width
# each time, and the last one outputs one channel. With `filters=256` and $b$ images in a batch, the
# tensors along the way are:
#
# | after | shape |
# |---|---|
# | the input $z$ | $(b, 100)$ |
# | `Dense` (then batch norm, LeakyReLU) | $(b, 12544)$ |
# | `Reshape` | $(b, 7, 7, 256)$ |
# | first transposed convolution (then batch norm, LeakyReLU) | $(b, 7, 7, 128)$ |
# | second transposed convolution (then batch norm, LeakyReLU) | $(b, 14, 14, 64)$ |
# | third transposed convolution, $\tanh$ | $(b, 28, 28, 1)$ |
#
# Use `layers.Dense`, `layers.BatchNormalization()`, `layers.LeakyReLU(negative_slope=0.3)`,
# `layers.Reshape` and `layers.Conv2DTranspose` with `padding="same"`; leave out the biases where
# batch norm follows, and in the last layer too (the tutorial does). The input and the returned
# model are written for you.

# %%
def build_generator(latent_dim=100, filters=256):
    """Noise (b, latent_dim) -> image (b, 28, 28, 1) in [-1, 1]."""
    z = keras.Input((latent_dim,))                                             # (b, latent_dim)
    # BEGIN SOLUTION: the layers from z to `image`, as in the table above
    x = layers.Dense(7 * 7 * filters, use_bias=False)(z)                       # (b, 12544)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape((7, 7, filters))(x)                                     # (b, 7, 7, 256)
    x = layers.Conv2DTranspose(filters // 2, 5, strides=1, padding="same", use_bias=False)(x)   # (b, 7, 7, 128)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Conv2DTranspose(filters // 4, 5, strides=2, padding="same", use_bias=False)(x)   # (b, 14, 14, 64)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    image = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                                   activation="tanh")(x)                       # (b, 28, 28, 1)
    # END SOLUTION
    return keras.Model(z, image, name="generator")

# %% [markdown]
# The check builds your generator at two small sizes and compares it with the course's
# `models.dcgan_generator`: the output shape, the layers in order, the parameter count, then it
# copies the course's weights into yours and compares the images both make, in inference and in
# training mode. A stub hands the rest of the lesson the course's generator.

# %%
build_generator = exercises.check("01.build_generator", build_generator)

# %% [markdown]
# Here is the generator at the tutorial's full width, one line per layer:

# %%
generator = build_generator(cfg.latent_dim)   # the tutorial's full width, to look at first

def show_layers(model):
    """One line per layer: its output shape and its number of weights."""
    for layer in model.layers:
        print(f"{layer.name:28s} {str(layer.output.shape):22s} {layer.count_params():>10,}")
    print(f"{'total':51s} {model.count_params():>10,}")

show_layers(generator)
assert generator.count_params() == models.dcgan_generator().count_params() == 2_330_944

# %% [markdown]
# Most of the 2.3 million weights sit in the first `Dense` layer ($100 \times 12544$) and the first
# transposed convolution ($5 \cdot 5 \cdot 256 \cdot 128$).

# %% [markdown]
# The network we train has the width of the profile: the tutorial's 256 in the full profile. The
# smoke profile, made for a CPU, uses a quarter of the widths (64, 32, 16 channels), which trains
# about ten times faster per step and still learns to draw every digit (section 11 measures it).

# %%
generator = build_generator(cfg.latent_dim, filters=cfg.generator_filters)
print(f"the generator we train: {cfg.generator_filters} filters, {generator.count_params():,} parameters")

# %% [markdown]
# Untrained, the generator already produces images of the right shape, with values inside $[-1, 1]$.
# They are faint noise around 0, which shows as mid-grey:

# %%
noise = tf.random.normal([8, cfg.latent_dim])           # (8, 100)
untrained_images = generator(noise, training=False)      # (8, 28, 28, 1)
print("shape", untrained_images.shape, "| range", float(tf.reduce_min(untrained_images)),
      "to", float(tf.reduce_max(untrained_images)))
plotting.show_images(untrained_images, ncols=8, size=1.3, suptitle="An untrained generator's images")
plt.show()

# %% [markdown]
# ## 7. The discriminator
#
# The discriminator is a small convolutional classifier: two strided convolutions ($28 \to 14 \to
# 7$) with LeakyReLU and dropout, then one `Dense` unit that outputs the **logit**: no sigmoid,
# because the losses above take logits. Following the TF tutorial it has no batch norm (Radford
# et al. 2016 put batch norm in $D$ too, after every layer but the first).
#
# **Dropout** ([Srivastava et al. 2014](https://jmlr.org/papers/v15/srivastava14a.html)) is new here. During training it sets every activation to 0
# with probability $p$ (0.3 here) and multiplies the survivors by $1 / (1 - p)$, so their expected
# value is unchanged; with `training=False` it does nothing. Each step the discriminator must judge
# with a random part of its features missing, which makes it harder for it to memorise the
# training images and to become certain too fast. It also makes $D$'s output random during
# training, which we will have to remember when we compare two training steps.

# %%
def build_discriminator(dropout=0.3, filters=64):
    """Image (b, 28, 28, 1) -> one logit per image (b, 1). Shapes below for filters=64."""
    image = keras.Input((28, 28, 1))                                           # (b, 28, 28, 1)
    x = layers.Conv2D(filters, 5, strides=2, padding="same")(image)            # (b, 14, 14, 64)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv2D(filters * 2, 5, strides=2, padding="same")(x)            # (b, 7, 7, 128)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)                                                    # (b, 6272)
    logit = layers.Dense(1)(x)                                                 # (b, 1)
    return keras.Model(image, logit, name="discriminator")

discriminator = build_discriminator()
show_layers(discriminator)
assert discriminator.count_params() == models.dcgan_discriminator().count_params() == 212_865

# %% [markdown]
# A demonstration, not an exercise: the discriminator above is complete, and the same checker as in
# your turn 3 confirms that it is the course's `models.dcgan_discriminator`, layer by layer.

# %%
checkers.check_model_builder(
    lambda x: build_discriminator()(x), lambda x: models.dcgan_discriminator()(x),
    input_shapes=[(28, 28, 1)], name="build_discriminator",
    hint="Compare your layers with the description above: the two convolutions' widths, kernels and strides, "
         "what follows each of them, and what the last layer outputs.")

# %% [markdown]
# The generator has eleven times as many weights as the discriminator. That is how the TensorFlow
# tutorial sized these two networks for digits, not a law that making an image takes more weights
# than judging one: other GANs balance their two networks differently, and the ratio is a design
# choice you can change. Untrained, the discriminator has no opinion, its logits are near 0, so
# $D \approx 0.5$ for everything:

# %%
print("D(untrained fakes) =", tf.sigmoid(discriminator(untrained_images, training=False))[:, 0].numpy().round(3))
discriminator = build_discriminator(filters=cfg.discriminator_filters)   # the profile's width (64; smoke 16)

# %% [markdown]
# ## 8. The data
#
# `data.load_digits` returns batches of digits scaled to $[-1, 1]$ to match the generator's
# $\tanh$. The full profile uses MNIST's 60,000 training images (downloaded by
# `keras.datasets`); the [smoke profile](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#smoke-profile) uses 3,000 digits drawn by the course's own script and
# shipped in `data/digits`, so it works offline. The batches are shuffled every epoch, and
# `drop_remainder=True` keeps every batch the same size (one traced graph, see below).

# %%
dataset = data.load_digits(source=cfg.dataset, batch_size=cfg.batch_size,
                           num_examples=cfg.num_examples, seed=cfg.seed)
steps_per_epoch = cfg.steps_per_epoch or int(dataset.cardinality())
real_batch = next(iter(dataset))                          # (batch, 28, 28, 1) in [-1, 1]
print(f"{cfg.dataset}: batches of {tuple(real_batch.shape)}, values in "
      f"[{float(tf.reduce_min(real_batch)):.0f}, {float(tf.reduce_max(real_batch)):.0f}], "
      f"{steps_per_epoch} steps per epoch")
plotting.show_images(real_batch[:16], ncols=8, size=1.3, suptitle=f"Real digits ({cfg.dataset})")
plt.show()

# %% [markdown]
# ## 9. The training step: two tapes, two optimizers
#
# Each network has its **own optimizer** and is updated only from its own loss. One step on a
# batch of real images:
#
# 1. sample noise and let $G$ make a batch of fakes;
# 2. let $D$ score the real batch and the fakes (logits);
# 3. $\mathcal{L}_D$ from both sets of logits, $\mathcal{L}_G$ from the fakes' logits;
# 4. differentiate $\mathcal{L}_D$ with respect to $D$'s weights only and let $D$'s optimizer step;
#    differentiate $\mathcal{L}_G$ with respect to $G$'s weights only (the gradient flows *through*
#    $D$, whose weights stay put) and let $G$'s optimizer step.
#
# This update is **[simultaneous](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#simultaneous-update)**. One forward pass makes the fakes and $D$'s logits; both losses,
# and so both gradients, come from that same pass, that is, from the weights both networks had at
# the start of the step. Only then does each optimizer change its own network. Within a step,
# $G$'s gradient does not see $D$'s update and $D$'s gradient does not see $G$'s new weights; each
# network only meets the other's update at the next step. This is what the TensorFlow DCGAN
# tutorial does, and what the course's `train.gan_train_step` and `train.GAN` do (we check that
# below).
#
# The algorithm of Goodfellow et al. (2014) **[alternates](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#alternating-update)** instead: $k$ updates of $D$ (they used
# $k = 1$), then one update of $G$ computed with fresh noise against the $D$ that was *just*
# updated, so $G$ needs a second forward pass through $D$. The two schemes are different
# algorithms that ask different amounts of work per step; the course uses the simultaneous one
# throughout and does not claim that they train alike.
#
# (Which of the two trains better is an empirical question; the lab after section 12 measures it
# once.)
#
# ### Your turn 4: the training step
#
# Write one simultaneous step, `gan_train_step(generator, discriminator, g_optimizer, d_optimizer,
# real, noise)`, following the four steps above. It takes the networks and their optimizers as
# arguments, so the same function trains the digits now and the ring in section 12. The noise comes
# in as an argument too, so that the checker can feed your step and the course's the same noise.
#
# - Record the forward pass with **two** `tf.GradientTape`s, one per player; a single `with`
#   statement can open both (`with A as a, B as b:`).
# - Use your `discriminator_loss` and `generator_loss`.
# - After the `with` block, ask each tape for its gradients, `tape.gradient(loss, variables)`, with a
#   network's `trainable_variables`, and let each optimizer apply them:
#   `optimizer.apply_gradients(zip(grads, variables))`.
# - Call the networks as they should be called while they learn (batch norm and dropout behave
#   differently then).
# - Return the two losses in a dict, `{"d_loss": ..., "g_loss": ...}`: the training loop plots them.

# %%
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    """One simultaneous update of both players. real (b, ...), noise (b, latent_dim) -> the two losses."""
    # BEGIN SOLUTION: one forward pass under two tapes, the two losses, one update per network
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)                 # (b, ...) like real
        real_logits = discriminator(real, training=True)       # (b, 1)
        fake_logits = discriminator(fake, training=True)       # (b, 1)
        d_loss = discriminator_loss(real_logits, fake_logits)
        g_loss = generator_loss(fake_logits)
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}
    # END SOLUTION

# %% [markdown]
# Is the step right? The checker uses `checkers.check_same_update`. A player set is a small
# generator, a small discriminator and two fresh optimizers. The checker makes two **twin** sets
# with identical weights, updates one with your step and the other with the course's
# `train.gan_train_step`, for three steps on the same images and the same noise, and checks that both
# report the same losses and leave the same weights behind after each step. Dropout would make the two passes differ at random, so
# the twins' discriminators have none. Mistakes learners often make (one loss for both players, the
# minimax generator loss, a wrong label, inference mode, the alternating order, noise drawn inside the
# step) are recognised and get their own hint.

# %%
gan_train_step = exercises.check("01.train_step", gan_train_step)

# %% [markdown]
# The training loop calls a step with a batch and the noise only, so we bind the four players to
# your step once:

# %%
def make_train_step(generator, discriminator, g_optimizer, d_optimizer):
    """Your gan_train_step with its players bound: returns step(real, noise)."""
    def train_step(real, noise):                      # real (b, ...), noise (b, latent_dim)
        return gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise)
    return train_step

# %% [markdown]
# Written like this, `train_step` runs **eagerly**: Python executes every line, every time. Wrapping
# it in [`tf.function`](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#tffunction) traces it once into a TensorFlow graph, which then runs without the Python
# interpreter, typically several times faster for small models. The first call pays for the
# tracing. A new input *shape* would trigger a new trace, which is why our batches all have the
# same size.

# %%
g_optimizer = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)   # Radford et al.: 2e-4, beta_1 0.5 (smoke: 4e-4, section 10)
d_optimizer = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)
train_step = tf.function(make_train_step(generator, discriminator, g_optimizer, d_optimizer))

# %% [markdown]
# For long runs the course packs the same step into `train.GAN`, a `keras.Model` whose
# `train_step` is this update, so Keras's `fit()`, callbacks, [checkpoints](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkpoint) and progress bars work
# (lesson 04 uses it). A demonstration, not an exercise: it draws its own noise from a seeded
# generator, so we draw the same noise for your step and compare the first update of both on
# twins at the profile's width.

# %%
def players():
    """Our networks at the profile's width, dropout off, and two fresh optimizers."""
    return (build_generator(cfg.latent_dim, filters=cfg.generator_filters),
            build_discriminator(dropout=0.0, filters=cfg.discriminator_filters),
            keras.optimizers.Adam(cfg.learning_rate), keras.optimizers.Adam(cfg.learning_rate))

def one_fit_step(g, d, g_opt, d_opt):
    gan = train.GAN(g, d, seed=cfg.seed)
    gan.compile(g_optimizer=g_opt, d_optimizer=d_opt)
    return gan.train_on_batch(check_real, return_dict=True)   # one fit() step

check_real = real_batch[:8]                                   # (8, 28, 28, 1)
same_noise = keras.random.normal((8, cfg.latent_dim), seed=keras.random.SeedGenerator(cfg.seed))
checkers.check_same_update(lambda *p: gan_train_step(*p, check_real, same_noise), one_fit_step,
                           players, name="your step vs train.GAN")

# %% [markdown]
# ## 10. Training the DCGAN
#
# We watch training in two ways. A **fixed noise vector**, drawn once before training, goes
# through the generator after every epoch: the same 16 "seeds" then show how the same points of
# noise space turn into digits over time. And every step logs both losses.
#
# In the full profile this is 50 epochs of 234 steps (MNIST at batch 256): run it on a Colab GPU,
# where the progress bar shows the time per step, and expect it to take hours on a CPU.
#
# **The smoke profile's one departure: a higher learning rate.** A CPU has little time, so the
# smoke profile trains on batches of 32 digits at **twice** Radford et al.'s rate ($4 \cdot 10^{-4}$):
# more, cheaper steps that each move the weights further. In our runs of this very step on the
# shipped digits (docs/results.md in the course repository), 3,000 such steps reached about two thirds
# recognisable digits; the same number of steps at batch 64 and $2 \cdot 10^{-4}$ took longer and ended
# a few points lower. Your step is unchanged; only `cfg` differs. The full profile keeps the paper's
# rate at the tutorial's batch of 256.

# %%
if cfg.is_smoke:   # what the words above say: batches of 32 at twice the paper's rate
    assert cfg.batch_size == 32 and cfg.learning_rate == 2 * config.GanBasicsConfig().learning_rate
fixed_noise = tf.random.normal([16, cfg.latent_dim], seed=cfg.seed)   # (16, 100), reused every epoch
snapshots = {0: generator(fixed_noise, training=False).numpy()}       # epoch -> (16, 28, 28, 1)
history = {"step": [], "d_loss": [], "g_loss": []}
shutil.rmtree(OUT / "samples", ignore_errors=True)                     # start every run clean
(OUT / "samples").mkdir()

def save_grid(images, epoch):
    fig = plotting.show_images(images, ncols=4, size=1.2, suptitle=f"epoch {epoch}")
    fig.savefig(OUT / "samples" / f"epoch_{epoch:03d}.png", dpi=60)
    plt.close(fig)

save_grid(snapshots[0], 0)
start = time.time()
step = 0
with tqdm(total=cfg.epochs * steps_per_epoch, desc="DCGAN") as bar:
    for epoch in range(1, cfg.epochs + 1):
        for real in dataset.take(steps_per_epoch):
            noise = tf.random.normal([tf.shape(real)[0], cfg.latent_dim])   # (b, 100)
            logs = train_step(real, noise)
            step += 1
            history["step"].append(step)
            for key in ("d_loss", "g_loss"):
                history[key].append(float(logs[key]))
            bar.update(1)
        snapshots[epoch] = generator(fixed_noise, training=False).numpy()
        save_grid(snapshots[epoch], epoch)
        bar.set_postfix(epoch=epoch, d_loss=f"{history['d_loss'][-1]:.3f}", g_loss=f"{history['g_loss'][-1]:.3f}")
print(f"{step} steps in {time.time() - start:.1f} s")

# %% [markdown]
# ## 11. Watching training
#
# ### Sample grids over time
#
# Each row is one epoch, each column one of the fixed noise vectors. Read down a column to follow one
# sample as the generator learns. In the full profile the grey noise of epoch 0 turns into blobs,
# then strokes, then digits (the TensorFlow DCGAN tutorial shows recognisable digits well before
# epoch 50). In the smoke profile (32 epochs of the 3,000 shipped digits, 2,976 steps) blobs turn
# into strokes within the first epochs and into digits you can read by the last, some still
# wobbly; "Counting recognisable digits" below lets a classifier count how many it recognises.

# %%
shown = sorted(set(np.linspace(0, cfg.epochs, min(cfg.epochs + 1, 6)).round().astype(int)))
plotting.plot_labelled_rows({f"epoch {epoch}": snapshots[epoch] for epoch in shown},   # each (8, 28, 28, 1)
                            ncols=8, suptitle="The same 8 noise vectors after each epoch")
plt.show()

# %% [markdown]
# The grids were also saved as PNG files. Browse them with the slider (or press play), or turn them
# into an animated GIF that you can keep.

# %%
widgets.sample_browser(OUT / "samples", image_width="300px")

# %% [markdown]
# The GIF plays the same grids one after the other, a few frames a second:

# %%
gif = plotting.make_training_gif(OUT / "samples", OUT / "training.gif", seconds_per_frame=0.4)
display(Image(filename=str(gif)))

# %% [markdown]
# ### Loss curves
#
# In supervised learning the loss goes down and that is the story. A GAN's two losses measure the
# players **against each other**: when $G$ improves, $D$'s task gets harder and $\mathcal{L}_D$ goes
# *up*. Healthy training looks like two curves that wobble around a level, not like a descent. A
# discriminator loss that falls to 0 (with $\mathcal{L}_G$ climbing) means $D$ has won and $G$ gets
# little useful signal; that is worth stopping for. The faint lines are the raw per-step values,
# the bold ones a moving average.

# %%
plotting.plot_loss_history(history, keys=["d_loss", "g_loss"], smoothing=0.9)
plt.axhline(2 * np.log(2), color="C0", linestyle=":", linewidth=1)
plt.axhline(np.log(2), color="C1", linestyle=":", linewidth=1)
plt.text(step, 2 * np.log(2), "2 log 2 (D guesses)", color="C0", fontsize=8, ha="right", va="bottom")
plt.text(step, np.log(2), "log 2", color="C1", fontsize=8, ha="right", va="bottom")
plt.show()

# %% [markdown]
# ### Why the losses alone do not tell you quality
#
# Recall the optimum of section 3: a perfect generator leaves $D$ guessing, $D = \tfrac12$, so
# $\mathcal{L}_D = 2\log 2 \approx 1.386$ and $\mathcal{L}_G = \log 2 \approx 0.693$. Now take a
# discriminator that has **never been trained**: its logits are near 0, so it also says
# $D \approx \tfrac12$ to everything. Against it, a generator that outputs noise and a "perfect"
# generator that hands in real digits get the same losses. Let us measure it, next to our
# trained pair.

# %%
def losses_on(d, real, fake):
    """Both losses of discriminator `d` on a real batch and a fake batch, without training anything."""
    fake_logits = d(fake, training=False)
    return float(discriminator_loss(d(real, training=False), fake_logits)), float(generator_loss(fake_logits))

untrained_g = build_generator(cfg.latent_dim, filters=cfg.generator_filters)
untrained_d = build_discriminator(filters=cfg.discriminator_filters)
other_real = next(iter(dataset.skip(1)))                          # another real batch: the "perfect" fakes
probe_noise = tf.random.normal([real_batch.shape[0], cfg.latent_dim])
rows = {
    "untrained G vs untrained D": (untrained_d, untrained_g(probe_noise, training=False)),
    "'perfect' G (real digits) vs untrained D": (untrained_d, other_real),
    "our trained G vs our trained D": (discriminator, generator(probe_noise, training=False)),
}
measured = {name: losses_on(d, real_batch, fakes) for name, (d, fakes) in rows.items()}   # (D loss, G loss)
for name, (d_loss_value, g_loss_value) in measured.items():
    print(f"{name:42s} D loss {d_loss_value:.3f}   G loss {g_loss_value:.3f}")
print(f"{'theory at the optimum (D = 1/2)':42s} D loss {2 * np.log(2):.3f}   G loss {np.log(2):.3f}")
plotting.plot_labelled_rows({f"{name}:  D loss {measured[name][0]:.3f},  G loss {measured[name][1]:.3f}": fakes
                             for name, (d, fakes) in rows.items()}, ncols=8)
plt.show()
noise_row, perfect_row = measured["untrained G vs untrained D"], measured["'perfect' G (real digits) vs untrained D"]
assert np.allclose(noise_row, perfect_row, atol=0.1), (noise_row, perfect_row)

# %% [markdown]
# The first two rows report almost the same losses (the assertion above holds them within 0.1 of each
# other), yet one shows flat grey noise and the other real digits. The third row's numbers differ
# from the theory, but that says how the contest between *these two* networks stands, not how good
# the digits are.
#
# So always judge a GAN by **looking at samples** (and, for the image-to-image models of later
# lessons, by metrics against targets such as L1, [PSNR](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#psnr) and [SSIM](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#ssim)). Use the loss curves to spot a
# broken run (a discriminator that wins outright, a `nan`), not to rank good runs.
#
# ### Counting recognisable digits
#
# Looking is the first test; a number makes it repeatable. We let a **judge** look for us: a small
# digit classifier (`models.digit_classifier`, two convolutions and a dense layer) trained on the
# real digits. A generated image counts as a recognisable digit when the judge gives one class a
# probability of at least 0.9, and the judge also tells us *which* digit, so we can see whether all
# ten appear. The baseline is the untrained generator from section 6; the **ceiling** is the share of
# *real* held-out digits that pass the same test (a generator cannot be expected to beat the data).
#
# For the shipped digits the course ships the judge, trained by `make reference-models` and tested
# on 500 digits it never saw. A DCGAN trained on MNIST needs a judge that knows MNIST, so the full
# profile trains one first (about a minute on a GPU).

# %%
if cfg.dataset == "shipped":
    judge_nets, judge_entry = results.load_reference("digit_classifier")
    judge, judge_accuracy = judge_nets["classifier"], judge_entry["metrics"]["test_accuracy"]
else:
    judge = results.train_digit_classifier(epochs=cfg.judge_epochs, steps_per_epoch=cfg.judge_steps_per_epoch,
                                           source=cfg.dataset, verbose=2)
    judge_accuracy = results.digit_test_accuracy(judge, source=cfg.dataset)
print(f"the judge: {judge.count_params():,} parameters, {judge_accuracy:.1%} right on held-out real digits")
config.expect_quality(judge_accuracy >= 0.97, "the judge is right on at least 97% of held-out real digits")
real_digits, _ = data.load_digits_arrays(cfg.dataset)                     # uint8 (N, 28, 28)
ceiling = results.digit_sample_scores(judge, real_digits[-results.DIGIT_TEST:, ..., None] / 127.5 - 1)
print(f"the ceiling: {ceiling['confident']:.1%} of those real digits are recognisable "
      f"(p >= {results.DIGIT_CONFIDENCE}), {ceiling['classes']} of 10 digits")

judged = results.dcgan_results(generator, judge, untrained=untrained_g)   # 1,000 fixed noise vectors
for name, score in judged.items():
    print(f"{name:>9}: {score['confident']:6.1%} recognisable, {score['classes']:2d} of 10 digits, "
          f"count per digit {score['histogram']}")
config.expect_quality(judged["generator"]["confident"] > judged["untrained"]["confident"],
                      "training made digits: more recognisable than the untrained generator's")

# %% [markdown]
# What would longer training give? The course ships a **reference** DCGAN, trained much longer on
# the shipped digits. Its layers are the tutorial's at **half its widths** (the smoke profile uses a
# quarter, the full profile all of them), its step smooths the real label (explained right after),
# and it keeps a running average of its generator's weights, which is what ships. It trained with
# Radford et al.'s rate at batch 64: a long run does not need the smoke profile's higher rate.
# `data/reference/manifest.json` records the command, steps, time, settings and scores. Its samples
# and its counts, beside ours:

# %%
reference_nets, reference = results.load_reference("dcgan")
reference_samples = reference_nets["generator"].predict(results.digit_noise(), verbose=0)   # (1000, 28, 28, 1)
ref_score = results.digit_sample_scores(judge, reference_samples)
reference_label = reference["settings"].get("real_label", 1.0)      # the discriminator's target on real digits
reference_width = reference["settings"]["discriminator_filters"]    # 32: half the tutorial's 64
assert 2 * reference_width == config.GanBasicsConfig().discriminator_filters   # what the words above say
ref_batch, ref_rate = reference["settings"]["batch_size"], reference["settings"]["learning_rate"]
print(f"reference ({reference['steps']:,} steps, {reference['seconds_training'] / 60:.0f} min on a CPU, "
      f"discriminator width {reference_width} (ours {cfg.discriminator_filters}), real label {reference_label}, "
      f"batch {ref_batch} at {ref_rate:g}): {ref_score['confident']:.1%} recognisable, {ref_score['classes']} of 10 digits")
print(f"our run ({step} steps, batch {cfg.batch_size} at {cfg.learning_rate:g}): "
      f"{judged['generator']['confident']:.1%} recognisable, {judged['generator']['classes']} of 10 digits")
fig, axes = plt.subplots(1, 2, figsize=(9, 2.6))
for ax, (name, score) in zip(axes, [(f"our run, {step} steps", judged["generator"]),
                                    (f"reference, {reference['steps']:,} steps", ref_score)]):
    ax.bar(range(10), score["histogram"], color="C0")
    ax.set_xticks(range(10)), ax.set_xlabel("digit the judge sees (confidence >= 0.9)")
    ax.set_title(f"{name}: {score['confident']:.0%} recognisable", fontsize=10)
axes[0].set_ylabel("samples of 1,000")
fig.tight_layout()
plotting.show_images(reference_samples[:16], ncols=8, size=1.1, suptitle="Reference DCGAN samples")
plt.show()

# %% [markdown]
# ### The reference's one change to the step: one-sided label smoothing
#
# Our discriminator is told that every real digit is real with probability 1. Cross-entropy then
# pays it for pushing its logits on real digits ever higher, however sure it already is. An
# over-confident discriminator has little left to teach: [Salimans et al. (2016, section 3.4)](https://arxiv.org/abs/1606.03498)
# ask it for 0.9 instead. Only the **real** label moves; the fakes' label stays 0 (moving it too
# would let the fakes pull the discriminator's best answer toward themselves), hence
# **[one-sided label smoothing](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#one-sided-label-smoothing)**. With $D = \sigma(\ell)$ and a target $t$ for real digits:
#
# $$\mathcal{L}_D = -\,t\log D(x) - (1 - t)\log\bigl(1 - D(x)\bigr) - \log\bigl(1 - D(G(z))\bigr),\qquad t = 0.9 .$$
#
# The generator's loss does not change. Below, the real-digit part of $\mathcal{L}_D$ against the
# logit: with $t = 1$ it keeps falling; with $t = 0.9$ it is smallest at $D = 0.9$, a logit of
# $\log 9 \approx 2.2$, and rises again beyond.

# %%
logits = np.linspace(-2, 8, 201).astype("float32")
for target in (1.0, 0.9):
    per_logit = [float(losses.bce_with_logits(target, np.array([value]))) for value in logits]   # real term of L_D
    plt.plot(logits, per_logit, label=f"real label {target}")
plt.axvline(np.log(9), color="grey", linestyle=":", linewidth=1)
plt.xlabel("discriminator's logit on a real digit"), plt.ylabel("its loss")
plt.legend(), plt.title("One-sided label smoothing stops rewarding certainty")
plt.show()

# %% [markdown]
# What it buys is measured in docs/results.md (`scripts/dcgan_length_study.py`, seed 0, 1,000 judged
# samples every few thousand steps): with the same networks, batch and optimizers, the smoothed run was ahead
# of the plain one at every judged step from 4,500 on. That is one seed, and the gain shows in long
# runs more than in short ones, so your smoke run keeps the tutorial's label 1 (your `gan_train_step`
# writes it so). The course's trainer takes it as an option: `train.GAN(generator, discriminator,
# real_label=0.9)`.
#
# Smoothing alone was not enough. At the smoke profile's quarter widths, long smoothed runs on
# several seeds all levelled off just short of the course's target for recognisable digits; with the
# widths doubled, the same recipe passed it in fewer steps. Once a run is long, **capacity** limits
# it, which is one reason the full profile trains the tutorial's own widths. The seeds, the widths
# and their figures are in docs/results.md.

# %% [markdown]
# ## 12. Mode collapse on a ring of eight Gaussians
#
# Digits hide a GAN's most common failure well. The data has ten kinds of digit, its **modes**. A
# generator that learns to draw perfect 1s, and nothing else, can fool the discriminator for a
# while, because every single image it makes looks real. This is **[mode collapse](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#mode-collapse)**: the generator
# covers a few modes of the data, or hops from one mode to the next as the discriminator catches
# up, instead of spreading over all of them.
#
# We can make it visible and countable in two dimensions. The data is a ring of 8 Gaussians
# (radius 2, standard deviation 0.02), the toy problem of [Metz et al. (2017)](https://arxiv.org/abs/1611.02163). The networks are small
# MLPs: 2 noise numbers in, a 2-D point out; the discriminator takes a point and returns a logit.
# `make_train_step` and both losses are exactly the ones we wrote for the digits.

# %%
ring_centres = ring.ring_centers()                         # (8, 2) on a circle of radius 2
RING_STD = 0.02
ring_real = ring.ring_of_gaussians(2500, std=RING_STD, seed=cfg.seed)   # (2500, 2)
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(*ring_real.T, s=2, color="grey")
ax.scatter(*ring_centres.T, marker="x", color="red")
ax.set_aspect("equal")
ax.set_title("The data: 8 modes on a ring")
plt.show()

# %% [markdown]
# How do we *count* collapse? Following [Srivastava et al. (2017)](https://arxiv.org/abs/1705.07761) and [Lin et al. (2018)](https://arxiv.org/abs/1712.04086), we draw
# 2,500 samples from the generator and call a sample **high quality** if it lies within three
# standard deviations of a mode's centre. A mode is **covered** if at least 20 high-quality
# samples fall on it. A perfect generator scores 8/8 modes and close to 100% high quality; a
# collapsed one covers one or two modes; a generator that has not learned anything yet scores
# 0/8 with almost no high-quality samples.
#
# Before we trust the counter with a GAN, we feed it three cases whose answer we know: real ring
# samples (for a 2-D Gaussian, $1 - e^{-9/2} \approx 98.9\%$ of the points lie within $3\sigma$ of
# the centre), a perfectly collapsed "generator" that puts all 2,500 points on one centre, and
# points spread uniformly over the square, of which only about 0.25% land in the small
# high-quality discs.

# %%
collapsed = np.repeat(ring_centres[:1], 2500, axis=0)                           # (2500, 2) all on mode 0
spread_out = np.random.default_rng(cfg.seed).uniform(-3, 3, size=(2500, 2))      # (2500, 2) no structure
sanity = {"real ring samples": metrics.mode_coverage(ring_real, ring_centres, RING_STD),
          "all points on one centre": metrics.mode_coverage(collapsed, ring_centres, RING_STD),
          "uniform over the square": metrics.mode_coverage(spread_out, ring_centres, RING_STD)}
for name, cov in sanity.items():
    print(f"{name:26s} {cov}")
assert sanity["real ring samples"].modes_covered == 8 and sanity["real ring samples"].high_quality_rate > 0.97
assert sanity["all points on one centre"].modes_covered == 1
assert sanity["uniform over the square"].modes_covered == 0 and sanity["uniform over the square"].high_quality_rate < 0.02
print("✅ the counter scores the known cases as expected")

# %% [markdown]
# ### Two runs that differ in one thing
#
# We train the ring GAN twice, with the same seed, the same data, the same `make_train_step`, the
# same Adam settings and the same number of steps. The ring needs bigger steps than the digits to
# get anywhere in a few thousand updates, so both runs use Adam with $\beta_1 = 0.5$ (the $\beta_1$
# Radford et al. 2016 recommend for GANs) and a learning rate that starts at $10^{-3}$ and falls in
# a straight line to $10^{-4}$ at the last step (`keras.optimizers.schedules.PolynomialDecay`).
# Big steps early let the generator move its samples across the plane to the modes; small steps
# late let it settle them within the $3\sigma = 0.06$ discs the counter asks for. When we tried the
# packed run below with a constant $10^{-3}$ instead, its five seeds ended with 0 to 8 modes
# covered (3 in the middle run); with the decay, with 6 to 8.
#
# - **plain**: the GAN exactly as we built it for the digits. The discriminator judges one point
#   at a time.
# - **packed**: the discriminator judges **two points at once**. It joins every two consecutive
#   points of a batch, real with real and fake with fake, into one input of 4 numbers and returns one
#   logit for the pair. This is **packing**, from PacGAN (Lin et al. 2018).
#
# Why would pairs help? A single point from a collapsed generator looks perfectly real: it sits on
# a mode. A *pair* gives it away. Two real points come from two different modes 7 times out of 8;
# two points of a generator that has collapsed onto one mode always come from the same one. So the
# packed discriminator can punish a lack of variety, which a one-point discriminator cannot even
# see, and the generator gets a gradient that pushes its samples apart.
#
# `models.mlp_discriminator(pack=2)` starts with a `layers.PackSamples(2)` layer that does the
# joining with one reshape. Here it is on a batch of 6 points:

# %%
from course_utils.layers import PackSamples

six_points = np.arange(12, dtype="float32").reshape(6, 2)    # (6, 2): points (0, 1), (2, 3), ...
print(PackSamples(2)(six_points).numpy())                      # (3, 4): points 0+1, 2+3, 4+5
packed_d = models.mlp_discriminator(pack=2)
print("packed discriminator:", packed_d(six_points).shape, "logits for 6 points")   # (3, 1)

# %% [markdown]
# Each run trains a fresh pair of networks with our `make_train_step`; nothing in the step changes,
# since the losses average over however many logits the discriminator returns. Every few hundred
# steps we take a snapshot of 2,500 samples from a fixed batch of noise. In the full profile we
# repeat both runs for three seeds: one run is an anecdote.

# %%
RING_SEEDS = cfg.ring_seeds                      # (0, 1, 2); the smoke profile runs seed 0 only
RING_SNAPSHOTS = 6
RING_SETTINGS = {"plain": 1, "packed": cfg.ring_pack}                        # name: points per D input
ring_learning_rate = keras.optimizers.schedules.PolynomialDecay(              # linear: 1e-3 at step 0,
    cfg.ring_learning_rate, cfg.ring_steps, cfg.ring_final_learning_rate)     # 1e-4 at the last step

def run_ring(seed, pack):
    """Train a fresh MLP GAN on the ring; returns the sample snapshots {step: (2500, 2)}."""
    keras.utils.set_random_seed(seed)
    g, d = models.mlp_generator(), models.mlp_discriminator(pack=pack)   # 2 -> 2 and (2 * pack) -> 1
    step_fn = tf.function(make_train_step(
        g, d, keras.optimizers.Adam(ring_learning_rate, beta_1=cfg.ring_beta_1),
        keras.optimizers.Adam(ring_learning_rate, beta_1=cfg.ring_beta_1)))
    real_points = ring.ring_of_gaussians(cfg.ring_steps * cfg.ring_batch_size, std=RING_STD,
                                            seed=seed + 100)                 # a fresh batch every step
    probe = tf.random.normal([2500, 2], seed=seed)                         # fixed, for the snapshots
    every = max(1, cfg.ring_steps // RING_SNAPSHOTS)
    snaps = {}
    for i in tqdm(range(1, cfg.ring_steps + 1), desc=f"ring, pack {pack}, seed {seed}", mininterval=1.0):
        batch = real_points[(i - 1) * cfg.ring_batch_size: i * cfg.ring_batch_size]   # (256, 2)
        step_fn(batch, tf.random.normal([cfg.ring_batch_size, 2]))
        if i % every == 0 or i == cfg.ring_steps:
            snaps[i] = g(probe, training=False).numpy()
    return snaps

ring_runs = {(name, seed): run_ring(seed, pack) for name, pack in RING_SETTINGS.items() for seed in RING_SEEDS}

# %% [markdown]
# The result first: the last snapshot of each setting for the first seed, side by side.
# `ring.plot_ring_samples` rings every mode with the high-quality radius, green if covered and
# red if missed, and writes its count of high-quality samples next to it. Below the picture we print
# the same counts beside the baseline, the real ring samples.

# %%
fig, axes = plt.subplots(1, len(RING_SETTINGS), figsize=(5 * len(RING_SETTINGS), 5))
for ax, name in zip(axes, RING_SETTINGS):
    snaps = ring_runs[(name, RING_SEEDS[0])]
    cov = metrics.mode_coverage(snaps[max(snaps)], ring_centres, RING_STD)
    ring.plot_ring_samples(snaps[max(snaps)], ring_centres, RING_STD, real=ring_real, ax=ax,
                               title=f"{name}, seed {RING_SEEDS[0]}, step {max(snaps)}\n"
                                     f"{cov.modes_covered}/8 modes covered, {100 * cov.high_quality_rate:.0f}% HQ")
    ax.set_xlim(-3, 3); ax.set_ylim(-3, 3)
plt.show()

print(f"{'real ring samples (baseline)':32s} {sanity['real ring samples']}")
for (name, seed), snaps in ring_runs.items():
    print(f"{name + ', seed ' + str(seed):32s} {metrics.mode_coverage(snaps[max(snaps)], ring_centres, RING_STD)}")

# %% [markdown]
# And how each run got there: the snapshots, one row per run. Red crosses are the 8 modes, grey the
# real data; each panel's title gives the step, the modes covered and the share of high-quality (HQ)
# samples.

# %%
ring.plot_ring_runs({f"{name}, seed {seed}": run for (name, seed), run in ring_runs.items()},
                    ring_centres, RING_STD, real=ring_real)
plt.show()

# %% [markdown]
# And the measured counts of every run and snapshot. Read them before any story about the
# pictures: they are what these runs did, not what GANs "always" do.
#
# The high-quality radius, $3\sigma = 0.06$, is strict: a tight clump of samples sitting 0.1 away
# from a mode counts as no mode at all. To tell "collapsed into one place" from "spread everywhere",
# we also count the modes **visited**: give every sample to its nearest mode, whatever the
# distance, and count the modes that get at least 5% of the samples (a perfect generator gives each
# 12.5%). That is the same `mode_coverage` with no distance limit and `min_count` = 5% of the
# samples.

# %%
VISIT_SHARE = 0.05

def modes_visited(points):
    """Modes that get at least VISIT_SHARE of the samples, however far the samples lie."""
    return metrics.mode_coverage(points, ring_centres, RING_STD, threshold=np.inf,
                                 min_count=int(VISIT_SHARE * len(points)))

# the same known cases: the real ring visits all 8 modes, the collapsed sample one
assert modes_visited(ring_real).modes_covered == 8 and modes_visited(collapsed).modes_covered == 1

def verdict(strict, loose):
    """A one-line reading of a snapshot from its strict and loose ModeCoverage."""
    if strict.modes_covered == strict.n_modes:
        return "every mode covered"
    if loose.modes_covered <= 2:
        return f"collapsed: the samples gather near {loose.modes_covered} mode(s)"
    if strict.modes_covered > 0:
        return f"{strict.modes_covered} of {strict.n_modes} modes covered"
    return "no mode covered: the samples lie off the modes"

print("each cell: modes covered (3 std) / modes visited (>= 5% of samples) / high-quality samples")
print(f"{'run':16s}" + "".join(f"{'step ' + str(i):>15}" for i in next(iter(ring_runs.values()))))
for (name, seed), run in ring_runs.items():
    strict = [metrics.mode_coverage(points, ring_centres, RING_STD) for points in run.values()]
    loose = [modes_visited(points) for points in run.values()]
    print(f"{name + ', seed ' + str(seed):16s}"
          + "".join(f"{f'{c.modes_covered}/{l.modes_covered}/{100 * c.high_quality_rate:.0f}%':>15}"
                    for c, l in zip(strict, loose)))
    print(f"{'':16s}at the end: {verdict(strict[-1], loose[-1])}")

# %% [markdown]
# How to read these numbers:
#
# - **One to three modes visited, none or one covered, and they change from snapshot to
#   snapshot**: mode collapse with mode hopping. The generator has squeezed its samples into one
#   place the discriminator accepts; the discriminator learns to reject that place, the generator
#   moves the whole clump to another one, and so on. It never settles on the whole ring. This is
#   what Metz et al. (2017) show for a standard GAN on this problem.
# - **All 8 modes visited, then more and more covered, high-quality share rising**: the generator
#   has spread over the ring and is sharpening its samples onto the modes. With only 2 noise
#   numbers and a smooth network its output is one connected piece, so it keeps a thin thread of
#   samples between neighbouring modes; those count as misses.
#
# What we measured while writing this lesson (1,500 steps, as in both profiles) for seeds 0 to 4
# on a CPU, at the last snapshot:
#
# | seed | plain: modes covered | plain: HQ | packed: modes covered | packed: HQ |
# |---|---|---|---|---|
# | 0 | 1 (5 visited) | 2% | 8 | 73% |
# | 1 | 6 (8 visited) | 6% | 8 | 56% |
# | 2 | 0 (3 visited) | 0% | 8 | 53% |
# | 3 | 0 (2 visited) | 0% | 6 | 9% |
# | 4 | 4 (8 visited) | 17% | 8 | 67% |
#
# Every packed run covered at least 6 of the 8 modes, four of them all 8, and four of the five
# made more than half their samples high quality. The plain runs covered 0 to 6 modes, three of
# them at most one, with at most 17% high-quality samples: seeds 2 and 3 ended as one clump near two
# or three modes, while seeds 1 and 4 had begun to spread over the ring by the last step, still
# blurred. So the plain GAN does not always stay collapsed, but within these 1,500 steps only the
# packed one reliably found the whole ring. The two runs differ in one thing, what the
# discriminator looks at. Your numbers may differ: the counts printed above are the truth for your
# run. They depend even on the TensorFlow version: under Colab's TensorFlow 2.20 the plain seed-0
# run covered 3 modes with 5% high-quality samples, where TensorFlow 2.21 gave the table above.
#
# Longer is not simply better. With 3,000 steps (the learning rate now decaying over 3,000), seeds 0
# to 2 ended with 8, 6 and 3 modes covered when packed, and 0, 2 and 8 when plain: the plain seed 1
# sat sharply on two modes, while the plain seed 2 found all eight. One setting, one seed and one
# step count tell you little; compare settings over several seeds, as we did here.
#
# Packing is one of several remedies proposed against collapse, each tested on rings of Gaussians
# like this one: unrolled GANs (Metz et al. 2017) let the generator look a few discriminator
# updates ahead, and VEEGAN (Srivastava et al. 2017) adds a network that maps samples back to
# the noise. Later lessons add tools that make adversarial training steadier in general (the L1
# term of Pix2Pix, least-squares losses, an image pool of past fakes).

# %% [markdown]
# ## Lab: saturating vs non-saturating generator loss
#
# Section 5 argued from a slope: with the minimax game's loss $\log(1 - D(G(z)))$, a generator
# whose fakes $D$ rejects confidently gets almost no gradient, so Goodfellow et al. (2014) train it
# on $-\log D(G(z))$ instead. An argument is not a measurement. Here you test it on the ring of
# section 12.
#
# The experiment: the **plain** ring GAN of section 12, same seed, same data, same number of steps,
# same Adam, trained once more with a single change, the generator minimising the **saturating**
# loss $\log(1 - D(G(z)))$. Its non-saturating twin is section 12's plain run, trained with your
# step. Before you run it, write down what you expect: which run covers more modes at the last step?

# %%
your_prediction = ""   # "non-saturating", "saturating" or "the same": which run covers more modes at the end?

# %% [markdown]
# The saturating loss from logits: since $D = \sigma(\ell)$, $\log(1 - \sigma(\ell)) =
# -\operatorname{softplus}(\ell)$, which stays finite for any logit
# (`labs.gan.saturating_generator_loss`). The cell trains the saturating run, then prints both runs
# beside two baselines, the real ring samples (all 8 modes) and an untrained generator, and beside
# the longer run behind `docs/results.md`: every variant for five seeds, read from the file the
# course ships (`data/reference/lab_gan_loss.json`).

# %%
from course_utils.labs import gan as gan_lab

plain_setting = {setting.name: setting for setting in ring.ring_settings(cfg)}["plain"]   # section 12's settings
assert plain_setting.pack == RING_SETTINGS["plain"] and plain_setting.steps == cfg.ring_steps
saturating_run = gan_lab.ring_variant(plain_setting, seed=RING_SEEDS[0], loss="saturating")
lab_runs = {"non-saturating": ring_runs[("plain", RING_SEEDS[0])],   # section 12's plain run: your step
            "saturating": saturating_run.snapshots}
keras.utils.set_random_seed(cfg.seed)
untrained_points = models.mlp_generator()(tf.random.normal([2500, 2], seed=cfg.seed), training=False).numpy()
print(f"baselines: real ring samples {sanity['real ring samples']}")
print(f"           untrained generator {metrics.mode_coverage(untrained_points, ring_centres, RING_STD)}")
print(f"this lesson's runs, seed {RING_SEEDS[0]}:")
longer_run = gan_lab.load_longer_run()
gan_lab.print_lab(lab_runs, longer_run)

# %% [markdown]
# One row per variant: its snapshots over the run, as in section 12.

# %%
ring.plot_ring_runs(lab_runs, ring_centres, RING_STD, real=ring_real)
plt.show()

# %% [markdown]
# **What the paper found.** Goodfellow et al. (2014, section 3) give an argument, not a table: early
# in learning, when the generator is poor, the discriminator rejects its samples with high
# confidence, $\log(1 - D(G(z)))$ saturates, and the alternative objective has the same fixed point
# but gives much stronger gradients early on. They do not report a run with each loss.
#
# **What we measured.** On this ring, with Adam, the paper's ordering did **not** reproduce. In the
# longer run printed above, every saturating run covered every mode, while none of the plain
# non-saturating runs did and most covered no mode at all (the cell below asserts these statements
# against the shipped file, so that they cannot drift apart from it). Your own run above uses the
# longer run's first seed. Two explanations are plausible, and we have not measured which one
# matters: Adam divides each step by a running size of the recent gradients, so a much smaller
# gradient still gives a step of about the usual size; and the saturating loss pushes hardest the
# fakes that $D$ almost accepts and least the ones it rejects, which may keep the generator from
# moving its whole sample onto one spot. The paper's argument is about the start of training with
# plain gradient steps; it says nothing about mode collapse. And a result on a 2-D toy is not a
# result on images: the course keeps the non-saturating loss, as the DCGAN, Pix2Pix and CycleGAN
# papers do.
#
# **The update order.** The same file holds a third variant, measured once: the non-saturating loss
# with Goodfellow et al.'s order of section 9, $D$ first and then $G$ against the updated $D$ with
# fresh noise (`labs.gan.lab_step(order="D then G")`, a second forward pass per step). On the ring
# it covered every mode on every seed, where the simultaneous step did not: here the order matters
# as much as the loss. The course's image models keep the simultaneous step of the TensorFlow
# tutorials; this measurement is on the ring only, and we have not repeated it on images.
#
# Your prediction, beside this run's result:

# %%
covered = {name: gan_lab.coverage_row(run)["covered"] for name, run in lab_runs.items()}
this_run = ("the same" if covered["saturating"] == covered["non-saturating"]
            else max(covered, key=covered.get))
print(f"you predicted: {your_prediction or '(nothing yet)'}; in this run, more modes: {this_run} {covered}")
longer_summary = gan_lab.longer_run_summary(longer_run)
saturating, plain_ns = longer_summary["saturating"]["covered"], longer_summary["non-saturating"]["covered"]
d_then_g = longer_summary["non-saturating, D then G"]["covered"]
assert all(c == 8 for c in saturating) and all(c == 8 for c in d_then_g), longer_summary
assert all(c < 8 for c in plain_ns) and sum(c == 0 for c in plain_ns) > len(plain_ns) / 2, plain_ns
print("✅ the statements above hold for the longer run:", {k: v["covered"] for k, v in longer_summary.items()})

# %% [markdown]
# ## Check yourself
#
# Answer each question in your head (or on paper) first, then open the answer.
#
# **1.** The discriminator ends in a logit, with no sigmoid. What goes wrong if you pass it probabilities (after a sigmoid) to `bce_from_logits`?
#
# <details><summary>Answer</summary>
#
# The sigmoid is applied twice. Probabilities lie in $[0, 1]$, so the second sigmoid squashes them into $[0.5, 0.73]$: even a perfect discriminator cannot bring its loss near 0, and the gradients shrink. The stable formula expects raw logits, and computes the log of the sigmoid without overflowing.
#
# </details>
#
# **2.** Early in training $D$ rejects a fake with logit $\ell = -6$. About how much larger is the generator's gradient with the non-saturating loss than with the minimax one?
#
# <details><summary>Answer</summary>
#
# Minimax: $-\sigma(\ell) \approx -0.0025$. Non-saturating: $\sigma(\ell) - 1 \approx -1$. About 400 times larger, exactly when the fake is bad and the generator needs the signal most.
#
# </details>
#
# **3.** Dropout with $p = 0.3$: what happens to an activation that survives, during training and at inference?
#
# <details><summary>Answer</summary>
#
# During training it is multiplied by $1 / (1 - 0.3) \approx 1.43$, so that its expected value does not change. At inference (`training=False`) dropout does nothing.
#
# </details>
#
# **4.** Why does the data pipeline use `drop_remainder=True`?
#
# <details><summary>Answer</summary>
#
# Every batch then has the same shape, so the `tf.function` step is traced once. A smaller last batch would be a new input shape and would trigger a second trace.
#
# </details>
#
# **5.** During training the discriminator's loss falls close to 0 while the generator's keeps rising. Is the generator learning? What do you look at first?
#
# <details><summary>Answer</summary>
#
# The losses alone cannot tell: they describe the contest between the two networks, not the quality of the images. Look at the samples from the fixed noise over the epochs, and check that they cover every kind of digit (not only a few: mode collapse).
#
# </details>

# %% [markdown]
# ## Summary
#
# - A discriminative model learns $p(y \mid x)$ (a spam filter); a generative one learns $p(x)$ or
#   $p(x \mid y)$ and can sample. A GAN learns a sampler by pitting a generator against a
#   discriminator in the minimax game $\min_G \max_D V(D, G)$.
# - Both losses are binary cross-entropies computed from logits. The generator uses the "real"
#   label on its fakes (non-saturating), which keeps its gradient alive when $D$ wins.
# - A training step uses two `GradientTape`s and two optimizers, one per network, and runs as a
#   graph under `tf.function`.
# - The DCGAN (the TF tutorial's variant of Radford et al. 2016): Dense, reshape, transposed
#   convolutions with batch norm and LeakyReLU, $\tanh$; a strided convolutional discriminator with
#   LeakyReLU and dropout that outputs a logit. A transposed convolution stamps a scaled kernel per
#   input value, `stride` cells apart; its output size is $(n - 1)s + k$ (`"valid"`) or $n s$ (`"same"`).
# - Judge a GAN by its samples over time; its losses only describe the contest. Check that it
#   covers every mode of the data, not just some.
#
# **Next:** lesson 02 gives the generator an input image instead of noise: Pix2Pix.

# %% [markdown]
# ## Further reading
#
# **The papers this lesson teaches**
#
# - Goodfellow et al. (2014), *Generative Adversarial Nets*, [arXiv:1406.2661](https://arxiv.org/abs/1406.2661):
#   the minimax game, the optimal discriminator and the non-saturating generator loss.
# - Radford et al. (2016), *Unsupervised Representation Learning with Deep Convolutional Generative
#   Adversarial Networks* (DCGAN), [arXiv:1511.06434](https://arxiv.org/abs/1511.06434).
# - Metz et al. (2017), *Unrolled Generative Adversarial Networks*, [arXiv:1611.02163](https://arxiv.org/abs/1611.02163):
#   the ring of Gaussians and mode collapse; with VEEGAN, [arXiv:1705.07761](https://arxiv.org/abs/1705.07761),
#   and PacGAN, [arXiv:1712.04086](https://arxiv.org/abs/1712.04086), for the "modes covered" count.
# - Ioffe & Szegedy (2015), *Batch Normalization*, [arXiv:1502.03167](https://arxiv.org/abs/1502.03167);
#   Kingma & Ba (2015), *Adam*, [arXiv:1412.6980](https://arxiv.org/abs/1412.6980);
#   Odena et al. (2016), [*Deconvolution and Checkerboard Artifacts*](https://distill.pub/2016/deconv-checkerboard/).
#
# **The TensorFlow and Keras documentation we used**
#
# - The TensorFlow [DCGAN tutorial](https://www.tensorflow.org/tutorials/generative/dcgan), whose
#   networks and settings we rebuilt.
# - [Introduction to gradients and automatic differentiation](https://www.tensorflow.org/guide/autodiff)
#   (`tf.GradientTape`) and [Better performance with tf.function](https://www.tensorflow.org/guide/function).
# - Keras: [`Conv2DTranspose`](https://keras.io/api/layers/convolution_layers/convolution2d_transpose/),
#   [`BatchNormalization`](https://keras.io/api/layers/normalization_layers/batch_normalization/),
#   [`BinaryCrossentropy`](https://keras.io/api/losses/probabilistic_losses/#binarycrossentropy-class),
#   [`Adam`](https://keras.io/api/optimizers/adam/), [initializers](https://keras.io/api/layers/initializers/)
#   and [customizing what happens in `fit()`](https://keras.io/guides/custom_train_step_in_tensorflow/)
#   (how `train.GAN` plugs its step into `fit`).
#
# **Where to go next**
#
# - Gulrajani et al. (2017), *Improved Training of Wasserstein GANs* (WGAN-GP),
#   [arXiv:1704.00028](https://arxiv.org/abs/1704.00028): a different loss and a gradient penalty
#   that make GAN training steadier.
# - Heusel et al. (2017), *GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
#   Equilibrium*, [arXiv:1706.08500](https://arxiv.org/abs/1706.08500): introduces FID, the most
#   used number for judging a generator's samples, where this lesson looked at them.
# - Goodfellow (2016), *NIPS 2016 Tutorial: Generative Adversarial Networks*,
#   [arXiv:1701.00160](https://arxiv.org/abs/1701.00160): the inventor's long tour of GANs.
