# %% [markdown]
# # 02 Pix2Pix, going further
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/02_pix2pix_further.ipynb)
#
# Optional reading for [lesson 02](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/02_pix2pix.ipynb): the reasons and studies behind some of its
# choices, and the paper's two other ablations. There are no exercises; each section stands on its own.

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
cfg = course.runtime.start_lesson(course.config.Pix2PixConfig)   # this profile's settings, the GPU check, the seeds

# %%
import numpy as np
import tensorflow as tf
import keras
from keras import layers

from course_utils import losses, metrics, models
from course_utils.lessons.labs import pix2pix as pix2pix_lab

# %% [markdown]
# ## 1. Why the first block has no batch norm
#
# Isola et al. (2017, appendix 6.1) leave batch norm out of the first block of the U-Net's encoder and
# of the PatchGAN, without testing the choice. The nearest evidence is DCGAN's
# ([Radford et al. 2016](https://arxiv.org/abs/1511.06434), section 3): batch norm on every layer made
# the samples oscillate and training unstable, and leaving it out of the generator's output layer and
# the discriminator's input layer avoided that. Neither paper tests the first layer on its own: read it
# as the recipe that worked for the authors, not as a measured rule.

# %% [markdown]
# ## 2. Batch norm at a 1x1 bottleneck, at batch size 1
#
# The lesson's U-Net has no batch norm at its 1x1 bottleneck, like the paper's code; the TensorFlow
# tutorial keeps one. In training mode, at batch size 1, a 1x1 map holds a single value per channel:
# batch norm subtracts it as the channel's mean and is left with its learned offset $\beta$, whatever
# the image. Two different inputs, the same output:

# %%
norm = layers.BatchNormalization()
norm.build((1, 1, 1, 4))
norm.beta.assign([0.1, -0.2, 0.3, 0.0])                       # the learned offset, set by hand here
for seed in (0, 1):
    x = tf.random.normal((1, 1, 1, 4), seed=seed)               # one image's 1x1 bottleneck, 4 channels
    y = norm(x, training=True)
    print("input", np.round(x.numpy().ravel(), 2), "-> output", np.round(y.numpy().ravel(), 3))
    np.testing.assert_allclose(y.numpy().ravel(), norm.beta.numpy(), atol=1e-4)
print("the output is beta for every image: nothing about the image passes this layer in training")

# %% [markdown]
# In training, such a generator gets nothing through its bottleneck and works from the skips alone; at
# test time Keras's `training=False` switches to running averages, which describe no image; the
# tutorial evaluates with `training=True`, which avoids them. [docs/results.md](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/results.md) ("One inference
# convention") records what both variants gave on the shipped set in both modes, with the command.

# %% [markdown]
# ## 3. Simultaneous or alternating update
#
# The lesson's step (like the TensorFlow tutorial's) takes both players' gradients from one forward
# pass: $G$'s gradient flows through $D$ as it was *before* this step's update, a
# [simultaneous update](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#simultaneous-update). Goodfellow et al. (2014, algorithm 1) and the pix2pix
# code [alternate](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#alternating-update): update $D$, run the updated $D$ again and update $G$ from its
# verdict, at the cost of one more pass through $D$. On twin small networks, one batch and the
# adversarial term alone ($\lambda = 0$, the only part of $G$'s loss that sees $D$), $G$'s gradient
# both ways:

# %%
x, y = course.results.paired_split("train", 32)
x, y = tf.constant(x[:4]), tf.constant(y[:4])                  # (4, 32, 32, 3) each
keras.utils.set_random_seed(0)
gen = models.unet_generator(32, filters=4, dropout=0.0)          # no dropout: nothing random
disc = models.patchgan_discriminator(32, filters=4, n_downsampling=2)


def generator_gradient(d):
    with tf.GradientTape() as tape:
        fake = gen(x, training=True)
        adversarial = losses.pix2pix_generator_loss(d([x, fake], training=True), fake, y, l1_weight=0.0)[0]
    return tf.concat([tf.reshape(g, [-1]) for g in tape.gradient(adversarial, gen.trainable_variables)], 0)


