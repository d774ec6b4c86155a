# %% [markdown]
# # 04 Training for real on a Colab GPU
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/04_training_on_colab.ipynb)
#
# Lessons 01-03 built the models. This one is about the hours around them: feeding a GPU, making
# each step cheaper, surviving a closed browser tab. You will measure what a step costs and what
# XLA and mixed precision buy, shorten the paper's schedule honestly, checkpoint to Drive and
# resume, and evaluate a real run with KID and FID. Lesson 00 explains the profiles.

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
cfg = course.runtime.start_lesson(course.config.ColabTrainingConfig)   # the settings (smoke with COURSE_SMOKE=1), the GPU check, the seeds

# %% [markdown]
# `perf` counts [FLOPs](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#flop) and times steps; `train` and `runs` hold trainers and [checkpoints](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkpoint).
# `distribute.split_cpu` must run **before TensorFlow uses any device**: without two GPUs it splits
# the CPU into two *logical* CPUs, for section 6's two replicas.

# %%
import shutil
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from PIL import Image

from course_utils import data, metrics, models, runs, train

course.distribute.split_cpu(cfg.replicas)       # before any TensorFlow operation: nothing if there are 2 GPUs
course.costs.print_estimate(cfg)   # both GPU profiles' estimated T4 minutes (it builds networks, so after split_cpu)
AUTOTUNE = tf.data.AUTOTUNE
N_BLOCKS = cfg.n_blocks   # residual blocks: None = the paper's (9 at 256, 6 below); 2 in the smoke profile
VERBOSE = 2 if cfg.is_smoke else 1       # Keras progress: one line per call in smoke, a bar otherwise

# %% [markdown]
# ## 1. Choosing and checking the runtime
#
# In Colab, **Runtime > Change runtime type** picks the accelerator: usually a **T4** (16 GB) on
# the free tier. A GPU's speed is quoted as a [peak](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#peak-flops) of FLOP/s, for float32 and for its *tensor
# cores* (fast 16-bit matrix products). The next cell prints each GPU's [compute capability](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#compute-capability),
# NVIDIA's version of a generation (7.5: T4; 8.0 and up: Ampere and newer).

# %%
gpus = tf.config.list_physical_devices("GPU")
for i, gpu in enumerate(gpus):
    details = tf.config.experimental.get_device_details(gpu)
    print(f"GPU {i}: {details.get('device_name')}, compute capability {details.get('compute_capability')}")
if gpus:
    # Total memory is what nvidia-smi reports; TensorFlow itself only knows what it has allocated.
    # Some machines (containers, other vendors' GPUs) have no nvidia-smi: say so instead of failing.
    if shutil.which("nvidia-smi"):
        try:
            smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30)
            print("nvidia-smi:", smi.stdout.strip() or smi.stderr.strip())
        except (OSError, subprocess.TimeoutExpired) as err:
            print("nvidia-smi did not answer:", err)
    else:
        print("nvidia-smi is not installed here: total GPU memory unknown (TensorFlow still sees the GPU).")

print(f"\n{'GPU':<10} {'float32':>10} {'fp16 tensor':>12} {'bf16 tensor':>12}   (TFLOP/s)")
for name, peak in course.perf.PEAK_FLOPS.items():
    tf16 = "-" if peak.fp16 is None else f"{peak.fp16 / 1e12:.0f}"
    tb16 = "-" if peak.bf16 is None else f"{peak.bf16 / 1e12:.0f}"
    print(f"{name:<10} {peak.fp32 / 1e12:>10.1f} {tf16:>12} {tb16:>12}")
DEVICE = course.perf.gpu_name()
print("\nThis runtime:", DEVICE or "no GPU (CPU only)", "->", course.perf.match_gpu(DEVICE) or "not in the table")

# %% [markdown]
# **No GPU?** Choose *Runtime > Change runtime type > T4 GPU* and run the notebook again from the
# top. Without one, the lesson runs the smoke profile (lesson 00): the same code on tiny images.

# %% [markdown]
# ## 2. What one training step costs
#
# We train the CycleGAN of lesson 03 ([Zhu et al. 2017](https://arxiv.org/abs/1703.10593)): two ResNet [generators](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generator) and two 70x70
# [PatchGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#patchgan) discriminators, at this profile's size.

# %%
# generator_g: X -> Y, generator_f: Y -> X (ResNet); discriminator_x, discriminator_y: PatchGANs (instance norm)
nets = models.cyclegan_networks(cfg.image_size, filters=cfg.filters, n_blocks=N_BLOCKS)
for name, net in nets.items():
    print(f"{name:<16} {net.count_params():>10,} parameters   output {net.output_shape}")

# %% [markdown]
# A $k \times k$ convolution from $C_{in}$ to $C_{out}$ channels on an $H \times W$ map does
# $H W k^2 C_{in} C_{out}$ [multiply-accumulates](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#mac) (2 FLOPs each). A step runs each network forward
# **3 times** (`cyclegan.POOL_PASSES`), and the backward pass costs about twice the forward:
#
# $$\text{FLOPs per step} \approx 2 \cdot 3 \cdot B \sum_{\text{nets}} \text{passes} \cdot \text{MACs}.$$

# %%
macs = course.perf.network_macs(nets)                                      # per image, forward
STEP_FLOPS = course.perf.step_flops(macs, course.cyclegan.POOL_PASSES, cfg.batch_size)   # 3 passes per network
for name, m in macs.items():
    print(f"{name:<16} {m / 1e9:8.3f} GMAC per image, {course.cyclegan.POOL_PASSES[name]} passes per step")
print(f"one training step: {STEP_FLOPS / 1e9:.2f} GFLOP at {cfg.image_size}x{cfg.image_size}, batch {cfg.batch_size}")

if cfg.image_size != 256:   # the paper's networks at 256 for reference (the paper profile trains exactly these)
    g256, d256 = (course.perf.count_macs(models.resnet_generator(256)),
                  course.perf.count_macs(models.patchgan_discriminator(256, target_channels=None, norm="instance")))
    PAPER_FLOPS = course.perf.step_flops({"generator_g": g256, "generator_f": g256, "discriminator_x": d256,
                                   "discriminator_y": d256}, course.cyclegan.POOL_PASSES, 1)
else:
    PAPER_FLOPS = STEP_FLOPS
t4 = course.perf.PEAK_FLOPS["T4"]
print(f"the paper's CycleGAN at 256: {PAPER_FLOPS / 1e12:.2f} TFLOP per step -> at best "
      f"{1e3 * PAPER_FLOPS / t4.fp32:.0f} ms on a T4 in float32, {1e3 * PAPER_FLOPS / t4.fp16:.0f} ms on its fp16 tensor cores")

# %% [markdown]
# That "at best" is a floor no real step reaches, so we **measure** steps in sections 4 and 6.

# %% [markdown]
# ## 3. An input pipeline that keeps the GPU busy
#
# Reading, decoding and augmenting images happens on the CPU; `tf.data` runs it **in parallel
# with** the GPU. Each stage has one job:
#
# | stage | what it does | why |
# |---|---|---|
# | `map(decode, num_parallel_calls=AUTOTUNE)` | JPEG -> `uint8` image | the slow part, on several cores |
# | `cache()` | keeps decoded images in RAM | later epochs skip reading and decoding |
# | `shuffle(n)` | a new order every epoch | no repeated sequence of updates |
# | `map(jitter)` | resize, random crop, mirror | fresh every epoch, so **after** the cache |
# | `batch(B, drop_remainder=True)` | static batch shape | the step is traced once |
# | `prefetch(AUTOTUNE)` | prepares batches while the model trains | hides the CPU time |
#
# `AUTOTUNE` lets `tf.data` choose threads and buffers.

