r"""How much work a training step is, and how fast this machine does it.

Three parts, each usable on its own:

1. **Counting.** :func:`count_macs` walks a functional Keras model (nested models
   included) and adds up the multiply-accumulates (MACs) of its Conv, transposed
   Conv, Depthwise/Separable Conv and Dense layers for *one image*. Norms,
   activations, padding and additions are not counted: they are a few percent of
   the work and are memory-bound, not compute-bound.

   Convention (the "physical" one): a convolution is counted at its *output*
   resolution, a transposed convolution at its *input* resolution,

   .. math::
      \text{conv: } H_{out} W_{out} k_h k_w \tfrac{C_{in}}{g} C_{out}, \qquad
      \text{transposed: } H_{in} W_{in} k_h k_w C_{in} C_{out},

   because a stride-2 transposed conv multiplies each *input* pixel by the
   kernel once; the zeros a "dilate the input, then convolve" picture inserts are
   never multiplied. Some tools (e.g. ``thop``) count transposed convs at the
   output resolution, which is 4x more for stride 2; see :func:`count_macs`.

2. **A step's FLOPs.** :func:`step_flops` multiplies each network's MACs by how
   many forward passes a trainer's step makes through it
   (:data:`FORWARD_PASSES`), by 2 (one MAC = one multiply + one add = 2 FLOPs)
   and by 3 (the usual rule: the backward pass costs about twice the forward,
   one product for the gradient of the activations and one for the weights).

3. **Measuring.** :func:`run_bench` times a trainer's step next to a plain
   baseline step written the way the TensorFlow tutorials write it, in the same
   process, alternating the two; it reports medians, the ratio, achieved
   FLOP/s, the fraction of the GPU's published peak (:data:`PEAK_FLOPS`) and the
   input pipeline's images per second. ``python -m course_utils bench`` (or
   ``python -m course_utils.perf``) is its command line.

>>> from course_utils import models, perf
>>> round(perf.count_macs(models.unet_generator()) / 1e9, 2)     # doctest: +SKIP
6.05
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

MODELS = ("gan", "pix2pix", "cyclegan")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

#: Forward passes through each network in one training step, as the TensorFlow
#: tutorials' training steps make them:
#:
#: * GAN (DCGAN tutorial): G(z) once; D on the real batch and on the fakes.
#: * Pix2Pix (pix2pix tutorial): G(x) once; D on (x, y) and on (x, G(x)).
#: * CycleGAN (CycleGAN tutorial, no image pool): G(x), F(G(x)), F(y), G(F(y)), and the
#:   identity terms F(x), G(y): three passes through each generator; each discriminator sees
#:   a real and a fake batch, and the same fake scores serve both D's loss and G's.
FORWARD_PASSES: dict[str, dict[str, int]] = {
    "gan": {"generator": 1, "discriminator": 2},
    "pix2pix": {"generator": 1, "discriminator": 2},
    "cyclegan": {"generator_g": 3, "generator_f": 3, "discriminator_x": 2, "discriminator_y": 2},
}

#: CycleGAN with the paper's image pool, as the authors' code (``cycle_gan_model.py`` of
#: junyanz/pytorch-CycleGAN-and-pix2pix) and ``course_utils.train.CycleGAN`` with
#: ``pool_size > 0`` run it: each discriminator scores the real batch and the fakes drawn
#: from the pool (for its own loss) and the fresh fakes (for the generator's loss): three
#: passes. ``tests/test_perf.py`` counts them on the course's step.
CYCLEGAN_POOL_PASSES: dict[str, int] = {"generator_g": 3, "generator_f": 3, "discriminator_x": 3, "discriminator_y": 3}

#: forward + backward ~= 3 x forward (backward = gradient w.r.t. activations + w.r.t. weights).
TRAIN_FACTOR = 3
#: one multiply-accumulate = one multiply + one add.
FLOPS_PER_MAC = 2


# ===========================================================================
# 1. Counting multiply-accumulates
# ===========================================================================
@dataclass(frozen=True)
class LayerMacs:
    """One counted layer call: its name, class, output shape (no batch) and MACs per image."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    macs: int


def _static(shape: Sequence[int | None], layer_name: str) -> tuple[int, ...]:
    """``shape`` without its batch dimension; every other dimension must be known."""
    dims = tuple(shape[1:])
    if any(d is None for d in dims):
        raise ValueError(
            f"Layer {layer_name!r} has an unknown dimension in {tuple(shape)}, so its work depends on "
            f"the input. Build the model for a fixed image size (e.g. models.unet_generator(256)) "
            f"before counting MACs."
        )
    return tuple(int(d) for d in dims)


