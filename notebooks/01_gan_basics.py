# %% [markdown]
# # 01 · GAN basics: two networks that teach each other
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/01_gan_basics.ipynb)
#
# Every model in this course is a GAN at heart. We build the plain one by hand, on digits: what each
# player does, why the generator's loss is not the minimax game's, how to count mode collapse. You
# write four functions, each checked as you run it; in the lab you predict, then measure.

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
cfg = course.runtime.start_lesson(course.config.DcganConfig)   # the profile's settings, the GPU check, the seeds
course.costs.print_estimate(cfg)   # estimated T4 minutes of the learner and paper profiles

# %% [markdown]
# `cfg` holds every size and step count (lesson 00, section 5 has the profiles). On a GPU the
# **learner** profile is the paper's: MNIST, 50 epochs at batch 256 (11,700 steps), the TensorFlow
# [DCGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dcgan) tutorial's networks. The **smoke** profile trains on 3,000 shipped digits at a
# quarter of the widths.

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

from course_utils import data, losses, models, train

OUT = Path(tempfile.gettempdir()) / "gan_course" / "01_gan_basics"   # sample grids go here
OUT.mkdir(parents=True, exist_ok=True)
print("TensorFlow", tf.__version__, "| Keras", keras.__version__, "| outputs in", OUT)

# %% [markdown]
# ## 1. Discriminative and generative models
#
# A **[discriminative](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminative-model)** model, such as a spam filter, reads an email $x$ and outputs
# $p(y \mid x)$, the probability that its label $y$ is "spam": a border between classes. A **[generative model](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generative-model)** learns the data itself, $p(x \mid y)$ or $p(x)$, and
# can **draw new samples** (and, by Bayes' rule, classify). Left: $p(\text{spam} \mid x)$ on two made-up
# features. Right: one density per class, and three new "spam emails" drawn from it.

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
course.diagrams.discriminative_vs_generative_diagram(
    (g1, g2), p_spam_given_x, densities=(p_x_given_ham, p_x_given_spam), samples=(ham, spam),
    new_samples=new_spam, names=("normal mail", "spam"),
    axis_labels=('x1: how often "free" appears', "x2: share of links"))
plt.show()

# %% [markdown]
# No one can write down the density of $28 \times 28$ images. A GAN never writes $p(x)$: it learns a **sampler**.

# %% [markdown]
# ## 2. The two players
#
# - The **[generator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generator)** $G$ turns noise $z$ (100 normal numbers) into an image $G(z)$.
# - The **[discriminator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminator)** $D$, a binary classifier, outputs the probability $D(x)$ that an image is real.
#
# A **double feedback loop**: $D$ is scored against the **ground truth**; $G$, which never sees a real
# image, against **$D$**, through gradients passed back *through* $D$ (green below; $b$: batch size).

# %%
course.diagrams.gan_loop_diagram(latent_dim=cfg.latent_dim, image_shape=(28, 28, 1))
plt.show()

# %% [markdown]
# ## 3. The minimax game
#
# [Goodfellow et al. (2014)](https://arxiv.org/abs/1406.2661) wrote the game as one value that $D$ maximises and $G$ minimises:
#
# $$\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}\big[\log D(x)\big]
#   + \mathbb{E}_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big].$$
#
# $D$ wants $D(x) \to 1$ and $D(G(z)) \to 0$; $G$ wants $D(G(z)) \to 1$. At the optimum,
# $p_g = p_\text{data}$, the best $D$ can only guess: $D = \tfrac12$ everywhere.

# %% [markdown]
# ## 4. Losses from logits
#
# For $D$ this is minimising the **[binary cross-entropy](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#binary-cross-entropy)** with label 1 for real, 0 for fake:
# $\text{BCE}(t, p) = -t \log p - (1 - t) \log(1 - p)$. Our $D$ has no final
# [sigmoid](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#sigmoid): it outputs a raw score, a **[logit](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#logit)** $\ell$, with $D(x) = \sigma(\ell)$. Taking $\sigma$
# then the log breaks in float32 once $D$ is sure:

# %%
logits = tf.constant([-200.0, -5.0, 0.0, 5.0, 200.0])   # (5,) raw discriminator outputs
naive_label1 = -tf.math.log(tf.sigmoid(logits))          # BCE with label 1, the naive way
naive_label0 = -tf.math.log(1.0 - tf.sigmoid(logits))    # BCE with label 0, the naive way
print("sigmoid(logit):      ", tf.sigmoid(logits).numpy())
print("naive BCE, label 1:  ", naive_label1.numpy())
print("naive BCE, label 0:  ", naive_label0.numpy())

# %% [markdown]
# `sigmoid(200)` rounds to 1, and $\log 0 = -\infty$. Written in $\ell$ (Keras's `from_logits=True`):
#
# $$\text{BCE}(t, \ell) = \max(\ell, 0) - \ell\, t + \log\big(1 + e^{-|\ell|}\big).$$

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
# Finite everywhere. Checked against Keras and `losses.bce_with_logits`:

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
# $D$ gets one logit per image of a real batch and of a fake batch. Its loss should be small when it
# scores real images high and fakes low, with each batch's mean BCE counted equally. Decide which
# label each kind gets and write the loss with `bce_from_logits`, then run the check below it.