# %%
def decode(path):
    return tf.io.decode_jpeg(tf.io.read_file(path), channels=3)       # (h, w, 3) uint8


def jitter(image, size):
    x = data.normalize(image)                                         # [-1, 1] float32
    return data.random_jitter(x, image_size=size)                     # (size, size, 3): resize, crop, mirror


def fast_pipeline(files, batch_size, size=cfg.image_size):
    return (tf.data.Dataset.from_tensor_slices(files)                              # () string: a path
            .map(decode, num_parallel_calls=AUTOTUNE)                              # (h, w, 3) uint8
            .cache()                                                               # (h, w, 3) uint8, kept in RAM
            .shuffle(len(files), seed=cfg.seed, reshuffle_each_iteration=True)     # (h, w, 3) uint8, new order
            .map(lambda image: jitter(image, size), num_parallel_calls=AUTOTUNE)   # (size, size, 3) float32
            .batch(batch_size, drop_remainder=True)                                # (batch, size, size, 3)
            .prefetch(AUTOTUNE))                                                   # (batch, size, size, 3)


def slow_pipeline(files, batch_size, size=cfg.image_size):   # the same work: sequential, no cache, no prefetch
    return (tf.data.Dataset.from_tensor_slices(files).map(decode).map(lambda image: jitter(image, size))
            .batch(batch_size, drop_remainder=True))                               # (batch, size, size, 3)


shipped = data.shipped_unpaired_path()           # the shipped unpaired set: trainA/ trainB/ testA/ testB/
files_a = sorted(str(p) for p in (shipped / "trainA").glob("*.jpg"))
batch = next(iter(fast_pipeline(files_a, 4).take(1)))    # (4, S, S, 3) float32 in [-1, 1]
print(len(files_a), "files ->", batch.shape, batch.dtype, f"values in [{batch.numpy().min():.2f}, {batch.numpy().max():.2f}]")

# %% [markdown]
# How much does it buy? **Images per second, epoch by epoch** (`data.epoch_rates`), on 64 shipped
# images saved as 256x256 JPEGs. The parallel pipeline's first epoch fills the cache.

# %%
big_dir = Path(tempfile.mkdtemp(prefix="jpeg256-"))
for i, f in enumerate(files_a[:64]):
    Image.open(f).resize((256, 256), Image.BICUBIC).save(big_dir / f"{i:03d}.jpg", quality=90)
files_256 = sorted(str(p) for p in big_dir.glob("*.jpg"))
fast = data.epoch_rates(fast_pipeline(files_256, 1, size=256), epochs=3)      # images/s of each epoch
speeds = {"sequential decode + jitter": data.epoch_rates(slow_pipeline(files_256, 1, size=256))[0],
          "parallel, 1st epoch (decode, fill cache)": fast[0],
          "parallel, later epochs (from the cache)": float(np.mean(fast[1:]))}
shutil.rmtree(big_dir)                             # the temporary JPEGs are no longer needed
for k, v in speeds.items():
    print(f"{k:<42} {v:7.0f} images/s")
need = 1.0 / (PAPER_FLOPS / t4.fp16)
print(f"a 256x256 CycleGAN step at the T4's fp16 floor would consume at most {need:.0f} images/s")

# %% [markdown]
# Parallel decoding gains with free CPU cores. Even a step at the T4's peak consumes fewer images
# per second than the pipeline delivers, so with prefetching the GPU does not wait. (The
# [going-further notebook](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/04_training_on_colab_further.ipynb) measures the course's loader without a cache.)

# %% [markdown]
# The course's loaders are this pipeline with file checks in front, for your own folders
# (`data.load_paired_folder`: `train/` files holding A | B side by side; `data.load_unpaired_folder`:
# `trainA/ trainB/ testA/ testB/`), TFDS (`data.load_cycle_gan_tfds("horse2zebra")`) and the pix2pix
# archives (`archives.download_pix2pix_dataset`). The training stream zips the two domains into
# `(x, y)` pairs in an order fixed by the seed, which a resumed run needs.

# %%
def load_train(batch_size, cache=True, size=cfg.image_size):
    a, b = data.load_unpaired(cfg.dataset, "train", image_size=size, batch_size=batch_size,
                              seed=cfg.seed, cache=cache)
    return tf.data.Dataset.zip(a.repeat(), b)      # (x, y), each (batch_size, S, S, 3) float32 in [-1, 1]


train_ds = load_train(cfg.batch_size)
x_batch, y_batch = next(iter(load_train(cfg.batch_size, cache=False)))      # a look, without filling a cache
print("training batches: x", x_batch.shape, "y", y_batch.shape, x_batch.dtype)   # (B, S, S, 3) each

# %% [markdown]
# Does the course's loader compute what our pipeline computes? With the random parts off (shuffle
# and jitter), we compare the **values** of the first batch, the same files in the same order.

# %%
course_a, _ = data.load_unpaired_folder(shipped, "train", image_size=cfg.image_size, jitter=False,
                                        shuffle=False, cache=False, batch_size=4)
by_hand = (tf.data.Dataset.from_tensor_slices(files_a)                             # () string
           .map(decode)                                                            # (h, w, 3) uint8
           .map(lambda image: data.resize(data.normalize(image), cfg.image_size))  # (S, S, 3) in [-1, 1]
           .batch(4))                                                              # (4, S, S, 3)
theirs, ours = next(iter(course_a)).numpy(), next(iter(by_hand)).numpy()
assert theirs.shape == ours.shape and theirs.dtype == ours.dtype, (theirs.shape, ours.shape)
np.testing.assert_allclose(theirs, ours, atol=1e-6)
assert x_batch.shape == (cfg.batch_size, cfg.image_size, cfg.image_size, 3) and x_batch.dtype == tf.float32
print(f"✅ first batch {theirs.shape}: largest difference {np.abs(theirs - ours).max():.1e} "
      "between data.load_unpaired_folder and the pipeline written above")

# %% [markdown]
# **Your own images**: pack the folder as one `.zip` (on Drive, say); the loaders take the archive
# itself. A zip of the shipped pairs stands in for yours; on a GPU we also fetch facades (30 MB).

# %%
own_zip = Path(shutil.make_archive(str(Path(tempfile.mkdtemp()) / "my_pairs"), "zip",
                                   root_dir=data.shipped_paired_path()))   # yours: e.g. /content/drive/MyDrive/my_pairs.zip
own = data.load_paired_folder(own_zip, "train", image_size=cfg.image_size, direction="AtoB", batch_size=4)
print(own_zip.name, "->", [tuple(t.shape) for t in next(iter(own))])      # [(4, S, S, 3), (4, S, S, 3)]
if not cfg.is_smoke:
    facades = course.archives.download_pix2pix_dataset("facades", course.config.download_cache())   # Colab: /content/datasets
    pairs = data.load_paired_folder(facades, "train", image_size=256, direction="BtoA")
    print("facades:", [t.shape for t in next(iter(pairs))])      # [(1, 256, 256, 3), (1, 256, 256, 3)]
else:
    print("Smoke profile: the horse2zebra and facades downloads are skipped; the shipped day2dusk set stands in.")

# %% [markdown]
# What one training step receives: an image of each domain, and four jitters of domain A.

# %%
course.plotting.show_images(np.concatenate([x_batch[:1], y_batch[:1], batch[:4]]),
                     ["x (domain A)", "y (domain B)"] + [f"jittered A #{i}" for i in range(4)],
                     suptitle="What the training step receives");

# %% [markdown]
# ## 4. Speed: XLA and mixed precision
#
# **[XLA](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#xla)** (`jit_compile=True`) compiles the whole step and fuses the many small element-wise
# operations (instance norm, activations, padding) into a few kernels. The price: tens of seconds
# of compilation on the first call, and again for every new input shape (hence static batches).

