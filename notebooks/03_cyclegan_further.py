# %% [markdown]
# # 03 CycleGAN, going further
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/03_cyclegan_further.ipynb)
#
# Optional companions to [lesson 03](03_cyclegan.ipynb), for the curious; nothing here is needed
# later, and there are no exercises. Four short studies:
#
# 1. a smaller CycleGAN at 128 px (Udacity's), built layer for layer and compared with the paper's;
# 2. the checkerboard that transposed convolutions build in, and why the smoke profile learns at 1e-3;
# 3. why the course's reference CycleGAN trains at 64 px;
# 4. CycleGAN beside neural style transfer.

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

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers

from course_utils import data, metrics, models

INIT = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)   # the papers' N(0, 0.02^2), as in lesson 03

# %% [markdown]
# ## 1. A smaller variant
#
# A lighter CycleGAN works at 128x128: the one of Udacity's CycleGAN notebook (`cycle-gan/` in
# [udacity/deep-learning-v2-pytorch](https://github.com/udacity/deep-learning-v2-pytorch/tree/master/cycle-gan),
# summer to winter in Yosemite), which replaces some of the paper's choices with DCGAN-style ones:
#
# - generator: three 4x4 stride-2 convs with **batch norm** and ReLU ($128 \to 16$; 64, 128, 256
#   filters), 6 residual blocks (batch norm, zero padding) at $16 \times 16 \times 256$, two 4x4
#   stride-2 transposed convs with batch norm and ReLU and a last one to 3 channels at 128 with tanh;
# - discriminator: four 4x4 stride-2 convs ($128 \to 8$; 64 to 512 filters, `conv_dim = 64`, batch
#   norm after all but the first), each followed by a plain **ReLU**, and a last 4x4 stride-1 conv
#   with one pixel of zero padding: a **7x7** grid of scores;
# - **no conv has a bias** (`bias=False` in the notebook's helpers): before batch norm a bias cancels
#   (lesson 01, "Batch normalisation"), and the first and last layers simply go without one;
# - **LSGAN** losses.
#
# PyTorch's `padding=1` on the 4x4 stride-2 layers does what Keras's `padding="same"` does at even
# sizes; only the last, stride-1 conv needs its padding written out (`ZeroPadding2D(1)`), which is how
# 8x8 becomes 7x7. Where we differ from the notebook: our kernels start from $\mathcal{N}(0, 0.02^2)$, where the
# notebook keeps PyTorch's default initialisation. We keep its discriminator's ReLU, although
# [DCGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#dcgan) and lesson 01 use LeakyReLU so that some gradient always flows back to $G$. Its training choices (batch 16, no identity loss, no pool) do not
# appear, since we only build it.

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
course.checkers.print_structure(small_g, "small generator")        # each shape-changing conv, and the residual blocks
course.checkers.print_structure(small_d, "small discriminator")

# %% [markdown]
# The check: the same layers in the same order, parameter counts and, with the course's weights
# copied in, the same outputs in inference and in training mode.

# %%
course.checkers.check_model_builder(
    lambda t: my_small_generator()(t), lambda t: models.small_cyclegan_generator()(t),
    input_shapes=[(128, 128, 3)], name="my_small_generator",
    hint="Compare your layers with the description and the shapes in the comments: each convolution's "
         "width, kernel, stride and bias, the residual blocks, and the order of norm and activation.")
course.checkers.check_model_builder(
    lambda t: my_small_discriminator()(t), lambda t: models.small_cyclegan_discriminator()(t),
    input_shapes=[(128, 128, 3)], name="my_small_discriminator",
    hint="Compare your layers with the description: each convolution's width, stride and bias, which ones "
         "have batch norm, the activation, and the padding and size of the last layer.")
assert small_g.output_shape == (None, 128, 128, 3) and small_d.output_shape == (None, 7, 7, 1)

# %% [markdown]
# Beside the paper's networks: parameters (`count_params` includes batch norm's moving statistics,
# which are not trained) and the multiply-adds of one image's forward pass (`perf.count_macs`).

# %%
def count(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


resnet_256, resnet_128 = models.resnet_generator(256), models.resnet_generator(128)   # 9 and 6 blocks
paper_d = models.patchgan_discriminator(256, target_channels=None, norm="instance")
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
          f"{course.perf.count_macs(net) / 1e9:5.1f} GMAC, output {net.output_shape}")

# %% [markdown]
# The small generator has slightly *more* weights than the paper's at 128 (its 4x4 kernels), but it
# runs its residual blocks on a 16x16 grid instead of 32x32, so one image costs far fewer
# multiply-adds (the printout says how many). Its batch norm makes each output depend on the rest of
# the batch (lesson 03, section 8).

