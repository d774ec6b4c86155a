# %% [markdown]
# # 02 Pix2Pix: translating one image into another
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/02_pix2pix.ipynb)
#
# Pix2Pix translates one image into another, learning from aligned pairs: label maps into facade
# photos, here. **You write** (each checked before the lesson uses it): the U-Net's decoder block `upsample_with_skip` (4.2), `build_unet` (4.3),
# `build_patchgan` (5), `receptive_field` (5.1), `generator_loss` (6), `train_step` (7), and a
# prediction that the lab of section 11 tests.

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
course.costs.print_estimate(cfg)   # what the learner and paper profiles cost on a Colab T4: an estimate

# %% [markdown]
# `cfg` holds every setting. On a GPU the lesson runs the *learner* profile: the paper's networks at
# 256x256 on facades, 12,000 steps (about 15 T4 minutes by the estimate above); on a CPU the *smoke*
# profile, the same code at a small scale. [Lesson 00](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/00_setup.ipynb) has the profiles' table.

# %%
print(f"profile: {cfg.profile} | dataset {cfg.dataset} | {cfg.image_size}x{cfg.image_size} px | "
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

from course_utils import data, losses, models, train

print("TensorFlow", tf.__version__, "| Keras", keras.__version__)
print("shipped paired set:", data.shipped_paired_path())

# %% [markdown]
# ## 1. Conditional GANs: learning a mapping from pairs
#
# The GAN of lesson 01 turned noise into *some* realistic image. Many tasks want a *particular* output
# for each input: a label map $\to$ a facade photo, edges $\to$ a shoe, grey $\to$ colour.
# [Isola et al. (2017)](https://arxiv.org/abs/1611.07004) handle all of these with one recipe,
# **Pix2Pix**, given *aligned pairs* $(x, y)$. It is a **[conditional GAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#conditional-gan)**:
#
# the [generator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generator) $G$ turns $x$ into $G(x)$, and the [discriminator](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminator)
# $D$ judges a *pair*, real $(x, y)$ or generated $(x, G(x))$, so it punishes outputs that do not fit.
# There is no noise $z$ ([dropout](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dropout) is the only randomness).

# %%
course.diagrams.conditional_gan_diagram();

# %% [markdown]
# ## 2. Paired datasets: input and target side by side in one file
#
# The Pix2Pix datasets store each pair as **one image twice as wide as high**, A left and B right, so
# the halves never get out of step. One raw file of the course's small shipped set, `label2scene` (a
# label map beside the scene it describes):

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
# Which half is the input is a choice: for `label2scene` we translate A $\to$ B (`direction="AtoB"`);
# the facades archive stores photo | labels, so labels $\to$ photo is `"BtoA"`.

# %%
print({name: spec.direction for name, spec in course.archives.PIX2PIX_DATASETS.items()})

# %% [markdown]
# ## 3. The input pipeline, step by step
#
# Pix2Pix augments its few pairs (facades has 400) with **random jitter** (Isola et al. 2017, section 6.2):
#
# 1. split the file into A and B;
# 2. scale the pixels from $[0, 255]$ to $[-1, 1]$, the range of the generator's `tanh`;
# 3. resize both halves to 286x286;
# 4. cut a random 256x256 crop, **the same crop for both halves**, so the pair stays aligned;
# 5. mirror left-right with probability 1/2, again both halves together.
#
# Each step is a function in `course_utils.core.data`:

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
# The four stages as pictures, A and B of each side by side:

# %%
steps = [("split", a, b), (f"resize {LOAD}", a_big, b_big), (f"crop {CROP}", a_crop, b_crop),
         ("mirror", a_flip, b_flip)]
fig = course.plotting.show_images([t for _, x, y in steps for t in (x, y)],
                           titles=[f"{name}: {half}" for name, _, _ in steps for half in ("A", "B")],
                           ncols=8, size=1.7)

# %% [markdown]
# `random_crop_pair` crops A and B as one stacked tensor. Check: jitter a pair of two identical
# halves, and the outputs must be equal.

# %%
for s in range(5):
    j1, j2 = data.random_jitter(a, a, image_size=CROP, seed=tf.constant([s, 7]))
    assert np.array_equal(j1.numpy(), j2.numpy()), "the two halves were jittered differently"
print("✅ the same crop and the same flip for both halves, on 5 random draws")

# %% [markdown]
# `data.random_jitter` does steps 3 to 5 at once. Six jitters of one pair: each A still sits on its B.

# %%
jitters = [data.random_jitter(a, b, image_size=CROP, seed=tf.constant([s, 0])) for s in range(6)]
fig = course.plotting.plot_image_rows({f"jitter {s + 1}": [ja, jb] for s, (ja, jb) in enumerate(jitters)},
                               size=1.6, suptitle="six random jitters of one pair (top: A, bottom: B)")

# %% [markdown]
# `data.load_paired_folder` wraps this in a `tf.data` pipeline (decode, cache, shuffle, jitter,
# batch); the validation split is only resized (`jitter=False`). In the learner profile the facades
# archive (about 30 MB) is downloaded once here.

# %%
if cfg.dataset == "shipped":
    dataset_root, direction = data.shipped_paired_path(), "AtoB"
else:
    dataset_root = course.archives.download_pix2pix_dataset(cfg.dataset, course.config.download_cache())   # Colab: /content/datasets
    direction = course.archives.PIX2PIX_DATASETS[cfg.dataset].direction

train_ds = data.load_paired_folder(dataset_root, "train", image_size=cfg.image_size, direction=direction,
                                   batch_size=cfg.batch_size, seed=cfg.seed)
val_ds = data.load_paired_folder(dataset_root, "val", image_size=cfg.image_size, direction=direction,
                                 jitter=False, shuffle=False, batch_size=cfg.batch_size, drop_remainder=False)
x_batch, y_batch = next(iter(train_ds))
print(dataset_root.name, direction, "| input", x_batch.shape, "| target", y_batch.shape)   # (batch, S, S, 3)
fig = course.plotting.plot_image_rows({"input x": x_batch, "target y": y_batch}, max_rows=2, size=2)

# %% [markdown]
# ## 4. The generator: from encoder-decoder to U-Net
#
# An **[encoder-decoder](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#encoder-decoder)** halves the image with [strided convolutions](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#strided-convolution)
# down to a 1x1 "bottleneck" and doubles it back with [transposed convolutions](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#transposed-convolution).
# *Everything* must squeeze through the bottleneck, yet input and output share their edges. The
# **[U-Net](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#u-net)** ([Ronneberger et al. 2015](https://arxiv.org/abs/1505.04597)) adds
# **[skip connections](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#skip-connection)**: each encoder output is concatenated to the decoder block
# of the same size, so fine detail goes straight across. At 256x256: 8 blocks down, 7 up.

# %%
course.diagrams.unet_diagram(models.unet_filters(256), image_size=256);   # widths [64, 128, 256, 512, 512, 512, 512, 512]

# %% [markdown]
# ### 4.1 The downsample block
#
# Every encoder block is a 4x4 convolution with stride 2, [batch normalisation](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#batch-normalisation)
# and [LeakyReLU](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#leakyrelu) with slope 0.2. Weights start from $\mathcal{N}(0, 0.02^2)$ and the
# convolution has no bias, because batch norm would cancel it: the DCGAN generator section of
# [lesson 01](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/01_gan_basics.ipynb) explains both. The **first** encoder block has no batch norm, and neither has the
# [PatchGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#patchgan)'s (Isola et al. 2017, appendix 6.1).

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
# The check (while your function is a stub, the lesson uses the course's block):

# %%
upsample_with_skip = course.exercises.check("02.upsample_with_skip", upsample_with_skip)

# %% [markdown]
# ### 4.3 The whole U-Net
#
# The encoder widths double from 64 up to 512 and stay there, $\log_2 256 = 8$ blocks. The decoder
# walks back up through the mirrored sizes with dropout (0.5) in its first three blocks, the generator's
# only randomness. A last transposed convolution gives 3 channels and `tanh` keeps them in $[-1, 1]$.
# The 1x1 bottleneck has **no batch norm** (and so keeps its bias), as in the paper's code: with batch
# size 1, batch norm over a 1x1 map would subtract the only value of each channel and output its
# offset $\beta$ whatever the image.

# %% [markdown]
# **Your turn: the whole U-Net.** Write `build_unet(image_size, channels, filters)` returning a
# `keras.Model` from `image_size x image_size x channels` images to images of the same shape, built
# from your `downsample` and `upsample_with_skip`:
#
# - the encoder: one block per halving down to 1x1, widths `filters`, `2 * filters`, ... capped at
#   `8 * filters`; no batch norm on the first block; the innermost block a plain 4x4 stride-2
#   convolution *with* bias, then LeakyReLU 0.2;
# - keep every encoder output except the bottleneck's: each decoder block is joined to the one with its
#   own height and width;
# - the decoder: one `upsample_with_skip` per remaining encoder block, from the smallest size back up,
#   with the widths mirrored and dropout in the first three;
# - a last 4x4 stride-2 transposed convolution to `channels` with `tanh`, initialised with `INIT`.

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
# The check (while your function is the stub, the lesson uses the course's U-Net):

# %%
build_unet = course.exercises.check("02.unet", build_unet)

# %% [markdown]
# At 256x256 Isola et al.'s code prints **54.41 M** parameters; Keras's `count_params()` gives a few
# thousand more, as it also counts batch norm's running statistics, which are not trained:

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
# This run's generator works at `cfg.image_size`, with `cfg.filters` in its first block (64 in the
# paper). One image through it:

# %%
FILTERS = cfg.filters   # 64 as in the paper; fewer in the smoke profile
generator = build_unet(cfg.image_size, filters=FILTERS)           # your U-Net
print(f"generator at {cfg.image_size}x{cfg.image_size}, {FILTERS} filters: {generator.count_params():,} parameters, "
      f"{int(np.log2(cfg.image_size))} encoder blocks")
out = generator(x_batch[:1], training=False)
print("input", x_batch[:1].shape, "-> output", out.shape, f"in [{float(tf.reduce_min(out)):.2f}, "
      f"{float(tf.reduce_max(out)):.2f}]")

# %% [markdown]
# Where graphviz is installed (Colab), Keras draws the real graph, skips included:

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
# Pix2Pix leaves large-scale structure to $L_1$ and lets $D$ judge local texture: the **PatchGAN**
# outputs a *grid* of [logits](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#logit), one per overlapping patch of the pair.
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
build_patchgan = course.exercises.check("02.patchgan", build_patchgan)

# %% [markdown]
# At 256x256 your PatchGAN is the paper's 70x70 PatchGAN, with a 30x30 grid of verdicts:

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
# On small images three halvings would leave almost no grid, so the course uses
# `min(3, log2(S) - 3)` of them (two at 32x32). This run's discriminator, built with your function:

# %%
n_down = min(3, int(np.log2(cfg.image_size)) - 3)
discriminator = build_patchgan(cfg.image_size, filters=FILTERS, n_down=n_down)   # your PatchGAN
print(f"discriminator at {cfg.image_size}x{cfg.image_size}: {discriminator.count_params():,} parameters, "
      f"{n_down} halvings, verdict grid {discriminator.output_shape[1:3]}")

# %% [markdown]
# ### 5.1 How much of the image does one verdict see?
#
# The **[receptive field](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#receptive-field)** of an output cell is the input patch that can
# influence it. Along one side: one output cell of a convolution with kernel $k$ and stride $s$ needs
# $k$ input cells; each further output cell needs $s$ more. Padding moves the patch but does not
# change its size.
#
# **Your turn.** Write `receptive_field(layer_list)`, where `layer_list` holds `(kernel, stride, padding)`
# for each layer from input to output: start from one cell at the last layer's output and find how
# many cells it covers at the input of each layer in turn. Try two 3x3 stride-1 convolutions by hand
# first (the answer is 5).

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
# The check:

# %%
receptive_field = course.exercises.check("02.receptive_field", receptive_field)

# %% [markdown]
# The rule you wrote: a field of $r$ cells at a layer's output needs $r_{\text{in}} = (r_{\text{out}} - 1)\, s + k$
# cells at its input. Applied to the paper's PatchGAN from the logits back, the five 4x4 layers reach
# 70: each of the 30x30 verdicts judges a **70x70** patch.

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
# `course.plotting.plot_receptive_field` draws one cell's patch. At the border part of the field falls on the
# zero padding, so cell (0, 0) sees rows and columns 0 to 46 only.

# %%
big_x = data.resize(a, 256)                              # the label map from section 3, at 256x256
big_y = data.resize(b, 256)
for cell in [(0, 0), (15, 15)]:
    print(f"cell {cell}: (top, left, bottom, right) =", models.patch_receptive_field(*cell))
fig = course.plotting.plot_receptive_field(big_y, 15, 15)

# %% [markdown]
# ### 5.2 The verdict map
#
# `sigmoid` turns each of the 30x30 logits into the probability that *its* patch comes from a real
# pair. This discriminator is untrained, so every patch sits near 0.5; we come back to it after
# training.

# %%
full_logits = full_disc([big_x[None], big_y[None]], training=False)     # (1, 30, 30, 1)
print("logits", full_logits.shape)
fig = course.plotting.plot_patchgan_verdict(big_y, full_logits)
del full_disc, reference_disc      # the full-size networks were only for counting and pictures

# %% [markdown]
# The explorer: pick an output cell with the sliders to see the patch it judges (widgets need a live
# notebook, e.g. Colab).

# %%
explorer = course.widgets.patchgan_explorer(big_y, full_logits)
explorer

# %% [markdown]
# ## 6. The losses
#
# The conditional GAN objective plus an [$L_1$ distance](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#l1-loss) to the target:
#
# $$G^* = \arg\min_G \max_D\; \mathbb{E}_{x,y}\big[\log D(x, y)\big] + \mathbb{E}_{x}\big[\log\big(1 - D(x, G(x))\big)\big] + \lambda\, \mathbb{E}_{x,y}\lVert y - G(x)\rVert_1, \quad \lambda = 100.$$
#
# The paper argues (Isola et al. 2017, section 3.1, fig. 4) that $L_1$ alone gets colours and layout
# right but blurs, settling on a compromise where several outputs are plausible, and that the
# adversarial term penalises the blur $D$ can detect; section 11 tests this claim. In code both players
# minimise a [binary cross-entropy](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#binary-cross-entropy) (BCE) on logits, averaged over patches:
#
# - **discriminator**: $\mathcal{L}_D = \tfrac12\big[\text{BCE}(1, D(x, y)) + \text{BCE}(0, D(x, G(x)))\big]$,
#   halved as in the paper;
# - **generator**: the [non-saturating](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#non-saturating-loss) form of lesson 01 plus the weighted $L_1$:
#   $\mathcal{L}_G = \text{BCE}(1, D(x, G(x))) + \lambda \lVert y - G(x)\rVert_1$.
#
# The discriminator's loss is written for you, and compared with the course's:

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
generator_loss = course.exercises.check("02.generator_loss", generator_loss)

# %% [markdown]
# **Why $L_1$, not $L_2$?** A pixel is black ($-1$) in 3 training pairs of 5, white in 2. The squared
# error is smallest at the **mean**, a grey no target has; the absolute error at the **median**, black.
# $L_2$ averages plausible outputs into a blur; $L_1$ picks a median, which blurs less:

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
# After [initialisation](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#weight-initialisation) $D$ guesses about 0.5, so the adversarial term is
# about $\log 2 \approx 0.69$ and the weighted $L_1$ about $100 \times 0.5$: $L_1$ dominates early,
# which makes Pix2Pix train steadily.

# %%
fake = generator(x_batch, training=True)                     # (batch, S, S, 3), S = cfg.image_size
fake_logits = discriminator([x_batch, fake], training=True)  # (batch, grid, grid, 1): 6x6 at 32, 30x30 at 256
print("generated", fake.shape, "-> logits", fake_logits.shape)
total, adversarial, l1 = generator_loss(fake_logits, fake, y_batch, cfg.l1_weight)
print(f"total {float(total):.2f} = adversarial {float(adversarial):.3f} + {cfg.l1_weight:g} x L1 {float(l1):.3f}")

# %% [markdown]
# ## 7. One training step, written out
#
# Each step updates $D$ on $\mathcal{L}_D$ and $G$ on $\mathcal{L}_G$, whose gradient flows *through*
# $D$. As in the TensorFlow tutorial, both gradients come from one forward pass (a
# [simultaneous update](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#simultaneous-update); the paper's code uses an [alternating](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#alternating-update)
# one). [Adam](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam), learning rate $2\cdot10^{-4}$, $\beta_1 = 0.5$, batch size 1.
#
# **Your turn: the training step.** Write
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
# The check takes three steps with yours and with the course's step on twin networks (no dropout) and
# compares the losses and every weight after each.

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


# %%
train_step = course.exercises.check("02.train_step", train_step)

# %% [markdown]
# Your step on this lesson's networks, run eagerly (easy to debug): two steps on one batch.

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
# The course's `train.Pix2Pix` is a `keras.Model` whose `train_step` is your step, compiled, so
# `fit` runs it with callbacks: sample pictures every `cfg.sample_every` steps, a loss log, and on a
# GPU the measured step time and projected finish after 100 steps. Lesson 04 adds
# [checkpoints](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkpoint) that survive a disconnect.

# %%
run_dir = (Path("/content/runs") if course.config.in_colab() else Path(tempfile.gettempdir()) / "gan-course") / "02_pix2pix"
shutil.rmtree(run_dir, ignore_errors=True)           # start this lesson's run from scratch
print(f"this run: {cfg.steps:,} steps at {cfg.image_size}x{cfg.image_size}, {cfg.filters} base filters, "
      f"batch size {cfg.batch_size}, a sample picture every {cfg.sample_every} steps")

val_x = np.concatenate([x for x, _ in val_ds])       # (n_val, S, S, 3)
val_y = np.concatenate([y for _, y in val_ds])
print("validation pairs:", val_x.shape)


def predict(images):
    """G on every image by the course's inference convention: each image's own batch-norm statistics."""
    return course.inference.translate(generator, images)     # (n, S, S, 3) in [-1, 1]


before = predict(val_x)                              # kept to compare with after training

# %% [markdown]
# The run: `fit` trains for `cfg.steps` steps with the paper's two Adam optimizers.

# %%
trainer = train.Pix2Pix(generator, discriminator, l1_weight=cfg.l1_weight)
trainer.compile(g_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1),
                d_optimizer=keras.optimizers.Adam(cfg.learning_rate, beta_1=cfg.beta_1))