# %%
def discriminator_loss(real_logits, fake_logits):
    """BCE of D's logits: real images should score 1, fakes 0. Logits (b, 1) each -> a scalar."""
    # BEGIN SOLUTION: return the discriminator's loss for these logits
    real_loss = bce_from_logits(tf.ones_like(real_logits), real_logits)
    fake_loss = bce_from_logits(tf.zeros_like(fake_logits), fake_logits)
    return real_loss + fake_loss
    # END SOLUTION

# %% [markdown]
# The check compares yours with `losses.discriminator_loss`: a wrong answer stops with a hint; a stub
# lets the lesson use the course's.

# %%
discriminator_loss = course.exercises.check("01.discriminator_loss", discriminator_loss)

# %% [markdown]
# In symbols: $\mathcal{L}_D = \text{BCE}(1, \ell_\text{real}) + \text{BCE}(0, \ell_\text{fake})$.

# %% [markdown]
# ## 5. The generator's loss, and why it does not saturate
#
# The [minimax](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#minimax-game) game asks $G$ to minimise $\log(1 - D(G(z)))$. Early on $D$
# rejects the poor fakes confidently ($\ell \ll 0$), where the slope $-\sigma(\ell)$ is nearly
# zero: no signal when $G$ needs it most. The loss **saturates**.
#
# Goodfellow et al. (2014) minimise $\mathcal{L}_G = -\log D(G(z))$ instead: same fixed point,
# slope $\sigma(\ell) - 1 \approx -1$ there. This **[non-saturating](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#non-saturating-loss)**
# loss is the one this course uses (lesson 03 adds [least squares](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#least-squares-gan)). Shaded: where a BCE gradient is tiny.

# %%
course.plotting.plot_generator_losses(d_output=-4.0)
plt.show()

# %% [markdown]
# [`tf.GradientTape`](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#gradienttape) records the operations in its block and differentiates the result:

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
# At $\ell = -6$: $-0.0025$ against $-1$. Drag the slider (in a live notebook) to explore.

# %%
course.widgets.loss_explorer(d_output=-4.0)

# %% [markdown]
# ### Your turn 2: the non-saturating generator loss
#
# Write $\mathcal{L}_G$ with `bce_from_logits`: a BCE of the fakes' logits with a label you choose.
# Which label makes the loss small exactly when $D$ is fooled? Then run the check.

# %%
def generator_loss(fake_logits):
    """Non-saturating: the generator wants D to call its fakes real. Logits (b, 1) -> a scalar."""
    # BEGIN SOLUTION: return the non-saturating generator loss for these logits
    return bce_from_logits(tf.ones_like(fake_logits), fake_logits)
    # END SOLUTION

# %% [markdown]
# The check compares yours with `losses.generator_loss`.

# %%
generator_loss = course.exercises.check("01.generator_loss", generator_loss)

# %% [markdown]
# So $\mathcal{L}_G = \text{BCE}(1, \ell_\text{fake})$: the **"real" label on the fakes**.

# %% [markdown]
# ## 6. A DCGAN for digits: the generator
#
# [Radford et al. (2016)](https://arxiv.org/abs/1511.06434)'s recipe for convolutional GANs, the **DCGAN**: no
# [pooling](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#pooling); [strided convolutions](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#strided-convolution) (stride 2 halves the image) down in $D$, [transposed convolutions](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#transposed-convolution)
# up in $G$; [batch normalisation](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#batch-normalisation) except at $G$'s output and $D$'s input; a $\tanh$ output, so images
# live in $[-1, 1]$; [LeakyReLU](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#leakyrelu) in $D$; Adam ($2 \cdot 10^{-4}$, $\beta_1 = 0.5$); initial weights from
# $\mathcal{N}(0, 0.02^2)$. We build the **TensorFlow tutorial's variant**:
#
# | | Radford et al. (2016) | TF tutorial, what we build |
# |---|---|---|
# | activations | ReLU in $G$, LeakyReLU 0.2 in $D$ | LeakyReLU 0.3 in both |
# | batch norm | in $G$ and $D$ | in $G$ only |
# | [dropout](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dropout) | none | 0.3 in $D$ |
# | Adam | $2 \cdot 10^{-4}$, $\beta_1 = 0.5$ | $10^{-4}$, $\beta_1 = 0.9$; we keep Radford's |
# | initial weights | $\mathcal{N}(0, 0.02^2)$ | Keras's default (Glorot uniform) |
#
# In the sketch each box is a tensor (height: image size; width: channels).