def _layer_call_macs(layer: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int | None:
    """MACs of one call of ``layer`` for one example; None if the layer does no counted work.

    ``in_shape`` and ``out_shape`` exclude the batch dimension and are channels-last.
    """
    from keras import layers

    def spatial(shape: tuple[int, ...]) -> int:
        return math.prod(shape[:-1])

    if getattr(layer, "data_format", "channels_last") != "channels_last" and isinstance(
            layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D, layers.Conv1DTranspose,
                    layers.Conv2DTranspose, layers.Conv3DTranspose, layers.DepthwiseConv2D,
                    layers.SeparableConv2D)):
        raise NotImplementedError(f"{layer.name}: only channels_last convolutions are counted.")
    # Order matters: Keras's transposed convs are not subclasses of Conv2D, but be explicit anyway.
    if isinstance(layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        cin, cout = in_shape[-1], out_shape[-1]
        return spatial(in_shape) * math.prod(layer.kernel_size) * cin * cout
    if isinstance(layer, layers.SeparableConv2D):
        cin, cout = in_shape[-1], out_shape[-1]
        k = math.prod(layer.kernel_size)
        depthwise = spatial(out_shape) * k * cin * layer.depth_multiplier
        pointwise = spatial(out_shape) * cin * layer.depth_multiplier * cout
        return depthwise + pointwise
    if isinstance(layer, layers.DepthwiseConv2D):
        return spatial(out_shape) * math.prod(layer.kernel_size) * out_shape[-1]  # cin * multiplier = cout
    if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        cin, cout = in_shape[-1], out_shape[-1]
        groups = getattr(layer, "groups", 1) or 1
        return spatial(out_shape) * math.prod(layer.kernel_size) * (cin // groups) * cout
    if isinstance(layer, layers.Dense):
        return math.prod(in_shape) * out_shape[-1]   # (..., in) @ (in, out) for every leading position
    return None


def _nodes(model: Any) -> list[Any]:
    """The call nodes of a functional model, inputs first (Keras 3 internals, checked)."""
    functional = getattr(model, "_functional", None)   # a built Sequential wraps a Functional
    graph = functional if functional is not None else model
    by_depth = getattr(graph, "_nodes_by_depth", None)
    if by_depth is None:
        raise TypeError(
            f"{type(model).__name__} {getattr(model, 'name', '')!r} is not a functional model, so its "
            f"layers' input shapes are not recorded. Count the functional networks it holds instead "
            f"(e.g. count_macs(trainer.generator)), or build it with keras.Input(...)."
        )
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


def layer_macs(model: Any) -> list[LayerMacs]:
    """Every counted layer call in ``model`` (nested models expanded), in graph order.

    Args:
        model: a functional ``keras.Model`` (or a built ``Sequential``) with fixed
            non-batch input dimensions.

    Returns:
        one :class:`LayerMacs` per call of a Conv/ConvTranspose/Depthwise/Separable/
        Dense layer; a layer called twice appears twice. MACs are per example.
    """
    import keras

    rows: list[LayerMacs] = []
    for node in _nodes(model):
        op = node.operation
        if op is None or node.is_input:
            continue
        if isinstance(op, keras.Model):
            # A nested network: count it with its own recorded shapes (they must be fixed).
            rows.extend(LayerMacs(f"{op.name}/{r.name}", r.kind, r.output_shape, r.macs) for r in layer_macs(op))
            continue
        ins = [t for t in node.input_tensors]
        if not ins or not node.outputs:
            continue
        in_shape = _static(ins[0].shape, op.name)
        out_shape = _static(node.outputs[0].shape, op.name)
        macs = _layer_call_macs(op, in_shape, out_shape)
        if macs is not None:
            rows.append(LayerMacs(op.name, type(op).__name__, out_shape, int(macs)))
    return rows


def count_macs(model: Any) -> int:
    """Multiply-accumulates of one forward pass of ``model`` on **one** example.

    Physical convention: convs at their output resolution, transposed convs at
    their input resolution (module docstring). For the course's networks:

    ======================================  ===========  =========================================
    network                                 GMAC/image   note
    ======================================  ===========  =========================================
    ``unet_generator(256)``                  6.05        pix2pix generator
    ``patchgan_discriminator(256)``          3.20        6-channel input (input + target)
    ``resnet_generator(256)``                49.55       CycleGAN, 9 blocks; 56.80 if transposed
                                                         convs are counted at their output size
    ======================================  ===========  =========================================

    Multiply by 2 for FLOPs, by the batch size for a batch.
    """
    return sum(r.macs for r in layer_macs(model))


def transposed_output_convention_macs(model: Any) -> int:
    """MACs with transposed convs counted at their *output* resolution (as e.g. ``thop`` does).

    Only there to explain published figures that differ from :func:`count_macs`
    (56.8 GMAC for the CycleGAN ResNet generator is this convention).
    """
    import keras

    total = 0
    for node in _nodes(model):
        op = node.operation
        if op is None or node.is_input:
            continue
        if isinstance(op, keras.Model):
            total += transposed_output_convention_macs(op)
            continue
        if isinstance(op, (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)):
            out_shape = _static(node.outputs[0].shape, op.name)
            in_shape = _static(node.input_tensors[0].shape, op.name)
            total += math.prod(out_shape[:-1]) * math.prod(op.kernel_size) * in_shape[-1] * out_shape[-1]
        elif node.input_tensors and node.outputs:
            macs = _layer_call_macs(op, _static(node.input_tensors[0].shape, op.name),
                                    _static(node.outputs[0].shape, op.name))
            total += macs or 0
    return total


# ===========================================================================
# 2. FLOPs of a training step
# ===========================================================================
def step_flops(macs: Mapping[str, int], passes: Mapping[str, int], batch_size: int = 1,
               train_factor: float = TRAIN_FACTOR) -> int:
    r"""FLOPs of one training step.

    .. math:: \text{FLOPs} = 2 \cdot 3 \cdot B \sum_n \text{passes}_n \cdot \text{MACs}_n

    Args:
        macs: MACs per image of each network, e.g. ``{"generator": 6.05e9, "discriminator": 3.2e9}``.
        passes: forward passes through each network per step (:data:`FORWARD_PASSES`).
        batch_size: images per step.
        train_factor: forward + backward relative to forward (3 by the usual rule).

    Raises:
        KeyError: a network in ``passes`` has no MAC count.
    """
    missing = sorted(set(passes) - set(macs))
    if missing:
        raise KeyError(f"No MAC count for {missing}; got counts for {sorted(macs)}.")
    forward = sum(passes[name] * macs[name] for name in passes)
    return int(round(FLOPS_PER_MAC * train_factor * batch_size * forward))


# ===========================================================================
# 3. Peak FLOP/s of common GPUs (vendor data sheets, dense, no sparsity)
# ===========================================================================
@dataclass(frozen=True)
class GpuPeak:
    """Published peak throughput in FLOP/s: FP32, and FP16 / BF16 on tensor cores (dense; None if absent)."""

    fp32: float
    fp16: float | None
    bf16: float | None
    source: str


# Data-sheet figures. Where a sheet quotes "with sparsity" (L4, A100, H100), the dense figure is half.
PEAK_FLOPS: dict[str, GpuPeak] = {
    # NVIDIA T4 Tensor Core GPU data sheet: FP32 8.1 TFLOPS, mixed precision (FP16/FP32) 65 TFLOPS.
    # Turing has no BF16.
    "T4": GpuPeak(8.1e12, 65e12, None, "NVIDIA T4 data sheet (t4-tensor-core-datasheet-951643)"),
    # NVIDIA L4 data sheet: FP32 30.3 TFLOPS; FP16 and BF16 tensor 242 TFLOPS with sparsity -> 121 dense.
    "L4": GpuPeak(30.3e12, 121e12, 121e12, "NVIDIA L4 data sheet (l4-datasheet-2595652)"),
    # NVIDIA V100 data sheet: SXM2 FP32 15.7, tensor 125 TFLOPS; PCIe 14 and 112. Volta has no BF16.
    "V100 PCIe": GpuPeak(14e12, 112e12, None, "NVIDIA V100 data sheet (volta-v100-datasheet, PCIe column)"),
    "V100": GpuPeak(15.7e12, 125e12, None, "NVIDIA V100 data sheet (volta-v100-datasheet, SXM2 column)"),
    # NVIDIA A100 data sheet: FP32 19.5 TFLOPS; FP16 and BF16 tensor 312 TFLOPS (624 with sparsity).
    "A100": GpuPeak(19.5e12, 312e12, 312e12, "NVIDIA A100 data sheet (nvidia-a100-datasheet-us-1758950)"),
    # NVIDIA H100 data sheet: SXM FP32 67 TFLOPS, FP16/BF16 tensor 1,979 with sparsity -> 989.5 dense;
    # PCIe FP32 51 TFLOPS, 1,513 with sparsity -> 756.5 dense.
    "H100 PCIe": GpuPeak(51e12, 756.5e12, 756.5e12, "NVIDIA H100 data sheet (PCIe column)"),
    "H100": GpuPeak(67e12, 989.5e12, 989.5e12, "NVIDIA H100 data sheet (SXM column)"),
}


def gpu_name() -> str | None:
    """The first GPU's name as TensorFlow reports it (e.g. ``"Tesla T4"``); None without a GPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name") or gpus[0].name


def match_gpu(device_name: str | None) -> str | None:
    """The :data:`PEAK_FLOPS` key for a device name such as ``"NVIDIA A100-SXM4-40GB"``; None if unknown.

    Longer keys are tried first, so ``"Tesla V100-PCIE-16GB"`` matches ``"V100 PCIe"``, not ``"V100"``.
    """
    if not device_name:
        return None
    tokens = set(device_name.upper().replace("-", " ").replace("_", " ").split())
    for key in sorted(PEAK_FLOPS, key=len, reverse=True):
        if all(word in tokens for word in key.upper().split()):   # "L4" matches "NVIDIA L4", not "L40S"
            return key
    return None


def peak_flops(precision: str = "float32", device_name: str | None = None, detect: bool = True) -> float | None:
    """Published peak FLOP/s of the GPU for ``precision``; None on CPU or for an unknown GPU.

    ``float32`` uses the FP32 (CUDA core) peak; ``mixed_float16``/``mixed_bfloat16``
    the dense FP16/BF16 tensor-core peak (None if the GPU has no such units, e.g. BF16 on a T4).
    With ``device_name=None`` and ``detect=True`` the current GPU is detected.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if device_name is None and detect:
        device_name = gpu_name()
    key = match_gpu(device_name)
    if key is None:
        return None
    peak = PEAK_FLOPS[key]
    return {"float32": peak.fp32, "mixed_float16": peak.fp16, "mixed_bfloat16": peak.bf16}[precision]


# ===========================================================================
# 4. The networks of each benchmark
# ===========================================================================
DEFAULT_IMAGE_SIZE = {"gan": 28, "pix2pix": 256, "cyclegan": 128}
DEFAULT_BATCH_SIZE = {"gan": 256, "pix2pix": 1, "cyclegan": 1}
DEFAULT_FILTERS = {"gan": 64, "pix2pix": 64, "cyclegan": 64}


def build_networks(model: str, image_size: int | None = None, filters: int | None = None) -> dict[str, Any]:
    """The networks a trainer of ``model`` trains, with the papers' architectures.

    * ``gan``: the DCGAN tutorial's generator (base width ``4 * filters``) and discriminator (``filters``), 28x28.
    * ``pix2pix``: U-Net generator + conditional PatchGAN (batch norm).
    * ``cyclegan``: two ResNet generators (9 blocks at 256, 6 below) and two PatchGANs
      with instance norm, as in Zhu et al. 2017.
    """
    from course_utils import models

    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}.")
    size = DEFAULT_IMAGE_SIZE[model] if image_size is None else image_size
    f = DEFAULT_FILTERS[model] if filters is None else filters
    if model == "gan":
        if size != 28:
            raise ValueError(f"The DCGAN works on 28x28 digits; got image_size={size}. Drop --image-size.")
        return {"generator": models.dcgan_generator(base_filters=4 * f),
                "discriminator": models.dcgan_discriminator(base_filters=f)}
    if model == "pix2pix":
        return {"generator": models.unet_generator(size, filters=f),
                "discriminator": models.patchgan_discriminator(size, filters=f)}
    return {"generator_g": models.resnet_generator(size, filters=f),
            "generator_f": models.resnet_generator(size, filters=f),
            "discriminator_x": models.patchgan_discriminator(size, target_channels=None, norm="instance", filters=f),
            "discriminator_y": models.patchgan_discriminator(size, target_channels=None, norm="instance", filters=f)}


def network_macs(networks: Mapping[str, Any]) -> dict[str, int]:
    """:func:`count_macs` of every network in ``networks``."""
    return {name: count_macs(net) for name, net in networks.items()}


def model_step_flops(model: str, image_size: int | None = None, batch_size: int = 1,
                     filters: int | None = None) -> int:
    """FLOPs of one training step of ``model`` (builds the networks to count them)."""
    nets = build_networks(model, image_size, filters)
    return step_flops(network_macs(nets), FORWARD_PASSES[model], batch_size)


# ===========================================================================
# 5. The plain baseline: training steps written the way the TF tutorials write them
# ===========================================================================
def _adam(learning_rate: float, precision: str, network: Any) -> Any:
    """Adam(lr, beta_1=0.5) as in the papers, wrapped for loss scaling under mixed_float16.

    Its slot variables are built here, before tracing: a ``tf.function`` that creates
    variables on its first call traces twice, which would blur the tracing time.
    """
    import keras

    opt = keras.optimizers.Adam(learning_rate, beta_1=0.5)
    if precision == "mixed_float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(network.trainable_variables)
    return opt


def _scaled(opt: Any, loss: Any) -> Any:
    """The loss times the loss scale under mixed_float16 (call it inside the tape), else the loss."""
    return opt.scale_loss(loss) if hasattr(opt, "scale_loss") else loss


def baseline_step(model: str, networks: Mapping[str, Any], precision: str = "float32",
                  jit_compile: bool = False) -> Callable[[tuple], dict]:
    """A ``tf.function`` training step for ``model`` as the TensorFlow tutorials write it.

    Two gradient tapes (one persistent tape for CycleGAN, as its tutorial does),
    ``tape.gradient`` and ``optimizer.apply_gradients``; the losses are the papers'
    (BCE for GAN and Pix2Pix with lambda=100 L1, LSGAN with cycle 10 and identity 5 for
    CycleGAN), written with plain ``tf`` ops. One departure from the tutorials: the
    optimizers' variables are built before the first call (see :func:`_adam`). The step takes one batch tuple:
    ``(real_images,)`` for ``gan``, ``(input, target)`` for ``pix2pix``, ``(x, y)`` for ``cyclegan``,
    and returns a dict of scalar losses.
    """
    import tensorflow as tf

    def bce(labels_value: float, logits: Any) -> Any:
        logits = tf.cast(logits, tf.float32)
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.fill(tf.shape(logits), labels_value), logits=logits))

    def mae(a: Any, b: Any) -> Any:
        return tf.reduce_mean(tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))

    def mse_to(value: float, logits: Any) -> Any:
        return tf.reduce_mean(tf.square(tf.cast(logits, tf.float32) - value))

    if model == "gan":
        generator, discriminator = networks["generator"], networks["discriminator"]
        latent_dim = int(generator.inputs[0].shape[-1])
        g_opt, d_opt = _adam(1e-4, precision, generator), _adam(1e-4, precision, discriminator)

        @tf.function(jit_compile=jit_compile)
        def gan_step(batch: tuple) -> dict:
            (images,) = batch
            noise = tf.random.normal([tf.shape(images)[0], latent_dim])
            with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
                generated = generator(noise, training=True)
                real_output = discriminator(images, training=True)
                fake_output = discriminator(generated, training=True)
                gen_loss = bce(1.0, fake_output)
                disc_loss = bce(1.0, real_output) + bce(0.0, fake_output)
                scaled_g, scaled_d = _scaled(g_opt, gen_loss), _scaled(d_opt, disc_loss)
            g_grads = gen_tape.gradient(scaled_g, generator.trainable_variables)
            d_grads = disc_tape.gradient(scaled_d, discriminator.trainable_variables)
            g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
            d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
            return {"g_loss": gen_loss, "d_loss": disc_loss}

        return gan_step

    if model == "pix2pix":
        generator, discriminator = networks["generator"], networks["discriminator"]
        g_opt, d_opt = _adam(2e-4, precision, generator), _adam(2e-4, precision, discriminator)

        @tf.function(jit_compile=jit_compile)
        def pix2pix_step(batch: tuple) -> dict:
            input_image, target = batch
            with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
                gen_output = generator(input_image, training=True)
                disc_real_output = discriminator([input_image, target], training=True)
                disc_generated_output = discriminator([input_image, gen_output], training=True)
                gen_total_loss = bce(1.0, disc_generated_output) + 100.0 * mae(target, gen_output)
                disc_loss = 0.5 * (bce(1.0, disc_real_output) + bce(0.0, disc_generated_output))
                scaled_g, scaled_d = _scaled(g_opt, gen_total_loss), _scaled(d_opt, disc_loss)
            g_grads = gen_tape.gradient(scaled_g, generator.trainable_variables)
            d_grads = disc_tape.gradient(scaled_d, discriminator.trainable_variables)
            g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
            d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
            return {"g_loss": gen_total_loss, "d_loss": disc_loss}

        return pix2pix_step

    if model == "cyclegan":
        gen_g, gen_f = networks["generator_g"], networks["generator_f"]
        disc_x, disc_y = networks["discriminator_x"], networks["discriminator_y"]
        opts = {name: _adam(2e-4, precision, net) for name, net in
                (("g", gen_g), ("f", gen_f), ("dx", disc_x), ("dy", disc_y))}

        @tf.function(jit_compile=jit_compile)
        def cyclegan_step(batch: tuple) -> dict:
            real_x, real_y = batch
            with tf.GradientTape(persistent=True) as tape:
                fake_y = gen_g(real_x, training=True)
                cycled_x = gen_f(fake_y, training=True)
                fake_x = gen_f(real_y, training=True)
                cycled_y = gen_g(fake_x, training=True)
                same_x = gen_f(real_x, training=True)
                same_y = gen_g(real_y, training=True)
                disc_real_x = disc_x(real_x, training=True)
                disc_real_y = disc_y(real_y, training=True)
                disc_fake_x = disc_x(fake_x, training=True)
                disc_fake_y = disc_y(fake_y, training=True)
                cycle = 10.0 * (mae(real_x, cycled_x) + mae(real_y, cycled_y))
                g_loss = mse_to(1.0, disc_fake_y) + cycle + 5.0 * mae(real_y, same_y)
                f_loss = mse_to(1.0, disc_fake_x) + cycle + 5.0 * mae(real_x, same_x)
                dx_loss = 0.5 * (mse_to(1.0, disc_real_x) + mse_to(0.0, disc_fake_x))
                dy_loss = 0.5 * (mse_to(1.0, disc_real_y) + mse_to(0.0, disc_fake_y))
                scaled = {key: _scaled(opts[key], loss) for key, loss in
                          (("g", g_loss), ("f", f_loss), ("dx", dx_loss), ("dy", dy_loss))}
            for key, net in (("g", gen_g), ("f", gen_f), ("dx", disc_x), ("dy", disc_y)):
                grads = tape.gradient(scaled[key], net.trainable_variables)
                opts[key].apply_gradients(zip(grads, net.trainable_variables))
            return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss}

        return cyclegan_step

    raise ValueError(f"model must be one of {MODELS}, got {model!r}.")