pace = course.costs.Pace(cfg.steps, name="Pix2Pix")                         # on a GPU: step time and finish
callbacks = [course.runs.NaNGuard(),                                      # stop at the first NaN loss
             course.runs.LossHistory(run_dir),                            # run_dir/history.csv
             course.runs.SampleGrid(run_dir, (val_x[:3], val_y[:3]), every=cfg.sample_every),   # run_dir/samples/
             pace.callback()]
fit_history = trainer.fit(train_ds.repeat(), epochs=1, steps_per_epoch=cfg.steps, callbacks=callbacks,
                          shuffle=False, verbose=2 if cfg.is_smoke else 1)   # the data is shuffled already
print("trained steps:", trainer.global_step)

# %% [markdown]
# GAN losses do not fall steadily: the players push against each other. The $L_1$ part is the
# easiest to read, and it should go down.

# %%
fig = course.plotting.plot_loss_history(run_dir / "history.csv", keys=["d_loss", "g_adv", "g_l1"],
                                 smoothing=0.6 if cfg.is_smoke else 0.98)

# %% [markdown]
# ## 9. Judging the results
#
# First by eye: input, target and prediction side by side, on validation pairs the generator never
# trained on. Like the paper, we run batch norm with each image's own statistics (section 9.2).

# %%
after = predict(val_x)
fig = course.plotting.plot_translation_rows(val_x, val_y, after, max_rows=4)

