# %% [markdown]
# # 02 Pix2Pix: translating one image into another
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/02_pix2pix.ipynb)
#
# By the end of this lesson you will be able to:
#
# - explain what a *conditional* GAN learns from aligned (input, target) pairs, and prepare such pairs
#   with the Pix2Pix input pipeline (split, resize, random crop, mirror, scale to [-1, 1]);
# - say why each design choice of the U-Net and the 70x70 PatchGAN is there (skip connections, dropout,
#   no batch norm on the first block, patch verdicts), read a PatchGAN's verdict map;
# - judge the translations by eye and with L1, PSNR, SSIM and a blur measure on held-out pairs, against
#   the mean image.
#
# **What you write** (each checked against the course's tested version before the lesson uses it):
#
# 1. `upsample_with_skip`: the U-Net's decoder block with its skip connection (section 4.2);
# 2. `build_unet`: the whole U-Net generator from your blocks (section 4.3);
# 3. `build_patchgan`: the PatchGAN discriminator that judges (input, output) pairs (section 5);
# 4. `receptive_field`: how much of the image one verdict sees (section 5.1);
# 5. `generator_loss`: the adversarial term plus $\lambda \cdot L_1$ (section 6);
# 6. `train_step`: one Pix2Pix training step with two `tf.GradientTape`s (section 7);
# 7. three predictions, before the labs of section 10 test them: which loss, which generator and which
#    patch size give the best translations.

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
cfg = runtime.start_lesson(config.Pix2PixConfig)   # the settings (smoke with COURSE_SMOKE=1), the GPU check, the seeds
from course_utils import costs
costs.print_estimate(cfg)   # what the full profile costs on a Colab T4: an estimate from FLOP counts

# %% [markdown]
# `cfg` holds every setting of this lesson. The *full* profile uses the paper's settings on the
# facades dataset (meant for a Colab GPU); the *smoke* profile (`COURSE_SMOKE=1`) runs the very
# same code on the small shipped dataset with smaller images, fewer filters and far fewer steps, so
# it finishes in minutes on a laptop CPU. The cell below prints this run's settings.
#
# The small shipped datasets live in the repository's `data/` folder and travel inside the
# installed package, so `config.data_dir()` finds them on Colab too, with nothing to download.

# %%
print(f"profile: {'smoke' if cfg.is_smoke else 'full'} | dataset {cfg.dataset} | {cfg.image_size}x{cfg.image_size} px | "
      f"{cfg.filters} base filters | {cfg.steps:,} steps at batch size {cfg.batch_size}")

# %%
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
import keras
from keras import layers
from PIL import Image

from course_utils import archives, checkers, data, diagrams, exercises, inference, losses, metrics, models, plotting, results, runs, train, widgets
from course_utils.layers import conv_block

print("TensorFlow", tf.__version__, "| Keras", keras.__version__)
print("shipped paired set:", data.shipped_paired_path())

# %% [markdown]
# ## 1. Conditional GANs: learning a mapping from pairs
#
# The GAN of lesson 01 turned random noise $z$ into *some* realistic image. Many tasks want a
# *particular* output for a given input instead:
#
# - a black-and-white photo $\to$ the same photo in colour,
# - a label map (this region is a window, that one a wall) $\to$ a photo of a facade,
# - an edge drawing of a shoe $\to$ a photo of that shoe,
# - a daytime photo $\to$ the same place at night.
#
# [Isola et al. (2017)](https://arxiv.org/abs/1611.07004) showed that one recipe, **Pix2Pix**, handles all of these if we have *aligned
# pairs* $(x, y)$: an input image and the output we want for it, pixel for pixel. It is a
# **[conditional GAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#conditional-gan)**: both players see the input $x$.
#
# - The [generator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generator) $G$ gets $x$ and produces $G(x)$, an image of the same size.
# - The [discriminator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminator) $D$ gets a *pair* and decides whether it is a real pair $(x, y)$ or a
#   generated one $(x, G(x))$. Because it sees $x$ too, it can punish an output that looks
#   realistic but does not fit its input.
#
# There is no noise vector $z$: the paper found the generator learned to ignore it, and the only
# randomness left is [dropout](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dropout) inside $G$.
#
# The picture shows who sees what: $G$ turns the input into a fake, and $D$ gets the input
# together with either the real target or the fake, and answers with a grid of verdicts.

# %%
diagrams.conditional_gan_diagram();

# %% [markdown]
# ## 2. Paired datasets: input and target side by side in one file
#
# The Pix2Pix datasets store each pair as **one image twice as wide as high**: A on the left, B on
# the right (facades: a 256x512 JPEG with the photo on the left and its label map on the right).
# Keeping both halves in one file means they can never get out of step.
#
# The course ships a small set drawn by its own code, `label2scene`: a label map (sky, sun, clouds,
# ground, houses, trees in flat colours) beside the little scene it describes. Let us open one raw
# file, exactly as it lies on disk.

# %%
paired_root = data.shipped_paired_path()
raw_path = sorted((paired_root / "train").glob("*.jpg"))[0]
raw = np.asarray(Image.open(raw_path).convert("RGB"))   # (64, 128, 3) uint8
print(raw_path.relative_to(paired_root.parent), raw.shape, raw.dtype, f"values {raw.min()}..{raw.max()}")

