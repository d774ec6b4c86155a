"""course_utils.tools.perf: MAC counts pinned on the papers' networks, step FLOPs, the peak table, timing.

Nothing here depends on how fast this machine is: the times themselves are measured by ``make bench``.
"""

import math

import keras
import pytest
from keras import layers

from course_utils import models, perf, registry


# The papers' networks at 256x256 come from conftest.py's session fixtures (unet_256, patchgan_256,
# resnet_256: built once, never run); the instance-norm PatchGAN only this module needs.
@pytest.fixture(scope="module")
def patchgan256_instance():
    return models.patchgan_discriminator(256, target_channels=None, norm="instance")


# ---------------------------------------------------------------------------
# MAC counting
# ---------------------------------------------------------------------------
def test_hand_computed_macs_of_a_tiny_model():
    inp = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, strides=2, padding="same", name="conv")(inp)           # -> 4x4x4
    x = layers.Conv2DTranspose(5, 2, strides=2, padding="same", name="deconv")(x)   # 4x4x4 -> 8x8x5
    x = layers.Flatten()(x)
    out = layers.Dense(7, name="dense")(x)                                          # 320 -> 7
    model = keras.Model(inp, out)

    conv = 4 * 4 * (3 * 3) * 3 * 4          # output positions x kernel x cin x cout = 1728
    deconv = 4 * 4 * (2 * 2) * 4 * 5        # at the *input* resolution = 1280
    dense = (8 * 8 * 5) * 7                 # = 2240
    rows = {r.name: r.macs for r in perf.layer_macs(model)}
    assert rows == {"conv": conv, "deconv": deconv, "dense": dense}
    assert perf.count_macs(model) == conv + deconv + dense == 5248
    # The other convention counts the transposed conv at its output size: 4x more for stride 2.
    assert perf.transposed_output_convention_macs(model) == conv + 4 * deconv + dense