# %% [markdown]
# Then with numbers over the validation split (`course_utils.core.metrics`), pixel by pixel:
#
# - **L1**: mean absolute difference in $[-1, 1]$ units, lower is better;
# - **[PSNR](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#psnr)**: $10 \log_{10}(\text{MAX}^2 / \text{MSE})$ in decibels (MAX: the value range's width), higher is better;
# - **[SSIM](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#ssim)** ([Wang et al. 2004](https://doi.org/10.1109/TIP.2003.819861)): agreement of local
#   brightness, contrast and structure in 11x11 windows, 1 for identical images.
#
# None rewards sharpness as a person does, so look at the pictures too.

# %%
scores = {}
for name, predictions in [("before training", before), ("after training", after)]:
    scores[name] = {"L1": course.metrics.mean_l1(predictions, val_y), "PSNR": course.metrics.psnr(predictions, val_y),
                    "SSIM": course.metrics.ssim(predictions, val_y)}
print(f"{'':>16}  {'L1':>6}  {'PSNR':>6}  {'SSIM':>6}")
for name, s in scores.items():
    print(f"{name:>16}  {s['L1']:6.3f}  {s['PSNR']:6.2f}  {s['SSIM']:6.3f}")
course.config.expect_quality(scores["after training"]["L1"] < scores["before training"]["L1"],
                      "training brings G closer to the targets (lower L1 than before training)")