def fixed_batch(model: str, image_size: int | None, batch_size: int, seed: int = 0) -> tuple:
    """A fixed batch in [-1, 1] with a static shape, as the step of ``model`` takes it."""
    import tensorflow as tf

    size = DEFAULT_IMAGE_SIZE[model] if image_size is None else image_size
    channels = 1 if model == "gan" else 3
    shape = (batch_size, size, size, channels)
    rng = tf.random.Generator.from_seed(seed)
    images = [rng.uniform(shape, -1.0, 1.0) for _ in range(1 if model == "gan" else 2)]
    return tuple(images)


# ===========================================================================
# 6. Our trainers (course_utils.train), timed through the same kind of tf.function
# ===========================================================================
def trainer_step(model: str, networks: Mapping[str, Any], precision: str = "float32",
                 jit_compile: bool = False, **trainer_kwargs: Any) -> Callable[[tuple], Any]:
    """The course trainer's ``train_step`` wrapped in a ``tf.function``.

    ``trainer_kwargs`` go to the trainer's constructor (e.g. ``pool_size=0`` for CycleGAN).
    The trainer is compiled with ``jit_compile`` too, and its ``train_step`` wrapped in
    ``tf.function(jit_compile=...)``, the same wrapping the baseline gets.
    """
    trainer = _build_trainer(model, networks, jit_compile, **trainer_kwargs)
    import tensorflow as tf

    # Keep the trainer alive with the function (it owns the optimizers and metrics).
    step = tf.function(trainer.train_step, jit_compile=jit_compile)
    step.trainer = trainer  # type: ignore[attr-defined]
    return step