# %%
course.diagrams.network_diagram({
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
# Every input value **stamps** a copy of the kernel, scaled by that value, onto the output; stamps sit
# `stride` cells apart and add up where they overlap. (As a matrix it is the transpose of a
# convolution's; it does not undo one.) The rule in NumPy, against Keras's `Conv2DTranspose`:

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
# Each input cell (left) stamps its own $3 \times 3$ block (right); the centre gets all four stamps.

# %%
course.diagrams.transposed_conv_diagram(x_tiny, y_tiny, kernel_size=3, stride=2)
plt.show()

# %% [markdown]
# **Output size**, input $n$, kernel $k \ge s$, stride $s$: $(n - 1)\,s + k$ with `padding="valid"`,
# $n \cdot s$ with `"same"`. So our generator goes $7 \to 7 \to 14 \to 28$:

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
# When the kernel size is not a multiple of the stride, some cells get more stamps than their
# neighbours: **[checkerboard artefacts](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkerboard-artefacts)** ([Odena et al. 2016](https://distill.pub/2016/deconv-checkerboard/)). Stamps per cell along a middle row:

# %%
for k in (3, 4, 5):
    counts = transposed_conv(np.ones((6, 6), dtype=np.float32), np.ones((k, k), dtype=np.float32), 2)
    middle = counts[counts.shape[0] // 2, k:-k] / counts[counts.shape[0] // 2, k:-k].min()
    print(f"kernel {k}, stride 2: stamps per cell along a middle row, relative: {middle.round(2)}")

# %% [markdown]
# ### Batch normalisation
#
# **Batch norm** ([Ioffe & Szegedy 2015](https://arxiv.org/abs/1502.03167)) normalises each channel with the batch's mean $\mu_B$ and
# variance $\sigma_B^2$, then applies a learned scale and shift: $y = \gamma (x - \mu_B) / \sqrt{\sigma_B^2 + \epsilon} + \beta$.
# In training it uses the batch's statistics; with `training=False`, running averages.

# %% [markdown]
# <a id="bias-before-norm"></a>
# ### A bias before a norm cancels
#
# A bias $b$ adds the same number to every value of its channel, so also to the channel's mean, and the
# norm's $x - \mu_B$ removes it: $(x + b) - (\mu_B + b) = x - \mu_B$. The bias does nothing; the norm's
# $\beta$ plays its part. Hence `use_bias=False` before every norm (batch norm here, instance norm in
# lesson 03). Measured:

# %%
bias_demo = np.random.default_rng(cfg.seed).normal(size=(16, 4, 4, 3)).astype("float32")   # (16, 4, 4, 3)
norm = layers.BatchNormalization()
print("largest change a bias of 5 makes after batch norm:",
      float(tf.reduce_max(tf.abs(norm(bias_demo + 5.0, training=True) - norm(bias_demo, training=True)))))

# %% [markdown]
# <a id="std-not-variance"></a>
# ### Initial weights: standard deviation 0.02, not variance
#
# Every weight starts from a random value, its **[initialisation](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#weight-initialisation)**. Keras's default, **[Glorot](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#glorot-initialisation) uniform**, draws
# from $\pm\sqrt{6 / (n_\text{in} + n_\text{out})}$. The GAN papers draw from $\mathcal{N}(0, 0.02^2)$:
# **standard deviation** 0.02. The second number of $\mathcal{N}(\mu, \sigma^2)$ is the variance, here
# 0.0004; Keras's `RandomNormal(stddev=0.02)` takes the standard deviation.

# %%
w = keras.initializers.RandomNormal(mean=0.0, stddev=0.02, seed=cfg.seed)((256, 256)).numpy()
print(f"RandomNormal(stddev=0.02): measured std {w.std():.4f}, variance {w.var():.6f}")

# %% [markdown]
# ### LeakyReLU
#
# $x$ for $x > 0$, $a\,x$ otherwise ($a = 0.3$ here): unlike ReLU it always passes some gradient, and
# $G$ learns *only* from the gradient that flows back through $D$.

# %%
print("x              ", np.array([-2.0, -0.5, 0.0, 0.5, 2.0]))
print("ReLU(x)        ", keras.ops.relu(np.array([-2.0, -0.5, 0.0, 0.5, 2.0])).numpy())
print("LeakyReLU(x)   ", layers.LeakyReLU(negative_slope=0.3)(np.array([-2.0, -0.5, 0.0, 0.5, 2.0])).numpy())

# %% [markdown]
# ### Your turn 3: the generator
#
# Build `build_generator(latent_dim, filters)`, returning a `keras.Model`. `filters` is the width of
# the $7 \times 7$ stage; the next two transposed convolutions halve it, the last outputs one channel.
# With `filters=256`:
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
# `layers.Reshape` and `layers.Conv2DTranspose` (kernel 5, `padding="same"`); no biases where batch norm
# follows, nor in the last layer.

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
# The check compares yours with `models.dcgan_generator`: shapes, layers, parameters, and the images
# both make with the same weights.

# %%
build_generator = course.exercises.check("01.build_generator", build_generator)

# %% [markdown]
# At the tutorial's width, one line per layer:

# %%
generator = build_generator(cfg.latent_dim)   # the tutorial's full width, to look at first

def show_layers(model):
    """One line per layer: its output shape and its number of weights."""
    for layer in model.layers:
        print(f"{layer.name:28s} {str(layer.output.shape):22s} {layer.count_params():>10,}")
    print(f"{'total':51s} {model.count_params():>10,}")

show_layers(generator)
assert generator.count_params() == models.dcgan_generator().count_params()

# %% [markdown]
# The network we train has the profile's width. Untrained, it makes faint mid-grey noise:

# %%
generator = build_generator(cfg.latent_dim, filters=cfg.generator_filters)
print(f"the generator we train: {cfg.generator_filters} filters, {generator.count_params():,} parameters")
noise = tf.random.normal([8, cfg.latent_dim])           # (8, 100)
untrained_images = generator(noise, training=False)      # (8, 28, 28, 1)
print("shape", untrained_images.shape, "| range", float(tf.reduce_min(untrained_images)),
      "to", float(tf.reduce_max(untrained_images)))
course.plotting.show_images(untrained_images, ncols=8, size=1.3, suptitle="An untrained generator's images")
plt.show()

# %% [markdown]
# ## 7. The discriminator
#
# Two strided convolutions ($28 \to 14 \to 7$) with LeakyReLU and dropout, then one `Dense` unit: the
# logit. **[Dropout](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dropout)** ([Srivastava et al. 2014](https://jmlr.org/papers/v15/srivastava14a.html)) zeroes each activation with probability 0.3 in training and
# scales the survivors by $1 / 0.7$; at inference it does nothing. It keeps $D$ from memorising.

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
assert discriminator.count_params() == models.dcgan_discriminator().count_params()

# %% [markdown]
# A demonstration: the same checker confirms this is the course's `models.dcgan_discriminator`.

# %%
course.checkers.check_model_builder(
    lambda x: build_discriminator()(x), lambda x: models.dcgan_discriminator()(x),
    input_shapes=[(28, 28, 1)], name="build_discriminator",
    hint="Compare your layers with the description above: the two convolutions' widths, kernels and strides, "
         "what follows each of them, and what the last layer outputs.")

# %% [markdown]
# Untrained, $D$ says $\approx 0.5$ to everything:

# %%
print("D(untrained fakes) =", tf.sigmoid(discriminator(untrained_images, training=False))[:, 0].numpy().round(3))
discriminator = build_discriminator(filters=cfg.discriminator_filters)   # the profile's width (64; smoke 16)

# %% [markdown]
# ## 8. The data
#
# Batches scaled to $[-1, 1]$ like the $\tanh$: MNIST on a GPU, 3,000 shipped digits in the
# [smoke profile](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#smoke-profile). `drop_remainder=True` keeps every batch the same size.

# %%
dataset = data.load_digits(source=cfg.dataset, batch_size=cfg.batch_size,
                           num_examples=cfg.num_examples, seed=cfg.seed)
steps_per_epoch = cfg.steps_per_epoch or int(dataset.cardinality())
real_batch = next(iter(dataset))                          # (batch, 28, 28, 1) in [-1, 1]
print(f"{cfg.dataset}: batches of {tuple(real_batch.shape)}, values in "
      f"[{float(tf.reduce_min(real_batch)):.0f}, {float(tf.reduce_max(real_batch)):.0f}], "
      f"{steps_per_epoch} steps per epoch")
course.plotting.show_images(real_batch[:16], ncols=8, size=1.3, suptitle=f"Real digits ({cfg.dataset})")
plt.show()

# %% [markdown]
# ## 9. The training step: two tapes, two optimizers
#
# Each network has its **own optimizer** and learns only from its own loss. One step: $G$ makes fakes;
# $D$ scores real and fake images; each optimizer steps on the gradient of its own loss with respect to
# its own weights ($G$'s gradient flows *through* $D$, whose weights stay put).
#
# This update is **[simultaneous](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#simultaneous-update)**: both gradients come from one forward pass, as in the TensorFlow
# tutorial. Goodfellow et al.'s algorithm **[alternates](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#alternating-update)**: $D$ steps, then $G$ steps against the updated
# $D$ with fresh noise. They are different algorithms; the course uses the simultaneous one.

# %% [markdown]
# ### Your turn 4: the training step
#
# Write one simultaneous step, `gan_train_step(generator, discriminator, g_optimizer, d_optimizer,
# real, noise)`. The players and the noise come in as arguments, so it trains the digits and the ring,
# and the checker can feed it the course's noise.
#
# - Record the forward pass with **two** `tf.GradientTape`s, one per player (`with A as a, B as b:`).
# - Use your `discriminator_loss` and `generator_loss`.
# - After the block, `tape.gradient(loss, variables)` with a network's `trainable_variables`, then
#   `optimizer.apply_gradients(zip(grads, variables))`.
# - Call the networks as they should be called while they learn.
# - Return `{"d_loss": ..., "g_loss": ...}`.

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
# The check updates two **twin** player sets (same weights, no dropout), one with your step, one with the
# course's, for three steps, and compares losses and weights after each.

# %%
gan_train_step = course.exercises.check("01.train_step", gan_train_step)

# %% [markdown]
# The loop calls a step with a batch and noise only, so we bind the players once:

# %%
def make_train_step(generator, discriminator, g_optimizer, d_optimizer):
    """Your gan_train_step with its players bound: returns step(real, noise)."""
    def train_step(real, noise):                      # real (b, ...), noise (b, latent_dim)
        return gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise)
    return train_step

# %% [markdown]
# [`tf.function`](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#tffunction) traces the step once into a graph that runs without the Python interpreter (a new input
# *shape* traces again). **[Adam](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam)** ([Kingma & Ba 2015](https://arxiv.org/abs/1412.6980)) steps along a running average of recent gradients divided
# by their recent size, so its steps have about the same size whether gradients are large or small;
# **[$\beta_1$](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam-beta_1)** sets how long the average remembers (0.9: about 10 steps; 0.5: about 2).

# %%
g_optimizer = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)   # Radford et al.: 2e-4, beta_1 0.5
d_optimizer = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)
train_step = tf.function(make_train_step(generator, discriminator, g_optimizer, d_optimizer))