simultaneous = generator_gradient(disc)                          # through D before its update
with tf.GradientTape() as tape:                                  # D's step, as both versions take it
    fake = gen(x, training=True)
    d_loss = losses.discriminator_loss(disc([x, y], training=True), disc([x, fake], training=True), halve=True)
keras.optimizers.Adam(2e-4, beta_1=0.5).apply_gradients(zip(tape.gradient(d_loss, disc.trainable_variables),
                                                             disc.trainable_variables))
alternating = generator_gradient(disc)                           # through D after its update
change = float(tf.norm(alternating - simultaneous) / tf.norm(simultaneous))
cosine = float(tf.reduce_sum(alternating * simultaneous) / (tf.norm(alternating) * tf.norm(simultaneous)))
print(f"G's adversarial gradient, alternating vs simultaneous: relative change {change:.3f}, cosine {cosine:.3f}")

# %% [markdown]
# The discriminator's step is the same both ways; the generator's is not, so the two algorithms end
# each step with different generators. The course does not measure what that changes over a whole run.

# %% [markdown]
# ## 4. SSIM by hand
#
# [SSIM](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#ssim) ([Wang et al. 2004](https://doi.org/10.1109/TIP.2003.819861)) compares two images
# window by window. In each window, weighted by an 11x11 Gaussian with $\sigma = 1.5$, it takes the
# local means $\mu_x, \mu_y$, standard deviations $\sigma_x, \sigma_y$ and covariance $\sigma_{xy}$,
# and multiplies three agreements:
#
# $$\text{SSIM} = \underbrace{\frac{2\mu_x\mu_y + C_1}{\mu_x^2 + \mu_y^2 + C_1}}_{\text{luminance}}
# \cdot \underbrace{\frac{2\sigma_x\sigma_y + C_2}{\sigma_x^2 + \sigma_y^2 + C_2}}_{\text{contrast}}
# \cdot \underbrace{\frac{\sigma_{xy} + C_3}{\sigma_x\sigma_y + C_3}}_{\text{structure}}
# = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}{(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}$$
#
# with $C_3 = C_2 / 2$ (which gives the compact form), $C_1 = (0.01\,L)^2$ and $C_2 = (0.03\,L)^2$ for a
# value range $L$: small constants that keep flat, dark windows from dividing by zero. `metrics.ssim`
# maps images to $[0, 1]$ ($L = 1$) and averages the map over windows, channels and images. The same by
# hand, with NumPy, on a validation pair and a blurred copy of its target:

# %%
def ssim_by_hand(a, b, size=11, sigma=1.5, k1=0.01, k2=0.03):
    """SSIM of two (H, W, C) images in [0, 1]: the compact form, Gaussian windows fully inside the image."""
    t = np.arange(size) - size // 2
    g = np.exp(-t**2 / (2 * sigma**2))
    window = np.outer(g, g) / np.outer(g, g).sum()                   # (11, 11), sums to 1

    def local_mean(img):                                             # (H, W, C) -> (H-10, W-10, C)
        patches = np.lib.stride_tricks.sliding_window_view(img, (size, size), axis=(0, 1))
        return np.einsum("hwcij,ij->hwc", patches, window)

    c1, c2 = k1**2, k2**2
    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a = local_mean(a * a) - mu_a**2
    var_b = local_mean(b * b) - mu_b**2
    cov = local_mean(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())


val_x, val_y = course.results.paired_split("val", 64)
target = val_y[0]                                                # (64, 64, 3) in [-1, 1]
blurred = tf.nn.avg_pool2d(target[None], 3, 1, "SAME")[0].numpy()
for name, image in [("the target itself", target), ("the target, blurred 3x3", blurred)]:
    mine = ssim_by_hand((image + 1) / 2, (target + 1) / 2)
    print(f"{name:>24}: by hand {mine:.4f}, metrics.ssim {metrics.ssim(image, target):.4f}")
    assert abs(mine - metrics.ssim(image, target)) < 1e-3