def _build_trainer(model: str, networks: Mapping[str, Any], jit_compile: bool, **kwargs: Any) -> Any:
    """Construct and compile ``course_utils.train``'s trainer for ``model`` on ``networks``
    with its defaults (the papers' optimizers; CycleGAN with its 50-image pool)."""
    from course_utils import train

    if model == "gan":
        trainer = train.GAN(networks["generator"], networks["discriminator"], **kwargs)
    elif model == "pix2pix":
        trainer = train.Pix2Pix(networks["generator"], networks["discriminator"], **kwargs)
    else:
        trainer = train.CycleGAN(networks["generator_g"], networks["generator_f"],
                                 networks["discriminator_x"], networks["discriminator_y"], **kwargs)
    trainer.compile(jit_compile=jit_compile)
    return trainer


# ===========================================================================
# 7. Timing
# ===========================================================================
def _sync(outputs: Any) -> None:
    """Wait for a step's results by copying them to the host (``.numpy()``)."""
    import tensorflow as tf

    for value in tf.nest.flatten(outputs):
        if hasattr(value, "numpy"):
            value.numpy()


@dataclass
class StepTiming:
    """Measured times of one step function (seconds)."""

    trace_seconds: float = 0.0            # Python tracing into a graph (get_concrete_function)
    first_call_seconds: float = 0.0       # first run: graph optimisation / XLA compilation + one step
    steps: list[float] = field(default_factory=list)   # every timed step, warm-up excluded
    repeat_medians: list[float] = field(default_factory=list)
    traces_first_call: int = 0            # traces after the first call (2 if it created variables)
    tracing_count: int = 0                # traces after all steps; more than traces_first_call = retracing

    @property
    def median(self) -> float:
        return statistics.median(self.steps)

    def summary(self) -> dict[str, Any]:
        return {"step_seconds_median": self.median,
                "step_seconds_min": min(self.steps),
                "step_seconds_repeat_medians": self.repeat_medians,
                "trace_seconds": self.trace_seconds,
                "first_call_seconds": self.first_call_seconds,
                "traces_first_call": self.traces_first_call,
                "tracing_count": self.tracing_count,
                "retraces": self.tracing_count - self.traces_first_call,
                "timed_steps": len(self.steps)}