# %% [markdown]
# `train.GAN` packs the same step into a `keras.Model`, so `fit()`, callbacks and [checkpoints](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkpoint) work
# (lesson 04). A demonstration: its first update equals yours on twins.

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
course.checkers.check_same_update(lambda *p: gan_train_step(*p, check_real, same_noise), one_fit_step,
                           players, name="your step vs train.GAN")

# %% [markdown]
# ## 10. Training the DCGAN
#
# A **fixed noise vector** goes through $G$ after every epoch, showing how the same 16 samples change.
# On a GPU the cell prints its step time after 100 steps and the projected finish. The smoke profile
# learns at batch 32 and twice Radford et al.'s rate, to draw digits within CPU minutes.

# %%
fixed_noise = tf.random.normal([16, cfg.latent_dim], seed=cfg.seed)   # (16, 100), reused every epoch
snapshots = {0: generator(fixed_noise, training=False).numpy()}       # epoch -> (16, 28, 28, 1)
history = {"step": [], "d_loss": [], "g_loss": []}
shutil.rmtree(OUT / "samples", ignore_errors=True)                     # start every run clean
(OUT / "samples").mkdir()

def save_grid(images, epoch):
    fig = course.plotting.show_images(images, ncols=4, size=1.2, suptitle=f"epoch {epoch}")
    fig.savefig(OUT / "samples" / f"epoch_{epoch:03d}.png", dpi=60)
    plt.close(fig)