# %% [markdown]
# **[Mixed precision](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#mixed-precision)** computes in 16-bit floats and keeps the weights in float32
# ([Micikevicius et al. 2018](https://arxiv.org/abs/1710.03740)): half the memory traffic, and matrix products on the tensor cores.
#
# - **[float16](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#float16-and-loss-scaling)** (5 exponent bits, the T4's): gradients below about $6\times10^{-8}$ *underflow* to
#   zero. **Loss scaling** multiplies the loss by a large $S$ and divides the gradients by $S$;
#   our trainers add `keras.optimizers.LossScaleOptimizer` themselves.
# - **[bfloat16](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#bfloat16)** (8 exponent bits, float32's range): no scaling needed; compute capability 8.0 and up.
#
# Losses and normalisation statistics stay in float32. The next cell picks the format.

# %%
def mixed_policy():
    """mixed_float16 on GPUs before Ampere (T4, V100), mixed_bfloat16 on Ampere and newer and on CPUs."""
    if gpus:
        # compute capability (major, minor): (7, 5) on a T4, (8, 0) on an A100, (8, 9) on an L4
        cc = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
        return "mixed_bfloat16" if tuple(cc) >= (8, 0) else "mixed_float16"
    return "mixed_bfloat16"


MIXED = mixed_policy()
with train.precision(MIXED):                 # networks built inside compute in 16 bits
    demo = models.resnet_generator(cfg.image_size, n_blocks=N_BLOCKS, filters=cfg.filters)
stem = demo.get_layer("stem_conv")
print(f"{MIXED}: {stem.name} computes in {stem.compute_dtype}, keeps its weights in {stem.variable_dtype}; "
      f"the output layer returns {demo.output.dtype}")
print("the global policy is back to:", keras.mixed_precision.global_policy().name)

# %% [markdown]
# ### Your turn: the loss scale, step by step
#
# How does `LossScaleOptimizer` choose $S$? Too small, and small gradients still underflow; too
# large, and the scaled gradients overflow to inf. It adjusts $S$ after every step ("dynamic loss
# scaling"). Rather than read its rule, watch it: twenty steps of a gradient that is finite except
# at three steps, where we make it overflow (inf). To see $S$ grow quickly we set
# `dynamic_growth_steps` to 4; Keras's default is 2000, from $S = 2^{15}$.

# %%
GROWTH, OVERFLOW_STEPS = 4, {3, 4, 12}
ls_weight = keras.Variable([1.0])                                   # one weight, shape (1,)
scaler = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=2.0**15,
                                             dynamic_growth_steps=GROWTH)
scaler.build([ls_weight])                                           # creates S and the count
keras_scales = []                                                   # S after each step
print(f"{'step':>4} {'gradient':>9} {'S before':>9} {'S after':>9} {'count after':>12} {'weight changed':>15}")
for t in range(20):
    weight_before, scale_before = float(ls_weight.numpy()[0]), float(scaler.dynamic_scale.numpy())
    grad = tf.constant([np.inf if t in OVERFLOW_STEPS else 1.0])    # (1,): inf = an overflow
    scaler.apply_gradients([(grad, ls_weight)])
    keras_scales.append(float(scaler.dynamic_scale.numpy()))
    print(f"{t:>4} {'inf' if t in OVERFLOW_STEPS else 'finite':>9} {scale_before:>9g} {keras_scales[-1]:>9g} "
          f"{int(scaler.step_counter.numpy()):>12} {str(float(ls_weight.numpy()[0]) != weight_before):>15}")

# %% [markdown]
# Read the table row by row: what happens to $S$, to the count and to the weight at an overflow? At
# a finite step? At the finite step where $S$ changes, what was the count before it? Then write the
# rule as a function of plain Python numbers, `(scale, good_steps, finite) -> (new_scale,
# new_good_steps, apply_update)`, for any `growth_steps` (4 in the table), in place of the
# `raise NotImplementedError` line. The check runs it on a list of cases that covers every branch
# and compares it with the course's reference; a wrong answer gets a hint.

# %%
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    """One step of dynamic loss scaling -> (new_scale, new_good_steps, apply_update)."""
    # BEGIN SOLUTION: return the new scale, the new count and whether to apply this step's update
    if not finite:
        return scale / 2, 0, False
    if good_steps + 1 == growth_steps:
        return scale * 2, 0, True
    return scale, good_steps + 1, True
    # END SOLUTION


update_loss_scale = course.exercises.check("04.update_loss_scale", update_loss_scale)

# %% [markdown]
# The rule, in words: an inf or NaN gradient **skips** the step, **halves** $S$ and restarts the
# count; a finite step is applied and counted, and the one that completes `growth_steps` in a row
# **doubles** $S$ and resets the count. Your function over the same twenty steps, beside Keras's:

# %%
ls_scale, ls_good, ours = 2.0**15, 0, []
for t in range(20):
    ls_scale, ls_good, _ = update_loss_scale(ls_scale, ls_good, t not in OVERFLOW_STEPS, GROWTH)
    ours.append(ls_scale)
fig, ax = plt.subplots(figsize=(7, 2.6))
ax.step(range(20), keras_scales, where="post", lw=4, alpha=0.4, label="keras LossScaleOptimizer")
ax.step(range(20), ours, where="post", color="k", label="update_loss_scale")
for t in OVERFLOW_STEPS:
    ax.axvline(t, color="tab:red", ls=":", lw=1)
ax.set(yscale="log", xlabel="step (red: gradients overflowed)", ylabel="loss scale S")
ax.legend(fontsize=8)
plt.show()
assert ours == keras_scales, (ours, keras_scales)
print("✅ the same loss scale as Keras at every step")

# %% [markdown]
# Now three versions of the CycleGAN step, timed together: float32, mixed precision, float32 with
# XLA. `bench_trainer` builds `train.CycleGAN` (the paper's losses and weights) under a precision
# policy. On a CPU the numbers mean little: no tensor cores, and fixed costs dominate tiny models.

# %%
BENCH_LABEL = f"CycleGAN {cfg.image_size}x{cfg.image_size}"


def bench_trainer(policy="float32", jit_compile=False, learning_rate=2e-4, c=cfg):
    with train.precision(policy):                                    # networks compute in `policy`
        networks = models.cyclegan_networks(c.image_size, filters=c.filters, n_blocks=c.n_blocks,
                                            upsample=c.upsample)    # "transpose", the paper's (lesson 03)
    trainer = train.CycleGAN(**networks, seed=c.seed)
    trainer.compile(learning_rate=learning_rate, jit_compile=jit_compile)
    return trainer, networks


bench_batch, bench_size = next(iter(train_ds)), cfg.batch_size     # one fixed (x, y) batch for every version

# %% [markdown]
# Each step is wrapped in `tf.function` (XLA when asked). Without a GPU, outside the smoke profile,
# only float32 is timed: emulated 16-bit steps and XLA compiles at 128-256 px take minutes.

# %%
variants = {"float32": ("float32", False), f"mixed {MIXED[6:]}": (MIXED, False), "XLA": ("float32", True)}
TIMED = list(variants) if gpus or cfg.is_smoke else ["float32"]   # learner or paper on a CPU: float32 only
trainers, steps = {}, {}
for name, (policy, xla) in variants.items():
    trainers[name], bench_nets = bench_trainer(policy, xla)
    if name in TIMED:
        steps[name] = tf.function(trainers[name].train_step, jit_compile=xla)
if len(TIMED) < len(variants):
    print(f"No GPU: timing {', '.join(TIMED)} only; the other trainers are built, not timed.")
opt = next(iter(trainers[f"mixed {MIXED[6:]}"].optimizers.values()))
print(f"under {MIXED} the trainer uses {type(opt).__name__}",
      "(loss scaling on)" if isinstance(opt, keras.optimizers.LossScaleOptimizer) else "(no loss scaling needed)")

