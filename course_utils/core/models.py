"""The course's networks, as plain functions that return functional ``keras.Model``s.

Defaults reproduce the published architectures (parameter counts are pinned by
the tests):

========================================  ==========  ====================================================
builder                                   parameters  source
========================================  ==========  ====================================================
``dcgan_generator()``                     2,330,944   TensorFlow DCGAN tutorial (MNIST)
``dcgan_discriminator()``                 212,865     TensorFlow DCGAN tutorial (MNIST)
``unet_generator()``                      54,424,323  pix2pix (Isola et al. 2017), the paper's code
``unet_generator(bottleneck_norm=True)``  54,425,859  the TF pix2pix tutorial (norm at the 1x1 bottleneck)
``patchgan_discriminator()``              2,770,433   pix2pix 70x70 PatchGAN, TF tutorial
``resnet_generator()``                    11,378,179  CycleGAN (Zhu et al. 2017), 9 blocks at 256
``small_cyclegan_generator()``            8,409,600   Udacity's CycleGAN notebook, 128x128
``small_cyclegan_discriminator()``        2,767,360   Udacity's CycleGAN notebook, 7x7 scores
========================================  ==========  ====================================================

(``count_params()`` includes batch norm's moving statistics, which are not trained.)

``resnet_generator`` and ``unet_generator`` also take ``convention="pytorch"``: the same networks
laid out as the authors' PyTorch code (padding, skips, batch-norm epsilon), which their trained
weights need (:mod:`course_utils.core.pretrained`); the U-Net then has 54,423,811 (no bias at the
bottleneck, as their code), of which PyTorch counts the 54,413,955 that are trained.

Every builder validates its arguments and says how to fix a bad one. Width
(``filters``) and image size can shrink for CPU smoke runs; the structure stays.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
from keras import layers

from course_utils.core.counts import positive_int, positive_ints
from course_utils.core.layers import (PackSamples, ReflectionPadding2D, activation_layer, check_norm, conv_block,
                                  conv_uses_bias, init, residual_block)


# ---------------------------------------------------------------------------
# Argument checks shared by the builders
# ---------------------------------------------------------------------------
def _power_of_two(name: str, value: int, minimum: int) -> int:
    positive_int(value, name)
    if value < minimum or value & (value - 1):
        sizes = ", ".join(str(2**k) for k in range(int(math.log2(minimum)), 11))
        raise ValueError(f"{name}={value} cannot be halved down evenly: use a power of two >= {minimum} "
                         f"({sizes}). Resize your images to one of these sizes.")
    return value


#: How a generator lays out its padding, skips and batch norm: ``"keras"`` (the course's, what its
#: lessons and shipped weights use) or ``"pytorch"`` (the authors' PyTorch code, what their trained
#: networks need: :mod:`course_utils.core.pretrained`).
CONVENTIONS = ("keras", "pytorch")


def _check_convention(convention: str) -> bool:
    """Whether ``convention`` is the authors' PyTorch one; raises for anything but :data:`CONVENTIONS`."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention={convention!r}: use 'keras' (the course's) or 'pytorch' (the authors' "
                         "PyTorch code, to load their trained networks).")
    return convention == "pytorch"