def test_dense_on_a_sequence_counts_every_position_and_groups_divide_conv_work():
    inp = keras.Input((10, 6))
    out = layers.Dense(3)(inp)
    assert perf.count_macs(keras.Model(inp, out)) == 10 * 6 * 3

    img = keras.Input((4, 4, 8))
    grouped = layers.Conv2D(8, 1, groups=4)(img)
    assert perf.count_macs(keras.Model(img, grouped)) == 16 * 1 * (8 // 4) * 8
    depthwise = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(img)
    assert perf.count_macs(keras.Model(img, depthwise)) == 16 * 9 * 16


def test_nested_models_and_shared_layers_are_counted_per_call():
    inner_in = keras.Input((4, 4, 2))
    inner = keras.Model(inner_in, layers.Conv2D(3, 1, name="c")(inner_in), name="inner")
    shared = layers.Dense(5, name="shared")
    x = keras.Input((4, 4, 2))
    y = inner(x)                                  # 16 * 2 * 3 = 96
    a = shared(layers.Flatten()(y))               # 48 * 5 = 240
    b = shared(layers.Flatten()(layers.Concatenate()([x, x[..., :1]])))   # 48 * 5 = 240 again
    model = keras.Model(x, [a, b])
    assert perf.count_macs(model) == 96 + 240 + 240
    assert [r.name for r in perf.layer_macs(model)][0] == "inner/c"


def test_unknown_image_size_and_subclassed_models_are_refused_with_a_fix():
    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, layers.Conv2D(2, 3)(inp))
    with pytest.raises(ValueError, match="fixed image size"):
        perf.count_macs(model)

    class Sub(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(TypeError, match="not a functional model"):
        perf.count_macs(Sub())


# Exact values are pinned to the MAC; the brief's rounded figures to 1%.
@pytest.mark.parametrize(
    "network, exact, rounded",
    [
        ("unet_256", 6_048_186_368, 6.05e9),
        ("patchgan_256", 3_197_140_992, 3.20e9),   # 6 input channels
        ("resnet_256", 49_551_507_456, 49.6e9),    # 9 residual blocks
    ],
)
def test_macs_of_the_papers_networks(network, exact, rounded, request):
    macs = perf.count_macs(request.getfixturevalue(network))
    assert macs == exact
    assert math.isclose(macs, rounded, rel_tol=0.01)


def test_resnet_published_56_8_gmac_is_the_output_resolution_convention(resnet_256):
    # GAN Compression (Li et al. 2020) and thop quote 56.8 GMAC for this generator: the two
    # stride-2 transposed convs counted at their output size (4x) add 3 x 2.416 GMAC.
    g = resnet_256
    assert round(perf.transposed_output_convention_macs(g) / 1e9, 1) == 56.8
    per_deconv_at_input = 64 * 64 * 9 * 256 * 128            # up1 at its 64x64 input
    assert perf.transposed_output_convention_macs(g) - perf.count_macs(g) == 3 * 2 * per_deconv_at_input


# ---------------------------------------------------------------------------
# Step FLOPs
# ---------------------------------------------------------------------------
def test_step_flops_formula():
    # pix2pix at 256, batch 1: G once, D twice; x2 FLOPs per MAC; x3 forward + backward.
    macs = {"generator": 6_048_186_368, "discriminator": 3_197_140_992}
    expected = 2 * 3 * (6_048_186_368 + 2 * 3_197_140_992)
    assert perf.step_flops(macs, registry.get("pix2pix").forward_passes) == expected
    assert perf.step_flops(macs, registry.get("pix2pix").forward_passes, batch_size=4) == 4 * expected
    assert perf.step_flops({"a": 10}, {"a": 1}, train_factor=1) == 20
    with pytest.raises(KeyError, match="discriminator"):
        perf.step_flops({"generator": 1}, registry.get("pix2pix").forward_passes)


def test_cyclegan_counts_six_generator_and_four_discriminator_passes():
    passes = registry.get("cyclegan").forward_passes
    assert passes["generator_g"] + passes["generator_f"] == 6
    assert passes["discriminator_x"] + passes["discriminator_y"] == 4
    flops = perf.model_step_flops("cyclegan", image_size=32, filters=4)
    nets = models.cyclegan_networks(32, filters=4)
    g, d = perf.count_macs(nets["generator_g"]), perf.count_macs(nets["discriminator_x"])
    assert flops == 6 * (6 * g + 4 * d)


class _CountCalls(layers.Layer):
    """Passes its input through and counts how often it ran (eagerly: once per forward pass)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        self.calls += 1
        return x


def _counted(net):
    counter = _CountCalls()
    inp = keras.Input(net.input_shape[1:])
    model = keras.Model(inp, net(counter(inp)))
    counter.calls = 0                      # building the model traced it once
    return model, counter


@pytest.mark.parametrize("pool", [False, True])
def test_cyclegan_pass_counts_match_the_step_that_trains(pool):
    from course_utils import train

    nets, counters = {}, {}
    for name in ("generator_g", "generator_f"):
        nets[name], counters[name] = _counted(models.resnet_generator(16, n_blocks=1, filters=4))
    for name in ("discriminator_x", "discriminator_y"):
        nets[name], counters[name] = _counted(
            models.patchgan_discriminator(16, target_channels=None, norm="instance", filters=4))
    pools = {"pool_x": train.ImagePool(4, (16, 16, 3), seed=0), "pool_y": train.ImagePool(4, (16, 16, 3), seed=1)} if pool else {}
    x = keras.random.uniform((1, 16, 16, 3), -1, 1, seed=0)
    y = keras.random.uniform((1, 16, 16, 3), -1, 1, seed=1)
    train.cyclegan_train_step(nets["generator_g"], nets["generator_f"], nets["discriminator_x"], nets["discriminator_y"],
                              *[keras.optimizers.Adam(2e-4) for _ in range(4)], x, y, **pools)
    expected = registry.get("cyclegan").trainer_passes if pool else registry.get("cyclegan").forward_passes
    assert {name: c.calls for name, c in counters.items()} == expected
    # With the pool each discriminator runs three times per step: real, pooled fakes, fresh fakes for G.
    assert all(expected[d] == (3 if pool else 2) for d in ("discriminator_x", "discriminator_y"))


# ---------------------------------------------------------------------------
# Peak table
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "device, key, fp32, fp16",
    [
        ("Tesla T4", "T4", 8.1e12, 65e12),
        ("NVIDIA L4", "L4", 30.3e12, 121e12),
        ("Tesla V100-SXM2-16GB", "V100", 15.7e12, 125e12),
        ("Tesla V100-PCIE-32GB", "V100 PCIe", 14e12, 112e12),
        ("NVIDIA A100-SXM4-40GB", "A100", 19.5e12, 312e12),
        ("NVIDIA H100 80GB HBM3", "H100", 67e12, 989.5e12),
        ("NVIDIA H100 PCIe", "H100 PCIe", 51e12, 756.5e12),
    ],
)
def test_peak_lookup(device, key, fp32, fp16):
    assert perf.match_gpu(device) == key
    assert perf.peak_flops("float32", device) == fp32
    assert perf.peak_flops("mixed_float16", device) == fp16


def test_peak_lookup_unknowns_and_missing_units():
    assert perf.match_gpu("NVIDIA L40S") is None          # not an L4
    assert perf.peak_flops("float32", "NVIDIA GeForce GTX 1080") is None
    assert perf.peak_flops("mixed_bfloat16", "Tesla T4") is None   # Turing has no BF16 units
    assert perf.peak_flops("mixed_bfloat16", "NVIDIA A100-SXM4-80GB") == 312e12
    with pytest.raises(ValueError, match="precision"):
        perf.peak_flops("float16", "Tesla T4")


class _FakeGpu:
    name = "/physical_device:GPU:0"


@pytest.mark.parametrize("details, name, fp32", [
    (None, None, None),                                     # no GPU: no name, no peak
    ({"device_name": "Tesla T4"}, "Tesla T4", 8.1e12),      # Colab's T4: detected and looked up
    ({}, "/physical_device:GPU:0", None),                   # a GPU without a reported name: no peak
])
def test_the_gpu_is_detected_from_tensorflows_device_list(details, name, fp32, monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [] if details is None else [_FakeGpu()])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda device: details)
    assert perf.gpu_name() == name
    assert perf.peak_flops("float32") == fp32
    assert perf.peak_flops("float32", "NVIDIA A100-SXM4-40GB") == 19.5e12   # a name given is not detected


# ---------------------------------------------------------------------------
# Timing: what is timed, in which order, and whether a step retraced
# ---------------------------------------------------------------------------
class _Step:
    """A step function stand-in: records its calls, and traces once or (``leaky``) on every call."""

    def __init__(self, name, log, leaky=False):
        self.name, self.log, self.leaky, self.traces = name, log, leaky, 0

    def get_concrete_function(self, batch):
        self.traces = max(self.traces, 1)

    def __call__(self, batch):
        if self.traces == 0 or self.leaky:
            self.traces += 1
        self.log.append(self.name)
        return {"loss": 0.0}

    def experimental_get_tracing_count(self):
        return self.traces


def test_time_interleaved_alternates_the_steps_and_counts_every_timed_one():
    log = []
    timings = perf.time_interleaved({"a": _Step("a", log), "b": _Step("b", log)}, (), n_steps=3, warmup=1, repeats=2)
    # First call and one warm-up step of each, then A B, B A, A B in each round (the order alternates
    # at every step, counted across rounds).
    assert log == ["a", "a", "b", "b"] + ["a", "b", "b", "a", "a", "b"] + ["b", "a", "a", "b", "b", "a"]
    for timing in timings.values():
        assert len(timing.steps) == 6 and len(timing.repeat_medians) == 2
        assert timing.summary()["timed_steps"] == 6 and timing.summary()["retraces"] == 0
    with pytest.raises(ValueError, match="steps >= 1"):
        perf.time_interleaved({"a": _Step("a", [])}, (), n_steps=0)


def test_time_interleaved_sees_retracing():
    import tensorflow as tf

    steady = tf.function(lambda batch: {"loss": tf.reduce_mean(batch[0])})

    # A step fed a new Python number each call retraces every time: the same counter must see it.
    class Leaky:
        def __init__(self):
            self.calls = 0
            self.fn = tf.function(lambda batch, scale: {"loss": tf.reduce_mean(batch[0]) * scale})

        def __call__(self, batch):
            self.calls += 1
            return self.fn(batch, float(self.calls))

        def get_concrete_function(self, batch):
            return self.fn.get_concrete_function(batch, 0.0)

        def experimental_get_tracing_count(self):
            return self.fn.experimental_get_tracing_count()

    timings = perf.time_interleaved({"steady": steady, "leaky": Leaky()}, (tf.ones((1, 2)),), n_steps=3, warmup=1,
                                    repeats=1)
    assert timings["steady"].tracing_count == timings["steady"].traces_first_call == 1
    assert timings["steady"].summary()["retraces"] == 0
    assert timings["leaky"].summary()["retraces"] == 1 + 3        # the warm-up step and every timed step


@pytest.mark.parametrize("seconds, text", [(0.35, "0.35 s"), (45, "45 s"), (100, "100 s"), (720, "12 min"),
                                           (3.5 * 3600, "3.5 h"), (3 * 86400, "3.0 days")])
def test_format_duration(seconds, text):
    assert perf.format_duration(seconds) == text


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_format_duration_refuses_impossible_times(bad):
    with pytest.raises(ValueError, match="finite number"):
        perf.format_duration(bad)


@pytest.mark.slow
def test_step_costs_quoted_in_the_lessons(unet_256, patchgan_256, resnet_256, patchgan256_instance):
    """The numbers lessons 00, 02 and 03 quote: FLOP counts and T4 floors (estimates, not measurements)."""
    t4 = perf.PEAK_FLOPS["T4"].fp32
    unet, patch = perf.count_macs(unet_256), perf.count_macs(patchgan_256)
    pix2pix = perf.step_flops({"generator": unet, "discriminator": patch}, registry.get("pix2pix").forward_passes)
    resnet = perf.count_macs(resnet_256)
    d = perf.count_macs(patchgan256_instance)
    cyclegan = perf.step_flops({"generator_g": resnet, "generator_f": resnet, "discriminator_x": d,
                                "discriminator_y": d}, registry.get("cyclegan").trainer_passes)
    assert 74e9 < pix2pix < 76e9                               # 00: "about 75 GFLOP"
    assert pix2pix / t4 < 0.0105                               # 00: "not less than about 0.01 s"
    assert 5.5 < 40_000 * pix2pix / t4 / 60 < 6.5              # 02: "at least 6 minutes" for 40,000 steps
    assert 1.85e12 < cyclegan < 1.95e12                        # 00: "about 1.9 TFLOP"
    assert 24.5 < cyclegan / pix2pix < 26                      # 00: "25 times more"
    assert 0.225 < cyclegan / t4 < 0.235                       # 00, 03: "at least 0.23 s"
    floor_hours = 200 * 1334 * cyclegan / t4 / 3600
    assert 16.5 < floor_hours < 18                             # 03: "about 17 hours" at the fp32 peak
    assert 33 < 2 * floor_hours < 37 and 66 < 4 * floor_hours < 72   # 03: "about 35 to 70 hours"