# %% [markdown]
# Beating an untrained network is a low bar. A fair **baseline** needs no learning: answer every input
# with the average of all training targets, the *mean image*. Ours must beat it clearly.

# %%
judged = course.results.pix2pix_results(generator, root=dataset_root, direction=direction)
print(f"{'':>22}  {'L1':>6}  {'PSNR':>6}  {'SSIM':>6}")
for name, s in judged.items():
    print(f"{name:>22}  {s['l1']:6.3f}  {s['psnr']:6.2f}  {s.get('ssim', float('nan')):6.3f}")
ratio = judged["generator"]["l1"] / judged["mean image"]["l1"]
print(f"our L1 is {ratio:.2f} x the mean image's")
course.config.expect_quality(ratio < 1, "the generator beats a constant picture (the mean image's L1)")

# %% [markdown]
# ### 9.1 The discriminator's verdicts, and the samples
#
# $D$'s verdict map on a real validation pair and on the generated one, computed as in training.
# Red cells point at the patches where a fake gives itself away.

# %%
n = cfg.batch_size
real_logits = discriminator([val_x[:n], val_y[:n]], training=True)[:1]    # (1, grid, grid, 1)
fake_logits = discriminator([val_x[:n], after[:n]], training=True)[:1]     # (1, grid, grid, 1)
fig = course.plotting.plot_patchgan_verdict(val_y[0], real_logits)
fig.axes[0].set_title("real pair: target y")
fig = course.plotting.plot_patchgan_verdict(after[0], fake_logits)
fig.axes[0].set_title("generated pair: G(x)");