# %% [markdown]
# `perf.time_interleaved` calls each step once (tracing, XLA's compiling: the "first call"), then
# alternates the versions step by step. On a GPU, a float32 step on the CPU is added.

# %%
BENCH_FLOPS = course.perf.step_flops(course.perf.network_macs(bench_nets), course.cyclegan.POOL_PASSES, bench_size)
timings = course.perf.time_interleaved(steps, bench_batch, n_steps=cfg.bench_steps, warmup=1,
                                repeats=2 if cfg.is_smoke else 3)
if gpus and not cfg.is_smoke:
    with tf.device("/CPU:0"):
        trainers["CPU"], _ = bench_trainer()
        cpu_step = {"CPU": tf.function(trainers["CPU"].train_step)}
        timings.update(course.perf.time_interleaved(cpu_step, bench_batch, n_steps=2, warmup=0, repeats=1))
rows = []
print(f"{BENCH_LABEL}, batch {bench_size}, {BENCH_FLOPS / 1e9:.4g} GFLOP per step, on {DEVICE or 'the CPU'}")
for name, t in timings.items():
    policy = MIXED if name.startswith("mixed") else "float32"
    peak = None if name == "CPU" else course.perf.peak_flops(policy, DEVICE, detect=False)
    achieved = BENCH_FLOPS / t.median
    rows.append((name, t.median))
    frac = f"{100 * achieved / peak:5.1f} % of peak" if peak else "(no GPU peak to compare)"
    rate = f"{achieved / 1e12:7.2f} TFLOP/s" if achieved > 1e11 else f"{achieved / 1e9:7.2f} GFLOP/s"
    print(f"  {name:<15} {1e3 * t.median:9.1f} ms/step  {rate}  {frac}"
          f"   first call {t.first_call_seconds:.1f} s")

# %% [markdown]
# The same times as bars, each labelled with its speed-up over float32:

# %%
course.plotting.plot_step_times(dict(rows), f"{BENCH_LABEL} training step on {DEVICE or 'a CPU'}: speed-up over float32");

# %% [markdown]
# At batch size 1 a GPU is rarely full: the fraction of peak stays far below 100 %.
#
# **The payoff run's settings** (section 7): the version that *finishes* soonest (first call plus
# steps times median step), among those the profile's `precision` allows: a mixed one lets the
# choice go to 16 bits, float32 (the paper profile) keeps float32. Set `PAYOFF_PROFILE` here.

# %%
PAYOFF_PROFILE = None   # None: this lesson's profile; or "paper": 256 px in float32, about 2 h on a T4, checkpointed to Drive, rerun to resume
PAYOFF = cfg if PAYOFF_PROFILE is None else course.config.with_course_steps(course.config.ColabTrainingConfig.of(PAYOFF_PROFILE))

finish = {name: timings[name].first_call_seconds + PAYOFF.payoff_steps * timings[name].median for name in TIMED}
allowed = {name: s for name, s in finish.items() if PAYOFF.precision != "float32" or variants[name][0] == "float32"}
PAYOFF_VARIANT = min(allowed, key=allowed.get)
PAYOFF_POLICY, PAYOFF_XLA = variants[PAYOFF_VARIANT]     # e.g. ("mixed_float16", False) on a T4
for name, seconds in finish.items():
    print(f"{name:<15} {PAYOFF.payoff_steps} steps would take about {course.perf.format_duration(seconds)} at "
          f"{cfg.image_size} px" + ("" if name in allowed else f" (not allowed: the profile trains in {PAYOFF.precision})"))
print(f"-> the payoff run ({PAYOFF.profile} profile, {PAYOFF.image_size} px, estimate assumed {PAYOFF.precision}) "
      f"uses: {PAYOFF_VARIANT} (policy {PAYOFF_POLICY}, XLA {'on' if PAYOFF_XLA else 'off'})")
del trainers, steps, timings, demo

# %% [markdown]
# ## 5. The paper's learning-rate schedule, and shortening it honestly
#
# Zhu et al. (2017) train with [Adam](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam) at $\eta_0 = 2\times10^{-4}$ for 100 epochs, then decay linearly to
# zero over 100 more: $T_c$ constant steps, $T_d$ decay steps. `train.LinearDecay` on two examples:

# %%
shown_steps = np.arange(0, 13)                                     # (13,) steps 0..12
fig, ax = plt.subplots(figsize=(7, 2.6))
for lr0, c, d in [(2e-4, 4, 6), (1e-4, 2, 4)]:
    rates = np.asarray(train.LinearDecay(lr0, c, d)(shown_steps.astype("float32")))
    ax.plot(shown_steps, rates, marker="o", label=f"lr0={lr0:g}, constant_steps={c}, decay_steps={d}")
    print(f"lr0={lr0:g}, constant_steps={c}, decay_steps={d}:", " ".join(f"{r:.2e}" for r in rates))
ax.set(xlabel="step t", ylabel="learning rate")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### Your turn: the schedule
# From the picture and the numbers: where does the rate start to fall, how much does it lose per
# step, and where does it stop? Write `linear_decay` below with NumPy (it must work on an array of
# steps), in place of the `raise NotImplementedError` line. The check compares it with
# `train.LinearDecay` on random arrays of steps and random schedules; its hint tells you which steps
# to work out by hand.

# %%
def linear_decay(step, lr0, constant_steps, decay_steps):
    """Steps (n,) -> learning rates (n,), the schedule drawn above."""
    # BEGIN SOLUTION: return the learning rate of every step of the array, as drawn above
    step = np.asarray(step, dtype=np.float64)
    return lr0 * np.clip(1.0 - (step - constant_steps) / decay_steps, 0.0, 1.0)
    # END SOLUTION


linear_decay = course.exercises.check("04.linear_decay", linear_decay)

# %% [markdown]
# In a formula:
#
# $$\eta(t) = \eta_0 \cdot \operatorname{clip}\!\left(1 - \frac{t - T_c}{T_d},\ 0,\ 1\right).$$

# %% [markdown]
# The paper's horse2zebra run, $200 \times 1334$ steps, outlasts a Colab session. To **shorten it
# honestly**, scale both phases by the same factor (same peak rate, 1:1 split, ending at zero) and
# report "N steps with the paper's schedule shape". Don't just stop a constant-rate run early.

# %%
epoch_steps = 1334                 # horse2zebra: one pass over the larger domain (zebras) at batch 1
CONSTANT_STEPS = cfg.steps // 2
SCHEDULE = train.LinearDecay(2e-4, CONSTANT_STEPS, cfg.steps - CONSTANT_STEPS)
paper = train.cyclegan_schedule(epoch_steps)

fig, axes = plt.subplots(1, 2, figsize=(10, 3))
t = np.arange(0, 200 * epoch_steps + 1, epoch_steps)
axes[0].plot(t / epoch_steps, np.asarray(paper(t)))
axes[0].set(title="the paper: 100 + 100 epochs", xlabel="epoch", ylabel="learning rate")
t = np.arange(cfg.steps + 1)
axes[1].plot(t, np.asarray(SCHEDULE(t)), marker="." if cfg.steps < 50 else None, color="C1")
axes[1].set(title=f"this lesson: {CONSTANT_STEPS} + {cfg.steps - CONSTANT_STEPS} steps", xlabel="step")
for ax in axes:
    ax.grid(alpha=0.3)
fig.tight_layout()
assert float(SCHEDULE(cfg.steps)) == 0.0 and np.isclose(float(SCHEDULE(CONSTANT_STEPS)), 2e-4)
print(f"the paper: {200 * epoch_steps:,} steps, at least {200 * epoch_steps * PAPER_FLOPS / t4.fp32 / 3600:.0f} h "
      f"on a T4 in float32; this lesson: {cfg.steps} steps = {100 * cfg.steps / (200 * epoch_steps):.2g} % of them")