# ---------------------------------------------------------------------------
# 01 GAN basics: DCGAN for 28x28 digits (TensorFlow DCGAN tutorial)
# ---------------------------------------------------------------------------
def dcgan_generator(latent_dim: int = 100, channels: int = 1, base_filters: int = 256) -> keras.Model:
    """Noise ``(b, latent_dim)`` -> image ``(b, 28, 28, channels)`` in [-1, 1].

    Dense -> reshape to 7x7 -> transposed convs 7x7 -> 14x14 -> 28x28, batch norm
    and LeakyReLU between, tanh at the end.
    """
    positive_ints(latent_dim=latent_dim, channels=channels, base_filters=base_filters)
    z = keras.Input((latent_dim,), name="noise")
    x = layers.Dense(7 * 7 * base_filters, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)      # Keras 2's default slope, as in the tutorial
    x = layers.Reshape((7, 7, base_filters))(x)      # (b, 7, 7, 256)
    x = layers.Conv2DTranspose(base_filters // 2, 5, strides=1, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)      # (b, 7, 7, 128)
    x = layers.Conv2DTranspose(base_filters // 4, 5, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)      # (b, 14, 14, 64)
    img = layers.Conv2DTranspose(channels, 5, strides=2, padding="same", use_bias=False,
                                 activation="tanh", name="image")(x)  # (b, 28, 28, 1)
    return keras.Model(z, img, name="dcgan_generator")


def dcgan_discriminator(channels: int = 1, base_filters: int = 64, dropout: float = 0.3) -> keras.Model:
    """Image ``(b, 28, 28, channels)`` -> one logit per image ``(b, 1)``."""
    positive_ints(channels=channels, base_filters=base_filters)
    img = keras.Input((28, 28, channels), name="image")
    x = layers.Conv2D(base_filters, 5, strides=2, padding="same")(img)      # (b, 14, 14, 64)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv2D(base_filters * 2, 5, strides=2, padding="same")(x)    # (b, 7, 7, 128)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    logit = layers.Dense(1, name="logit")(x)                                # (b, 1)
    return keras.Model(img, logit, name="dcgan_discriminator")


# ---------------------------------------------------------------------------
# 01 GAN basics: small MLPs for the 2-D ring of Gaussians (mode collapse)
# ---------------------------------------------------------------------------
def mlp_generator(latent_dim: int = 2, hidden: int = 128, layers_count: int = 3, out_dim: int = 2) -> keras.Model:
    """Noise ``(b, latent_dim)`` -> point ``(b, out_dim)`` through ReLU MLP layers."""
    positive_ints(latent_dim=latent_dim, hidden=hidden, layers_count=layers_count, out_dim=out_dim)
    z = keras.Input((latent_dim,), name="noise")
    x = z
    for _ in range(layers_count):
        x = layers.Dense(hidden, activation="relu")(x)
    return keras.Model(z, layers.Dense(out_dim, name="point")(x), name="mlp_generator")


def mlp_discriminator(in_dim: int = 2, hidden: int = 128, layers_count: int = 3, pack: int = 1) -> keras.Model:
    """Point ``(b, in_dim)`` -> logit ``(b / pack, 1)``.

    With ``pack > 1`` the network first joins every ``pack`` consecutive points into one
    input of ``pack * in_dim`` numbers (:class:`~course_utils.core.layers.PackSamples`) and
    returns one logit per group: a packed discriminator (PacGAN, Lin et al. 2018).
    """
    positive_ints(in_dim=in_dim, hidden=hidden, layers_count=layers_count, pack=pack)
    p = keras.Input((in_dim,), name="point")
    x = PackSamples(pack, name="pack")(p) if pack > 1 else p
    for _ in range(layers_count):
        x = layers.Dense(hidden)(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    return keras.Model(p, layers.Dense(1, name="logit")(x), name="mlp_discriminator")


# ---------------------------------------------------------------------------
# 02 Pix2Pix: U-Net generator
# ---------------------------------------------------------------------------
def unet_filters(image_size: int, filters: int = 64) -> list[int]:
    """Encoder widths: doubling from ``filters`` up to ``8 * filters``, one block per halving.

    ``unet_filters(256) == [64, 128, 256, 512, 512, 512, 512, 512]`` (8 blocks: 256 -> 1).
    """
    depth = int(math.log2(image_size))
    return [min(filters * 2**i, filters * 8) for i in range(depth)]


def unet_generator(image_size: int = 256, input_channels: int = 3, output_channels: int = 3, norm: str = "batch",
                   filters: int = 64, dropout: float = 0.5, dropout_blocks: int = 3, bottleneck_norm: bool = False,
                   convention: str = "keras", skips: bool = True) -> keras.Model:
    """The pix2pix U-Net: ``(b, S, S, input_channels)`` -> ``(b, S, S, output_channels)`` in [-1, 1].

    The encoder halves the image ``log2(S)`` times, down to 1x1 (8 blocks at 256);
    the decoder doubles it back, and each decoder block is concatenated with the
    encoder block of the same size (the skip connections). As in the paper and the
    TensorFlow tutorial: 4x4 kernels, no norm on the first encoder block, dropout
    0.5 in the first three decoder blocks, a last transposed conv with tanh.

    ``bottleneck_norm``: whether the innermost encoder block (1x1) has a norm. The paper's code
    has none there (its Torch ``e8`` has the batch norm commented out; the PyTorch port's
    innermost block has none either); its conv then keeps a bias. The TensorFlow tutorial adds
    one. At batch size 1 a batch norm over a 1x1 map sees one value per channel, so in training
    it outputs only its offset beta whatever the image, while Keras's inference mode feeds the
    decoder something it never saw in training. We follow the paper's code by default; what each
    choice measured is in docs/results.md ("One inference convention").

    ``convention="pytorch"`` computes what the authors' PyTorch ``UnetGenerator`` computes, so that
    their trained weights can be loaded (:mod:`course_utils.core.pretrained`); the default ``"keras"`` is
    the course's (the TF tutorial's skips), which its lessons and shipped weights use. The padding
    is the same in both (Keras's "same" pads a 4x4 stride-2 conv by 1 on every side, as PyTorch's
    ``padding=1``); what changes: a skip carries ReLU of the encoder's normalised output, not its
    LeakyReLU, the bottleneck is followed by ReLU and has a bias only where the other convs do,
    batch norm's epsilon is PyTorch's 1e-5, and dropout sits in the ``dropout_blocks`` decoder
    blocks after the first.

    ``skips=False`` is the paper's "encoder-decoder" (fig. 5, lesson 02's lab): the same blocks
    and widths, but each decoder block sees only the block below it, so everything passes the
    1x1 bottleneck.
    """
    _power_of_two("image_size", image_size, minimum=4)
    positive_ints(input_channels=input_channels, output_channels=output_channels, filters=filters)
    check_norm(norm)
    torch_layout = _check_convention(convention)
    eps = 1e-5 if torch_layout else None                   # batch norm's epsilon: PyTorch's, or Keras's 1e-3
    widths = unet_filters(image_size, filters)

    inp = keras.Input((image_size, image_size, input_channels), name="input_image")
    x = inp
    outputs = []   # each encoder block's output, for the skips
    for i, f in enumerate(widths):  # 256 -> 128 -> ... -> 1
        innermost = i == len(widths) - 1 and i > 0
        if innermost and not bottleneck_norm:
            # The paper's bottleneck: no norm, so its conv keeps a bias (the PyTorch code drops it
            # as before a norm).  (b, 1, 1, 8f)
            h = conv_block(x, f, norm="none", activation=None, use_bias=not torch_layout or conv_uses_bias(norm),
                           name=f"down{i + 1}")
        else:
            # The first block has no norm, but keeps the bias choice of the others (tutorial and paper code).
            h = conv_block(x, f, norm="none" if i == 0 else norm, activation=None,
                           use_bias=conv_uses_bias(norm), epsilon=eps, name=f"down{i + 1}")
        x = activation_layer("leaky_relu", name=f"down{i + 1}_leaky_relu")(h)   # into the next encoder block
        outputs.append(layers.ReLU(name=f"down{i + 1}_skip_relu")(h) if torch_layout else x)
    # Decoder: from the bottleneck, mirror every encoder block except the innermost.
    x = outputs[-1]
    first = 1 if torch_layout else 0                      # the first decoder block with dropout
    for j, (f, skip) in enumerate(zip(reversed(widths[:-1]), reversed(outputs[:-1]))):
        x = conv_block(x, f, transpose=True, norm=norm, activation="relu", epsilon=eps,
                       dropout=dropout if first <= j < first + dropout_blocks else 0.0, name=f"up{j + 1}")
        if skips:
            x = layers.Concatenate(name=f"skip{j + 1}")([x, skip])   # (b, s, s, 2f)
    out = layers.Conv2DTranspose(output_channels, 4, strides=2, padding="same",
                                 kernel_initializer=init(), activation="tanh", name="output")(x)
    return keras.Model(inp, out, name="unet_generator" if skips else "encoder_decoder")


# ---------------------------------------------------------------------------
# 02 Pix2Pix / 03 CycleGAN: PatchGAN discriminator
# ---------------------------------------------------------------------------
def patchgan_downsamplings(image_size: int) -> int:
    """How many stride-2 convs the PatchGAN has at ``image_size``: the paper's 3, fewer below 64.

    ``min(3, log2(S) - 3)`` keeps the grid of verdicts at least 6x6 on small images.
    """
    return min(3, int(math.log2(image_size)) - 3)


def patchgan_discriminator(image_size: int = 256, input_channels: int = 3, target_channels: int | None = 3,
                           norm: str = "batch", filters: int = 64, n_downsampling: int | None = None) -> keras.Model:
    """The 70x70 PatchGAN: a grid of logits, each judging one overlapping patch.

    Conditional (pix2pix, ``target_channels`` set): inputs ``[input, target]`` are
    concatenated to ``(b, S, S, input_channels + target_channels)``.
    Unconditional (CycleGAN, ``target_channels=None``): one input image; use
    ``norm="instance"``.

    Layers: three 4x4 stride-2 convs (64, 128, 256; no norm on the first), then
    zero-pad + 4x4 stride-1 conv (512) and zero-pad + 4x4 stride-1 conv to one
    logit per patch. At 256 the output is ``(b, 30, 30, 1)`` and each cell sees a
    70x70 input patch. Smaller images use fewer stride-2 convs
    (``n_downsampling``, default ``min(3, log2(S) - 3)``) so the grid stays >= 6x6.
    """
    _power_of_two("image_size", image_size, minimum=16)
    positive_ints(input_channels=input_channels, filters=filters)
    if target_channels is not None:
        positive_int(target_channels, "target_channels")
    check_norm(norm)
    if n_downsampling is None:
        n_downsampling = patchgan_downsamplings(image_size)
    if not 1 <= n_downsampling <= int(math.log2(image_size)) - 3:
        raise ValueError(f"n_downsampling={n_downsampling} leaves no patch grid at image_size={image_size}: "
                         f"use 1..{int(math.log2(image_size)) - 3}.")

    inp = keras.Input((image_size, image_size, input_channels), name="input_image")
    if target_channels is None:
        inputs, x = inp, inp
    else:
        tar = keras.Input((image_size, image_size, target_channels), name="target_image")
        inputs = [inp, tar]
        x = layers.Concatenate(name="pair")([inp, tar])        # (b, 256, 256, 6)
    for i in range(n_downsampling):                            # 256 -> 128 -> 64 -> 32
        x = conv_block(x, filters * 2**i, norm="none" if i == 0 else norm,
                       use_bias=conv_uses_bias(norm), name=f"down{i + 1}")
    x = layers.ZeroPadding2D(name="pad1")(x)                   # (b, 34, 34, 256)
    x = conv_block(x, filters * 2**n_downsampling, strides=1, padding="valid", norm=norm,
                   name="conv")                                # (b, 31, 31, 512)
    x = layers.ZeroPadding2D(name="pad2")(x)                   # (b, 33, 33, 512)
    logits = layers.Conv2D(1, 4, strides=1, kernel_initializer=init(), name="patch_logits")(x)  # (b, 30, 30, 1)
    return keras.Model(inputs, logits, name="patchgan_discriminator")


# ---------------------------------------------------------------------------
# 02 Pix2Pix: which input patch does one PatchGAN cell judge? (no model needed)
# ---------------------------------------------------------------------------
#: (kernel, stride, padding on each side) of the Pix2Pix 70x70 PatchGAN's convolutions, in order:
#: three 4x4 stride-2 convs ("same" padding adds 1 pixel on each side at even sizes), then
#: zero-pad 1 + 4x4 stride-1 conv, twice. At 256x256 the output is 30x30 (Isola et al. 2017).
PIX2PIX_PATCHGAN_LAYERS: tuple[tuple[int, int, int], ...] = ((4, 2, 1),) * 3 + ((4, 1, 1),) * 2

ConvStack = Sequence[tuple[int, int, int]]   # (kernel, stride, padding) per conv, input first


def patchgan_layers(n_downsampling: int = 3) -> tuple[tuple[int, int, int], ...]:
    """The PatchGAN's (kernel, stride, padding) list with ``n_downsampling`` stride-2 convs.

    The paper's discriminator has 3 (:data:`PIX2PIX_PATCHGAN_LAYERS`); the course's models use
    fewer on small images (``patchgan_discriminator(n_downsampling=...)``)
    so the grid keeps several cells.
    """
    if n_downsampling < 0:
        raise ValueError(f"n_downsampling must be 0 or more, got {n_downsampling}.")
    return ((4, 2, 1),) * n_downsampling + ((4, 1, 1),) * 2


def infer_patchgan_layers(image_size: int, grid_size: int) -> tuple[tuple[int, int, int], ...]:
    """The PatchGAN layers that turn an ``image_size`` image into a ``grid_size`` grid.

    Tries 3, 2, 1, ... stride-2 convolutions and returns the first that fits, so explorers can
    work from the logits' shape alone.
    """
    for n_down in range(3, -1, -1):
        layers = patchgan_layers(n_down)
        try:
            if patchgan_output_size(image_size, layers) == grid_size:
                return layers
        except ValueError:
            continue
    raise ValueError(f"No PatchGAN with 4x4 convs maps {image_size}x{image_size} to a {grid_size}x{grid_size} "
                     "grid; pass layers=[(kernel, stride, padding), ...] explicitly.")


def course_patchgan_layers(image_size: int) -> tuple[tuple[int, int, int], ...]:
    """The layers :func:`patchgan_discriminator` has at this size (:func:`patchgan_downsamplings`).

    A size the model does not take (not a power of two >= 16) gets the paper's 3 stride-2 convs.
    """
    fits = image_size >= 16 and (image_size & (image_size - 1)) == 0
    return patchgan_layers(patchgan_downsamplings(image_size) if fits else 3)


def patchgan_output_size(image_size: int = 256, layers: ConvStack = PIX2PIX_PATCHGAN_LAYERS) -> int:
    """Side of the PatchGAN's output grid: ``out = (in + 2 * pad - kernel) // stride + 1`` per layer."""
    size = int(image_size)
    for kernel, stride, pad in layers:
        size = (size + 2 * pad - kernel) // stride + 1
        if size < 1:
            raise ValueError(f"A {image_size}x{image_size} image is too small for these layers; use a larger image.")
    return size


def receptive_field_size(layers: ConvStack = PIX2PIX_PATCHGAN_LAYERS) -> int:
    """Side of the input patch one output cell sees; 70 for the Pix2Pix PatchGAN.

    Walking back from one output cell, each layer widens the field to
    ``(field - 1) * stride + kernel``.
    """
    field = 1
    for kernel, stride, _ in reversed(list(layers)):
        field = (field - 1) * stride + kernel
    return field


def patch_receptive_field(row: int, col: int, layers: ConvStack = PIX2PIX_PATCHGAN_LAYERS, image_size: int = 256,
                          *, clip: bool = True) -> tuple[int, int, int, int]:
    """The input patch judged by output cell ``(row, col)`` as ``(top, left, bottom, right)``.

    Bottom and right are exclusive, so the patch is ``image[top:bottom, left:right]``. Output
    index ``i`` of a layer sees inputs ``i * stride - pad`` to ``i * stride - pad + kernel - 1``;
    applying that from the last layer back to the first gives the patch. Near the border part of
    the patch is zero padding: ``clip=True`` cuts it to the image (cell (0, 0) of the 256x256
    PatchGAN sees rows and columns 0..46, the full 70x70 field starting at -23).
    """
    n = patchgan_output_size(image_size, layers)
    if not (0 <= row < n and 0 <= col < n):
        raise ValueError(f"The output grid is {n}x{n}, so row and col must be in 0..{n - 1}; got ({row}, {col}).")

    def span(i: int) -> tuple[int, int]:
        lo, hi = i, i
        for kernel, stride, pad in reversed(list(layers)):
            lo, hi = lo * stride - pad, hi * stride - pad + kernel - 1
        return lo, hi + 1

    top, bottom = span(row)
    left, right = span(col)
    if clip:
        top, left = max(top, 0), max(left, 0)
        bottom, right = min(bottom, image_size), min(right, image_size)
    return top, left, bottom, right


# ---------------------------------------------------------------------------
# 03 CycleGAN: ResNet generator (Johnson et al. 2016, as used by Zhu et al. 2017)
# ---------------------------------------------------------------------------
def paper_n_blocks(image_size: int) -> int:
    """The residual blocks of CycleGAN's ResNet generator by the paper's rule: 9 at 256 px and above, 6 below."""
    return 9 if image_size >= 256 else 6


def resnet_generator(image_size: int = 256, n_blocks: int | None = None, filters: int = 64, norm: str = "instance",
                     channels: int = 3, upsample: str = "transpose", convention: str = "keras") -> keras.Model:
    """CycleGAN's generator: ``(b, S, S, channels)`` -> ``(b, S, S, channels)`` in [-1, 1].

    Reflection pad 3 + 7x7 conv (64) -> two 3x3 stride-2 convs (128, 256) ->
    ``n_blocks`` residual blocks at 1/4 resolution -> two 3x3 stride-2 transposed
    convs (128, 64) -> reflection pad 3 + 7x7 conv to RGB with tanh.
    ``n_blocks`` defaults to 9 at 256 and above, 6 below (the paper's choice).

    ``upsample="transpose"`` is the paper's; ``"resize"`` doubles the size by nearest-neighbour
    resizing and then applies a 3x3 stride-1 conv (same parameter count), which avoids the
    checkerboard of a 3x3 stride-2 transposed conv whose kernel overlaps unevenly
    (Odena et al. 2016, "Deconvolution and checkerboard artifacts", Distill).

    ``convention="pytorch"`` pads the stride-2 convs and crops the transposed ones as the authors'
    PyTorch code does (one pixel on every side, :func:`~course_utils.core.layers.conv_block` with
    ``padding=1``), where the course's default ``"keras"`` ("same") puts the odd pixel at the
    bottom and right: same parameters, shifted sampling grids. Their trained weights need the
    former (:mod:`course_utils.core.pretrained`); the lessons and the shipped weights use the latter.
    """
    if upsample not in ("transpose", "resize"):
        raise ValueError(f"upsample={upsample!r}: use 'transpose' (the paper's) or 'resize' (resize-then-convolve).")
    positive_int(image_size, "image_size")
    if image_size % 4:
        raise ValueError(f"image_size={image_size} must be divisible by 4 (two stride-2 downsamplings).")
    if image_size < 16:
        raise ValueError(f"image_size={image_size} is too small for a 7x7 reflection-padded stem: use >= 16.")
    if n_blocks is None:
        n_blocks = paper_n_blocks(image_size)
    positive_ints(n_blocks=n_blocks, filters=filters, channels=channels)
    check_norm(norm)
    pad = 1 if _check_convention(convention) else "same"    # PyTorch's padding=1 written out, or Keras's "same"

    inp = keras.Input((image_size, image_size, channels), name="image")
    x = ReflectionPadding2D(3, name="stem_pad")(inp)                                 # (b, 262, 262, 3)
    x = conv_block(x, filters, kernel_size=7, strides=1, padding="valid", norm=norm,
                   activation="relu", name="stem")                                   # (b, 256, 256, 64)
    x = conv_block(x, filters * 2, kernel_size=3, padding=pad, norm=norm, activation="relu",
                   name="down1")                                                     # (b, 128, 128, 128)
    x = conv_block(x, filters * 4, kernel_size=3, padding=pad, norm=norm, activation="relu",
                   name="down2")                                                     # (b, 64, 64, 256)
    for i in range(n_blocks):
        x = residual_block(x, filters * 4, norm=norm, name=f"res{i + 1}")              # (b, 64, 64, 256)
    for i, width in enumerate((filters * 2, filters), start=1):                      # (b, 128, 128, 128), then
        if upsample == "transpose":                                                   # (b, 256, 256, 64)
            x = conv_block(x, width, kernel_size=3, transpose=True, padding=pad, norm=norm, activation="relu",
                           name=f"up{i}")
        else:
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}_resize")(x)
            x = conv_block(x, width, kernel_size=3, strides=1, norm=norm, activation="relu", name=f"up{i}")
    x = ReflectionPadding2D(3, name="head_pad")(x)                                   # (b, 262, 262, 64)
    out = layers.Conv2D(channels, 7, padding="valid", kernel_initializer=init(),
                        activation="tanh", name="output")(x)                         # (b, 256, 256, 3)
    return keras.Model(inp, out, name="resnet_generator")


def cyclegan_networks(image_size: int = 256, filters: int = 64, n_blocks: int | None = None,
                      upsample: str = "transpose", n_downsampling: int | None = None) -> dict[str, keras.Model]:
    """The four networks of Zhu et al. (2017), keyed as :class:`course_utils.core.train.CycleGAN` takes them.

    ``generator_g`` (X -> Y) and ``generator_f`` (Y -> X) are :func:`resnet_generator`;
    ``discriminator_x`` and ``discriminator_y`` are 70x70 PatchGANs with instance norm that judge
    one image (no condition). ``train.CycleGAN(**cyclegan_networks(256))`` is the paper's model.
    ``upsample`` goes to the generators, ``n_downsampling`` to the discriminators.
    """
    gen = dict(n_blocks=n_blocks, filters=filters, upsample=upsample)
    disc = dict(target_channels=None, norm="instance", filters=filters, n_downsampling=n_downsampling)
    return {
        "generator_g": resnet_generator(image_size, **gen),
        "generator_f": resnet_generator(image_size, **gen),
        "discriminator_x": patchgan_discriminator(image_size, **disc),
        "discriminator_y": patchgan_discriminator(image_size, **disc),
    }


# ---------------------------------------------------------------------------
# 03 CycleGAN: the smaller 128x128 variant (batch norm, 4x4 convs, conv_dim=64)
# ---------------------------------------------------------------------------
def small_cyclegan_generator(image_size: int = 128, conv_dim: int = 64, n_res_blocks: int = 6,
                             channels: int = 3) -> keras.Model:
    """The generator of Udacity's CycleGAN notebook (summer2winter, 128x128), in Keras.

    Three 4x4 stride-2 convs with batch norm and ReLU (128 -> 16), ``n_res_blocks``
    residual blocks (3x3 convs, zero padding, batch norm), two 4x4 transposed convs with
    batch norm and ReLU, and a last 4x4 transposed conv to ``channels`` with tanh.
    Like Udacity's ``conv``/``deconv`` helpers (``bias=False``), no conv has a bias.
    ``(b, 128, 128, 3) -> (b, 16, 16, 256) -> (b, 128, 128, 3)``. Kernels start from
    N(0, 0.02) (standard deviation 0.02) as everywhere in the course, where the notebook
    keeps PyTorch's default initialisation.
    """
    _power_of_two("image_size", image_size, minimum=16)
    positive_ints(conv_dim=conv_dim, n_res_blocks=n_res_blocks, channels=channels)
    inp = keras.Input((image_size, image_size, channels), name="image")
    x = inp
    for i, f in enumerate((conv_dim, conv_dim * 2, conv_dim * 4)):                # 128 -> 64 -> 32 -> 16
        x = conv_block(x, f, norm="batch", activation="relu", name=f"down{i + 1}")
    for i in range(n_res_blocks):
        x = residual_block(x, conv_dim * 4, norm="batch", reflect=False, name=f"res{i + 1}")
    for i, f in enumerate((conv_dim * 2, conv_dim)):                               # 16 -> 32 -> 64
        x = conv_block(x, f, transpose=True, norm="batch", activation="relu", name=f"up{i + 1}")
    out = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=False,
                                 kernel_initializer=init(), activation="tanh", name="output")(x)   # 64 -> 128
    return keras.Model(inp, out, name="small_cyclegan_generator")


def small_cyclegan_discriminator(image_size: int = 128, conv_dim: int = 64, channels: int = 3) -> keras.Model:
    """The discriminator of Udacity's CycleGAN notebook, in Keras.

    Five conv layers without bias: four 4x4 stride-2 (64, 128, 256, 512 filters; batch
    norm after all but the first; **ReLU**, as in the notebook, not DCGAN's LeakyReLU),
    then a 4x4 stride-1 conv with one pixel of zero padding (PyTorch's ``padding=1``)
    to a grid of scores, ``image_size / 16 - 1`` cells a side.
    ``(b, 128, 128, 3) -> (b, 8, 8, 512) -> (b, 7, 7, 1)``; use with LSGAN losses.
    """
    _power_of_two("image_size", image_size, minimum=32)
    positive_ints(conv_dim=conv_dim, channels=channels)

    inp = keras.Input((image_size, image_size, channels), name="image")
    x = inp
    for i in range(4):
        x = conv_block(x, conv_dim * 2**i, norm="none" if i == 0 else "batch", activation="relu",
                       use_bias=False, name=f"conv{i + 1}")
    x = layers.ZeroPadding2D(1, name="logits_pad")(x)                                   # (b, 10, 10, 512) at 128
    logits = layers.Conv2D(1, 4, strides=1, padding="valid", use_bias=False, kernel_initializer=init(),
                           name="logits")(x)                                            # (b, 7, 7, 1) at 128
    return keras.Model(inp, logits, name="small_cyclegan_discriminator")


# ---------------------------------------------------------------------------
# 01 GAN basics: the judge of generated digits
# ---------------------------------------------------------------------------
def digit_classifier(num_classes: int = 10) -> keras.Model:
    """A small CNN: digit ``(b, 28, 28, 1)`` in [-1, 1] -> class logits ``(b, num_classes)``.

    Two 3x3 conv + 2x2 max-pool stages (32, 64 filters), dropout 0.3, one dense layer: the
    classic Keras MNIST example's shape. Not a GAN part: :mod:`course_utils.lessons.results` uses it to
    count how many generated digits are recognisable, and as which digit.
    """
    positive_int(num_classes, "num_classes")
    img = keras.Input((28, 28, 1), name="digit")
    x = layers.Conv2D(32, 3, activation="relu")(img)     # (b, 26, 26, 32)
    x = layers.MaxPooling2D()(x)                          # (b, 13, 13, 32)
    x = layers.Conv2D(64, 3, activation="relu")(x)       # (b, 11, 11, 64)
    x = layers.MaxPooling2D()(x)                          # (b, 5, 5, 64)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    logits = layers.Dense(num_classes, name="logits")(x)  # (b, 10)
    return keras.Model(img, logits, name="digit_classifier")