fig, ax = plt.subplots(figsize=(6, 3.3))
ax.imshow(raw)
ax.axvline(raw.shape[1] / 2 - 0.5, color="yellow", linestyle="--")
ax.set_title("one raw file: A (label map) | B (scene)")
ax.set_xticks([0, raw.shape[1] // 2, raw.shape[1] - 1])
ax.set_yticks([0, raw.shape[0] - 1]);

# %% [markdown]
# Which half is the input is a choice. For `label2scene` we translate A $\to$ B (labels to scene:
# `direction="AtoB"`). The facades archive stores photo | labels, so labels $\to$ photo is
# `direction="BtoA"`; `archives.PIX2PIX_DATASETS` records the usual direction of each archive.

# %%
print({name: spec.direction for name, spec in archives.PIX2PIX_DATASETS.items()})

# %% [markdown]
# ## 3. The input pipeline, step by step
#
# Pix2Pix trains on few pairs (facades has 400), so it augments them with **random jitter**
# (Isola et al. 2017, section 6.2):
#
# 1. split the file into A and B;
# 2. scale the pixel values from $[0, 255]$ to $[-1, 1]$, the range of the generator's `tanh`;
# 3. resize both halves to 286x286;
# 4. cut a random 256x256 crop, **the same crop for both halves**, so the pair stays aligned;
# 5. mirror left-right with probability 1/2, again both halves together.
#
# Each step is a small function in `course_utils.data`; here they are, one at a time, on the file
# above. (The shipped images are 64x64, so step 3 enlarges them; the numbers are the paper's.)

# %%
LOAD, CROP = 286, 256                                    # the paper's sizes

image = data.normalize(tf.constant(raw))                 # (64, 128, 3) float32 in [-1, 1]
a, b = data.split_pair(image)                            # (64, 64, 3) each
a_big, b_big = data.resize(a, LOAD), data.resize(b, LOAD)   # (286, 286, 3) each
seed = tf.constant([1, 2])                               # a fixed seed: the same picture every run
a_crop, b_crop = data.random_crop_pair(a_big, b_big, CROP, seed=seed)       # (256, 256, 3) each
a_flip, b_flip = data.random_mirror_pair(a_crop, b_crop, seed=tf.constant([3, 4]))
print("range after normalize:", float(tf.reduce_min(image)), "..", float(tf.reduce_max(image)))
for name, t in [("split", a), ("resize", a_big), ("crop", a_crop), ("mirror", a_flip)]:
    print(f"{name:>7}: {tuple(t.shape)}")

# %% [markdown]
# The same four stages as pictures, the A half and the B half of each side by side:

# %%
steps = [("split", a, b), (f"resize {LOAD}", a_big, b_big), (f"crop {CROP}", a_crop, b_crop),
         ("mirror", a_flip, b_flip)]
fig = plotting.show_images([t for _, x, y in steps for t in (x, y)],
                           titles=[f"{name}: {half}" for name, _, _ in steps for half in ("A", "B")],
                           ncols=8, size=1.7)

# %% [markdown]
# `random_crop_pair` stacks A and B into one tensor and crops the stack once, so both halves are
# cut at the same place. We can check it: jitter a pair whose two halves are the same image, and
# the two outputs must still be equal.

# %%
for s in range(5):
    j1, j2 = data.random_jitter(a, a, image_size=CROP, seed=tf.constant([s, 7]))
    assert np.array_equal(j1.numpy(), j2.numpy()), "the two halves were jittered differently"
print("✅ the same crop and the same flip for both halves, on 5 random draws")

# %% [markdown]
# `data.random_jitter` does steps 3 to 5 in one call. Here are six jitters of the same pair: the
# crop shifts the scene by up to 30 pixels and the flip mirrors it, yet each A still sits exactly
# on its B.

# %%
jitters = [data.random_jitter(a, b, image_size=CROP, seed=tf.constant([s, 0])) for s in range(6)]
fig = plotting.plot_image_rows({f"jitter {s + 1}": [ja, jb] for s, (ja, jb) in enumerate(jitters)},
                               size=1.6, suptitle="six random jitters of one pair (top: A, bottom: B)")

# %% [markdown]
# `data.load_paired_folder` wraps all of this in a `tf.data` pipeline: it checks the files, decodes
# them in parallel, caches them in memory, shuffles, jitters and batches. The validation split is
# only resized (`jitter=False`) so that every evaluation sees the same images.
#
# In the full profile this is where the real dataset comes in: `download_pix2pix_dataset` fetches
# facades (about 30 MB) once and reuses it afterwards. The [smoke profile](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#smoke-profile) uses the shipped set.

# %%
if cfg.dataset == "shipped":
    dataset_root, direction = data.shipped_paired_path(), "AtoB"
else:
    dataset_root = archives.download_pix2pix_dataset(cfg.dataset, config.download_cache())   # Colab: /content/datasets
    direction = archives.PIX2PIX_DATASETS[cfg.dataset].direction

train_ds = data.load_paired_folder(dataset_root, "train", image_size=cfg.image_size, direction=direction,
                                   batch_size=cfg.batch_size, seed=cfg.seed)
val_ds = data.load_paired_folder(dataset_root, "val", image_size=cfg.image_size, direction=direction,
                                 jitter=False, shuffle=False, batch_size=cfg.batch_size, drop_remainder=False)
x_batch, y_batch = next(iter(train_ds))
print(dataset_root.name, direction, "| input", x_batch.shape, "| target", y_batch.shape)   # (batch, S, S, 3)
fig = plotting.plot_image_rows({"input x": x_batch, "target y": y_batch}, max_rows=2, size=2)

# %% [markdown]
# ## 4. The generator: from encoder-decoder to U-Net
#
# An image-to-image generator is naturally an **[encoder-decoder](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#encoder-decoder)**: [strided convolutions](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#strided-convolution) halve the
# image again and again, down to a 1x1 "bottleneck" vector, and [transposed convolutions](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#transposed-convolution) double it
# back to full size. The trouble is that *everything* must squeeze through the bottleneck, yet in
# these tasks input and output share a great deal of low-level structure: the edges of a window in
# the label map are the edges of the window in the photo.
#
# The **[U-Net](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#u-net)** ([Ronneberger et al. 2015](https://arxiv.org/abs/1505.04597), used by Isola et al. 2017) adds **[skip connections](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#skip-connection)**: the
# output of encoder block $i$ is concatenated to the decoder block that works at the same size, so
# fine detail can go straight across. The picture shows both at 256x256: 8 blocks down (256 $\to$ 1),
# 7 blocks up, and a last transposed convolution to the RGB output.

# %%
diagrams.unet_diagram(models.unet_filters(256), image_size=256);   # widths [64, 128, 256, 512, 512, 512, 512, 512]

# %% [markdown]
# ### 4.1 The downsample block
#
# Every encoder block is the same: a 4x4 convolution with stride 2 (halves height and width),
# [batch normalisation](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#batch-normalisation), and [LeakyReLU](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#leakyrelu) with slope 0.2. Weights start from $\mathcal{N}(0, 0.02^2)$, a
# normal distribution with mean 0 and standard deviation 0.02, as in [DCGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dcgan) ([Radford et al. 2016](https://arxiv.org/abs/1511.06434)). A convolution followed by batch norm needs no bias. A bias adds the
# same constant $b_c$ to every value of channel $c$; batch norm then subtracts that channel's mean over
# the batch and the positions, and the mean has gone up by exactly $b_c$, so the subtraction removes
# the bias again (the variance does not change either). Whatever $b_c$ is, the output is the same, so
# it would be a parameter that never matters. Batch norm's own learned offset $\beta$ (added *after*
# the normalisation) provides the shift. The **first** encoder block has no batch norm, and neither
# has the [PatchGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#patchgan)'s first block (Isola et al. 2017, appendix 6.1). The nearest evidence is DCGAN's
# (Radford et al. 2016): batch norm on *every* layer made the samples oscillate and the training
# unstable, and leaving it out of the generator's output layer and the discriminator's input layer
# avoided that. Neither paper tests the first layer on its own, so read this as the recipe that
# worked for the authors, not as a measured rule.

# %%
INIT = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def downsample(x, filters, norm=True):
    """Conv 4x4 stride 2 -> (batch norm) -> LeakyReLU(0.2): (b, h, w, c) -> (b, h/2, w/2, filters)."""
    x = layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
    if norm:
        x = layers.BatchNormalization()(x)
    return layers.LeakyReLU(negative_slope=0.2)(x)


probe = downsample(keras.Input((256, 256, 3)), 64, norm=False)
print("downsample:", (None, 256, 256, 3), "->", probe.shape)   # (None, 128, 128, 64)

# %% [markdown]
# We can watch batch norm cancel a bias: one convolution with a random bias and the same convolution
# without it, each followed by batch norm in training mode (the batch's own statistics), on the same
# batch. The outputs agree to rounding error.

# %%
conv_with_bias = layers.Conv2D(8, 4, strides=2, padding="same", bias_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=2))
conv_no_bias = layers.Conv2D(8, 4, strides=2, padding="same", use_bias=False)
probe_x = tf.random.normal((4, 16, 16, 3), seed=1)               # (batch, 16, 16, 3)
with_bias = conv_with_bias(probe_x)                              # (4, 8, 8, 8)
conv_no_bias(probe_x)                                            # build it, then copy the kernel only
conv_no_bias.kernel.assign(conv_with_bias.kernel)
bias = conv_with_bias.bias.numpy()
norm = layers.BatchNormalization()
out_with = norm(with_bias, training=True)
out_without = norm(conv_no_bias(probe_x), training=True)
print("bias per channel:", np.round(bias, 2))
print("largest difference before batch norm:", float(tf.reduce_max(tf.abs(with_bias - conv_no_bias(probe_x)))))
print("largest difference after batch norm: ", float(tf.reduce_max(tf.abs(out_with - out_without))))
assert np.abs(bias).max() > 0.01, "the demo needs a non-zero bias"
np.testing.assert_allclose(out_with.numpy(), out_without.numpy(), atol=1e-4)
print("✅ batch norm removed the bias exactly (up to float32 rounding)")

# %% [markdown]
# ### 4.2 Your turn: the upsample block with its skip connection
#
# A decoder block mirrors the encoder block: a 4x4 **transposed** convolution with stride 2
# (doubles height and width, no bias), batch norm, dropout of 0.5 if asked, and ReLU. Then comes
# the skip connection: concatenate the result with `skip`, the encoder output of the same size,
# along the channel axis (in either order: the next layer learns its weights for the order it gets).
#
# $$(b, h, w, c) \xrightarrow{\text{up}} (b, 2h, 2w, f) \xrightarrow{\text{concat with skip } (b, 2h, 2w, c_s)} (b, 2h, 2w, f + c_s)$$
#
# Write the block with Keras layers (initialise the transposed convolution with `INIT`), in place
# of the `raise NotImplementedError` line.

# %%
def upsample_with_skip(x, skip, filters, dropout=False):
    """x (b, h, w, c), skip (b, 2h, 2w, c_s) -> (b, 2h, 2w, filters + c_s)."""
    # BEGIN SOLUTION: the decoder block described above, then the concatenation with skip
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                               kernel_initializer=INIT)(x)    # (b, 2h, 2w, filters)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)
    return layers.Concatenate()([x, skip])                    # (b, 2h, 2w, filters + skip channels)
    # END SOLUTION


# %% [markdown]
# The check builds your block and the course's (`conv_block` plus a concatenation), with and without
# dropout, and compares in turn: the output shape; the layers in order (so a ReLU before its batch
# norm, or dropout in the wrong place, is named); the parameter count; then, with the same weights in
# both (batch-norm scales of both signs and moving statistics away from 0 and 1), the outputs in
# inference mode and in training mode. While your function is still the stub, the rest of the lesson
# uses the course's block.

# %%
upsample_with_skip = exercises.check("02.upsample_with_skip", upsample_with_skip)