save_grid(snapshots[0], 0)
pace = course.costs.Pace(cfg.epochs * steps_per_epoch, name="DCGAN")   # on a GPU: step time and finish after 100 steps
start = time.time()
step = 0
with tqdm(total=cfg.epochs * steps_per_epoch, desc="DCGAN") as bar:
    for epoch in range(1, cfg.epochs + 1):
        for real in dataset.take(steps_per_epoch):
            noise = tf.random.normal([tf.shape(real)[0], cfg.latent_dim])   # (b, 100)
            logs = train_step(real, noise)
            pace.step()
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
# Each row is one epoch, each column one fixed noise vector: read down a column to follow one sample.

# %%
shown = sorted(set(np.linspace(0, cfg.epochs, min(cfg.epochs + 1, 6)).round().astype(int)))
course.plotting.plot_labelled_rows({f"epoch {epoch}": snapshots[epoch] for epoch in shown},   # each (8, 28, 28, 1)
                            ncols=8, suptitle="The same 8 noise vectors after each epoch")
plt.show()

# %% [markdown]
# The grids were saved as PNG files: browse them with the slider, or keep them as an animated GIF.

# %%
course.widgets.sample_browser(OUT / "samples", image_width="300px")

# %%
gif = course.plotting.make_training_gif(OUT / "samples", OUT / "training.gif", seconds_per_frame=0.4)
display(Image(filename=str(gif)))

# %% [markdown]
# ### Loss curves
#
# The two losses measure the players **against each other**: when $G$ improves, $\mathcal{L}_D$ goes
# *up*. Healthy training wobbles around a level. $\mathcal{L}_D$ near 0 with $\mathcal{L}_G$ climbing
# means $D$ has won.

# %%
course.plotting.plot_loss_history(history, keys=["d_loss", "g_loss"], smoothing=0.9)
plt.axhline(2 * np.log(2), color="C0", linestyle=":", linewidth=1)
plt.axhline(np.log(2), color="C1", linestyle=":", linewidth=1)
plt.text(step, 2 * np.log(2), "2 log 2 (D guesses)", color="C0", fontsize=8, ha="right", va="bottom")
plt.text(step, np.log(2), "log 2", color="C1", fontsize=8, ha="right", va="bottom")
plt.show()