# %% [markdown]
# ## 2. The checkerboard of transposed convolutions (Odena et al. 2016)
#
# The paper's generator grows the image back with 3x3 **transposed** convolutions of stride 2. With a
# kernel of 3 and a stride of 2 the kernel's footprints overlap unevenly: along each axis every other
# output pixel receives one tap and its neighbours two, so in 2-D the output pixels fall into four
# classes receiving 1, 2, 2 or 4 taps. The layer has a **checkerboard** built in, which the network
# must learn to cancel (Odena, Dumoulin & Olah 2016,
# [*Deconvolution and checkerboard artifacts*](https://distill.pub/2016/deconv-checkerboard/)). Their
# remedy: double the size by nearest-neighbour **resizing**, then an ordinary stride-1 convolution,
# which treats every pixel alike. Both layers with all-ones kernels on a flat image, which should stay
# flat:

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
# A trained generator learns to cancel the pattern, but only with enough training; before that it
# shows as a per-pixel **speckle**. The course measured it on day2dusk with the **speckle ratio**
# (`course.results.speckle_ratio`: the outputs' high-frequency energy over the true translation's; 1 is
# right, above 1 speckle, below 1 blur), one setting at a time (docs/results.md has the tables): at the
# paper's learning rate a 200-step run left the checkerboard in place; resizing removed it by
# construction, and so did a learning rate five times the paper's, with which the paper's generator
# cancels it within the run. That is why lesson 03's smoke profile keeps the paper's generator and
# learns at 1e-3. `models.resnet_generator(upsample="resize")` builds the resize variant, with the same
# parameter count:

# %%
resnet_resize_256 = models.resnet_generator(256, upsample="resize")      # 9 blocks, resize-then-convolve
assert resnet_resize_256.count_params() == resnet_256.count_params() == 11_378_179
print(f"paper's generator and the resize variant: {resnet_resize_256.count_params():,} parameters each")
print(f"this profile ({cfg.profile}): upsample={cfg.upsample!r}, learning rate {cfg.learning_rate:g}")

# %% [markdown]
# ## 3. Why the reference CycleGAN trains at 64 px
#
# Lesson 03 shows the course's reference weights, trained on day2dusk at 64 px where your smoke run
# trains at 32. At 32 px a large share of these scenes' pixels sit next to an edge, where any softness
# in $G(x)$ costs error; at 64 px fewer do. The share, counted on the true dusk test images:

# %%
def edge_share(images):
    """Share of pixels whose colour differs from the next pixel right or below by more than 0.1 (RGB summed)."""
    down = np.abs(np.diff(images, axis=1)).sum(-1)[:, :, :-1]     # (n, S-1, S-1)
    right = np.abs(np.diff(images, axis=2)).sum(-1)[:, :-1, :]    # (n, S-1, S-1)
    return float(((down + right) > 0.1).mean())


edges = {size: edge_share(data.true_translation(course.results.unpaired_split("test", size)[0], "AtoB")) for size in (32, 64)}
print("pixels next to an edge in the true dusk test images: " + ", ".join(f"{s} px {v:.0%}" for s, v in edges.items()))

# %% [markdown]
# The course's CycleGANs trained at 32 px stopped well above the 64-px reference's error however long
# they ran (docs/results.md has the runs).
#
# ## 4. CycleGAN is not neural style transfer
#
# [Gatys et al. (2016)](https://arxiv.org/abs/1508.06576) turn a photo into "a Monet" by optimising
# the pixels of *one* image so that its deep features match the photo's (content) and the **Gram
# matrices** of its features, $G_{cd} = \frac{1}{HW}\sum_{h,w} f_{hwc} f_{hwd}$, match those of one
# painting (style). A Gram matrix sums over all positions: it keeps which features occur together and
# forgets *where*, so it describes texture and colour statistics, not a mapping. CycleGAN learns a
# feed-forward function between two *collections*, and the cycle loss ties each output pixel to its
# input.
#
# A tiny demonstration on pixels (the Gram matrix of the three colour channels): shuffle the pixels of
# the true dusk image. Its Gram matrix is exactly that of the true translation, so a Gram loss sees
# nothing wrong, yet pixel by pixel it is far from the answer.

# %%
def gram(images):
    """(b, h, w, c) -> (b, c, c): channel co-occurrences averaged over all positions."""
    f = images.reshape(len(images), -1, images.shape[-1])
    return np.einsum("bpc,bpd->bcd", f, f) / f.shape[1]


day_show, _ = data.load_unpaired_folder(data.shipped_unpaired_path(), "train", image_size=64, jitter=False,
                                         batch_size=1, shuffle=False, cache=False)
day_img = next(iter(day_show)).numpy()                           # (1, 64, 64, 3): lesson 03's first day image
true_dusk = data.true_translation(day_img, "AtoB")               # what G should make
shuffled = np.random.default_rng(0).permutation(true_dusk.reshape(-1, 3)).reshape(true_dusk.shape)
for name, candidate in (("doing nothing (the day image)", day_img), ("shuffled true dusk", shuffled),
                        ("true dusk", true_dusk)):
    print(f"{name:30s} Gram distance {np.abs(gram(candidate) - gram(true_dusk)).mean():.4f}, "
          f"per-pixel error {metrics.mean_l1(candidate, true_dusk):.3f}")
assert np.allclose(gram(shuffled), gram(true_dusk), atol=1e-5)
assert metrics.mean_l1(shuffled, true_dusk) > metrics.mean_l1(day_img, true_dusk)
course.plotting.show_images(np.concatenate([day_img, true_dusk, shuffled]), ncols=3, size=2.0,
                     titles=["day x", "true dusk (Gram target)", "shuffled: same Gram matrix"]);