# %% [markdown]
# ### 4.3 The whole U-Net
#
# Now we stack the blocks. The encoder widths double from 64 up to 512 and stay there; there are
# $\log_2 256 = 8$ of them. The decoder walks back up through the mirrored sizes, with dropout in its
# first three blocks (this dropout is the generator's only source of randomness, Isola et al. 2017).
# The innermost encoder output is the bottleneck, so it has no skip partner. A last transposed
# convolution gives 3 channels and `tanh` keeps them in $[-1, 1]$.
#
# The bottleneck is a 1x1 map, and we give it **no batch norm** (and so keep its convolution's bias),
# as the paper's released code does. Why: with batch size 1, batch norm over a 1x1 map sees a single
# value per channel, subtracts it, and outputs only its offset $\beta$, whatever the image. The
# TensorFlow tutorial keeps a batch norm there (1,536 more weights); section 9 measures what that does
# to a trained generator.
#
# **Your turn: the whole U-Net.** Write `build_unet(image_size, channels, filters)` returning a
# `keras.Model` from `image_size x image_size x channels` images to images of the same shape, built
# from your `downsample` and `upsample_with_skip`:
#
# - the encoder: one block per halving down to 1x1, widths `filters`, `2 * filters`, ... capped at
#   `8 * filters` (at 256 with 64 filters: 64, 128, 256, 512, 512, 512, 512, 512); no batch norm on the
#   first block; the innermost block as described above (a plain 4x4 stride-2 convolution *with* bias,
#   then LeakyReLU 0.2);
# - keep every encoder output except the bottleneck's: each decoder block is joined to the one with its
#   own height and width;
# - the decoder: one `upsample_with_skip` per remaining encoder block, from the smallest size back up,
#   with the widths mirrored and dropout in the first three;
# - a last 4x4 stride-2 transposed convolution to `channels` with `tanh`, initialised with `INIT`.
#
# The check builds your network at two small sizes and compares it with `models.unet_generator`
# layer by layer and output by output, in inference and training mode.

# %%
def build_unet(image_size=256, channels=3, filters=64):
    """(b, S, S, channels) -> (b, S, S, channels) in [-1, 1]: the pix2pix U-Net."""
    # BEGIN SOLUTION: the encoder, the decoder joined to the mirrored encoder outputs, the tanh output
    widths = [min(filters * 2 ** i, filters * 8) for i in range(int(np.log2(image_size)))]  # 64..512
    inputs = keras.Input((image_size, image_size, channels))        # (b, 256, 256, 3)
    x, skips = inputs, []
    for i, f in enumerate(widths):                                   # 256 -> 128 -> ... -> 1
        if i == len(widths) - 1:                                     # the 1x1 bottleneck: no norm, with bias
            x = layers.Conv2D(f, 4, strides=2, padding="same", kernel_initializer=INIT)(x)
            x = layers.LeakyReLU(negative_slope=0.2)(x)              # (b, 1, 1, 512)
        else:
            x = downsample(x, f, norm=i > 0)
        skips.append(x)
    decoder = zip(reversed(widths[:-1]), reversed(skips[:-1]))       # mirrored sizes, bottleneck left out
    for j, (f, skip) in enumerate(decoder):                          # 1 -> 2 -> ... -> 128
        x = upsample_with_skip(x, skip, f, dropout=j < 3)
    outputs = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=INIT,
                                     activation="tanh")(x)           # (b, 256, 256, 3)
    return keras.Model(inputs, outputs, name="my_unet")
    # END SOLUTION


# %% [markdown]
# The check (while your function is still the stub, the rest of the lesson uses the course's U-Net):

# %%
build_unet = exercises.check("02.unet", build_unet)

# %% [markdown]
# How big is it at 256x256? Isola et al.'s code prints **54.41 M** parameters for this generator.
# Keras's `count_params()` gives a few thousand more: it also counts batch norm's moving means and
# variances, which are running statistics, not trained weights. We build the full-size network once,
# only to count it both ways and compare it with the course's `models.unet_generator()`; then we let it
# go, since training it on a CPU would take days.

# %%
KERAS_UNET_PARAMS = 54_424_323   # Keras's count for the paper's code; the TF tutorial's bottleneck norm adds 1,536
full_unet = build_unet(256)
keras_count = full_unet.count_params()
trained_count = sum(int(np.prod(w.shape)) for w in full_unet.trainable_weights)
print(f"my U-Net: {keras_count:,} parameters by Keras's count (moving statistics included), "
      f"{trained_count:,} trained ({trained_count / 1e6:.2f} M; the paper's code prints 54.41 M)")
assert keras_count == models.unet_generator(256).count_params() == KERAS_UNET_PARAMS, "the U-Net does not match the reference"
assert round(trained_count / 1e6, 2) == 54.41, "the trained weights differ from the authors' count"
print("✅ same count as the course's U-Net, and the trained weights match the authors' 54.41 M")
del full_unet

# %% [markdown]
# The generator we train in this run works at `cfg.image_size`. Smaller images need fewer halvings
# ($\log_2 32 = 5$ blocks at 32x32), but every block is the same. The full profile keeps the paper's 64
# filters in the first block; the smoke profile uses fewer (`cfg.filters`, printed below) to save CPU
# time. We follow one image through the network that this run trains.

# %%
FILTERS = cfg.filters   # 64 as in the paper; fewer in the smoke profile
generator = build_unet(cfg.image_size, filters=FILTERS)           # your U-Net
print(f"generator at {cfg.image_size}x{cfg.image_size}, {FILTERS} filters: {generator.count_params():,} parameters, "
      f"{int(np.log2(cfg.image_size))} encoder blocks")
out = generator(x_batch[:1], training=False)
print("input", x_batch[:1].shape, "-> output", out.shape, f"in [{float(tf.reduce_min(out)):.2f}, "
      f"{float(tf.reduce_max(out)):.2f}]")

# %% [markdown]
# When graphviz and pydot are installed (they are on Colab), Keras draws the real graph of the model,
# skip connections included. Elsewhere the cell says so and moves on; the sketch above shows the same.

# %%
try:
    import pydot  # noqa: F401
    has_graphviz = shutil.which("dot") is not None
except ImportError:
    has_graphviz = False
if has_graphviz:
    from IPython.display import Image as ShowImage, display
    plot_path = Path(tempfile.gettempdir()) / "unet.png"
    keras.utils.plot_model(generator, to_file=str(plot_path), show_shapes=True, dpi=48)
    display(ShowImage(filename=str(plot_path)))
else:
    print("graphviz/pydot not installed here: skipping keras.utils.plot_model (the sketch above shows the U-Net).")

# %% [markdown]
# ## 5. The PatchGAN discriminator
#
# A discriminator that gives one verdict for the whole image mostly checks the overall look. Pix2Pix
# leaves the large-scale structure to the $L_1$ loss ([glossary](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#l1-loss), section 6) and lets $D$ focus on local texture
# and sharpness: the **PatchGAN** outputs a *grid* of [logits](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#logit), each judging one overlapping patch of the
# input. It is fully convolutional: three downsample blocks (64, 128, 256 channels, no batch norm on
# the first), then two 4x4 convolutions with stride 1, each after a one-pixel zero padding. Its input
# is the pair concatenated along the channels: $(b, 256, 256, 3 + 3)$.
#
# **Your turn: the PatchGAN.** Write `build_patchgan(image_size, channels, filters, n_down)` returning
# a `keras.Model` with two inputs, the input image and the target (or generated) image, each
# `image_size x image_size x channels`, and one output, the grid of logits:
#
# - join the two images along the channels (either order: the first convolution learns its weights
#   for the order it gets);
# - `n_down` of your `downsample` blocks with widths `filters`, `2 * filters`, `4 * filters`, ... and no
#   batch norm on the first;
# - a one-pixel `ZeroPadding2D`, a 4x4 convolution with stride 1, no padding and no bias, twice as wide
#   as the last block (`filters * 2**n_down`), batch norm, LeakyReLU 0.2;
# - another one-pixel zero padding and a 4x4 stride-1 convolution to **one** channel, with bias and no
#   activation: logits, because the losses apply the sigmoid themselves.
#
# The check compares your network with `models.patchgan_discriminator` at two sizes, as for the U-Net.