# %% [markdown]
# ### Why the losses alone do not tell you quality
#
# At the optimum $D = \tfrac12$, so $\mathcal{L}_D = 2\log 2$, $\mathcal{L}_G = \log 2$. An **untrained**
# $D$ also says $\tfrac12$ to everything: against it, noise and real digits score alike. Measured:

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
noise_row, perfect_row = measured["untrained G vs untrained D"], measured["'perfect' G (real digits) vs untrained D"]
print(f"noise vs real digits against the untrained D: the losses differ by {abs(noise_row[0] - perfect_row[0]):.3f} "
      f"(D) and {abs(noise_row[1] - perfect_row[1]):.3f} (G)")
course.plotting.plot_labelled_rows({f"{name}:  D loss {measured[name][0]:.3f},  G loss {measured[name][1]:.3f}": fakes
                             for name, (d, fakes) in rows.items()}, ncols=8)
plt.show()

# %% [markdown]
# So judge a GAN by **looking at samples** (later: L1, [PSNR](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#psnr), [SSIM](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#ssim) against targets); the loss curves
# spot a broken run, they do not rank runs.

# %% [markdown]
# ### Counting recognisable digits
#
# A **judge**, a small digit classifier trained on real digits, counts a sample as recognisable when one
# class gets probability $\ge 0.9$, and says which digit. Baseline: the untrained generator. **Ceiling**:
# held-out real digits. On MNIST the lesson trains the judge first (a GPU minute).

# %%
if cfg.dataset == "shipped":
    judge_nets, judge_entry = course.results.load_reference("digit_classifier")
    judge, judge_accuracy = judge_nets["classifier"], judge_entry["metrics"]["test_accuracy"]
else:
    judge = course.results.train_digit_classifier(epochs=cfg.judge_epochs, steps_per_epoch=cfg.judge_steps_per_epoch,
                                           source=cfg.dataset, verbose=2)
    judge_accuracy = course.results.digit_test_accuracy(judge, source=cfg.dataset)
print(f"the judge: {judge.count_params():,} parameters, {judge_accuracy:.1%} right on held-out real digits")
course.config.expect_quality(judge_accuracy >= 0.97, "the judge is right on at least 97% of held-out real digits")
real_digits, _ = data.load_digits_arrays(cfg.dataset)                     # uint8 (N, 28, 28)
ceiling = course.results.digit_sample_scores(judge, real_digits[-course.results.DIGIT_TEST:, ..., None] / 127.5 - 1)
print(f"the ceiling: {ceiling['confident']:.1%} of those real digits are recognisable "
      f"(p >= {course.results.DIGIT_CONFIDENCE}), {ceiling['classes']} of 10 digits")

judged = course.results.dcgan_results(generator, judge, untrained=untrained_g)   # 1,000 fixed noise vectors
for name, score in judged.items():
    print(f"{name:>9}: {score['confident']:6.1%} recognisable, {score['classes']:2d} of 10 digits, "
          f"count per digit {score['histogram']}")
course.config.expect_quality(judged["generator"]["confident"] > judged["untrained"]["confident"],
                      "training made digits: more recognisable than the untrained generator's")

# %% [markdown]
# The course ships a **reference** DCGAN trained much longer on the shipped digits, with [one-sided label smoothing](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#one-sided-label-smoothing)
# (real label 0.9; see the going-further notebook). Its settings and scores, beside yours:

# %%
reference_nets, reference = course.results.load_reference("dcgan")
reference_samples = reference_nets["generator"].predict(course.results.digit_noise(), verbose=0)   # (1000, 28, 28, 1)
ref_score = course.results.digit_sample_scores(judge, reference_samples)
reference_label = reference["settings"].get("real_label", 1.0)      # the discriminator's target on real digits
reference_width = reference["settings"]["discriminator_filters"]
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
course.plotting.show_images(reference_samples[:16], ncols=8, size=1.1, suptitle="Reference DCGAN samples")
plt.show()

# %% [markdown]
# ## 12. Mode collapse on a ring of eight Gaussians
#
# A generator that draws perfect 1s and nothing else fools $D$ for a while. This is **[mode collapse](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#mode-collapse)**: it
# covers a few of the data's **modes**, or hops between them as $D$ catches up. A ring of 8 Gaussians
# (radius 2, standard deviation 0.02; [Metz et al. 2017](https://arxiv.org/abs/1611.02163)) makes it countable, with small MLPs trained
# by your `make_train_step`.

# %%
ring_centres = course.ring.ring_centers()                         # (8, 2) on a circle of radius 2
RING_STD = 0.02
ring_real = course.ring.ring_of_gaussians(2500, std=RING_STD, seed=cfg.seed)   # (2500, 2)
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(*ring_real.T, s=2, color="grey")
ax.scatter(*ring_centres.T, marker="x", color="red")
ax.set_aspect("equal")
ax.set_title("The data: 8 modes on a ring")
plt.show()