# %% [markdown]
# ## 5. The paper's other two ablations
#
# Isola et al. (2017) also asked which generator (fig. 5) and which patch size for the discriminator
# (table 3, fig. 6). The lesson's lab module trains both at the same small scale as the lesson's lab
# (`pix2pix_lab.SMOKE`), sharing the cGAN + L1 U-Net with a 70x70-style patch between them:
#
# - **U-Net or encoder-decoder**: the same generator without its skips
#   (`pix2pix_lab.encoder_decoder_generator`), so everything passes the 1x1 bottleneck. The paper reports
#   that the encoder-decoder fails to give realistic images and that L1 + cGAN does not rescue it.
# - **patch size**: the paper's 1x1, 16x16, 70x70 and 286x286 (the whole image) at 256 px, scaled to the
#   same fractions of the image side at 32 px. The paper reports no spatial sharpness from 1x1 but more
#   colour, tiling from 16x16, its best score from 70x70, and no gain from the whole image.
#
# The fields, computed from the networks:

# %%
size = pix2pix_lab.SMOKE["image_size"]
for patch, (paper_field, _) in pix2pix_lab.PATCHES.items():
    field = pix2pix_lab.receptive_field(pix2pix_lab.patch_discriminator(size, patch, 4))
    print(f"{patch:>12}: paper {paper_field:>3}/256 = {paper_field / 256:.2f} of the side | "
          f"here {field:>2}/{size} = {field / size:.2f}")

# %% [markdown]
# **Predict** for each: which generator ends closest to the targets (lowest L1)? Which patch size gives
# the blurriest images (lowest sharpness)?

# %%
PREDICTION_GENERATOR = None  # your guess: "U-Net" or "encoder-decoder"
PREDICTION_PATCH = None      # your guess: "1x1", "16x16", "70x70" or "whole image"

# %% [markdown]
# On a GPU the five variants train in a few minutes. On a CPU, set `RUN_LABS = True` to train them
# (several minutes); otherwise only the course's longer run is compared.

# %%
RUN_LABS = not cfg.is_smoke
longer = pix2pix_lab.load_results(missing_ok=True)               # the shipped longer run
lab_run = None
if RUN_LABS:
    scale = course.config.cut_lab_scale(pix2pix_lab.SMOKE)
    lab_run = pix2pix_lab.run_lab(pix2pix_lab.LABS["generator"], **scale)
    lab_run = pix2pix_lab.run_lab(pix2pix_lab.LABS["patch"], **scale, previous=lab_run)
for lab in ("generator", "patch"):
    print(f"--- {lab}")
    pix2pix_lab.print_lab(lab, lab_run, longer)

# %% [markdown]
# Your predictions against the runs, in sentences computed from their figures:

# %%
for lab, prediction in [("generator", PREDICTION_GENERATOR), ("patch", PREDICTION_PATCH)]:
    print(f"--- {lab}")
    print("\n".join(pix2pix_lab.conclusion(prediction, lab_run, longer, lab=lab)))

# %% [markdown]
# One row of validation pictures per variant, when you ran the labs:

# %%
if lab_run is not None:
    fig = pix2pix_lab.picture_rows("generator", lab_run)
    fig = pix2pix_lab.picture_rows("patch", lab_run)
else:
    print("no run here (RUN_LABS is False): the pictures need one")

# %% [markdown]
# ## 6. Where to go next
#
# - Wang et al. (2018), *pix2pixHD*, [arXiv:1711.11585](https://arxiv.org/abs/1711.11585): Pix2Pix at
#   2048x1024, with multi-scale discriminators.
# - Park et al. (2019), *SPADE*, [arXiv:1903.07291](https://arxiv.org/abs/1903.07291): label maps to
#   photos, feeding the labels into every normalisation layer.
# - Zhu et al. (2017), *BicycleGAN*, [arXiv:1711.11586](https://arxiv.org/abs/1711.11586): many
#   plausible outputs for one input, where Pix2Pix gives one.