# %%
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    """[input (b, S, S, c), target (b, S, S, c)] -> logits (b, g, g, 1): the conditional PatchGAN."""
    # BEGIN SOLUTION: join the pair, n_down downsample blocks, the two stride-1 convolutions
    # Shapes in the comments are the paper's case: image_size=256, filters=64, n_down=3.
    # In general: S / 2**n_down after the loop, with filters * 2**(n_down - 1) channels.
    x_in = keras.Input((image_size, image_size, channels), name="input_image")
    y_in = keras.Input((image_size, image_size, channels), name="target_or_generated")
    x = layers.Concatenate()([x_in, y_in])                           # (b, 256, 256, 6)
    for i in range(n_down):                                          # 256 -> 128 -> 64 -> 32
        x = downsample(x, filters * 2 ** i, norm=i > 0)              # after the loop: (b, 32, 32, 256)
    x = layers.ZeroPadding2D()(x)                                    # (b, 34, 34, 256)
    x = layers.Conv2D(filters * 2 ** n_down, 4, strides=1, use_bias=False, kernel_initializer=INIT)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(x))   # (b, 31, 31, 512)
    x = layers.ZeroPadding2D()(x)                                    # (b, 33, 33, 512)
    logits = layers.Conv2D(1, 4, strides=1, kernel_initializer=INIT)(x)        # (b, 30, 30, 1)
    return keras.Model([x_in, y_in], logits, name="my_patchgan")
    # END SOLUTION


# %% [markdown]
# The check:

# %%
build_patchgan = exercises.check("02.patchgan", build_patchgan)

# %% [markdown]
# At 256x256 with the paper's settings your PatchGAN is the 70x70 PatchGAN of the paper; its size, as
# Keras counts it (moving statistics included), and its verdict grid:

# %%
KERAS_PATCHGAN_PARAMS = 2_770_433
full_disc = build_patchgan(256)
reference_disc = models.patchgan_discriminator(256)
disc_trained = sum(int(np.prod(w.shape)) for w in full_disc.trainable_weights)
print(f"my PatchGAN: {full_disc.count_params():,} parameters by Keras's count ({disc_trained:,} trained), "
      f"output {full_disc.output_shape}")
print(f"models.patchgan_discriminator(): {reference_disc.count_params():,}, output {reference_disc.output_shape}")
assert full_disc.count_params() == reference_disc.count_params() == KERAS_PATCHGAN_PARAMS
assert full_disc.output_shape == reference_disc.output_shape == (None, 30, 30, 1)
print(f"✅ {KERAS_PATCHGAN_PARAMS:,} parameters (Keras's count) and a 30x30 grid of logits at 256x256")

# %% [markdown]
# On small images three halvings would leave almost no grid, so the course's models use
# `min(3, log2(S) - 3)` of them (two at 32x32, giving a 6x6 grid). We build the discriminator for
# this run the same way, with your function.

# %%
n_down = min(3, int(np.log2(cfg.image_size)) - 3)
discriminator = build_patchgan(cfg.image_size, filters=FILTERS, n_down=n_down)   # your PatchGAN
print(f"discriminator at {cfg.image_size}x{cfg.image_size}: {discriminator.count_params():,} parameters, "
      f"{n_down} halvings, verdict grid {discriminator.output_shape[1:3]}")

# %% [markdown]
# ### 5.1 How much of the image does one verdict see?
#
# The **[receptive field](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#receptive-field)** of an output cell is the input patch that can influence it. Work it out
# backwards, from one output cell to the input, one layer at a time, along one side (the patch is
# square). Think about one convolution with kernel $k$ and stride $s$:
#
# - one cell at its output is computed from $k$ neighbouring cells at its input;
# - two neighbouring output cells are computed from two windows of $k$ cells that start $s$ cells
#   apart, so together they need $k + s$ input cells; each further output cell adds another $s$.
#
# Padding adds zeros at the border: it moves the patch but does not change its size.
#
# **Your turn.** Write `receptive_field(layer_list)`, where `layer_list` holds `(kernel, stride, padding)`
# for each layer from input to output, in place of the `raise NotImplementedError` line: start from one
# cell at the last layer's output and find how many cells it covers at the input of each layer in turn.
# Try it by hand on two 3x3 stride-1 convolutions first (the answer is 5). The check compares it with
# `models.receptive_field_size` on eight random stacks of layers.

# %%
def receptive_field(layer_list):
    """[(kernel, stride, padding), ...] from input to output -> side of the input patch one output cell sees."""
    # BEGIN SOLUTION: start from one output cell and widen the field layer by layer, back to the input
    field = 1                                         # one output cell
    for kernel, stride, _padding in reversed(list(layer_list)):
        field = (field - 1) * stride + kernel         # what this layer needs to see at its input
    return field
    # END SOLUTION


# %% [markdown]
# The check compares your function with `models.receptive_field_size` on eight random stacks of layers:

# %%
receptive_field = exercises.check("02.receptive_field", receptive_field)

# %% [markdown]
# The rule you wrote: a field of $r$ cells at a layer's output needs
#
# $$r_{\text{in}} = (r_{\text{out}} - 1)\, s + k$$
#
# cells at its input. Here it is applied to the paper's PatchGAN by hand, one layer at a time from the
# output back to the input, next to your function's answer. Starting from $r = 1$ at the logits, the
# five 4x4 layers (strides 1, 1, 2, 2, 2 going backwards) reach 70: each of the 30x30 verdicts judges a
# **70x70** patch, which is why the paper calls it the 70x70 PatchGAN.

# %%
paper_layers = models.PIX2PIX_PATCHGAN_LAYERS          # (kernel, stride, padding) from input to output
field = 1
print("layer (from the output back)   field")
for k, s, p in reversed(paper_layers):
    field = (field - 1) * s + k
    print(f"kernel {k}, stride {s}, pad {p}          {field:>3}")
assert receptive_field(paper_layers) == 70
print("output grid at 256:", models.patchgan_output_size(256, paper_layers))

# %% [markdown]
# `models.patch_receptive_field` gives the exact input rows and columns of a cell and
# `plotting.plot_receptive_field` draws them. At the border part of the 70x70 field falls on zero
# padding, so the visible patch is smaller: cell (0, 0) sees rows and columns 0 to 46 only.

# %%
big_x = data.resize(a, 256)                              # the label map from section 3, at 256x256
big_y = data.resize(b, 256)
for cell in [(0, 0), (15, 15)]:
    print(f"cell {cell}: (top, left, bottom, right) =", models.patch_receptive_field(*cell))
fig = plotting.plot_receptive_field(big_y, 15, 15)

# %% [markdown]
# ### 5.2 The verdict map
#
# Passing a pair through the discriminator gives a 30x30 grid of logits; `sigmoid` turns each into
# the probability that *its* patch comes from a real pair. `plotting.plot_patchgan_verdict` shows the
# grid beside the image and over it. This discriminator is untrained, so every patch sits near 0.5;
# we come back to the verdict map after training.

# %%
full_logits = full_disc([big_x[None], big_y[None]], training=False)     # (1, 30, 30, 1)
print("logits", full_logits.shape)
fig = plotting.plot_patchgan_verdict(big_y, full_logits)

# %% [markdown]
# The PatchGAN explorer puts the two ideas together: move the sliders to choose an output cell and see
# the patch of the input it judges, with its verdict. (Widgets need a live notebook, e.g. Colab.)

# %%
explorer = widgets.patchgan_explorer(big_y, full_logits)
explorer

# %% [markdown]
# The full-size networks were only for counting and pictures; we free their memory.

# %%
del full_disc, reference_disc       # the full-size networks were only for counting and pictures

# %% [markdown]
# ## 6. The losses
#
# The conditional GAN objective, with $D$ outputting the probability that a pair is real:
#
# $$\mathcal{L}_{cGAN}(G, D) = \mathbb{E}_{x,y}\big[\log D(x, y)\big] + \mathbb{E}_{x}\big[\log\big(1 - D(x, G(x))\big)\big]$$
#
# $D$ tries to make this large, $G$ small. On its own it gives sharp but sometimes wrong images, so
# Pix2Pix adds an $L_1$ distance to the target, which takes care of the low frequencies (the right
# colours in the right places) while the GAN term cares for sharpness:
#
# $$\mathcal{L}_{L1}(G) = \mathbb{E}_{x,y}\,\lVert y - G(x)\rVert_1, \qquad
# G^* = \arg\min_G \max_D\; \mathcal{L}_{cGAN}(G, D) + \lambda\, \mathcal{L}_{L1}(G), \quad \lambda = 100.$$
#
# In code both players minimise a [binary cross-entropy](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#binary-cross-entropy) (BCE) on logits, averaged over every patch:
#
# - **discriminator**: real pairs labelled 1, generated pairs labelled 0,
#   $\;\mathcal{L}_D = \tfrac12\big[\text{BCE}(1, D(x, y)) + \text{BCE}(0, D(x, G(x)))\big]$.
#   The factor $\tfrac12$ is the paper's: it slows $D$ down relative to $G$;
# - **generator**: the [non-saturating](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#non-saturating-loss) form of lesson 01, fakes labelled 1, plus the weighted $L_1$:
#   $\;\mathcal{L}_G = \text{BCE}(1, D(x, G(x))) + \lambda \lVert y - G(x)\rVert_1$.
#
# The discriminator's loss is written for you below. A **demonstration**, not an exercise: the cell
# compares it with the course's `losses.discriminator_loss` on random logits.