def _first_call(step: Callable, batch: tuple, timing: StepTiming) -> None:
    start = time.perf_counter()
    step.get_concrete_function(batch)
    timing.trace_seconds = time.perf_counter() - start
    start = time.perf_counter()
    _sync(step(batch))
    timing.first_call_seconds = time.perf_counter() - start
    timing.traces_first_call = int(step.experimental_get_tracing_count())


def _timed_steps(step: Callable, batch: tuple, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        _sync(step(batch))
        times.append(time.perf_counter() - start)
    return times


def time_interleaved(steps: Mapping[str, Callable], batch: tuple, n_steps: int, warmup: int = 2,
                     repeats: int = 3) -> dict[str, StepTiming]:
    """Time several step functions on the same fixed ``batch``, interleaved step by step.

    Each function is traced and called once (``trace_seconds``, ``first_call_seconds``),
    then warmed up ``warmup`` steps (not timed). Then ``repeats`` rounds of ``n_steps``:
    at every step each function runs once, in an order that alternates (A B, B A, A B, ...),
    so a slow phase of a shared machine hits all of them alike. ``steps[i]`` of every
    function were measured side by side, which is what :func:`paired_ratio` uses.
    """
    if n_steps < 1 or repeats < 1 or warmup < 0:
        raise ValueError(f"need steps >= 1, repeats >= 1, warmup >= 0; got {n_steps}, {repeats}, {warmup}.")
    timings = {name: StepTiming() for name in steps}
    for name, step in steps.items():
        _first_call(step, batch, timings[name])
        _timed_steps(step, batch, warmup)
    names = list(steps)
    for r in range(repeats):
        for i in range(n_steps):
            for name in (names if (r * n_steps + i) % 2 == 0 else names[::-1]):
                timings[name].steps.extend(_timed_steps(steps[name], batch, 1))
        for name in names:
            timings[name].repeat_medians.append(statistics.median(timings[name].steps[-n_steps:]))
    for name, step in steps.items():
        timings[name].tracing_count = int(step.experimental_get_tracing_count())
    return timings


def paired_ratio(ours: StepTiming, baseline: StepTiming) -> float:
    """Median over the side-by-side steps of ``ours / baseline`` (drift cancels within a pair)."""
    if len(ours.steps) != len(baseline.steps) or not ours.steps:
        raise ValueError("paired_ratio needs timings from the same time_interleaved call.")
    return statistics.median(t / b for t, b in zip(ours.steps, baseline.steps))


def peak_memory(reset: bool = False) -> dict[str, Any]:
    """Peak memory: the GPU allocator's peak on a GPU, else this process's peak RSS.

    On CPU the number is ``ru_maxrss`` of the whole process since it started (models,
    TensorFlow itself and every earlier run included), not just one step's working set.
    """
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        if reset:
            tf.config.experimental.reset_memory_stats("GPU:0")
            return {}
        info = tf.config.experimental.get_memory_info("GPU:0")
        return {"peak_memory_bytes": int(info["peak"]), "memory_kind": "GPU:0 allocator peak"}
    if reset:
        return {}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_bytes = rss if sys.platform == "darwin" else rss * 1024   # Linux reports KiB
    return {"peak_memory_bytes": int(rss_bytes), "memory_kind": "CPU: process peak RSS (ru_maxrss)"}


# ===========================================================================
# 8. The input pipeline
# ===========================================================================
def pipeline_images_per_second(image_size: int = 256, n_batches: int = 150, repeats: int = 3) -> dict[str, Any]:
    """The input pipeline's speed, measured by ``course_utils.data.pipeline_throughput``
    (decode + jitter of facades-like 256x512 JPEG pairs, no cache)."""
    from course_utils.data import pipeline_throughput

    result = dict(pipeline_throughput(image_size=image_size, jitter=True, n_batches=n_batches, repeats=repeats))
    result.setdefault("source", "course_utils.data.pipeline_throughput")
    result["source"] = f"course_utils.data.pipeline_throughput ({result['source']})"
    return result


# ===========================================================================
# 9. One benchmark run, the standard set, and the command line
# ===========================================================================
#: ``--standard``: the papers' architectures, step counts sized for a 2-core CPU
#: (about 1 s per pix2pix step at 256, several seconds per CycleGAN step at 128).
STANDARD_RUNS: tuple[dict[str, Any], ...] = (
    {"model": "pix2pix", "image_size": 256, "steps": 8, "repeats": 3, "warmup": 2},
    {"model": "cyclegan", "image_size": 128, "steps": 4, "repeats": 3, "warmup": 1},
)


def run_bench(model: str = "pix2pix", image_size: int | None = None, steps: int = 5,
              batch_size: int | None = None, filters: int | None = None, xla: bool = False,
              precision: str = "float32", warmup: int = 2, repeats: int = 3,
              pipeline: bool = True, trainer: bool = True) -> dict[str, Any]:
    """Measure one configuration; returns a JSON-ready dict.

    The trainer's step (if ``course_utils.train`` provides it and ``trainer`` is True)
    and the tutorial-style baseline step run on separate copies of the same
    architecture and the same fixed batch, interleaved (:func:`time_interleaved`).
    ``step_seconds_median`` is the trainer's when it was measured, else the baseline's
    (``step_seconds_of`` says which); ``ratio`` is trainer / baseline, the median of
    the ratios of side-by-side steps (:func:`paired_ratio`; None without a trainer).
    For CycleGAN, ``ratio_no_pool`` compares the trainer with ``pool_size=0``, which
    does exactly the baseline's work.
    """
    import keras
    import tensorflow as tf

    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}.")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    size = DEFAULT_IMAGE_SIZE[model] if image_size is None else image_size
    batch = DEFAULT_BATCH_SIZE[model] if batch_size is None else batch_size
    previous_policy = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(precision)
    try:
        keras.utils.set_random_seed(0)
        base_nets = build_networks(model, size, filters)
        macs = network_macs(base_nets)
        flops = step_flops(macs, FORWARD_PASSES[model], batch)
        trainer_flops = step_flops(macs, CYCLEGAN_POOL_PASSES if model == "cyclegan" else FORWARD_PASSES[model], batch)
        step_fns: dict[str, Callable] = {}
        trainer_reason = "not requested (--no-trainer)"
        if trainer:
            keras.utils.set_random_seed(0)
            step_fns["trainer"] = trainer_step(model, build_networks(model, size, filters), precision, xla)
            if model == "cyclegan":
                # The same trainer without the image pool does exactly the baseline's work.
                keras.utils.set_random_seed(0)
                step_fns["trainer_no_pool"] = trainer_step(model, build_networks(model, size, filters), precision,
                                                           xla, pool_size=0)
        step_fns["baseline"] = baseline_step(model, base_nets, precision, xla)
        data = fixed_batch(model, size, batch)
        peak_memory(reset=True)
        timings = time_interleaved(step_fns, data, steps, warmup, repeats)
        memory = peak_memory()
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)

    measured = "trainer" if "trainer" in timings else "baseline"
    median = timings[measured].median

    def ratio_to_baseline(name: str) -> float | None:
        return paired_ratio(timings[name], timings["baseline"]) if name in timings else None

    ratio = ratio_to_baseline("trainer")
    device = gpu_name()
    peak = peak_flops(precision, device, detect=False)
    measured_flops = trainer_flops if measured == "trainer" else flops
    achieved = measured_flops / median
    result: dict[str, Any] = {
        "model": model, "image_size": size, "batch_size": batch,
        "filters": DEFAULT_FILTERS[model] if filters is None else filters,
        "precision": precision, "xla": xla, "steps": steps, "warmup": warmup, "repeats": repeats,
        "step_seconds_median": median, "step_seconds_of": measured,
        "ratio": ratio,
        "ratio_of_medians": (timings["trainer"].median / timings["baseline"].median) if ratio is not None else None,
        "trainer": timings["trainer"].summary() if "trainer" in timings else None,
        "trainer_missing_reason": None if "trainer" in timings else trainer_reason,
        "baseline": timings["baseline"].summary(),
        "macs_per_image": macs,
        "forward_passes": (CYCLEGAN_POOL_PASSES if model == "cyclegan" and measured == "trainer"
                           else FORWARD_PASSES[model]),
        "step_flops": measured_flops, "baseline_step_flops": flops,
        "gflops_per_second": achieved / 1e9,
        "baseline_gflops_per_second": flops / timings["baseline"].median / 1e9,
        "device": device or f"CPU ({os.cpu_count()} cores)", "peak_flops": peak,
        "fraction_of_peak": achieved / peak if peak else None,
        **memory,
        **({"trainer_no_pool": timings["trainer_no_pool"].summary(),
            "ratio_no_pool": ratio_to_baseline("trainer_no_pool")} if "trainer_no_pool" in timings else {}),
        "tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }
    if pipeline:
        result["pipeline"] = pipeline_images_per_second(256 if model == "gan" else size)
        result["pipeline_images_per_second"] = result["pipeline"]["images_per_second"]
    return result


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def format_table(results: Iterable[Mapping[str, Any]]) -> str:
    """A readable table of :func:`run_bench` results (one row per run)."""
    head = ("model", "size", "batch", "precision", "xla", "trainer s", "baseline s", "ratio", "ratio no pool",
            "GFLOP/step", "GFLOP/s", "% peak", "trace s", "1st call s", "pipeline img/s")
    rows = [head]
    for r in results:
        t = r.get("trainer") or {}
        b = r["baseline"]
        frac = r.get("fraction_of_peak")
        rows.append((r["model"], str(r["image_size"]), str(r["batch_size"]), r["precision"], "yes" if r["xla"] else "no",
                     _fmt(t.get("step_seconds_median")), _fmt(b["step_seconds_median"]), _fmt(r.get("ratio")), _fmt(r.get("ratio_no_pool")),
                     _fmt(r["step_flops"] / 1e9, 4), _fmt(r["gflops_per_second"]),
                     "-" if frac is None else f"{100 * frac:.2f}",
                     _fmt((t or b)["trace_seconds"]), _fmt((t or b)["first_call_seconds"]),
                     _fmt(r.get("pipeline_images_per_second"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = []
    for r in results:
        if r.get("trainer_missing_reason"):
            notes.append(f"{r['model']}: trainer not timed: {r['trainer_missing_reason']}")
        notes.append(f"{r['model']}: peak memory {r.get('peak_memory_bytes', 0) / 2**20:.0f} MiB "
                     f"[{r.get('memory_kind')}]; device {r['device']}")
    return "\n".join(lines + [""] + notes)


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser`` (the CLI's ``bench`` subparser)."""
    parser.add_argument("--model", choices=MODELS, default="pix2pix",
                        help="which trainer to time (default: pix2pix)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="image side; default 28 for gan, 256 for pix2pix, 128 for cyclegan")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per round (default 5)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default: the papers' (1 for pix2pix and cyclegan, 256 for gan)")
    parser.add_argument("--filters", type=int, default=None, help="base width (default 64, the papers')")
    parser.add_argument("--xla", action="store_true", help="compile the steps with XLA (jit_compile=True)")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="Keras dtype policy (default float32)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps after the first call (default 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds; trainer and baseline alternate within each (default 3)")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON line and nothing else")
    parser.add_argument("--standard", action="store_true",
                        help="run the standard set (pix2pix at 256, CycleGAN at 128) and print a table")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the results to this JSON file")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the input-pipeline measurement")
    parser.add_argument("--no-trainer", action="store_true", help="time the baseline only")


def _check_args(args: argparse.Namespace) -> None:
    for name in ("steps", "repeats"):
        if getattr(args, name) < 1:
            raise SystemExit(f"bench: --{name} must be at least 1, got {getattr(args, name)}.")
    if args.warmup < 0:
        raise SystemExit(f"bench: --warmup must be >= 0, got {args.warmup}.")
    for name in ("batch_size", "filters", "image_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise SystemExit(f"bench: --{name.replace('_', '-')} must be positive, got {value}.")


def bench_command(args: argparse.Namespace) -> int:
    """Run ``bench`` with parsed ``args``; print a table (or one JSON line with ``--json``). Exit code."""
    _check_args(args)
    common = dict(xla=args.xla, precision=args.precision, pipeline=not args.no_pipeline,
                  trainer=not args.no_trainer)
    if args.standard:
        explicit = {k: v for k, v in (("steps", args.steps if args.steps != 5 else None),
                                      ("repeats", args.repeats if args.repeats != 3 else None),
                                      ("warmup", args.warmup if args.warmup != 2 else None)) if v is not None}
        results = [run_bench(**{**run, **explicit}, **common) for run in STANDARD_RUNS]
    else:
        try:
            results = [run_bench(args.model, args.image_size, args.steps, args.batch_size, args.filters,
                                 warmup=args.warmup, repeats=args.repeats, **common)]
        except ValueError as err:
            print(f"bench: {err}", file=sys.stderr)
            return 2
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"runs": results} if args.standard else results[0], indent=2) + "\n")
    if args.json:
        print(json.dumps({"runs": results} if args.standard else results[0]))
    else:
        print(format_table(results))
        if args.json_out is not None:
            print(f"\nwritten: {args.json_out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_utils.perf [bench options]``: the same as ``python -m course_utils bench``."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.perf",
                                     description="Time a training step next to a tutorial-style baseline.")
    add_bench_arguments(parser)
    return bench_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
