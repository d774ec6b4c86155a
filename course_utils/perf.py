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
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

MODELS = ("gan", "pix2pix", "cyclegan")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

#: Forward passes through each network in one training step, as the papers'
#: training loops (and the TensorFlow tutorials) do them:
#:
#: * GAN (DCGAN tutorial): G(z) once; D on the real batch and on the fakes.
#: * Pix2Pix: G(x) once; D on (x, y) and on (x, G(x)).
#: * CycleGAN: G(x), F(G(x)), F(y), G(F(y)), and the identity terms F(x), G(y):
#:   three passes through each generator; each discriminator sees a real and a fake batch.
FORWARD_PASSES: dict[str, dict[str, int]] = {
    "gan": {"generator": 1, "discriminator": 2},
    "pix2pix": {"generator": 1, "discriminator": 2},
    "cyclegan": {"generator_g": 3, "generator_f": 3, "discriminator_x": 2, "discriminator_y": 2},
}

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