# %%
bce = keras.losses.BinaryCrossentropy(from_logits=True)   # mean over every element (every patch)


def discriminator_loss(real_logits, fake_logits):
    real_loss = bce(tf.ones_like(real_logits), real_logits)     # real pairs should score 1
    fake_loss = bce(tf.zeros_like(fake_logits), fake_logits)    # generated pairs should score 0
    return 0.5 * (real_loss + fake_loss)                        # halved, as in the paper


rng = np.random.default_rng(0)
real_l, fake_l = rng.normal(size=(2, 4, 6, 6, 1)).astype("float32")
my_value = float(discriminator_loss(real_l, fake_l))
course_value = float(losses.discriminator_loss(real_l, fake_l, form="bce", halve=True))
print(f"discriminator loss: mine {my_value:.6f}, course_utils {course_value:.6f}")
assert np.isclose(my_value, course_value, rtol=1e-5), "the discriminator loss differs from the reference"

# %% [markdown]
# **Your turn: the generator loss.** Write `generator_loss`, returning the total and its two parts
# `(total, adversarial, l1)`, with `l1` unweighted, using `bce` from the cell above. The check
# compares it with the course's `losses.pix2pix_generator_loss` on random logits, images and weights.

# %%
def generator_loss(fake_logits, generated, target, l1_weight=100.0):
    """Logits (b, g, g, 1), images (b, S, S, 3) -> (total, adversarial, l1), three scalars."""
    # BEGIN SOLUTION: compute the two terms of L_G and return (total, adversarial, l1)
    adversarial = bce(tf.ones_like(fake_logits), fake_logits)   # fool D: fakes should score 1
    l1 = tf.reduce_mean(tf.abs(target - generated))             # stay close to the target
    return adversarial + l1_weight * l1, adversarial, l1
    # END SOLUTION


# %% [markdown]
# The check:

# %%
generator_loss = exercises.check("02.generator_loss", generator_loss)

# %% [markdown]
# **Why $L_1$ and not the squared error $L_2$?** When one input has several plausible outputs, the
# best *single* guess depends on the distance. Take one pixel whose true value is black ($-1$) in
# 3 training pairs out of 5 and white ($+1$) in the other 2. The constant $c$ that minimises the mean
# squared error is the **mean** of the targets, a grey that no target has; the constant that minimises
# the mean absolute error is the **median**, here black, one of the real answers. Per pixel, $L_2$
# averages the plausible outputs into a blur, while $L_1$ picks a median, which blurs less. That is
# why Isola et al. use $L_1$ (section 3.1); it still blurs where no value is a clear majority, and the
# GAN term is what pushes towards sharp, realistic detail. The cell searches the best constant for each
# loss.

# %%
targets = np.array([-1.0, -1.0, -1.0, 1.0, 1.0])           # one pixel over five plausible outputs
candidates = np.linspace(-1, 1, 201)                       # constant guesses c, in steps of 0.01
l2 = [np.mean((targets - c) ** 2) for c in candidates]
l1_err = [np.mean(np.abs(targets - c)) for c in candidates]
best_l2, best_l1 = candidates[np.argmin(l2)], candidates[np.argmin(l1_err)]
print(f"best constant under L2: {best_l2:+.2f} (the mean {targets.mean():+.2f}); "
      f"under L1: {best_l1:+.2f} (the median {np.median(targets):+.2f})")
assert np.isclose(best_l2, targets.mean()) and np.isclose(best_l1, np.median(targets))

# %% [markdown]
# How big is each part at the start? Right after [initialisation](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#weight-initialisation) $D$ guesses about 0.5 everywhere, so
# the adversarial term is about $\log 2 \approx 0.69$; the images differ by about 0.5 per pixel, so the
# weighted $L_1$ term is about 50. The $L_1$ term dominates early on, which is what makes Pix2Pix train
# steadily from the first step.

# %%
fake = generator(x_batch, training=True)                     # (batch, S, S, 3), S = cfg.image_size
fake_logits = discriminator([x_batch, fake], training=True)  # (batch, grid, grid, 1): 6x6 at 32, 30x30 at 256
print("generated", fake.shape, "-> logits", fake_logits.shape)
total, adversarial, l1 = generator_loss(fake_logits, fake, y_batch, cfg.l1_weight)
print(f"total {float(total):.2f} = adversarial {float(adversarial):.3f} + {cfg.l1_weight:g} x L1 {float(l1):.3f}")

# %% [markdown]
# ## 7. One training step, written out
#
# Each step updates both players on the same batch ([Goodfellow et al. 2014](https://arxiv.org/abs/1406.2661); Isola et al. 2017):
#
# 1. **discriminator**: score the real pair $(x, y)$ and the generated pair $(x, G(x))$ and take a
#    gradient step on $\mathcal{L}_D$; only $D$'s weights move;
# 2. **generator**: take a step on $\mathcal{L}_G$, D's verdict on $(x, G(x))$ plus $\lambda L_1$; only
#    $G$'s weights move, but the gradient flows back *through* $D$ into $G$.
#
# **What our code does: a [simultaneous](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#simultaneous-update) update.** We follow the TensorFlow pix2pix tutorial: *one*
# forward pass computes $G(x)$ and both verdicts, both losses come from it, and two `GradientTape`s
# give each player its gradient. Both gradients are therefore taken at the *same* weights, those from
# before the step. Applying $D$'s update first changes nothing for $G$: $G$'s gradient was recorded
# through the old $D$, and $D$'s update never sees $G$'s new weights within the step. Only the next
# step sees both new players.
#
# **The [alternating](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#alternating-update) version.** Goodfellow et al. (2014, Algorithm 1) and Isola et al. (2017,
# section 3.3, and their released code) alternate instead: update $D$, then run $D$ again on
# $(x, G(x))$ with its *new* weights and update $G$ from that verdict. This costs an extra pass
# through $D$, and $G$ then reacts to the discriminator as it is after this step rather than before
# it. The two are different algorithms and end a step with different weights; this lesson does not
# measure how much that matters for the final result.
#
# Both players use [Adam](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam) with learning rate $2\cdot10^{-4}$ and $\beta_1 = 0.5$, and the paper's batch
# size is 1.
#
# **Your turn: the training step** (the simultaneous update, as the course's trainer does it). Write
# `train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight)`:
#
# - inside two `tf.GradientTape`s (one per player), run the generator on `x` and the discriminator on
#   the real pair and on the generated pair, every network in training mode; compute both losses with
#   your `generator_loss` and the `discriminator_loss` above;
# - after the tapes: each player's gradient of *its own* loss with respect to *its own* trainable
#   variables, applied by its own optimizer;
# - return `{"d_loss": ..., "g_loss": ..., "g_adv": ..., "g_l1": ...}`: the discriminator's loss, the
#   generator's total, and its two parts.
#
# The check gives your step and `train.pix2pix_train_step` the same tiny networks (copies with equal
# weights, without dropout so that nothing is random) and fresh optimizers, takes three steps with each
# on three batches, with two values of `l1_weight`, and compares the losses and every weight after
# each step; the alternating update is named as such.

# %%
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=cfg.l1_weight):
    """One Pix2Pix step on a batch of pairs (x, y): both players updated; returns the four losses."""
    # BEGIN SOLUTION: two tapes over one forward pass, then each player's own gradient step
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        fake = generator(x, training=True)                                 # (b, S, S, 3)
        real_logits = discriminator([x, y], training=True)                 # (b, grid, grid, 1)
        fake_logits = discriminator([x, fake], training=True)              # (b, grid, grid, 1)
        g_total, g_adv, g_l1 = generator_loss(fake_logits, fake, y, l1_weight)
        d_loss = discriminator_loss(real_logits, fake_logits)
    # Both gradients come from the forward pass above, i.e. from the weights before this step.
    # 1. the discriminator: real pairs -> 1, generated pairs -> 0
    d_grads = disc_tape.gradient(d_loss, discriminator.trainable_variables)
    disc_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    # 2. the generator: fool the discriminator and stay close to y. The tape recorded D's old
    #    weights, so this gradient flows through D as it was before the update just applied.
    g_grads = gen_tape.gradient(g_total, generator.trainable_variables)
    gen_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}
    # END SOLUTION


# %% [markdown]
# The check (`checkers.check_same_update` on twin networks, as described above):

# %%
train_step = exercises.check("02.train_step", train_step)