# %% [markdown]
# The sample browser replays the pictures saved during training (input | target | prediction): press
# play to watch the translations form.

# %%
sample_dir = run_dir / "samples"
saved = sorted(sample_dir.glob("*.png"))
print(f"{len(saved)} sample pictures in {sample_dir}")
browser = course.widgets.sample_browser(sample_dir) if saved else None
browser

# %% [markdown]
# ### 9.2 Which way to run a trained generator?
#
# In training, batch norm normalises with the batch's statistics: at batch size 1, one image's.
# `training=False` uses running averages instead. Isola et al. (2017, section 3.3) run the generator
# at test time as in training; so does the course's `course.inference.translate` (dropout off), used by all
# its tools. Both modes on the same weights:

# %%
modes = {"per-image statistics (course.inference.translate)": course.inference.translate(generator, val_x),
         "running averages (training=False)": generator.predict(val_x, verbose=0)}
for name, pred in modes.items():
    print(f"{name:44s} L1 {course.metrics.mean_l1(pred, val_y):.3f}   PSNR {course.metrics.psnr(pred, val_y):5.2f}")
fig = course.plotting.plot_image_rows({"input x": val_x[:3], "target y": val_y[:3],
                                "per-image": modes["per-image statistics (course.inference.translate)"][:3],
                                "running averages": modes["running averages (training=False)"][:3]}, size=1.6)