# %% [markdown]
# Following [Srivastava et al. (2017)](https://arxiv.org/abs/1705.07761) and [Lin et al. (2018)](https://arxiv.org/abs/1712.04086): of 2,500 samples, one within $3\sigma$ of
# a mode's centre is **high quality**; a mode with at least 20 of them is **covered**. Three known cases
# first: real samples, all points on one centre, uniform points.

# %%
collapsed = np.repeat(ring_centres[:1], 2500, axis=0)                           # (2500, 2) all on mode 0
spread_out = np.random.default_rng(cfg.seed).uniform(-3, 3, size=(2500, 2))      # (2500, 2) no structure
sanity = {"real ring samples": course.metrics.mode_coverage(ring_real, ring_centres, RING_STD),
          "all points on one centre": course.metrics.mode_coverage(collapsed, ring_centres, RING_STD),
          "uniform over the square": course.metrics.mode_coverage(spread_out, ring_centres, RING_STD)}
for name, cov in sanity.items():
    print(f"{name:26s} {cov}")
assert sanity["real ring samples"].modes_covered == 8 and sanity["real ring samples"].high_quality_rate > 0.97
assert sanity["all points on one centre"].modes_covered == 1
assert sanity["uniform over the square"].modes_covered == 0 and sanity["uniform over the square"].high_quality_rate < 0.02
print("✅ the counter scores the known cases as expected")

# %% [markdown]
# ### Two runs that differ in one thing
#
# Same seed, data, step and schedule (Adam, learning rate $10^{-3}$ falling to $10^{-4}$):
#
# - **plain**: $D$ judges one point at a time;
# - **packed**: $D$ judges **two points at once**, joined into 4 numbers (PacGAN, Lin et al. 2018).
#
# One point of a collapsed generator looks real; a pair from one mode gives it away (two real points
# share a mode only 1 time in 8), so a packed $D$ can punish a lack of variety.

# %%

six_points = np.arange(12, dtype="float32").reshape(6, 2)    # (6, 2): points (0, 1), (2, 3), ...
print(course.layers.PackSamples(2)(six_points).numpy())                      # (3, 4): points 0+1, 2+3, 4+5
packed_d = models.mlp_discriminator(pack=2)
print("packed discriminator:", packed_d(six_points).shape, "logits for 6 points")   # (3, 1)