# %% [markdown]
# Your step on this lesson's own networks (your U-Net and your PatchGAN): two steps on one batch, run eagerly (line by line, easy to debug): the losses are finite, and the
# $L_1$ term already falls a little because the generator is chasing the same target twice.

# %%
gen_optimizer = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)
disc_optimizer = keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1)
for step in range(2):
    logs = train_step(generator, discriminator, gen_optimizer, disc_optimizer, x_batch, y_batch)
    print(f"step {step}: " + ", ".join(f"{k} {float(v):.3f}" for k, v in logs.items()))
    assert all(np.isfinite(float(v)) for v in logs.values())

# %% [markdown]
# ## 8. Training
#
# For real training the step must be compiled into a TensorFlow graph (traced once, then fast) and
# repeated many times, with progress bars, sample pictures and a loss log. The course's `train.Pix2Pix`
# is a `keras.Model` whose `train_step` computes exactly the step above, so Keras's `fit` does all that.
#
# The full profile trains on facades with the TensorFlow tutorial's 40,000 steps at batch size 1 (the
# paper trains 200 epochs, i.e. 80,000 steps). How long that takes on a Colab T4 is an **estimate**,
# not a measurement: one step costs about 75 [GFLOP](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#flop) (lesson 00), so even at the T4's data-sheet
# [float32 peak](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#peak-flops) of 8.1 TFLOP/s the 40,000 steps need at least 6 minutes, and real training reaches
# only a fraction of that peak at batch size 1. Plan for tens of minutes to an hour or more; lesson 04
# measures the step time on your GPU. The smoke profile trains far fewer steps on smaller images with
# fewer filters on the shipped set (the cell below prints this run's numbers): about a minute on a
# laptop CPU, and enough for a result you can recognise. Every `cfg.sample_every` steps a callback saves
# a picture of three fixed validation pairs (input | target | prediction); another logs the losses.
# A Colab session can disconnect during a long run: lesson 04 adds [checkpoints](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkpoint) that resume it.

# %%
run_dir = (Path("/content/runs") if config.in_colab() else Path(tempfile.gettempdir()) / "gan-course") / "02_pix2pix"
shutil.rmtree(run_dir, ignore_errors=True)           # start this lesson's run from scratch
print(f"this run: {cfg.steps:,} steps at {cfg.image_size}x{cfg.image_size}, {cfg.filters} base filters, "
      f"batch size {cfg.batch_size}, a sample picture every {cfg.sample_every} steps")

val_x = np.concatenate([x for x, _ in val_ds])       # (n_val, S, S, 3)
val_y = np.concatenate([y for _, y in val_ds])
print("validation pairs:", val_x.shape)


def predict(images):
    """G on every image by the course's inference convention: each image's own batch-norm statistics."""
    return inference.translate(generator, images)     # (n, S, S, 3) in [-1, 1]


before = predict(val_x)                              # kept to compare with after training

# %% [markdown]
# Now the run: the trainer wraps our two networks with the paper's two Adam optimizers, and `fit`
# trains it for `cfg.steps` steps with three callbacks (stop at a NaN, log the losses, save samples).

# %%
trainer = train.Pix2Pix(generator, discriminator, l1_weight=cfg.l1_weight)
trainer.compile(g_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1),
                d_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1))
callbacks = [runs.NaNGuard(),                                      # stop at the first NaN loss
             runs.LossHistory(run_dir),                            # run_dir/history.csv
             runs.SampleGrid(run_dir, (val_x[:3], val_y[:3]), every=cfg.sample_every)]   # run_dir/samples/
fit_history = trainer.fit(train_ds.repeat(), epochs=1, steps_per_epoch=cfg.steps, callbacks=callbacks,
                          shuffle=False, verbose=2 if cfg.is_smoke else 1)   # the data is shuffled already
print("trained steps:", trainer.global_step)

# %% [markdown]
# GAN losses do not fall steadily the way a classifier's do: the two players push against each other.
# The $L_1$ part of the generator's loss is the easiest to read, and it should go down.

# %%
fig = plotting.plot_loss_history(run_dir / "history.csv", keys=["d_loss", "g_adv", "g_l1"],
                                 smoothing=0.6 if cfg.is_smoke else 0.98)

# %% [markdown]
# ## 9. Judging the results
#
# First by eye: input, target and the generator's prediction side by side, on validation pairs the
# generator never trained on. Like the paper, we run batch norm with each image's own statistics, as
# in training (section 9.1 explains why and measures the alternative). After the smoke profile's
# short run (its steps were printed in section 8) the generator paints sky, sun, grass, walls and roofs
# in the right places, with soft edges and little texture; the full run on facades paints windows,
# balconies and doors where the label map puts them.

# %%
after = predict(val_x)
fig = plotting.plot_translation_rows(val_x, val_y, after, max_rows=4)

# %% [markdown]
# Then with numbers, on the whole validation split, each comparing prediction and target pixel by
# pixel (`course_utils.metrics`):
#
# - **L1**: mean absolute difference in $[-1, 1]$ units, lower is better;
# - **[PSNR](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#psnr)** (peak signal-to-noise ratio): $10 \log_{10}(\text{MAX}^2 / \text{MSE})$ in decibels, where
#   MSE is the mean squared difference and MAX the width of the value range (2 for $[-1, 1]$, the
#   same number as MAX $= 1$ on $[0, 1]$ images); higher is better;
# - **[SSIM](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#ssim)** (structural similarity, [Wang et al. 2004](https://doi.org/10.1109/TIP.2003.819861)) compares two images window by window. In each
#   window it takes the local means $\mu_x, \mu_y$, standard deviations $\sigma_x, \sigma_y$ and
#   covariance $\sigma_{xy}$, weighted by an 11x11 Gaussian window with $\sigma = 1.5$, and multiplies
#   three agreements, luminance (means), contrast (standard deviations) and structure (correlation):
#
#   $$\text{SSIM}(x, y) = \underbrace{\frac{2\mu_x\mu_y + C_1}{\mu_x^2 + \mu_y^2 + C_1}}_{\text{luminance}}
#   \cdot \underbrace{\frac{2\sigma_x\sigma_y + C_2}{\sigma_x^2 + \sigma_y^2 + C_2}}_{\text{contrast}}
#   \cdot \underbrace{\frac{\sigma_{xy} + C_3}{\sigma_x\sigma_y + C_3}}_{\text{structure}}
#   = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}{(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}$$
#
#   with $C_3 = C_2 / 2$ (which gives the compact form on the right), $C_1 = (0.01\,L)^2$ and
#   $C_2 = (0.03\,L)^2$, small constants that keep flat, dark windows from dividing by zero; $L$ is the
#   range of the pixel values. `metrics.ssim` maps images to $[0, 1]$ ($L = 1$), averages the map over
#   all windows and channels, and then over the images. It is 1 for identical images.
#
# None of them rewards sharpness the way a person does (a blurry average can score well on L1), which
# is exactly why Pix2Pix adds the GAN loss, so look at the pictures too.

# %%
scores = {}
for name, predictions in [("before training", before), ("after training", after)]:
    scores[name] = {"L1": metrics.mean_l1(predictions, val_y), "PSNR": metrics.psnr(predictions, val_y),
                    "SSIM": metrics.ssim(predictions, val_y)}
print(f"{'':>16}  {'L1':>6}  {'PSNR':>6}  {'SSIM':>6}")
for name, s in scores.items():
    print(f"{name:>16}  {s['L1']:6.3f}  {s['PSNR']:6.2f}  {s['SSIM']:6.3f}")
config.expect_quality(scores["after training"]["L1"] < scores["before training"]["L1"],
                      "training brings G closer to the targets (lower L1 than before training)")

# %% [markdown]
# "Better than before training" is a low bar: an untrained network is worse than doing almost
# anything. A fair **baseline** needs no learning at all: answer every input with the same picture,
# the average of all training targets (the *mean image*). A generator that ignores its input can
# reach that, so ours must beat it clearly. `results.pix2pix_results` scores the generator and the
# mean image on the same validation pairs.

# %%
judged = results.pix2pix_results(generator, root=dataset_root, direction=direction)
print(f"{'':>22}  {'L1':>6}  {'PSNR':>6}  {'SSIM':>6}")
for name, s in judged.items():
    print(f"{name:>22}  {s['l1']:6.3f}  {s['psnr']:6.2f}  {s.get('ssim', float('nan')):6.3f}")
ratio = judged["generator"]["l1"] / judged["mean image"]["l1"]
print(f"our L1 is {ratio:.2f} x the mean image's")
config.expect_quality(ratio < 1, "the generator beats a constant picture (the mean image's L1)")
if cfg.is_smoke:
    assert ratio <= 0.6, "the smoke run should reach 0.6 x the mean image's L1 (measured: 0.56)"