# %% [markdown]
# ### 9.3 What longer training gives
#
# The course ships **reference weights**: the same small generator trained for many more steps on the
# shipped set (`data/reference/manifest.json` records how). They show where your run is heading.

# %%
reference_nets, reference = course.results.load_reference("pix2pix")
print(f"reference: {reference['steps']:,} steps, {reference['seconds_training'] / 60:.0f} min on "
      f"{reference['machine']}")
if cfg.dataset == "shipped":
    ref_pred = course.inference.translate(reference_nets["generator"], val_x)
    rows = {"mean image": judged["mean image"], f"our run ({cfg.steps} steps)": judged["generator"],
            f"reference ({reference['steps']:,} steps)": course.results.image_scores(ref_pred, val_y)}
    for name, s in rows.items():
        print(f"{name:>24}  L1 {s['l1']:.3f}  PSNR {s['psnr']:5.2f}  SSIM {s['ssim']:.3f}")
    fig = course.plotting.plot_image_rows({"input x": val_x[:4], "target y": val_y[:4], "our run": after[:4],
                                    "reference": ref_pred[:4]}, size=1.6)
else:
    print("The reference was trained on the shipped 64x64 set; your run trains on", cfg.dataset,
          "so compare with the recorded scores:", reference["metrics"]["generator"])