# %% [markdown]
# Each run trains fresh networks and snapshots 2,500 samples from fixed noise. On a GPU: three seeds.

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
    real_points = course.ring.ring_of_gaussians(cfg.ring_steps * cfg.ring_batch_size, std=RING_STD,
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
# The last snapshot of each setting (covered modes green, missed red):

# %%
fig, axes = plt.subplots(1, len(RING_SETTINGS), figsize=(5 * len(RING_SETTINGS), 5))
for ax, name in zip(axes, RING_SETTINGS):
    snaps = ring_runs[(name, RING_SEEDS[0])]
    cov = course.metrics.mode_coverage(snaps[max(snaps)], ring_centres, RING_STD)
    course.ring.plot_ring_samples(snaps[max(snaps)], ring_centres, RING_STD, real=ring_real, ax=ax,
                               title=f"{name}, seed {RING_SEEDS[0]}, step {max(snaps)}\n"
                                     f"{cov.modes_covered}/8 modes covered, {100 * cov.high_quality_rate:.0f}% HQ")
    ax.set_xlim(-3, 3); ax.set_ylim(-3, 3)
plt.show()

print(f"{'real ring samples (baseline)':32s} {sanity['real ring samples']}")
for (name, seed), snaps in ring_runs.items():
    print(f"{name + ', seed ' + str(seed):32s} {course.metrics.mode_coverage(snaps[max(snaps)], ring_centres, RING_STD)}")

# %% [markdown]
# How each run got there, one row per run (red crosses: the modes; grey: the data).

# %%
course.ring.plot_ring_runs({f"{name}, seed {seed}": run for (name, seed), run in ring_runs.items()},
                    ring_centres, RING_STD, real=ring_real)
plt.show()

# %% [markdown]
# A tight clump 0.1 from a mode counts as nothing, so we also count modes **visited**: a mode that is
# the nearest for at least 5% of the samples.

# %%
VISIT_SHARE = 0.05

def modes_visited(points):
    """Modes that get at least VISIT_SHARE of the samples, however far the samples lie."""
    return course.metrics.mode_coverage(points, ring_centres, RING_STD, threshold=np.inf,
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
    strict = [course.metrics.mode_coverage(points, ring_centres, RING_STD) for points in run.values()]
    loose = [modes_visited(points) for points in run.values()]
    print(f"{name + ', seed ' + str(seed):16s}"
          + "".join(f"{f'{c.modes_covered}/{l.modes_covered}/{100 * c.high_quality_rate:.0f}%':>15}"
                    for c, l in zip(strict, loose)))
    print(f"{'':16s}at the end: {verdict(strict[-1], loose[-1])}")

# %% [markdown]
# Reading the counts: one to three modes visited, changing between snapshots, is collapse with mode
# hopping ($D$ rejects the clump's place, $G$ moves the clump). All 8 visited, more covered over time:
# $G$ has spread over the ring. Compare settings over several seeds, never one run.

# %% [markdown]
# ## Lab: does the saturating loss starve the generator?
#
# Section 5 argued: if $D$ gives a fake probability $d$ of being real, the saturating loss's gradient is
# $d / (1 - d)$ times the non-saturating one's. Measure it on the plain ring GAN, three seeds, both losses
# from the same weights and data, with **plain SGD** (step = learning rate × gradient) and with
# section 12's **Adam**: the generator's gradient norm over the first steps, then the modes covered.
#
# Predict first: under plain SGD, over the first steps, which loss gives the generator the larger
# gradient: `"non-saturating"`, `"saturating"` or `"the same"`?

# %%
PREDICTION = None  # your guess: "non-saturating", "saturating" or "the same"

# %% [markdown]
# The saturating loss is $\log(1 - \sigma(\ell)) = -\operatorname{softplus}(\ell)$ (`labs.gan.saturating_generator_loss`).
# The cell trains the 12 runs and reads the longer run the course ships (more seeds, longer runs).

# %%
from course_utils.lessons.labs import gan as gan_lab

lab_plan = gan_lab.lab_plan(cfg)                      # 3 seeds; steps per run, first steps compared
print(lab_plan)
lab_result = gan_lab.run_lab(lab_plan)               # {"plan", "runs": one row per optimizer, seed and loss}
longer_run = gan_lab.load_longer_run()

# %% [markdown]
# Gradient norms over the first steps (log scale): your run, then the longer run.

# %%
gan_lab.plot_gradient_norms(lab_result, title="Your run: the generator's gradient norm")
plt.show()
gan_lab.plot_gradient_norms(longer_run, title="The shipped longer run: the generator's gradient norm")
plt.show()

# %% [markdown]
# Your prediction beside the measurements, in sentences generated from both runs' numbers:

# %%
for sentence in gan_lab.conclusion(PREDICTION, lab_result, longer_run):
    print("-", sentence)

# %% [markdown]
# Goodfellow et al. (2014, section 3) argue about plain gradient steps early in training; they report no
# runs. The course keeps the non-saturating loss, as the DCGAN, Pix2Pix and CycleGAN papers do. More in
# [01_gan_basics_further](01_gan_basics_further.ipynb).

# %% [markdown]
# ## Check yourself
#
# **1.** What goes wrong if you pass probabilities (after a sigmoid) to `bce_from_logits`?
#
# <details><summary>Answer</summary>
#
# The sigmoid is applied twice: $[0, 1]$ becomes $[0.5, 0.73]$, so even a perfect $D$ keeps a large loss, and the gradients shrink.
#
# </details>
#
# **2.** $D$ rejects a fake with logit $\ell = -6$. How much larger is $G$'s gradient with the non-saturating loss than with the minimax one?
#
# <details><summary>Answer</summary>
#
# $-\sigma(\ell) \approx -0.0025$ against $\sigma(\ell) - 1 \approx -1$: about 400 times.
#
# </details>
#
# **3.** Dropout with $p = 0.3$: what happens to a surviving activation in training, and at inference?
#
# <details><summary>Answer</summary>
#
# In training it is multiplied by $1 / 0.7 \approx 1.43$, keeping its expected value; at inference dropout does nothing.
#
# </details>
#
# **4.** Why `drop_remainder=True`?
#
# <details><summary>Answer</summary>
#
# Every batch has the same shape, so the `tf.function` step is traced once.
#
# </details>
#
# **5.** $\mathcal{L}_D$ falls near 0 while $\mathcal{L}_G$ rises. Is $G$ learning? What do you look at?
#
# <details><summary>Answer</summary>
#
# The losses cannot tell. Look at the fixed-noise samples, and check they cover every digit.
#
# </details>

# %% [markdown]
# ## Summary
#
# - A GAN learns a sampler through the game $\min_G \max_D V(D, G)$.
# - Both losses are BCEs from logits; $G$ puts the "real" label on its fakes (non-saturating).
# - One step: two `GradientTape`s, two optimizers, under `tf.function`.
# - The DCGAN: transposed convolutions with batch norm (no bias before it), $\tanh$ out; a strided
#   convolutional $D$ that outputs a logit; weights from $\mathcal{N}(0, 0.02^2)$.
# - Judge a GAN by its samples, and check that it covers every mode.
#
# **Next:** lesson 02 gives the generator an input image instead of noise: Pix2Pix.

# %% [markdown]
# ## Further reading
#
# Goodfellow et al. (2014), [arXiv:1406.2661](https://arxiv.org/abs/1406.2661); Radford et al. (2016), [arXiv:1511.06434](https://arxiv.org/abs/1511.06434);
# the TensorFlow [DCGAN tutorial](https://www.tensorflow.org/tutorials/generative/dcgan); more in the going-further notebook.