# %% [markdown]
# ## 6. Surviving disconnects: checkpoints and resuming
#
# Colab ends sessions after some hours, and everything on the machine is gone. Training survives
# through **checkpoints** on Google Drive. To resume *exactly*, a checkpoint holds all four networks'
# weights, each optimizer's state (Adam's moments and step counter, which is the schedule's
# position), the global step, the image pools and the random state.

# %%
if course.config.in_colab():
    from google.colab import drive
    drive.mount("/content/drive")
    RUNS = Path(cfg.out_dir)
else:
    RUNS = (course.config.REPO_ROOT or Path.cwd()) / "build" / "runs"
    print("Not on Colab: checkpoints go to the local folder", RUNS)
RUN_DIR = RUNS / f"04_{cfg.model}_{cfg.dataset}_{cfg.image_size}_{cfg.profile}"
if cfg.starts_fresh and RUN_DIR.exists():
    shutil.rmtree(RUN_DIR)          # smoke and cut runs: start fresh; learner and paper: resume whatever is there
print("run folder:", RUN_DIR)

# %% [markdown]
# `runs.run_training` is one resumable call: it restores the latest checkpoint, skips the batches
# already seen, trains with `fit` up to a target step and exports the generators. Its callbacks
# stop at the first NaN, log the losses, save sample grids, write TensorBoard events and
# checkpoints. We add `runs.StepTimer` and `course.costs.Pace` (on a GPU: the pace after 100 steps).

# %%
SAMPLE_EVERY = 3 if cfg.is_smoke else 100
RUN_POLICY = cfg.precision if gpus else "float32"        # the learner's mixed_float16 on a GPU; a CPU has no fp16 units
sample_x, sample_y = data.unpaired_test_images(cfg.dataset, 2 if cfg.is_smoke else 4, cfg.image_size)  # (n, S, S, 3)


def run_settings(c, policy, **more):
    """What decides a step of this lesson's runs. Stored with the run: resuming with others is refused, naming them."""
    return {"model": c.model, "dataset": c.dataset, "image_size": c.image_size, "filters": c.filters,
            "n_blocks": c.n_blocks, "upsample": c.upsample, "seed": c.seed, "precision": policy, **more}


def run(trainer, until_step, timer=None, export=True):
    pace = course.costs.Pace(max(until_step - runs.restore(trainer, RUN_DIR), 1), name="checkpointed run")
    return runs.run_training(trainer, train_ds, until_step, RUN_DIR, checkpoint_every=cfg.checkpoint_every,
                              sample_inputs=(sample_x, sample_y), sample_every=SAMPLE_EVERY,
                              callbacks=([timer] if timer else []) + [pace.callback()], verbose=VERBOSE, export=export,
                              settings=run_settings(cfg, RUN_POLICY, steps=cfg.steps))   # steps: the schedule's length


# %% [markdown]
# We train the first half of the run, then pretend the session dies.