# %% [markdown]
# ## 10. What the paper's full training gives
#
# Isola et al. published their trained generators. The facades one (labels $\to$ photo, 200 epochs of
# the 400 facades) is a PyTorch *state dict*: a table from parameter names to arrays.
# `pretrained.lesson_generator` downloads it once, checks that every name and shape fits the course's
# U-Net, copies the weights in (PyTorch stores a kernel as (out, in, h, w), Keras as (h, w, in, out)),
# and returns an ordinary Keras model. We run it through the same inference rule and the same baseline
# as yours. Without a GPU (the smoke profile) nothing is downloaded: the cell builds the same network
# with *random* weights, a stand-in whose pictures mean nothing, so that the code still runs.

# %%

authors = course.pretrained.lesson_generator("pix2pix/facades_label2photo", cfg)   # the U-Net at 256x256
authors_judged = course.results.pix2pix_results(authors, root=dataset_root, direction=direction)   # val split at 256 px
print(f"{'':>26}  {'L1':>6}  {'PSNR':>6}  {'SSIM':>6}")
who = "stand-in (random weights)" if cfg.is_smoke else "the authors' (200 epochs)"
for name, s in [(f"mean image ({cfg.image_size} px)", judged["mean image"]),
                (f"your run ({cfg.steps:,} steps)", judged["generator"]),
                ("mean image (256 px)", authors_judged["mean image"]), (who, authors_judged["generator"])]:
    print(f"{name:>26}  {s['l1']:6.3f}  {s['psnr']:6.2f}  {s.get('ssim', float('nan')):6.3f}")
size = authors.input_shape[1]
authors_pred = course.inference.translate(authors, tf.image.resize(val_x[:4], (size, size)))   # (4, 256, 256, 3)
fig = course.plotting.plot_image_rows({"input x": val_x[:4], "target y": val_y[:4], "your run": after[:4],
                                who: tf.image.resize(authors_pred, val_x.shape[1:3]).numpy()}, size=1.6)

# %% [markdown]
# ## 11. Lab: what does the adversarial term add?
#
# Isola et al. (2017, fig. 4, table 1) trained one U-Net three ways, **L1 only** (no discriminator),
# **cGAN only** ($\lambda = 0$) and **cGAN + L1**, and report blurry images from L1 alone, sharp ones
# with artefacts from cGAN alone, sharp and faithful ones from both. The lab repeats this with small
# networks at 32x32, scoring **L1** to the targets and **sharpness**, the energy of neighbouring-pixel
# differences relative to the targets' (1 = as much detail, below 1 = blur). The cell also loads a
# longer run of the same variants.