# %% [markdown]
# ### 9.1 Which way to run a trained generator?
#
# Batch norm has two modes. In training it normalises with the statistics of the batch in front of
# it; with batch size 1 that is *one image*. For later use Keras keeps running averages of those
# statistics, and `generator(x, training=False)` normalises with the averages instead. After
# batch-1 training the averages describe no image in particular, so the generator sees inputs at
# test time that it never saw in training. Isola et al. (2017, section 3.3) therefore run the
# generator at test time exactly as in training, with the test batch's statistics. The course does
# the same, with dropout switched off so that one input always gives one output:
# `course_utils.inference.translate`, which every tool of the course uses (`evaluate`, the sample
# pictures, TensorBoard, the widgets, the command line and the exported files).
#
# Here are both modes on the same weights:

# %%
modes = {"per-image statistics (inference.translate)": inference.translate(generator, val_x),
         "running averages (training=False)": generator.predict(val_x, verbose=0)}
for name, pred in modes.items():
    print(f"{name:44s} L1 {metrics.mean_l1(pred, val_y):.3f}   PSNR {metrics.psnr(pred, val_y):5.2f}")
fig = plotting.plot_image_rows({"input x": val_x[:3], "target y": val_y[:3],
                                "per-image": modes["per-image statistics (inference.translate)"][:3],
                                "running averages": modes["running averages (training=False)"][:3]}, size=1.6)

# %% [markdown]
# With our U-Net the two modes are close, and per-image statistics are a little better. The gap is
# dramatic with the TensorFlow tutorial's variant, which keeps a batch norm at the 1x1 bottleneck
# (section 4.3): measured on this shipped set with the same smoke settings, its validation L1 was
# 0.117 with per-image statistics and **0.434** with running averages, worse than the mean image
# (0.209), i.e. worse than no learning at all (`docs/results.md`). That is why the tutorial
# evaluates with `training=True`, and why the course has one inference rule.
#
# ### 9.2 What longer training gives
#
# The course ships **reference weights**: the same smoke-sized generator, trained much longer on the
# same shipped set by `make reference-models` (the command, steps, time and scores are recorded in
# `data/reference/manifest.json`). Loading them shows where your run is heading.

# %%
reference_nets, reference = results.load_reference("pix2pix")
print(f"reference: {reference['steps']:,} steps, {reference['seconds_training'] / 60:.0f} min on "
      f"{reference['machine']}")
if cfg.dataset == "shipped":
    ref_pred = inference.translate(reference_nets["generator"], val_x)
    rows = {"mean image": judged["mean image"], f"our run ({cfg.steps} steps)": judged["generator"],
            f"reference ({reference['steps']:,} steps)": results.image_scores(ref_pred, val_y)}
    for name, s in rows.items():
        print(f"{name:>24}  L1 {s['l1']:.3f}  PSNR {s['psnr']:5.2f}  SSIM {s['ssim']:.3f}")
    fig = plotting.plot_image_rows({"input x": val_x[:4], "target y": val_y[:4], "our run": after[:4],
                                    "reference": ref_pred[:4]}, size=1.6)
else:
    print("The reference was trained on the shipped 64x64 set; your run trains on", cfg.dataset,
          "so compare with the recorded scores:", reference["metrics"]["generator"])

# %% [markdown]
# And the discriminator's side: its verdict map on a real validation pair and on the generated one,
# computed as during training (a batch of `cfg.batch_size` pairs, batch norm with the batch's
# statistics). Even after a short run $D$ usually gives the real pair more green (real) than the
# generated one; after full training the fakes are good enough to fool it in most places, and the red
# cells that remain point at the patches where the fake still gives itself away.

# %%
n = cfg.batch_size
real_logits = discriminator([val_x[:n], val_y[:n]], training=True)[:1]    # (1, grid, grid, 1)
fake_logits = discriminator([val_x[:n], after[:n]], training=True)[:1]     # (1, grid, grid, 1)
fig = plotting.plot_patchgan_verdict(val_y[0], real_logits)
fig.axes[0].set_title("real pair: target y")
fig = plotting.plot_patchgan_verdict(after[0], fake_logits)
fig.axes[0].set_title("generated pair: G(x)");

# %% [markdown]
# The sample browser replays the pictures saved during training (input | target | prediction, one row
# per pair): press play to watch the translations form. (Widgets need a live notebook, e.g. Colab.)
# The callback runs the generator exactly as `predict` does (`course_utils.inference`), so the saved
# pictures, `evaluate()`, TensorBoard and `python -m course_utils translate` all show the same result.

# %%
sample_dir = run_dir / "samples"
saved = sorted(sample_dir.glob("*.png"))
print(f"{len(saved)} sample pictures in {sample_dir}")
browser = widgets.sample_browser(sample_dir) if saved else None
browser

# %% [markdown]
# ## 10. Labs: predict, then run
#
# Isola et al. (2017, section 4) took their recipe apart to see what each piece does. The three labs
# below repeat three of those experiments on the shipped pairs. Each one asks you to **predict** the
# outcome first (write it into `your_prediction`), then trains every variant, scores it on the
# validation pairs and shows one row of pictures per variant.
#
# To fit in about a minute of CPU, the labs train small networks on small images, at the scale
# `pix2pix_lab.SMOKE` prints below, whatever this lesson's profile. Each variant gets two figures:
#
# - **L1** to the true targets, next to the **mean image**'s (the baseline that needs no learning);
# - **sharpness**: the energy of the differences between neighbouring pixels, relative to the targets'
#   (`pix2pix_lab.gradient_energy`). 1 means as much fine detail as the targets; below 1 is blur (the mean
#   image is far below); above 1 means more edges or speckle than the targets. L1 alone rewards blur, so
#   we need both.
#
# Beside your run, each lab prints the same variants trained for many more steps by
# `python -m course_utils.labs.pix2pix` (the cell below prints its command, settings and minutes, kept in
# `data/reference/labs_pix2pix.json`). Short GAN runs are noisy: when the two disagree, trust the longer.

# %%
from course_utils.labs import pix2pix as pix2pix_lab

longer = pix2pix_lab.load_results(missing_ok=True)
LAB_SCALE = config.cut_lab_scale(pix2pix_lab.SMOKE)   # the smoke scale; COURSE_STEPS (make check-full) cuts its steps
print("this lesson's labs:", LAB_SCALE)
if longer:
    print(f"the longer runs: {longer['settings']} | `{longer['command']}`, {longer['seconds'] / 60:.0f} min")
else:
    print("no longer runs recorded yet: `python scripts/run_labs.py pix2pix` makes them")

# %% [markdown]
# ### 10.1 Lab: which loss?
#
# Three generators, identical except for what they learn from:
#
# - **L1 only**: no discriminator at all, just $\lVert y - G(x) \rVert_1$;
# - **cGAN only**: the discriminator's verdict and nothing else ($\lambda = 0$);
# - **cGAN + L1**: the Pix2Pix objective ($\lambda = 100$).
#
# **Predict** before you run: which one gives the lowest L1? Which one the blurriest images (lowest
# sharpness)? Which one would you pick? Write your guess as text.

# %%
your_prediction = None   # e.g. "lowest L1: ..., blurriest: ..., best: ..."

# %% [markdown]
# Now the run: three variants, one after the other, each with its progress bar; then the figures and
# one row of validation pictures per variant.

# %%
print("your prediction:", your_prediction or "(none written: write one before you look!)")
lab_run = pix2pix_lab.run_lab(pix2pix_lab.LABS["objective"], **LAB_SCALE)
pix2pix_lab.print_lab("objective", lab_run, longer)
fig = pix2pix_lab.picture_rows("objective", lab_run)

# %% [markdown]
# What the paper found, and which of its orderings your run and the longer run show:

# %%
pix2pix_lab.print_orderings("objective", lab_run, longer)

# %% [markdown]
# The yes/no lines are computed from the figures above, never written in by hand: a "no" means that
# this scale did not reproduce the paper's ordering, and then the paper's claim stays a claim here.
# Compare with the pictures: $L_1$ alone tends to the blurred compromise of section 6, and what the
# adversarial term changes is the amount of fine detail (sharpness), more than the L1 distance.
#
# ### 10.2 Lab: U-Net or encoder-decoder?
#
# The same generator twice, trained with cGAN + L1: once as the U-Net, once without its skip
# connections (`pix2pix_lab.encoder_decoder_generator`), so that everything must pass through the 1x1
# bottleneck. The U-Net is the cGAN + L1 variant of the lab above, reused rather than trained again.
#
# **Predict**: how much worse is the encoder-decoder, in L1 and in sharpness? What will its pictures
# lack?

