"""Layers and blocks shared by the course's models.

Keras 3 has no layer called ``InstanceNormalization`` and ``tensorflow-addons`` (which
used to provide one) is end-of-life: it does not import with Keras 3. Keras's own
``GroupNormalization(groups=-1)`` (one group per channel) is instance norm, with its
statistics in float32 under mixed precision, so the course's networks use it
(:func:`norm_layer`). This module defines what Keras lacks, small enough to read in a minute:

* :class:`InstanceNormalization`, the same computation written out (``ops.moments`` over
  height and width) for lesson 03 to read; the tests check that it agrees with Keras's layer,
  and files saved with it still load.
* :class:`ReflectionPadding2D` pads by mirroring the border pixels, which avoids
  the dark frame that zero padding leaves around generated images.
* :class:`PackSamples` joins samples for a PacGAN discriminator.

Then the conv / norm / activation blocks the models are built from. They are
plain functions that take a tensor and return a tensor, so models stay flat
graphs whose layers can be listed, counted and plotted.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import layers, ops
from course_utils.core.counts import positive_int

Norm = Literal["batch", "instance", "none"]
NORMS = ("batch", "instance", "none")

def init() -> keras.initializers.Initializer:
    """Weights drawn from N(0, 0.02^2) (standard deviation 0.02), as in the DCGAN, pix2pix and CycleGAN papers."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


# ---------------------------------------------------------------------------
# Instance normalisation
# ---------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="course_utils")
class InstanceNormalization(layers.Layer):
    r"""Normalise every channel of every image over its spatial positions.

    For an input :math:`x` of shape ``(batch, height, width, channels)``:

    .. math::
        y_{nhwc} = \frac{x_{nhwc} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}}
        \quad(\cdot\,\gamma_c + \beta_c \text{ if affine})

    where :math:`\mu_{nc}` and :math:`\sigma^2_{nc}` are the mean and (biased)
    variance of image *n*, channel *c*. Unlike batch norm, nothing depends on
    the other images in the batch, and training and inference behave the same.

    Args:
        epsilon: added to the variance; 1e-5 as in PyTorch's ``InstanceNorm2d``.
        affine: learn a per-channel scale and offset. The CycleGAN paper's code
            uses ``affine=False``, which is the default here.
    """

    def __init__(self, epsilon: float = 1e-5, affine: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.affine = bool(affine)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"InstanceNormalization expects images (batch, height, width, channels); "
                             f"got a tensor of shape {input_shape}.")
        channels = input_shape[-1]
        if self.affine:
            self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, x):
        dtype = x.dtype
        x = ops.cast(x, "float32")  # statistics in float32, also under mixed precision
        mean, var = ops.moments(x, axes=[1, 2], keepdims=True)
        y = (x - mean) * ops.rsqrt(var + self.epsilon)
        if self.affine:
            y = y * ops.cast(self.gamma, "float32") + ops.cast(self.beta, "float32")
        return ops.cast(y, dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "affine": self.affine}