# %%
from course_utils.lessons.labs import pix2pix as pix2pix_lab

longer = pix2pix_lab.load_results(missing_ok=True)   # the shipped longer run, data/reference/labs_pix2pix.json
LAB_SCALE = course.config.cut_lab_scale(pix2pix_lab.SMOKE)
print("this lab:", LAB_SCALE)
if longer:
    print(f"the longer run: {longer['settings']['steps']:,} steps a variant, seed {longer['settings']['seed']}")
else:
    print("the longer run's file is missing: only your run will be compared")

# %% [markdown]
# **Predict** before you run: which variant gives the blurriest images (the lowest sharpness)?

# %%
PREDICTION = None  # your guess: "L1 only", "cGAN only" or "cGAN + L1"

# %% [markdown]
# The run: three variants, one after the other, then the figures and a row of pictures each.

# %%
lab_run = pix2pix_lab.run_lab(pix2pix_lab.LABS["objective"], **LAB_SCALE)
pix2pix_lab.print_lab("objective", lab_run, longer)
fig = pix2pix_lab.picture_rows("objective", lab_run)

# %% [markdown]
# Your prediction against both runs, in sentences computed from their figures:

# %%
print("\n".join(pix2pix_lab.conclusion(PREDICTION, lab_run, longer)))

# %% [markdown]
# The paper's other ablations (U-Net or encoder-decoder, the patch size) are in the
# [going-further notebook](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/02_pix2pix_further.ipynb).

# %% [markdown]
# ## Check yourself
#
# **1.** Why does the Pix2Pix discriminator see the input image together with the output?
#
# <details><summary>Answer</summary>
#
# Seeing only the output, it would accept any realistic image, even one unrelated to the input.
#
# </details>
#
# **2.** How large is the receptive field of three stacked 4x4 stride-2 convolutions?
#
# <details><summary>Answer</summary>
#
# With $r_{\text{in}} = (r_{\text{out}} - 1)s + k$ from the output back: $1 \to 4 \to 10 \to 22$, a 22x22 patch.
#
# </details>
#
# **3.** What does the $L_1$ term add, and what does the paper say it gives alone?
#
# <details><summary>Answer</summary>
#
# Colours and layout in the right places, and steady training. Per pixel it is minimised by the *median* of the plausible values, a compromise where they disagree: Isola et al. report blurry images from $L_1$ alone and argue that the adversarial term penalises the blur $D$ can detect. That is the paper's claim; whether your runs show it, the lab's sentences in section 11 say.
#
# </details>
#
# **4.** Eight stride-2 blocks take a 256x256 input to what size, and why does the U-Net need skips?
#
# <details><summary>Answer</summary>
#
# $256 / 2^8 = 1$. Fine detail cannot squeeze through a 1x1 bottleneck; the skips carry each encoder level to the decoder level of the same size.
#
# </details>

# %% [markdown]
# ## Summary
#
# - Pix2Pix is a conditional GAN trained on aligned pairs, jittered together; $D$ judges *pairs*.
# - $G$ is a U-Net (an encoder-decoder with skips, 54.41 M weights at 256); $D$ a 70x70 PatchGAN.
# - $\mathcal{L}_G = \text{BCE} + 100 \cdot L_1$, a halved BCE for $D$, Adam($2\cdot10^{-4}$, $\beta_1 = 0.5$), batch 1.
# - Judge by eye, then with L1, PSNR and SSIM on held-out pairs, against the mean image.
#
# Lesson 03 (CycleGAN) translates without pairs.

# %% [markdown]
# ## Further reading
#
# - Isola et al. (2017), Pix2Pix, [arXiv:1611.07004](https://arxiv.org/abs/1611.07004): appendix 6
#   has the networks and training details.
# - Ronneberger et al. (2015), U-Net, [arXiv:1505.04597](https://arxiv.org/abs/1505.04597).
# - The TensorFlow [pix2pix tutorial](https://www.tensorflow.org/tutorials/generative/pix2pix).