# %%
your_prediction = None   # e.g. "encoder-decoder: L1 ... worse, blurrier / as sharp, loses ..."

# %% [markdown]
# The run (only the encoder-decoder trains now):

# %%
print("your prediction:", your_prediction or "(none written: write one before you look!)")
lab_run = pix2pix_lab.run_lab(pix2pix_lab.LABS["generator"], **LAB_SCALE, previous=lab_run)
pix2pix_lab.print_lab("generator", lab_run, longer)
fig = pix2pix_lab.picture_rows("generator", lab_run)

# %%
pix2pix_lab.print_orderings("generator", lab_run, longer)

# %% [markdown]
# Again the lines are computed, not written in. The encoder-decoder must carry every detail through a
# 1x1 bottleneck of a few dozen channels; where the U-Net's skips hand the label map's edges straight to
# the decoder, the encoder-decoder has to rebuild them from that vector.
#
# ### 10.3 Lab: how large a patch should the discriminator judge?
#
# The paper compared discriminators whose verdicts see 1x1, 16x16, 70x70 and 286x286 pixels of a
# 256x256 image (the last one: the whole image). Our images are 32x32, so the lab keeps the *fractions*
# of the image side instead (`pix2pix_lab.PATCHES`): a single pixel, a 4-pixel patch, a 7-pixel patch
# (7/32 = 0.22 of the side; the paper's 70/256 = 0.27) and the whole image. The table prints the
# receptive field of each, computed from the network.
#
# **Predict**: which patch size gives the blurriest images, which the lowest L1, and is the whole image
# better than a patch?

# %%
for patch, (paper_field, _) in pix2pix_lab.PATCHES.items():
    field = pix2pix_lab.receptive_field(pix2pix_lab.patch_discriminator(pix2pix_lab.SMOKE["image_size"], patch, 4))
    print(f"{patch:>12}: paper {paper_field:>3}/256 = {paper_field / 256:.2f} of the side | "
          f"here {field:>2}/{pix2pix_lab.SMOKE['image_size']} = {field / pix2pix_lab.SMOKE['image_size']:.2f}")

# %%
your_prediction = None   # e.g. "blurriest: ..., lowest L1: ..., whole image better/worse than 70x70"

# %% [markdown]
# The run (the 70x70 variant is again the one trained in lab 10.1):

# %%
print("your prediction:", your_prediction or "(none written: write one before you look!)")
lab_run = pix2pix_lab.run_lab(pix2pix_lab.LABS["patch"], **LAB_SCALE, previous=lab_run)
pix2pix_lab.print_lab("patch", lab_run, longer)
fig = pix2pix_lab.picture_rows("patch", lab_run)

# %%
pix2pix_lab.print_orderings("patch", lab_run, longer)

# %% [markdown]
# The paper's argument: $L_1$ already takes care of the low frequencies, so the discriminator only
# needs to judge local texture, and a patch does that with fewer parameters and on any image size. A
# 1x1 PixelGAN judges colours only, so it cannot punish blur. At our 32x32 scale every size is a
# rough stand-in for the paper's, so read the computed lines above before you draw conclusions.

# %% [markdown]
# ## Check yourself
#
# Answer each question in your head (or on paper) first, then open the answer.
#
# **1.** Why does the Pix2Pix discriminator see the input image together with the output?
#
# <details><summary>Answer</summary>
#
# It judges *pairs*. A discriminator that saw only the output would accept any realistic image, even one that has nothing to do with the input; seeing both, it also checks that the output fits its input.
#
# </details>
#
# **2.** Why do the convolutions just before a batch norm have no bias?
#
# <details><summary>Answer</summary>
#
# Batch norm subtracts each channel's mean, and a per-channel bias shifts that mean by exactly the bias: it cancels. The bias would be a weight that never changes the output.
#
# </details>
#
# **3.** Three 4x4 convolutions with stride 2, one after the other. How large is the receptive field of one output cell?
#
# <details><summary>Answer</summary>
#
# Walking back from the output with $r_{\text{in}} = (r_{\text{out}} - 1)s + k$: $1 \to 4 \to 10 \to 22$. Each output cell sees a 22x22 patch of the input.
#
# </details>
#
# **4.** What does the $L_1$ term add, and what would $L_1$ alone give?
#
# <details><summary>Answer</summary>
#
# It keeps the output close to the target, colours and layout in the right places, and it dominates the loss at the start, which makes training steady. Alone it gives blurry images where several outputs are plausible: per pixel, $L_1$ is minimised by the *median* of the plausible values (the mean, a grey blend, minimises the squared error $L_2$, which blurs even more; that is why the paper prefers $L_1$). Where no value is a clear majority the median is still a compromise. The GAN term is what makes the images sharp: the lab of section 10.1 measures it.
#
# </details>
#
# **5.** A 256x256 input goes through eight stride-2 encoder blocks. What spatial size is the bottleneck, and why does the U-Net need its skip connections?
#
# <details><summary>Answer</summary>
#
# $256 / 2^8 = 1$: a 1x1 bottleneck. Fine detail (edges, exact positions) cannot squeeze through it; the skips carry each encoder level straight to the decoder level of the same size.
#
# </details>

# %% [markdown]
# ## Summary
#
# - Pix2Pix is a conditional GAN: $G$ maps an input image to an output image, and $D$ judges *pairs*,
#   so outputs must be realistic **and** fit their input. It needs aligned pairs, stored side by side.
# - Training pairs are jittered together: resize to 286, the same random 256 crop, the same mirror.
# - The generator is a U-Net: an encoder-decoder whose skip connections carry detail across
#   (54.41 M trained weights at 256, as the authors print it; Keras's `count_params()` adds batch norm's
#   moving statistics). The discriminator is a 70x70 PatchGAN with a 30x30 grid of verdicts.
# - $\mathcal{L}_G = \text{BCE} + 100 \cdot L_1$ and a halved BCE for $D$; both gradients come from one
#   forward pass (a simultaneous update), with Adam($2\cdot10^{-4}$, $\beta_1 = 0.5$) at batch size 1.
# - $L_1$ is minimised per pixel by the median of the plausible outputs, $L_2$ by their mean (a blur); the
#   paper picks $L_1$ because it blurs less, and adds the GAN term for sharp detail.
# - Judge with your eyes first, then with L1, PSNR, SSIM and a blur measure on held-out pairs, against
#   the mean image. The labs of section 10 measure what the loss, the skips and the patch size change.
#
# Pix2Pix needs pairs. Lesson 03 (CycleGAN) drops that requirement: it translates between two
# collections of images that were never paired, with a cycle-consistency loss instead of $L_1$.

# %% [markdown]
# ## Further reading
#
# **The papers this lesson teaches**
#
# - Isola et al. (2017), *Image-to-Image Translation with Conditional Adversarial Networks* (Pix2Pix),
#   [arXiv:1611.07004](https://arxiv.org/abs/1611.07004): the losses, the U-Net and PatchGAN
#   (appendix 6.1) and the training details (appendix 6.2).
# - Ronneberger et al. (2015), *U-Net*, [arXiv:1505.04597](https://arxiv.org/abs/1505.04597).
# - Wang et al. (2004), *Image Quality Assessment: From Error Visibility to Structural Similarity*
#   (SSIM), [doi:10.1109/TIP.2003.819861](https://doi.org/10.1109/TIP.2003.819861).
#
# **The TensorFlow and Keras documentation we used**
#
# - The TensorFlow [pix2pix tutorial](https://www.tensorflow.org/tutorials/generative/pix2pix), the
#   source of the simultaneous update and the 40,000-step schedule.
# - [tf.data: Build TensorFlow input pipelines](https://www.tensorflow.org/guide/data).
# - Keras: [customizing what happens in `fit()`](https://keras.io/guides/custom_train_step_in_tensorflow/),
#   [callbacks](https://keras.io/api/callbacks/) and [`plot_model`](https://keras.io/api/utils/model_plotting_utils/).
#
# **Where to go next**
#
# - Wang et al. (2018), *High-Resolution Image Synthesis and Semantic Manipulation with Conditional
#   GANs* (pix2pixHD), [arXiv:1711.11585](https://arxiv.org/abs/1711.11585): Pix2Pix at 2048x1024.
# - Park et al. (2019), *Semantic Image Synthesis with Spatially-Adaptive Normalization* (SPADE),
#   [arXiv:1903.07291](https://arxiv.org/abs/1903.07291): label maps to photos with a better way to
#   feed the labels in.
# - Zhu et al. (2017), *Toward Multimodal Image-to-Image Translation* (BicycleGAN),
#   [arXiv:1711.11586](https://arxiv.org/abs/1711.11586): many plausible outputs for one input,
#   where Pix2Pix gives one.