# %%
trainer, _ = bench_trainer(RUN_POLICY, learning_rate=SCHEDULE)
print("a checkpoint holds:", ", ".join(sorted(trainer.checkpoint_items())))
timer = runs.StepTimer()
first = run(trainer, cfg.steps // 2, timer, export=False)   # export only at the end
print(f"started at step {first['resumed_from']}, now at step {first['step']}")

# %% [markdown]
# The timer saw every step. Leaving out the first (it traces the graph) and those that also saved
# something, the median is what a step of this profile's model costs here:

# %%
step_s = timer.typical_seconds(busy_every=(cfg.checkpoint_every, SAMPLE_EVERY))   # None if too few steps
if step_s is not None:
    print(f"first step (tracing, graph optimisation) {timer.seconds[0]:.1f} s; then {1e3 * step_s:.0f} ms per step "
          f"on {DEVICE or 'the CPU'} in {RUN_POLICY} (median of the steps that saved nothing)")
    print(f"-> this lesson's {cfg.steps} steps: {course.perf.format_duration(cfg.steps * step_s)}; the paper's 200 epochs x "
          f"{epoch_steps} steps at this size: {course.perf.format_duration(200 * epoch_steps * step_s)}")
else:
    print("Too few new steps in this session to time (a resumed, nearly finished run).")

# %% [markdown]
# ### The disconnect
# We keep a copy of what the trainer holds, to compare with later, and drop the trainer. A new
# session starts from fresh networks with random weights.

# %%
before = runs.trainer_state(trainer)     # NumPy copies: the step, all weights, all optimizer variables
lr_before = float(SCHEDULE(trainer.optimizers["generator_g"].iterations))
del trainer                               # the session is gone

# %% [markdown]
# ### Resuming, on one GPU or many
# The new session may have several GPUs. `tf.distribute.MirroredStrategy` keeps a copy of every
# variable on each, splits each batch and sums the gradients (an *all-reduce*). Build the trainer
# inside `strategy.scope()`; with one device it has one replica, and the checkpoint restores into it.

# %%
strategy = tf.distribute.MirroredStrategy(course.distribute.default_devices())   # every GPU; else the first CPU
replicas = strategy.num_replicas_in_sync
print("replicas:", replicas, list(strategy.extended.worker_devices))
with strategy.scope():
    trainer, _ = bench_trainer(RUN_POLICY, learning_rate=SCHEDULE)   # random weights again
fresh = runs.trainer_state(trainer)
restored_step = runs.restore(trainer, RUN_DIR)
after = runs.trainer_state(trainer)
assert "weights" in runs.state_differences(fresh, after), "restore changed nothing"
assert runs.state_differences(before, after) == [], runs.state_differences(before, after)
assert restored_step == trainer.global_step and float(SCHEDULE(trainer.optimizers["generator_g"].iterations)) == lr_before
print(f"restored step {restored_step}: the weights, Adam's moments and the learning rate "
      f"({lr_before:.2e}) are exactly as before the disconnect")

# %% [markdown]
# Training continues to the end: in a new session this one call is all you run. With several GPUs
# the global batch is `cfg.batch_size * replicas`: the model state resumes exactly, the data
# position does not (the going-further notebook shows why).

# %%
if replicas > 1:   # a larger global batch: the data position after the resume differs
    train_ds = load_train(cfg.batch_size * replicas)
    print(f"{replicas} replicas: global batch {cfg.batch_size * replicas}")
second = run(trainer, cfg.steps)
assert second["resumed_from"] == restored_step and trainer.global_step == cfg.steps
print(f"resumed from step {second['resumed_from']}, finished at step {second['step']} on {replicas} replica(s); "
      f"learning rate now {float(SCHEDULE(trainer.optimizers['generator_g'].iterations)):.1e}")
print("checkpoints:", sorted(p.name for p in (RUN_DIR / "checkpoints").glob("*.index")))

# %% [markdown]
# ### Two replicas, seen up close
# Here a strategy gets two devices: two GPUs, or the two logical CPUs. Each step splits the
# **global batch** of $B$ images into $R$ per-replica batches of $B / R$; the replicas' gradients are
# summed and every replica applies the same update. Each replica's loss is divided by $R$, so the
# sum is the gradient of the mean loss.

# %%
tf.get_logger().setLevel("ERROR")   # TensorFlow logs a line for every all-reduce it sets up: keep them quiet
# With two GPUs `strategy` already has two replicas: reuse it (one strategy per set of devices).
two = strategy if replicas >= cfg.replicas else tf.distribute.MirroredStrategy(course.distribute.replica_devices(cfg.replicas))
R = two.num_replicas_in_sync
GLOBAL_BATCH = cfg.batch_size * R
split_ds = two.experimental_distribute_dataset(load_train(GLOBAL_BATCH, cache=False))
x_parts, y_parts = next(iter(split_ds))                      # one (B/R, S, S, 3) part per replica
shapes = two.run(lambda x, y: tf.shape(x), args=(x_parts, y_parts))
for device, shape in zip(two.extended.worker_devices, two.experimental_local_results(shapes)):
    print(f"{device}: x of shape {shape.numpy().tolist()}")   # [B/R, S, S, 3] each

# %% [markdown]
# Training on the two replicas is the same code inside `two.scope()`: small networks at 32x32 for
# three steps (on CPUs a demonstration, not a speed-up). Then we check that the two copies of a
# kernel hold exactly the same numbers.

# %%
with two.scope():
    demo = train.CycleGAN(**models.cyclegan_networks(32, filters=8, n_blocks=1), seed=cfg.seed)
    demo.compile(learning_rate=2e-4)
day, dusk = data.load_unpaired("shipped", "train", image_size=32, batch_size=GLOBAL_BATCH, seed=cfg.seed)
demo.fit(tf.data.Dataset.zip(day.repeat(), dusk), epochs=1, steps_per_epoch=3, verbose=VERBOSE)
kernel = demo.generator_g.get_layer("stem_conv").kernel.value       # the tf.distribute variable inside Keras's
copies = two.experimental_local_results(kernel)                     # its copies: one per replica
assert len(copies) == R and all(np.array_equal(copies[0].numpy(), c.numpy()) for c in copies[1:])
print(f"after {demo.global_step} steps on {R} replicas, the {len(copies)} copies of G's first kernel are identical")
del demo

# %% [markdown]
# ## 7. The payoff: one real run with everything measured
#
# Section 4's step version, the shortened schedule, checkpoints to Drive, samples, every GPU.
# `PAYOFF` (section 4) sets size and length. After a disconnect, run the notebook again: it
# continues from its last checkpoint with the step version it started with. The smoke run starts
# at 1e-3, not the paper's 2e-4: a run this short would keep the transposed convolutions'
# checkerboard (lesson 03).

# %%
PAYOFF_DIR = RUNS / f"04_payoff_{PAYOFF.dataset}_{PAYOFF.image_size}px_{PAYOFF.payoff_steps}steps_{PAYOFF.profile}"
if PAYOFF.starts_fresh and PAYOFF_DIR.exists():
    shutil.rmtree(PAYOFF_DIR)              # smoke and cut runs: fresh; learner and paper: resume whatever is there
settings = runs.remember_choices(PAYOFF_DIR, {"variant": PAYOFF_VARIANT, "policy": PAYOFF_POLICY, "xla": PAYOFF_XLA})
PAYOFF_SCHEDULE = train.LinearDecay(PAYOFF.payoff_learning_rate, PAYOFF.payoff_steps // 2,
                                     PAYOFF.payoff_steps - PAYOFF.payoff_steps // 2)
with strategy.scope():
    payoff, _ = bench_trainer(settings["policy"], settings["xla"], learning_rate=PAYOFF_SCHEDULE, c=PAYOFF)
same_data = PAYOFF.image_size == cfg.image_size
payoff_ds = train_ds if same_data else load_train(PAYOFF.batch_size * replicas, size=PAYOFF.image_size)
payoff_x, payoff_y = (sample_x, sample_y) if same_data else data.unpaired_test_images(cfg.dataset, 4, PAYOFF.image_size)
print(f"{PAYOFF_DIR.name}: {PAYOFF.profile} profile, {PAYOFF.image_size} px, {settings['variant']}, "
      f"{PAYOFF.payoff_steps:,} steps ({PAYOFF.payoff_steps / epoch_steps:.2g} horse2zebra epochs) from learning rate "
      f"{PAYOFF.payoff_learning_rate:g}, global batch {PAYOFF.batch_size * replicas}, on {replicas} replica(s)")

# %% [markdown]
# The run: one call, as long as the first cell's estimate says. On a GPU its pace prints after 100 steps.

# %%
payoff_timer = runs.StepTimer()
pace = course.costs.Pace(max(PAYOFF.payoff_steps - runs.restore(payoff, PAYOFF_DIR), 1), name="payoff run")
result = runs.run_training(payoff, payoff_ds, PAYOFF.payoff_steps, PAYOFF_DIR,
                            checkpoint_every=PAYOFF.payoff_checkpoint_every, sample_inputs=(payoff_x, payoff_y),
                            sample_every=PAYOFF.payoff_sample_every, callbacks=[payoff_timer, pace.callback()],
                            verbose=VERBOSE, settings=run_settings(PAYOFF, settings["policy"], xla=settings["xla"],
                                                                   steps=PAYOFF.payoff_steps,
                                                                   learning_rate=PAYOFF.payoff_learning_rate))
assert payoff.global_step == PAYOFF.payoff_steps
payoff_s = payoff_timer.typical_seconds(busy_every=(PAYOFF.payoff_checkpoint_every, PAYOFF.payoff_sample_every))
print(f"started at step {result['resumed_from']}, trained {result['steps_run']} steps in this session"
      + (f", {1e3 * payoff_s:.0f} ms per step ({course.perf.format_duration(sum(payoff_timer.seconds))} in all)"
         if payoff_s is not None else ""))

# %% [markdown]
# ## 8. Watching training
#
# **TensorBoard** reads the event files the run wrote: the losses as curves and the sample grids
# as images, by global step (a resumed run continues the same curves). In Colab it opens inside
# the notebook:

# %%
if course.config.in_colab():
    ip = get_ipython()  # noqa: F821  (defined inside notebooks)
    ip.run_line_magic("load_ext", "tensorboard")
    ip.run_line_magic("tensorboard", f"--logdir '{PAYOFF_DIR / 'tensorboard'}'")
else:
    print(f"Outside Colab, run in a terminal: tensorboard --logdir {PAYOFF_DIR / 'tensorboard'}")

# %% [markdown]
# The **loss curves** are also in `history.csv`. GAN losses do not fall steadily: each generator's
# loss is high when its discriminator is winning. Look for stability (no loss stuck at 0 or
# exploding) and the cycle term going down.

# %%
course.plotting.plot_loss_history(PAYOFF_DIR / "history.csv", keys=["g_loss", "f_loss", "dx_loss", "dy_loss", "cycle"],
                           smoothing=0.9, title="The payoff run's CycleGAN losses (from history.csv)");

# %% [markdown]
# The **samples**, every `payoff_sample_every` steps, per row $x \to G(x) \to F(G(x))$, then
# $y \to F(y) \to G(F(y))$, played as a film. Read them with the losses: a falling cycle loss with
# grey, blurry samples means an easy way back, not a good translation.

# %%
browser = course.widgets.sample_browser(PAYOFF_DIR / "samples")
browser

# %% [markdown]
# The last picture on its own:

# %%
last = course.plotting.sample_image_paths(PAYOFF_DIR / "samples")[-1]
plt.figure(figsize=(4, 4))
plt.imshow(plt.imread(last))
plt.axis("off")
plt.title(f"{last.name}: x | G(x) | F(G(x)), then y | F(y) | G(F(y))", fontsize=9);

# %% [markdown]
# ## 9. Evaluating
#
# - **Cycle error** $\frac{1}{N}\sum \lvert F(G(x)) - x \rvert$: necessary, not sufficient (the identity has none).
# - **Correspondence error**, [PSNR](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#psnr) and [SSIM](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#ssim) need the true target: the shipped day2dusk set has it.
# - **KID** and **FID** compare *distributions* of images: no pairs needed.
#
# The **baseline** to beat: "leave the image unchanged", $G(x) = x$.

# %%
test_x, test_y = data.unpaired_test_images(cfg.dataset, PAYOFF.eval_images, PAYOFF.image_size)  # (N, S, S, 3) each
g_x = course.inference.translate(payoff.generator_g, test_x)           # (N, S, S, 3): X -> Y
f_y = course.inference.translate(payoff.generator_f, test_y)           # (N, S, S, 3): Y -> X
f_g_x = course.inference.translate(payoff.generator_f, g_x)            # the round trips
g_f_y = course.inference.translate(payoff.generator_g, f_y)
print(f"{len(test_x)} + {len(test_y)} test images; cycle error  x -> G -> F: {metrics.mean_l1(test_x, f_g_x):.3f}"
      f"   y -> F -> G: {metrics.mean_l1(test_y, g_f_y):.3f}")

# %% [markdown]
# On the shipped set, the paired numbers against the true translation, with the baseline beside them
# (lower error, higher PSNR and SSIM are better):

# %%
if cfg.dataset == "shipped":
    true_g = lambda images: data.true_translation(images, "AtoB")   # day -> dusk, exact
    true_f = lambda images: data.true_translation(images, "BtoA")   # dusk -> day
    rows = {"G(x)": (g_x, test_x, true_g), "x unchanged": (test_x, test_x, true_g),
            "F(y)": (f_y, test_y, true_f), "y unchanged": (test_y, test_y, true_f)}
    scores = {name: {m: metrics.correspondence_error(out, truth, inputs=src, metric=m) for m in ("l1", "psnr", "ssim")}
              for name, (out, src, truth) in rows.items()}
    print(f"{'':<12} {'corr. error':>11} {'PSNR (dB)':>10} {'SSIM':>6}")
    for name, sc in scores.items():
        print(f"{name:<12} {sc['l1']:>11.3f} {sc['psnr']:>10.2f} {sc['ssim']:>6.3f}")
    for out, base in (("G(x)", "x unchanged"), ("F(y)", "y unchanged")):
        better = {m: scores[out][m] < scores[base][m] if m == "l1" else scores[out][m] > scores[base][m]
                  for m in ("l1", "psnr", "ssim")}
        print(f"{out} beats '{base}' on: {[m for m, b in better.items() if b] or 'nothing'}; "
              f"not on: {[m for m, b in better.items() if not b] or 'nothing'}; "
              f"{scores[out]['l1'] / scores[base]['l1']:.2f} x its error")
else:
    print("horse2zebra has no true pairs: its baseline comparison is KID and FID below.")

# %% [markdown]
# Error and PSNR measure colour; SSIM measures local *structure*. The unchanged image keeps every
# edge, so it starts with a fair SSIM, and a generator that blurs edges can fall below it.

# %% [markdown]
# **[KID](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#kid)** ([Bińkowski et al. 2018](https://arxiv.org/abs/1801.01401)) compares **features**: $d = 2048$ numbers per image from an
# ImageNet-trained InceptionV3. It is the squared maximum mean discrepancy between real features
# $x_i$ and generated $y_j$ with the kernel $k(a, b) = \left(\tfrac{a \cdot b}{d} + 1\right)^3$:
#
# $$\widehat{\text{KID}} = \frac{1}{m(m-1)} \sum_{i \ne j} k(x_i, x_j) + \frac{1}{n(n-1)} \sum_{i \ne j} k(y_i, y_j)
# - \frac{2}{mn} \sum_{i=1}^{m} \sum_{j=1}^{n} k(x_i, y_j).$$
#
# Leaving out the $i = j$ terms makes it **unbiased**: on average it is the true distance (0 for one
# distribution), so a small set gives a fair but noisy number. In NumPy, checked against the course:

# %%
def kid_by_hand(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3; x (m, d), y (n, d)."""
    m, n, d = len(x), len(y), x.shape[1]
    k_xx, k_yy, k_xy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))   # leave out the i = j terms
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return within_x + within_y - 2 * k_xy.mean()


rng = np.random.default_rng(cfg.seed)
real_f = rng.normal(size=(200, 32))                           # (m, d): 200 "images", 32 features each
same_f = rng.normal(size=(190, 32))                           # (n, d): the same distribution
shifted_f = rng.normal(0.5, 1.0, size=(190, 32))              # (n, d): every feature shifted by 0.5
for name, fake_f in (("same distribution", same_f), ("shifted", shifted_f)):
    ours_kid, course_kid = kid_by_hand(real_f, fake_f), metrics.kid_from_features(real_f, fake_f).value
    print(f"{name:<18} KID by hand {ours_kid:+.4f}, metrics.kid_from_features {course_kid:+.4f}")
    assert np.isclose(ours_kid, course_kid, rtol=1e-5, atol=1e-7), (ours_kid, course_kid)
assert kid_by_hand(real_f, shifted_f) > 10 * abs(kid_by_hand(real_f, same_f))
print("✅ the formula above is what the course computes: near 0 (either sign) for the same distribution, "
      "clearly positive for the shifted one")

# %% [markdown]
# **[FID](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#fid)** (Fréchet inception distance, [Heusel et al. 2017](https://arxiv.org/abs/1706.08500)) summarises each set of features by a
# Gaussian, its mean $\mu$ and covariance $\Sigma$, and measures the distance between the two:
#
# $$\text{FID} = \lVert \mu_r - \mu_g \rVert^2 + \operatorname{Tr}\!\left(\Sigma_r + \Sigma_g - 2\,(\Sigma_r^{1/2} \Sigma_g \Sigma_r^{1/2})^{1/2}\right).$$
#
# Papers report it because it came first: new results are compared with old ones in it. But its
# estimate is **biased**: covariances from few images are noisy, and noise only adds distance.
# `metrics.frechet_inception_distance` uses the same features as KID: InceptionV3's on a GPU
# (90 MB, once), else `metrics.stand_in_feature_extractor()`, an untrained network.

# %%
extract = metrics.stand_in_feature_extractor()
if not cfg.is_smoke:
    try:
        extract = metrics.inception_feature_extractor()      # downloads InceptionV3's weights on first use
    except RuntimeError as err:                              # no internet: the error says how to fix it
        print(err, "\n-> using the stand-in features")
FEATURES = "InceptionV3" if extract is not metrics.stand_in_feature_extractor() else "stand-in"
feats = {name: np.concatenate([extract(images[i:i + 25]) for i in range(0, len(images), 25)])   # (N, d) each
         for name, images in (("real Y", test_y), ("G(X)", g_x), ("X unchanged", test_x))}
for name in ("G(X)", "X unchanged"):
    kid = metrics.kid_from_features(feats["real Y"], feats[name], subsets=10, subset_size=len(g_x) // 2)
    fid = metrics.frechet_inception_distance(feats["real Y"], feats[name])
    print(f"real Y vs {name:<12} KID {kid.value:.4f} +/- {kid.std:.4f}   FID {fid:8.3f}   ({FEATURES} features, "
          f"{len(g_x)} images)")

# %% [markdown]
# A good translation has a lower KID and FID than the baseline. How much of an FID is bias? We draw
# two disjoint sets of $n$ = 10 to 80 images from **one** set of 200 real images (true distance:
# 0), several times per size.

# %%
_, pool_b = data.load_unpaired(cfg.dataset, "train", image_size=PAYOFF.image_size, jitter=False, shuffle=False,
                               batch_size=200, cache=False, drop_remainder=False)
pool = next(iter(pool_b)).numpy()                               # (200, S, S, 3): the first 200 images of B
pool_f = np.concatenate([extract(pool[i:i + 25]) for i in range(0, len(pool), 25)])   # (200, d)
SIZES, DRAWS = (10, 20, 40, 80), 6
bias = {"FID": {n: [] for n in SIZES}, "KID": {n: [] for n in SIZES}}
for n in SIZES:
    for _ in range(DRAWS):
        pick = rng.permutation(len(pool_f))
        a, b = pool_f[pick[:n]], pool_f[pick[n:2 * n]]          # (n, d) each: disjoint, one distribution
        bias["FID"][n].append(metrics.frechet_inception_distance(a, b))
        bias["KID"][n].append(metrics.kid_from_features(a, b).value)
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for ax, name in zip(axes, ("FID", "KID")):
    mean, std = [np.mean(bias[name][n]) for n in SIZES], [np.std(bias[name][n]) for n in SIZES]
    ax.errorbar(SIZES, mean, yerr=std, marker="o", capsize=3)
    ax.axhline(0, color="k", lw=0.8, ls=":")
    ax.set(xscale="log", xticks=SIZES, xticklabels=SIZES, xlabel="images per set (n)",
           title=f"{name}, same distribution ({FEATURES} features)")
    print(name, "  ".join(f"n={n}: {m:.3g} +/- {s:.2g}" for n, m, s in zip(SIZES, mean, std)))
plt.show()
fid_m = [np.mean(bias["FID"][n]) for n in SIZES]
kid_near_0 = sum(abs(np.mean(bias["KID"][n])) <= np.std(bias["KID"][n]) for n in SIZES)
print(f"Measured: FID {fid_m[0]:.3g} at n={SIZES[0]} and {fid_m[-1]:.3g} at n={SIZES[-1]} "
      f"({'falling' if fid_m[-1] < fid_m[0] else 'not falling'} with n; above 0 at every n: {min(fid_m) > 0}); "
      f"KID within one spread of 0 at {kid_near_0} of {len(SIZES)} sizes.")

# %% [markdown]
# Read the printed means against the truth, 0. Compare FIDs only at the same number of images
# (papers use 10,000 or more); on small test sets report KID with its spread.

# %% [markdown]
# And the pictures the numbers describe: test images, their translations and round trips.

# %%
course.plotting.plot_cycle_rows(test_x, g_x, f_g_x, max_rows=3);

# %% [markdown]
# ## 10. Using the result: export, reload, translate your own image
#
# `run_training` exported both generators as `.keras` files, all you need later. Reloaded, they
# must give the very same function:

# %%
export = {k: Path(v) for k, v in result["export"].items()}
print({k: f"{v.name} ({v.stat().st_size / 1e6:.1f} MB)" for k, v in export.items()})
g_loaded = keras.models.load_model(export["generator_g"])
np.testing.assert_allclose(course.inference.translate(g_loaded, test_x[:2]), g_x[:2], atol=1e-5)
print("the reloaded generator gives the same outputs")

# %% [markdown]
# To translate an image of your own: decode it, cut the central square, resize it to the training
# size, scale to $[-1, 1]$, run $G$.

# %%
def prepare(raw_bytes):
    image = tf.io.decode_image(raw_bytes, channels=3, expand_animations=False)   # (h, w, 3) uint8
    side = tf.minimum(tf.shape(image)[0], tf.shape(image)[1])
    image = tf.image.resize_with_crop_or_pad(image, side, side)                   # (side, side, 3): central square
    return data.normalize(data.resize(image, PAYOFF.image_size))[None]           # (1, S, S, 3) in [-1, 1]


# %% [markdown]
# In Colab, the button below asks for a file. Without one (or outside Colab) a shipped test image
# stands in.

# %%
fallback = sorted((shipped / "testA").glob("*.jpg"))[0]
name, raw = fallback.name, fallback.read_bytes()
if course.config.in_colab():
    from google.colab import files
    try:
        uploaded = files.upload()                       # {file name: bytes}; empty if nothing was chosen
    except Exception as err:                            # the upload widget was cancelled or failed
        print(f"The upload did not finish ({type(err).__name__}); using the shipped image {name}.")
        uploaded = {}
    if uploaded:
        name, raw = next(iter(uploaded.items()))
    else:
        print(f"No file uploaded: using the shipped test image {name}.")
else:
    print(f"Not on Colab: using the shipped test image {name}.")
try:
    mine = prepare(raw)
except tf.errors.InvalidArgumentError:
    print(f"{name} is not an image TensorFlow can decode (JPEG, PNG, GIF, BMP); using {fallback.name}.")
    name, mine = fallback.name, prepare(fallback.read_bytes())
course.plotting.show_images([mine[0], course.inference.translate(g_loaded, mine)[0]], [name, "G(image)"], size=3);

# %% [markdown]
# The same from a terminal, for a file or a folder; the next cell runs it here:
#
# ```
# python -m course_utils translate --model <run folder> --input my_photos/ --output zebras/
# ```

# %%

source = sorted((shipped / "testA").glob("*.jpg"))[0]
out_folder = PAYOFF_DIR / "translated"
status = course.cli.main(["translate", "--model", str(PAYOFF_DIR), "--input", str(source), "--output", str(out_folder)])
assert status == 0 and (out_folder / source.name).exists()
pair = [course.images.from_uint8(Image.open(f).convert("RGB")) for f in (source, out_folder / source.name)]   # pixels -> [-1, 1]
course.plotting.show_images(pair, [source.name, "translated by the CLI"], size=2.5);

# %% [markdown]
# The whole training run is also one command; rerun it after a disconnect and it resumes
# (`--precision` and `--xla` are section 4's switches):
#
# ```
# python -m course_utils train cyclegan --tfds horse2zebra --out /content/drive/MyDrive/gan-course/runs/h2z \
#        --steps 2000 --checkpoint-every 250 --precision mixed_float16
# ```

# %% [markdown]
# ## Check yourself
#
# Answer each question in your head (or on paper) first, then open the answer.
#
# **1.** Which 16-bit format does a T4 use, and why does it need loss scaling?
#
# <details><summary>Answer</summary>
#
# float16 (compute capability 7.5: no bfloat16 units). Its 5 exponent bits make gradients below about $6 \times 10^{-8}$ underflow to zero; scaling the loss by $S$ lifts them into range.
#
# </details>
#
# **2.** A float16 run starts with $S = 2^{15}$ and `growth_steps=2000`. The gradients overflow at step 100 only. What is $S$ after step 100, and at which step does it grow again?
#
# <details><summary>Answer</summary>
#
# $2^{14}$: step 100 is skipped and $S$ halves. Steps 101 to 2100 are the next 2000 finite steps, so step 2100 doubles $S$ back to $2^{15}$.
#
# </details>
#
# **3.** You can afford a tenth of the paper's steps. How do you shorten the schedule honestly?
#
# <details><summary>Answer</summary>
#
# Scale both phases by the same factor (same peak rate, 1:1 split, ending at zero), and report N steps with the paper's schedule shape.
#
# </details>
#
# **4.** What must a checkpoint hold to resume *exactly* where a disconnected session stopped?
#
# <details><summary>Answer</summary>
#
# The weights, the optimizer states (with their step counters, which the schedule reads), the global step, the image pools and the random state.
#
# </details>
#
# **5.** Your test set has 50 images and a paper reports FID on 10,000. Can you compare your FID with theirs?
#
# <details><summary>Answer</summary>
#
# No: FID is biased upwards, more for fewer images. Compare FIDs at the same number of images; on 50 images report KID with its spread.
#
# </details>

# %% [markdown]
# ## Summary
#
# - Measure: the step's cost, the pipeline's speed, what XLA and mixed precision buy on your GPU.
# - Shorten the paper's schedule by scaling both phases, and say so.
# - Checkpoint everything to Drive; resume with the same call, on one GPU or several.
# - Judge a run against a baseline; report KID with its spread, FID only at a fixed number of images.
#
# ## Further reading
#
# - Parmar et al. (2022), [arXiv:2104.11222](https://arxiv.org/abs/2104.11222): how resizing moves FID and KID.
# - TensorFlow's [mixed precision](https://www.tensorflow.org/guide/mixed_precision) and
#   [tf.data performance](https://www.tensorflow.org/guide/data_performance) guides.
