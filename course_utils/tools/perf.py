r"""How much work a training step is, and how long this machine takes for it: a lesson appendix.

Four parts, each usable on its own (lessons 00, 03 and 04 use them):

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

3. **The GPU's ceiling.** :data:`PEAK_FLOPS` holds the published peak FLOP/s of
   common GPUs; :func:`peak_flops` looks up the one this runtime has.

4. **Timing.** :func:`time_interleaved` times several step functions on one batch,
   alternating them step by step, and records tracing and first-call times
   (:class:`StepTiming`); :func:`format_duration` says how long that makes a run.

The instructor's benchmark built on these (a tutorial-style baseline step, the
standard runs, ``python -m course_utils bench``) is :mod:`course_utils.tools.bench`.

>>> from course_utils import models, perf
>>> round(perf.count_macs(models.unet_generator()) / 1e9, 2)     # doctest: +SKIP
6.05
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence


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


def _layer_call_macs(layer: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...],
                     transposed_at_output: bool = False) -> int | None:
    """MACs of one call of ``layer`` for one example; None if the layer does no counted work.

    ``in_shape`` and ``out_shape`` exclude the batch dimension and are channels-last; a transposed conv
    is counted at its input resolution, or at its output one with ``transposed_at_output``.
    """
    from keras import layers

    def spatial(shape: tuple[int, ...]) -> int:
        return math.prod(shape[:-1])

    if getattr(layer, "data_format", "channels_last") != "channels_last" and isinstance(
            layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D, layers.Conv1DTranspose,
                    layers.Conv2DTranspose, layers.Conv3DTranspose, layers.DepthwiseConv2D,
                    layers.SeparableConv2D)):
        raise NotImplementedError(f"{layer.name}: only channels_last convolutions are counted.")
    # Transposed convs first: they are counted at their input resolution.
    if isinstance(layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        cin, cout = in_shape[-1], out_shape[-1]
        return spatial(out_shape if transposed_at_output else in_shape) * math.prod(layer.kernel_size) * cin * cout
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
    """The call nodes of a functional model, inputs first (Keras 3's private ``_nodes_by_depth``)."""
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


def layer_macs(model: Any, transposed_at_output: bool = False) -> list[LayerMacs]:
    """Every counted layer call in ``model`` (nested models expanded), in graph order.

    Args:
        model: a functional ``keras.Model`` (or a built ``Sequential``) with fixed
            non-batch input dimensions.
        transposed_at_output: count transposed convs at their output resolution (as ``thop`` does).

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
            rows.extend(LayerMacs(f"{op.name}/{r.name}", r.kind, r.output_shape, r.macs)
                        for r in layer_macs(op, transposed_at_output))
            continue
        ins = [t for t in node.input_tensors]
        if not ins or not node.outputs:
            continue
        in_shape = _static(ins[0].shape, op.name)
        out_shape = _static(node.outputs[0].shape, op.name)
        macs = _layer_call_macs(op, in_shape, out_shape, transposed_at_output)
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
    return sum(r.macs for r in layer_macs(model, transposed_at_output=True))


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


def network_macs(networks: Mapping[str, Any]) -> dict[str, int]:
    """:func:`count_macs` of every network in ``networks``."""
    return {name: count_macs(net) for name, net in networks.items()}


def model_step_flops(model: str, image_size: int | None = None, batch_size: int = 1,
                     filters: int | None = None) -> int:
    """FLOPs of one training step of ``model`` as its ``forward_passes`` count it (no image pool).

    Builds the model's networks to count them (:mod:`course_utils.core.registry`; ``image_size`` and
    ``filters`` default to its paper config's: the size the command line trains at, 64 filters).
    """
    from course_utils.core import registry

    spec = registry.get(model)
    given = {k: v for k, v in (("image_size", image_size), ("filters", filters)) if v is not None}
    nets = spec.build_networks(dataclasses.replace(spec.config.paper(), **given))
    return step_flops(network_macs(nets), spec.forward_passes, batch_size)


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
    from course_utils.core import train

    if precision not in train.PRECISIONS:
        raise ValueError(f"precision must be one of {train.PRECISIONS}, got {precision!r}.")
    if device_name is None and detect:
        device_name = gpu_name()
    key = match_gpu(device_name)
    if key is None:
        return None
    peak = PEAK_FLOPS[key]
    return {"float32": peak.fp32, "mixed_float16": peak.fp16, "mixed_bfloat16": peak.bf16}[precision]


# ===========================================================================
# 4. Timing steps
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
    function were measured side by side, which is what :func:`course_utils.tools.bench.paired_ratio` uses.
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


def format_duration(seconds: float) -> str:
    """A duration as a person reads it: ``"0.35 s"``, ``"45 s"``, ``"12 min"``, ``"3.5 h"`` or ``"2.1 days"``."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}.")
    if seconds < 10:
        return f"{seconds:.2g} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"