# ---------------------------------------------------------------------------
# Reflection padding
# ---------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="course_utils")
class ReflectionPadding2D(layers.Layer):
    """Pad height and width by mirroring the image at its border.

    ``padding=(ph, pw)`` adds ``ph`` rows above and below and ``pw`` columns left
    and right; ``(batch, h, w, c) -> (batch, h + 2 ph, w + 2 pw, c)``. Each pad
    must be smaller than the side it mirrors.
    """

    def __init__(self, padding: int | tuple[int, int] = (1, 1), **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = (padding, padding)
        self.padding = tuple(int(p) for p in padding)
        if len(self.padding) != 2 or min(self.padding) < 0:
            raise ValueError(f"padding must be an int or a pair of non-negative ints, got {padding!r}.")

    def call(self, x):
        ph, pw = self.padding
        return ops.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        ph, pw = self.padding
        return (b, None if h is None else h + 2 * ph, None if w is None else w + 2 * pw, c)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


# ---------------------------------------------------------------------------
# Packing (PacGAN)
# ---------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="course_utils")
class PackSamples(layers.Layer):
    """Join every ``pack`` consecutive samples of a batch into one longer sample.

    ``(batch, d) -> (batch / pack, pack * d)``: row ``i`` of the output is rows
    ``pack * i, ..., pack * i + pack - 1`` of the input, side by side. A
    discriminator that starts with this layer judges ``pack`` samples at once, as in
    PacGAN (Lin et al. 2018). The batch size must be a multiple of ``pack``.
    """

    def __init__(self, pack: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.pack = positive_int(pack, "pack", "samples judged together")

    def call(self, x):
        batch = x.shape[0]
        if batch is not None and batch % self.pack:
            raise ValueError(f"PackSamples(pack={self.pack}) needs a batch size that is a multiple of "
                             f"{self.pack}, got {batch}; change the batch size or the pack.")
        return ops.reshape(x, (-1, self.pack * x.shape[-1]))

    def compute_output_shape(self, input_shape):
        b, d = input_shape
        return (None if b is None else b // self.pack, None if d is None else self.pack * d)

    def get_config(self):
        return {**super().get_config(), "pack": self.pack}


# ---------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------
def check_norm(norm: str) -> str:
    """Return ``norm`` if it is one of ``"batch"``, ``"instance"``, ``"none"``; raise otherwise."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}.")
    return norm


def norm_layer(norm: str, name: str | None = None, epsilon: float | None = None) -> layers.Layer | None:
    """The normalisation layer for ``norm`` (None for ``"none"``).

    ``"instance"`` is Keras's ``GroupNormalization`` with one group per channel, no learned scale
    or offset and epsilon 1e-5, as in the CycleGAN code (PyTorch's ``InstanceNorm2d``).
    ``epsilon`` sets batch norm's (Keras's default 1e-3 when None; PyTorch's ``BatchNorm2d`` uses 1e-5).
    """
    check_norm(norm)
    if norm == "batch":   # Keras's default epsilon is 1e-3
        return layers.BatchNormalization(epsilon=1e-3 if epsilon is None else epsilon, name=name)
    if norm == "instance":
        return layers.GroupNormalization(groups=-1, center=False, scale=False, epsilon=1e-5, name=name)
    return None


def conv_uses_bias(norm: str) -> bool:
    """Whether a conv followed by ``norm`` gets a bias, as in the papers' code.

    Any norm that subtracts a per-channel mean (batch or instance) cancels a
    per-channel conv bias exactly, so the bias does nothing there. The pix2pix
    code drops it before batch norm; the CycleGAN code keeps it before instance
    norm (``use_bias = norm is InstanceNorm``). We follow both, which is what makes
    the published parameter counts come out: 2,770,433 for the PatchGAN and
    11,378,179 for the ResNet generator (of which 5,248 are these inert biases).
    """
    return check_norm(norm) != "batch"


def activation_layer(activation: str | None, name: str | None = None) -> layers.Layer | None:
    """``"relu"``, ``"leaky_relu"`` (slope 0.2, as in every GAN here), ``"tanh"`` or None."""
    if activation is None:
        return None
    if activation == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=name)
    if activation in ("relu", "tanh", "sigmoid"):
        return layers.Activation(activation, name=name)
    raise ValueError(f"activation must be relu, leaky_relu, tanh, sigmoid or None; got {activation!r}.")


def _part(name: str | None, part: str) -> str | None:
    """The name of one layer of block ``name`` (``"down1_conv"``); None in an unnamed block (Keras names it)."""
    return f"{name}_{part}" if name else None


def conv_block(x, filters: int, kernel_size: int = 4, strides: int = 2, norm: str = "batch",
               activation: str | None = "leaky_relu", padding: str | int = "same", transpose: bool = False,
               dropout: float = 0.0, use_bias: bool | None = None, epsilon: float | None = None,
               name: str | None = None):
    """Conv (or transposed conv) -> norm -> dropout -> activation.

    The pix2pix encoder block is ``conv_block(x, f)`` (4x4, stride 2, batch norm,
    LeakyReLU 0.2); its decoder block is
    ``conv_block(x, f, transpose=True, activation="relu", dropout=0.5)``.
    ``(b, h, w, c) -> (b, h/2, w/2, filters)`` for stride 2, ``(b, 2h, 2w, filters)`` transposed.

    ``padding`` is Keras's ``"same"`` or ``"valid"``, or a number ``p``: PyTorch's ``padding=p``,
    written out. A conv then gets ``p`` rows and columns of zeros on every side before a "valid"
    conv; a transposed conv is computed whole ("valid": ``(h - 1) * strides + kernel_size``) and
    cropped by ``p`` at the top and left and by what is left over at the bottom and right, so that
    the output is ``strides * h``, as ``ConvTranspose2d(..., padding=p, output_padding=...)`` does.
    Keras's "same" pads (and crops) the odd pixel at the bottom and right only, so for a 3x3
    stride-2 kernel the two differ by a shift of one pixel; for 4x4 stride 2 they coincide.
    ``epsilon``: batch norm's (see :func:`norm_layer`).
    """
    if use_bias is None:
        use_bias = conv_uses_bias(norm)
    conv_cls = layers.Conv2DTranspose if transpose else layers.Conv2D
    explicit = not isinstance(padding, str)          # PyTorch's padding=p, written out
    if explicit and not transpose:
        x = layers.ZeroPadding2D(int(padding), name=_part(name, "pad"))(x)       # (b, h + 2p, w + 2p, c)
    x = conv_cls(filters, kernel_size, strides=strides, padding="valid" if explicit else padding, use_bias=use_bias,
                 kernel_initializer=init(), name=_part(name, "conv"))(x)
    if explicit and transpose:
        extra = kernel_size - strides - int(padding)       # what is left at the bottom/right beyond strides * h
        if extra < 0:
            raise ValueError(f"padding={padding} is too large for a {kernel_size}x{kernel_size} stride-{strides} "
                             "transposed conv: use at most kernel_size - strides.")
        crop = ((int(padding), extra), (int(padding), extra))
        x = layers.Cropping2D(crop, name=_part(name, "crop"))(x)                 # (b, s h, s w, filters)
    nl = norm_layer(norm, name=_part(name, "norm"), epsilon=epsilon)
    if nl is not None:
        x = nl(x)
    if dropout:
        x = layers.Dropout(dropout, name=_part(name, "dropout"))(x)
    act = activation_layer(activation, name=_part(name, str(activation)))
    if act is not None:
        x = act(x)
    return x


def residual_block(x, filters: int, norm: str = "instance", reflect: bool = True, name: str | None = None):
    r"""Two 3x3 convs that learn a residual :math:`F(x)`; the block outputs :math:`x + F(x)`.

    With reflection padding (CycleGAN): pad 1 -> conv 3x3 -> norm -> ReLU -> pad 1 ->
    conv 3x3 -> norm, then add the input. Shape is unchanged: ``(b, h, w, filters)``.
    """
    y = x
    for i in (1, 2):
        if reflect:
            y = ReflectionPadding2D(1, name=_part(name, f"pad{i}"))(y)
        y = conv_block(y, filters, kernel_size=3, strides=1, norm=norm, activation="relu" if i == 1 else None,
                       padding="valid" if reflect else "same", name=_part(name, str(i)))
    return layers.Add(name=_part(name, "add"))([x, y])

