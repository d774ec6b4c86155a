# %% [markdown]
# # 04 Training for real on a Colab GPU
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/04_training_on_colab.ipynb)
#
# Lessons 01-03 built the models. This one is about the hours around them: getting a GPU,
# feeding it, making each step cheaper, and not losing a night of training when the browser
# tab closes. Every time and speed in this lesson is measured by the notebook, on the machine it
# runs on.
#
# By the end of this lesson you will be able to:
#
# - check which GPU your runtime has, what one CycleGAN step costs on it in FLOPs and seconds,
#   and how long a full run will take;
# - build a `tf.data` input pipeline (decode, cache, shuffle, jitter, prefetch) and measure
#   that it keeps the GPU busy, for TFDS datasets, the pix2pix archives and your own folders;
# - switch on XLA and mixed precision and read the speed-up, the achieved TFLOP/s and the
#   fraction of the GPU's peak from a table this notebook measures;
# - run the paper's learning-rate schedule (or an honestly shortened one), checkpoint to
#   Google Drive and resume exactly where a disconnected session stopped;
# - split each batch over two replicas with `MirroredStrategy` (two GPUs, or two logical CPUs);
# - put it all together in one real training run, watch it (TensorBoard, samples, loss curves),
#   evaluate it against a baseline (cycle and correspondence error, PSNR/SSIM, KID), export the
#   generator and translate your own image.

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
cfg = runtime.start_lesson(config.ColabTrainingConfig)   # the settings (smoke with COURSE_SMOKE=1), the GPU check, the seeds

# %% [markdown]
# The tools of this lesson. `train` holds the trainers (Keras models whose `train_step` is the
# CycleGAN step of lesson 03), [checkpoints](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#checkpoint) and callbacks; `perf` counts [FLOPs](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#flop) and times steps;
# `distribute` prepares the devices for section 6, where one model trains on two devices at once.
#
# That last line must run **before TensorFlow uses any device**: TensorFlow fixes its list of
# devices at its first operation. On a machine without two GPUs it splits the CPU into two
# *logical* CPUs, so that section 6 can show two replicas anywhere (the rest of the lesson runs
# on the GPU, or on the first CPU, as before).

# %%
import shutil
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from PIL import Image

from course_utils import archives, costs, data, distribute, exercises, inference, metrics, models, perf, plotting, results, runs, train, widgets

distribute.split_cpu(cfg.replicas)       # before any TensorFlow operation: nothing if there are 2 GPUs
costs.print_estimate(cfg)   # what the full profile costs on a Colab T4 (FLOP counts: it builds networks, so after split_cpu)
AUTOTUNE = tf.data.AUTOTUNE
# The smoke profile shrinks the ResNet generator's depth too (a size, like image_size and filters):
# 2 residual blocks instead of the paper's 9, so that building and tracing the step stays quick on a CPU.
N_BLOCKS = cfg.n_blocks   # None: the paper's choice (9 blocks at 256, 6 below); 2 in the smoke profile
VERBOSE = 2 if cfg.is_smoke else 1       # Keras progress: one line per call in smoke, a bar otherwise

# %% [markdown]
# ## 1. Choosing and checking the runtime
#
# In Colab, **Runtime > Change runtime type** picks the accelerator. The free tier usually offers
# a **T4** (NVIDIA Turing, 16 GB of memory); paid tiers add the L4 and A100. The kind of GPU
# decides two things for us:
#
# - **memory**: a 256x256 CycleGAN at batch size 1 needs a few GB, so every Colab GPU fits it;
#   larger batches or images are where 16 GB starts to matter;
# - **speed**, which the data sheets quote as a *peak* number of floating-point operations per
#   second (FLOP/s): once for ordinary float32 arithmetic and once for the *tensor cores*, units
#   that multiply small matrices of 16-bit numbers much faster.
#
# `runtime.check_gpu()` in the setup cell printed what TensorFlow sees. The next cell adds each GPU's
# **[compute capability](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#compute-capability)**: NVIDIA's version number for what a GPU generation can do, not a speed.
# 7.0 is Volta (V100), 7.5 Turing (T4), 8.0 and 8.6 Ampere (A100, A10, RTX 30xx), 8.9 Ada (L4) and
# 9.0 Hopper (H100). Section 4 uses it: tensor cores for [bfloat16](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#bfloat16) arrived with Ampere, i.e. compute
# capability 8.0 and above. The total memory comes from the `nvidia-smi` tool, when the machine has it.

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
for name, peak in perf.PEAK_FLOPS.items():
    tf16 = "-" if peak.fp16 is None else f"{peak.fp16 / 1e12:.0f}"
    tb16 = "-" if peak.bf16 is None else f"{peak.bf16 / 1e12:.0f}"
    print(f"{name:<10} {peak.fp32 / 1e12:>10.1f} {tf16:>12} {tb16:>12}")
DEVICE = perf.gpu_name()
print("\nThis runtime:", DEVICE or "no GPU (CPU only)", "->", perf.match_gpu(DEVICE) or "not in the table")

# %% [markdown]
# **No GPU?** On Colab, choose *Runtime > Change runtime type > T4 GPU* and run the notebook again
# from the top (the runtime restarts, so the setup cell must run again). If Colab has no GPU for
# you right now (the free tier has quotas), or you run the course on your own computer, set
# `COURSE_SMOKE=1`: every lesson then uses tiny images and a few steps, through exactly the same
# code. That is how this notebook is tested on a laptop CPU. Real training on a CPU is possible in
# principle; sections 4 and 6 measure why it is not practical.

# %% [markdown]
# ## 2. What one training step costs
#
# We train the CycleGAN of lesson 03 ([Zhu et al. 2017](https://arxiv.org/abs/1703.10593)): two ResNet [generators](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#generator) $G: X \to Y$,
# $F: Y \to X$ and two 70x70 [PatchGAN](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#patchgan) [discriminators](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#discriminator) with [instance norm](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#instance-normalisation). In the full profile
# they are the paper's networks at 256x256; in the [smoke profile](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#smoke-profile) the same builders make tiny ones.

# %%
# generator_g: X -> Y, generator_f: Y -> X (ResNet); discriminator_x, discriminator_y: PatchGANs (instance norm)
nets = models.cyclegan_networks(cfg.image_size, filters=cfg.filters, n_blocks=N_BLOCKS)
for name, net in nets.items():
    print(f"{name:<16} {net.count_params():>10,} parameters   output {net.output_shape}")

# %% [markdown]
# How much arithmetic is one step? A convolution with a $k \times k$ kernel, $C_{in}$ input and
# $C_{out}$ output channels, producing an $H \times W$ map, does
#
# $$\text{MACs} = H \, W \, k^2 \, C_{in} \, C_{out}$$
#
# [multiply-accumulates](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#mac) (one multiply and one add, so 2 FLOPs each). `perf.count_macs` adds this up
# over a model's layers. A training step runs each generator forward **3 times** ($G(x)$,
# $G(F(y))$ and the identity $G(y)$; the same for $F$) and each discriminator **3 times**: on a real
# batch, on fakes drawn from the [image pool](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#image-pool) (for the discriminator's own loss) and on the fresh
# fakes (for the generator's loss). That is what the paper's code does (`models/cycle_gan_model.py` in the
# [authors' repository](https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix)) and what our
# trainer does; `perf.CYCLEGAN_POOL_PASSES` holds these counts.
# (The TensorFlow tutorial has no pool and scores each fake once for both losses: 2 passes per
# discriminator, `perf.FORWARD_PASSES["cyclegan"]`.) The backward pass costs about twice the
# forward. So
#
# $$\text{FLOPs per step} \approx 2 \cdot 3 \cdot B \sum_{\text{nets}} \text{passes} \cdot \text{MACs}.$$

# %%
macs = perf.network_macs(nets)                                      # per image, forward
STEP_FLOPS = perf.step_flops(macs, perf.CYCLEGAN_POOL_PASSES, cfg.batch_size)   # 3 passes per network
for name, m in macs.items():
    print(f"{name:<16} {m / 1e9:8.3f} GMAC per image, {perf.CYCLEGAN_POOL_PASSES[name]} passes per step")
print(f"one training step: {STEP_FLOPS / 1e9:.2f} GFLOP at {cfg.image_size}x{cfg.image_size}, batch {cfg.batch_size}")

if cfg.is_smoke:   # the paper's networks at 256 for reference (the full profile trains exactly these)
    g256, d256 = (perf.count_macs(models.resnet_generator(256)),
                  perf.count_macs(models.patchgan_discriminator(256, target_channels=None, norm="instance")))
    PAPER_FLOPS = perf.step_flops({"generator_g": g256, "generator_f": g256, "discriminator_x": d256,
                                   "discriminator_y": d256}, perf.CYCLEGAN_POOL_PASSES, 1)
else:
    PAPER_FLOPS = STEP_FLOPS
t4 = perf.PEAK_FLOPS["T4"]
print(f"the paper's CycleGAN at 256: {PAPER_FLOPS / 1e12:.2f} TFLOP per step -> at best "
      f"{1e3 * PAPER_FLOPS / t4.fp32:.0f} ms on a T4 in float32, {1e3 * PAPER_FLOPS / t4.fp16:.0f} ms on its fp16 tensor cores")

# %% [markdown]
# That "at best" is a floor: no real step reaches the [data-sheet peak](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#peak-flops), because normalisation,
# activations and memory traffic take time too, and at batch size 1 much of a big GPU idles.
# So we **measure**: section 4 times single steps with and without the speed switches, and
# section 6 times every step of the real training run.

# %% [markdown]
# ## 3. An input pipeline that keeps the GPU busy
#
# A GPU step of a few hundred milliseconds is wasted if the next batch is not ready. Reading,
# decoding and augmenting images happens on the CPU, and `tf.data` lets it run **in parallel with**
# the GPU. Each stage has one job:
#
# | stage | what it does | why |
# |---|---|---|
# | `map(decode, num_parallel_calls=AUTOTUNE)` | JPEG bytes -> `uint8` image | decoding is the slow part; several cores do it |
# | `cache()` | keeps decoded images in RAM | from the second epoch on nothing is read or decoded |
# | `shuffle(n)` | a new order every epoch | with batches of 1, a fixed order would repeat the same sequence of updates |
# | `map(jitter)` | resize to 286, random 256 crop, random mirror | the papers' augmentation, fresh every epoch, so **after** the cache |
# | `batch(B, drop_remainder=True)` | static batch shape | the compiled step is traced once |
# | `prefetch(AUTOTUNE)` | prepares the next batches while the model trains | hides the CPU time |
#
# `AUTOTUNE` lets `tf.data` choose the number of threads and buffer sizes while it runs.
# Here is the pipeline written out for one folder of images:

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
# How much does each trick buy? We count **images per second, epoch by epoch**: one pass over the
# dataset, timed (`data.epoch_rates` does the counting and the timing). The parallel pipeline's
# first epoch decodes and fills the cache; its later epochs read from the cache.
#
# The shipped images are 64x64 and decode in no time, so we measure on files like horse2zebra's:
# 64 shipped day scenes saved again as 256x256 JPEGs (in a temporary folder), jittered to 256 crops.

# %%
big_dir = Path(tempfile.mkdtemp(prefix="jpeg256-"))
for i, f in enumerate(files_a[:64]):
    Image.open(f).resize((256, 256), Image.BICUBIC).save(big_dir / f"{i:03d}.jpg", quality=90)
files_256 = sorted(str(p) for p in big_dir.glob("*.jpg"))
print(len(files_256), "JPEGs of", Image.open(files_256[0]).size, "in", big_dir)

# %% [markdown]
# The sequential pipeline (one epoch is enough: every epoch does the same work) against the parallel,
# cached one (three epochs: the first fills the cache).

# %%
fast = data.epoch_rates(fast_pipeline(files_256, 1, size=256), epochs=3)      # images/s of each epoch
speeds = {"sequential decode + jitter": data.epoch_rates(slow_pipeline(files_256, 1, size=256))[0],
          "parallel, 1st epoch (decode, fill cache)": fast[0],
          "parallel, later epochs (from the cache)": float(np.mean(fast[1:]))}
shutil.rmtree(big_dir)                             # the temporary JPEGs are no longer needed
for k, v in speeds.items():
    print(f"{k:<42} {v:7.0f} images/s")

# %% [markdown]
# `data.pipeline_throughput` measures the course's own paired loader the same way, on facades-like
# 256x512 JPEGs and without a cache (every image decoded every time, the hard case). Then we compare
# with what the GPU could consume: a 256x256 CycleGAN step running at the T4's fp16 peak (section 2).

# %%
pipe = data.pipeline_throughput(image_size=256, batch_size=1, n_batches=20 if cfg.is_smoke else 200,
                                repeats=2 if cfg.is_smoke else 3, warmup_batches=5 if cfg.is_smoke else 20)
speeds["course loader, no cache (facades-like)"] = pipe["images_per_second"]
print(f"{'course loader, no cache (facades-like)':<42} {pipe['images_per_second']:7.0f} images/s")
need = 1.0 / (PAPER_FLOPS / t4.fp16)
print(f"a 256x256 CycleGAN step at the T4's fp16 floor would consume at most {need:.0f} images/s")

# %% [markdown]
# How much parallel decoding gains depends on the free CPU cores: on a 2-core machine shared with
# other work it can gain nothing, with more cores it scales with them. The cache removes the read
# and the decode from every epoch after the first; the jitter still runs. The number to check is
# the last line: even a step running at the T4's theoretical peak consumes fewer images per second
# than these pipelines deliver, so with prefetching (which overlaps the CPU work with the GPU's)
# the GPU does not wait for data. That changes with many GPUs, large batches or expensive
# augmentation: measure again then.

# %% [markdown]
# The course's loaders are this pipeline, with file checks in front. They read **your own folders**
# in the two usual layouts, and TFDS or the pix2pix archives for the papers' datasets:
#
# ```
# paired (pix2pix):   <path>/train/*.jpg   each file is A | B side by side (width = 2 x height)
#                     <path>/val/  <path>/test/
# unpaired (CycleGAN): <path>/trainA/  <path>/trainB/  <path>/testA/  <path>/testB/
# ```
#
# - `data.load_paired_folder(path, "train", image_size=256, direction="AtoB")` gives `(input, target)` batches;
# - `data.load_unpaired_folder(path, "train", image_size=256)` gives two datasets, [domain](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#domain) A and B;
# - `data.load_cycle_gan_tfds("horse2zebra")` does the same from TFDS `cycle_gan/horse2zebra`
#   (1,067 horses, 1,334 zebras, downloaded once);
# - `archives.download_pix2pix_dataset("facades", folder)` fetches and unpacks the pix2pix archive,
#   ready for `load_paired_folder` (facades translate labels to photos: `direction="BtoA"`).
#
# The shipped sets use the same layouts, so the smoke profile runs the same loaders.
# `data.load_unpaired(cfg.dataset, ...)` picks the right one: the shipped folder for `"shipped"`,
# TFDS for a name such as `"horse2zebra"`, the folder loader for any other path.
#
# The training stream zips the two domains into `(x, y)` pairs: domain A repeats, so one pass
# over domain B is one epoch, and the order is fixed by the seed (a resumed run needs that).

# %%
def load_train(batch_size, cache=True):
    a, b = data.load_unpaired(cfg.dataset, "train", image_size=cfg.image_size, batch_size=batch_size,
                              seed=cfg.seed, cache=cache)
    return tf.data.Dataset.zip(a.repeat(), b)      # (x, y), each (batch_size, S, S, 3) float32 in [-1, 1]


train_ds = load_train(cfg.batch_size)
x_batch, y_batch = next(iter(load_train(cfg.batch_size, cache=False)))      # a look, without filling a cache
print("training batches: x", x_batch.shape, "y", y_batch.shape, x_batch.dtype)   # (B, S, S, 3) each

# %% [markdown]
# Does the course's loader compute what our hand-written pipeline computes? Same shapes are not
# enough: we switch off the two random parts (shuffle and jitter; resizing is then all that is
# left) and compare the **values** of the first batch from the shipped folder, the same files in the
# same (sorted) order. The TFDS loader shares the preprocessing code after decoding, so one check of
# the folder loader covers the transformation of both.

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
# **Your own images.** Put your pairs in the paired layout (`train/`, and `val/` for a few held-out
# pairs), pack the folder as one `.zip` (on most computers: right-click > Compress) and upload that
# file, for instance to Google Drive. The loaders, and `--data` of `python -m course_utils train`,
# take the archive itself: it is unpacked once into a cache (`~/.cache/course_utils/datasets`),
# and refused as a whole if any file in it would land outside that folder. Photos need not be
# exactly twice as wide as high: each file is cut at half its width and both halves are resized,
# with one warning naming the files that are not 2:1. Below, a zip of the shipped pairs stands in
# for yours. In the full profile we also fetch the paired facades archive (about 30 MB, once).

# %%
own_zip = Path(shutil.make_archive(str(Path(tempfile.mkdtemp()) / "my_pairs"), "zip",
                                   root_dir=data.shipped_paired_path()))   # yours: e.g. /content/drive/MyDrive/my_pairs.zip
own = data.load_paired_folder(own_zip, "train", image_size=cfg.image_size, direction="AtoB", batch_size=4)
print(own_zip.name, "->", [tuple(t.shape) for t in next(iter(own))])      # [(4, S, S, 3), (4, S, S, 3)]
if not cfg.is_smoke:
    facades = archives.download_pix2pix_dataset("facades", config.download_cache())   # Colab: /content/datasets
    pairs = data.load_paired_folder(facades, "train", image_size=256, direction="BtoA")
    print("facades:", [t.shape for t in next(iter(pairs))])      # [(1, 256, 256, 3), (1, 256, 256, 3)]
else:
    print("Smoke profile: the horse2zebra and facades downloads are skipped; the shipped day2dusk set stands in.")

# %% [markdown]
# Here is what one training step receives: an image of each domain, and four jitters of domain A
# from the pipeline above (new crops and mirrors every epoch).

# %%
plotting.show_images(np.concatenate([x_batch[:1], y_batch[:1], batch[:4]]),
                     ["x (domain A)", "y (domain B)"] + [f"jittered A #{i}" for i in range(4)],
                     suptitle="What the training step receives");

# %% [markdown]
# ## 4. Speed: XLA and mixed precision
#
# Two switches make the same step cheaper without changing what it computes (up to rounding):
#
# **[XLA](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#xla)** (`jit_compile=True`) compiles the whole step ahead of running it. Without it,
# TensorFlow launches one kernel per operation and writes every intermediate result to memory;
# instance norm, activations and padding are many small memory-bound operations, and XLA fuses
# this element-wise work into a few kernels. The convolutions themselves stay calls into the
# GPU's convolution library (cuDNN), as without XLA: the gain is in the work around them. The price is a compilation of tens of seconds on the first call, and
# every new input shape compiles again (our batches have a static shape for that reason).
# With `fit`, pass it to `trainer.compile(jit_compile=True)`.
#
# **[Mixed precision](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#mixed-precision)** computes in 16-bit floats and keeps the weights in float32
# ([Micikevicius et al. 2018](https://arxiv.org/abs/1710.03740)). It halves memory traffic and runs matrix products on the tensor cores,
# whose peak is 8x the float32 peak on a T4 (table above). Two 16-bit formats exist:
#
# - **[float16](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#float16-and-loss-scaling)** (5 exponent bits): small gradients *underflow* to zero (below about $6\times10^{-8}$).
#   The fix is **loss scaling**: multiply the loss by a large $S$ before differentiating, divide the
#   gradients by $S$ before the update, and lower $S$ whenever an overflow gives inf/NaN.
#   `keras.optimizers.LossScaleOptimizer` does this, and our trainers add it by themselves.
#   This is the format of the **T4** (Turing) and V100.
# - **bfloat16** (8 exponent bits, the range of float32, less precision): no loss scaling needed.
#   Supported on A100, L4, H100 and TPUs, and on CPUs with the AVX512-BF16 or AMX instructions
#   (Intel Xeons from Cooper Lake and Sapphire Rapids on, AMD Zen 4). Other CPUs have no bfloat16
#   arithmetic: TensorFlow converts to and from float32 around each operation, which is usually
#   *slower* than plain float32. The T4 has no bfloat16 units.
#
# Losses and normalisation statistics stay in float32 in `course_utils` (see `losses` and
# `InstanceNormalization`), the usual recipe. Which 16-bit format fits this runtime? The GPU's
# **compute capability** (section 1) answers it: bfloat16 tensor cores came with the Ampere
# generation, compute capability 8.0, so from 8.0 up we choose bfloat16, below it (the T4 is 7.5)
# float16 with loss scaling. A CPU has no float16 units to gain from, so there we choose bfloat16:
# it can only pay off on a CPU with AVX512-BF16 or AMX (the cell prints whether Linux reports
# them), and elsewhere the timing below will show it slower than float32.

# %%
def mixed_policy():
    """mixed_float16 on GPUs before Ampere (T4, V100), mixed_bfloat16 on Ampere and newer and on CPUs."""
    if gpus:
        # compute capability (major, minor): (7, 5) on a T4, (8, 0) on an A100, (8, 9) on an L4
        cc = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
        return "mixed_bfloat16" if tuple(cc) >= (8, 0) else "mixed_float16"
    return "mixed_bfloat16"


MIXED = mixed_policy()
cpu_flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
print("CPU bfloat16 instructions:", sorted(cpu_flags & {"avx512_bf16", "amx_bf16"}) or "none reported")
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
# large, and the scaled gradients overflow to inf. It adjusts $S$ after every step
# (Micikevicius et al. 2018, "dynamic loss scaling"). Rather than read its rule, watch it. We give a
# real `LossScaleOptimizer` twenty steps of a gradient that is finite except at three steps, where we
# make it overflow (inf), and print after every step its scale $S$, its count of finite steps in a
# row (`step_counter`), and whether the weight changed. To see it grow quickly we set
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


update_loss_scale = exercises.check("04.update_loss_scale", update_loss_scale)

# %% [markdown]
# The rule, in words:
#
# - if any scaled gradient is inf or NaN, the step is **skipped** (the weights do not change), $S$ is
#   **halved**, and the count of finite steps in a row starts again from 0;
# - otherwise the update is applied and the count grows by one; the finite step that completes
#   `growth_steps` of them in a row **doubles** $S$ and resets the count.
#
# Your function, run over the same twenty steps, beside Keras's scale: the two curves should lie on
# top of each other. $S$ halves at each overflow and doubles after every four finite steps in a row.

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
# Now three versions of the same training step, timed together: float32, mixed precision, and
# float32 with XLA. For each we get the median step time, the achieved FLOP/s (the step's FLOPs
# divided by its time) and, on a GPU from the table, the fraction of its peak for that precision.
#
# **Which model.** The real CycleGAN step of this lesson, in both profiles: at 256x256 on the GPU
# in the full profile (where the same step on the CPU is timed too: two steps only, they are slow),
# and at the smoke profile's 32x32 with 8 filters on a CPU. Preparing the three versions (tracing
# each step, and compiling the XLA one) takes a while the first time; the "first call" column
# shows it. That cost is paid once per run, so on a real run it vanishes next to the hours of
# training.
#
# **On a CPU these numbers mean little** either way: CPUs have no tensor cores, and tiny models are
# dominated by fixed costs per operation. Run the full profile on a Colab GPU to see what the
# switches buy.

# %% [markdown]
# The trainer is `train.CycleGAN(**networks)`, with the paper's settings as its defaults: LSGAN
# losses, cycle weight 10, identity weight 5, a pool of 50 fakes; `compile` gives each network an
# Adam optimizer with $\beta_1 = 0.5$. `bench_trainer` builds the networks under a precision policy
# and compiles the step with or without XLA.

# %%
BENCH_LABEL = f"CycleGAN {cfg.image_size}x{cfg.image_size}"


def bench_trainer(policy="float32", jit_compile=False, learning_rate=2e-4):
    with train.precision(policy):                                    # networks compute in `policy`
        networks = models.cyclegan_networks(cfg.image_size, filters=cfg.filters, n_blocks=N_BLOCKS,
                                            upsample=cfg.upsample)  # "transpose", the paper's (lesson 03, section 8)
    trainer = train.CycleGAN(**networks, seed=cfg.seed)
    trainer.compile(learning_rate=learning_rate, jit_compile=jit_compile)
    return trainer, networks


# %% [markdown]
# Every version trains on one fixed `(x, y)` batch of the training data, so that only the step
# differs.

# %%
bench_batch, bench_size = next(iter(train_ds)), cfg.batch_size     # (x, y), each (B, S, S, 3)
print(BENCH_LABEL, "batch:", [tuple(t.shape) for t in bench_batch])

# %% [markdown]
# The three trainers, each with its step wrapped in `tf.function` (XLA when asked). Under the mixed
# policy the trainer picks its optimizer by itself: a `LossScaleOptimizer` for float16, a plain one
# for bfloat16.
#
# **Full profile without a GPU:** only float32 is timed. A CPU without bfloat16 instructions
# emulates the 16-bit step (slower than float32, and minutes per step at 256x256), and compiling the
# 256-px step with XLA takes minutes too; neither figure would say anything about a GPU. The
# payoff run below then uses float32.

# %%
variants = {"float32": ("float32", False), f"mixed {MIXED[6:]}": (MIXED, False), "XLA": ("float32", True)}
TIMED = list(variants) if gpus or cfg.is_smoke else ["float32"]   # full profile on a CPU: float32 only
trainers, steps = {}, {}
for name, (policy, xla) in variants.items():
    trainers[name], bench_nets = bench_trainer(policy, xla)
    if name in TIMED:
        steps[name] = tf.function(trainers[name].train_step, jit_compile=xla)
if len(TIMED) < len(variants):
    print(f"No GPU in the full profile: timing {', '.join(TIMED)} only (see above); the other trainers are built, not timed.")
opt = next(iter(trainers[f"mixed {MIXED[6:]}"].optimizers.values()))
print(f"under {MIXED} the trainer uses {type(opt).__name__}",
      "(loss scaling on)" if isinstance(opt, keras.optimizers.LossScaleOptimizer) else "(no loss scaling needed)")

# %% [markdown]
# `perf.time_interleaved` first calls each step once (tracing, and compiling for XLA: the "first
# call" column), warms it up, and then alternates the three step by step, so that a busy moment of a
# shared machine does not favour one.

# %%
# The timed trainer has the 50-image pool, so each discriminator also judges the pooled fakes: 3 passes.
BENCH_FLOPS = perf.step_flops(perf.network_macs(bench_nets), perf.CYCLEGAN_POOL_PASSES, bench_size)
timings = perf.time_interleaved(steps, bench_batch, n_steps=cfg.bench_steps, warmup=1,
                                repeats=2 if cfg.is_smoke else 3)
print(f"timed {sum(len(t.steps) for t in timings.values())} steps")

# %% [markdown]
# On a GPU (full profile) we add the float32 step with every variable and operation on the CPU, for
# the comparison that explains why nobody trains this on a CPU.

# %%
if gpus and not cfg.is_smoke:
    with tf.device("/CPU:0"):
        trainers["CPU"], _ = bench_trainer()
        cpu_step = {"CPU": tf.function(trainers["CPU"].train_step)}
        timings.update(perf.time_interleaved(cpu_step, bench_batch, n_steps=2, warmup=0, repeats=1))
else:
    print("No GPU, or the smoke profile: no separate CPU row.")

# %% [markdown]
# The table: median time per step, the FLOP rate it implies, and the fraction of the GPU's peak.

# %%
rows = []
print(f"{BENCH_LABEL}, batch {bench_size}, {BENCH_FLOPS / 1e9:.4g} GFLOP per step, on {DEVICE or 'the CPU'}")
for name, t in timings.items():
    policy = MIXED if name.startswith("mixed") else "float32"
    peak = None if name == "CPU" else perf.peak_flops(policy, DEVICE, detect=False)
    achieved = BENCH_FLOPS / t.median
    rows.append((name, t.median))
    frac = f"{100 * achieved / peak:5.1f} % of peak" if peak else "(no GPU peak to compare)"
    rate = f"{achieved / 1e12:7.2f} TFLOP/s" if achieved > 1e11 else f"{achieved / 1e9:7.2f} GFLOP/s"
    print(f"  {name:<15} {1e3 * t.median:9.1f} ms/step  {rate}  {frac}"
          f"   first call {t.first_call_seconds:.1f} s")

# %% [markdown]
# The same times as bars. Each bar is labelled with its speed-up over float32 (the first row); a
# CPU row says how many times slower it is.

# %%
plotting.plot_step_times(dict(rows), f"{BENCH_LABEL} training step on {DEVICE or 'a CPU'}: speed-up over float32");

# %% [markdown]
# What to look for on a T4 in the full profile: mixed float16 should help most, because it moves
# the convolutions onto the tensor cores; XLA targets the many small instance-norm, padding and
# activation operations; both together are worth trying for a long run
# (`trainer.compile(jit_compile=True)` on networks built under the mixed policy). The fraction of
# peak stays far below 100 %: at batch size 1 a GPU is rarely full. Whatever you choose, keep the
# losses in float32 and watch for NaNs: the `NaNGuard` callback of section 6 stops a run at the
# first one.

# %% [markdown]
# **The settings for the payoff run.** Section 7 trains for `cfg.payoff_steps` steps with one of these
# three versions. The right one is the version that *finishes* soonest: its one-time cost (the
# first call) plus the steps times its median step. On a GPU with thousands of steps the median
# decides; on a short CPU run a long compilation can outweigh a faster step. The table is measured
# on a shared machine, so a close race can go either way from one run to the next.

# %%
finish = {name: timings[name].first_call_seconds + cfg.payoff_steps * timings[name].median for name in TIMED}
PAYOFF_VARIANT = min(finish, key=finish.get)
PAYOFF_POLICY, PAYOFF_XLA = variants[PAYOFF_VARIANT]     # e.g. ("mixed_float16", False) on a T4
for name, seconds in finish.items():
    print(f"{name:<15} {cfg.payoff_steps} steps would take about {perf.format_duration(seconds)}")
print(f"-> the payoff run uses: {PAYOFF_VARIANT} (policy {PAYOFF_POLICY}, XLA {'on' if PAYOFF_XLA else 'off'})")
del trainers, steps, timings, demo

# %% [markdown]
# ## 5. The paper's learning-rate schedule, and shortening it honestly
#
# Zhu et al. (2017) train with [Adam](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#adam) at $\eta_0 = 2\times10^{-4}$ for 100 epochs, then let the rate
# fall linearly to zero over 100 more epochs. In optimizer steps $t$: $T_c$ constant steps, then $T_d$
# decay steps. Here is the course's schedule, `train.LinearDecay(lr0, constant_steps, decay_steps)`,
# on two small examples, drawn and tabulated.

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


linear_decay = exercises.check("04.linear_decay", linear_decay)

# %% [markdown]
# In a formula, with $\eta_0$ the starting rate, $T_c$ the constant steps and $T_d$ the decay steps:
#
# $$\eta(t) = \eta_0 \cdot \operatorname{clip}\!\left(1 - \frac{t - T_c}{T_d},\ 0,\ 1\right).$$

# %% [markdown]
# A full run of the paper on horse2zebra is $200 \times 1334 \approx 267{,}000$ steps: even at the
# T4's float32 floor of section 2 that is about 17 hours (the cell below prints it), and a real run
# reaches only a fraction of that peak, so it takes longer still: more than a Colab session lasts. To **shorten it honestly**, scale both phases by the same
# factor: keep the peak rate, keep the 1:1 ratio of constant to decaying steps, and still end at
# zero. What changes is the number of updates (and of times each image is seen), so the
# result is *worse than the paper's*, and it should be reported as "N steps with the paper's
# schedule shape", not compared with the paper's numbers. What not to do: stop a constant-rate run
# early (the weights are still jumping around at the full rate), or keep 100 constant epochs and
# squeeze only the decay.

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
# Colab ends idle sessions after a while and any session after some hours; the machine, its disk
# and everything in memory are gone. Training survives only through **checkpoints** written to
# storage that outlives the session: Google Drive. A checkpoint that lets us resume *exactly* holds
#
# - the weights of all four networks,
# - each optimizer's state: Adam's two moment estimates per weight and its step counter,
#   which is also the schedule's position (a fresh Adam would restart at full learning rate and
#   with empty moments),
# - the global step, the image pools and the random state (for the data order and the pools).
#
# On Colab we mount Drive; elsewhere the run goes to a folder under `build/`.

# %%
if config.in_colab():
    from google.colab import drive
    drive.mount("/content/drive")
    RUNS = Path(cfg.out_dir)
else:
    RUNS = (config.REPO_ROOT or Path.cwd()) / "build" / "runs"
    print("Not on Colab: checkpoints go to the local folder", RUNS)
RUN_DIR = RUNS / f"04_{cfg.model}_{cfg.dataset}_{cfg.image_size}_{cfg.profile}"
if cfg.starts_fresh and RUN_DIR.exists():
    shutil.rmtree(RUN_DIR)          # smoke and cut runs: start fresh; full: resume whatever is there
print("run folder:", RUN_DIR)

# %% [markdown]
# `runs.run_training` is one resumable call: it restores the latest checkpoint in the run folder
# (if any), skips the batches already seen (the data order is fixed by the seed), trains with
# `fit` until the global step reaches a target, and exports the generators. Its callbacks
# (`runs.standard_callbacks`) are, in this order: `NaNGuard` (stops at the first NaN, before
# anything is saved), `LossHistory` (a CSV and JSON of the losses), `SampleGrid` (a PNG of fixed
# test images every `SAMPLE_EVERY` steps), `TensorBoardLogger` and `CheckpointCallback` (every
# `checkpoint_every` steps and at the end, keeping the last three). We add `runs.StepTimer`, a
# callback that records the wall-clock time of every step.
#
# The samples are always the same few test images (`data.unpaired_test_images` takes the first
# ones, unjittered), so that the pictures of one run can be compared step by step.

# %%
SAMPLE_EVERY = 3 if cfg.is_smoke else 100
sample_x, sample_y = data.unpaired_test_images(cfg.dataset, 2 if cfg.is_smoke else 4, cfg.image_size)  # (n, S, S, 3)


def run(trainer, until_step, timer=None, export=True):
    return runs.run_training(trainer, train_ds, until_step, RUN_DIR, checkpoint_every=cfg.checkpoint_every,
                              sample_inputs=(sample_x, sample_y), sample_every=SAMPLE_EVERY,
                              callbacks=[timer] if timer else [], verbose=VERBOSE, export=export)


# %% [markdown]
# We train the first half of the run, then pretend the session dies.

# %%
trainer, _ = bench_trainer(learning_rate=SCHEDULE)       # float32, no XLA: the plain step
print("a checkpoint holds:", ", ".join(sorted(trainer.checkpoint_items())))
timer = runs.StepTimer()
first = run(trainer, cfg.steps // 2, timer, export=False)   # export only at the end
print(f"started at step {first['resumed_from']}, now at step {first['step']}")

# %% [markdown]
# ### What a step costs here, measured
# The timer saw every step of that run. Leaving out the first (it traces and optimises the graph)
# and the steps that also wrote a checkpoint or samples, the median is what a training step of the
# real model of this profile costs on this machine.

# %%
step_s = timer.typical_seconds(busy_every=(cfg.checkpoint_every, SAMPLE_EVERY))   # None if too few steps
if step_s is not None:
    print(f"first step (tracing, graph optimisation) {timer.seconds[0]:.1f} s; then {1e3 * step_s:.0f} ms per step "
          f"on {DEVICE or 'the CPU'} (median of the steps that saved nothing)")
    print(f"-> this lesson's {cfg.steps} steps: {perf.format_duration(cfg.steps * step_s)}; the paper's 200 epochs x "
          f"{epoch_steps} steps at this size: {perf.format_duration(200 * epoch_steps * step_s)}")
else:
    print("Too few new steps in this session to time (a resumed, nearly finished run).")

# %% [markdown]
# Read those projections with the profile in mind. On a T4 in the full profile they tell you that
# the paper's 200 epochs do not fit in one Colab session (sessions end after some hours), which
# is why we checkpoint; compare with the CPU row of section 4 to see why nobody trains a 256x256
# CycleGAN on a CPU. In the smoke profile the networks are tiny, so the times show the
# measurement working, not what real training costs.
#
# ### The disconnect
# We keep a copy of what the trainer holds (to compare with later) and drop it. A new session
# starts from nothing: fresh networks with random weights, a fresh trainer.

# %%
before = runs.trainer_state(trainer)     # NumPy copies: the step, all weights, all optimizer variables
lr_before = float(SCHEDULE(trainer.optimizers["generator_g"].iterations))
del trainer                               # the session is gone

# %% [markdown]
# ### Resuming, on one GPU or many
# The new session may even have a different number of GPUs. `tf.distribute.MirroredStrategy`
# keeps a copy of every variable on each GPU of the machine, splits each batch between them, and
# adds up the gradients (an *all-reduce*) before every update, so all copies stay identical. The
# code barely changes: build the networks and the trainer inside `strategy.scope()`, and make the
# **global** batch `per-GPU batch x number of GPUs`. Our trainers divide each replica's loss by the
# number of replicas, so the summed gradient is the mean. With one GPU, or on a CPU, the strategy has
# one replica and the same code runs; so we build the new session's trainer that way, and the
# checkpoint written without a strategy restores into it. (We name the devices with
# `distribute.default_devices()`: every GPU, else the first CPU. Left to itself, `MirroredStrategy()`
# would also take the two logical CPUs of the first cells as two replicas.)

# %%
strategy = tf.distribute.MirroredStrategy(distribute.default_devices())   # every GPU; else the first CPU
replicas = strategy.num_replicas_in_sync
print("replicas:", replicas, list(strategy.extended.worker_devices))
with strategy.scope():
    trainer, _ = bench_trainer(learning_rate=SCHEDULE)   # random weights again
fresh = runs.trainer_state(trainer)
restored_step = runs.restore(trainer, RUN_DIR)
after = runs.trainer_state(trainer)
assert "weights" in runs.state_differences(fresh, after), "restore changed nothing"
assert runs.state_differences(before, after) == [], runs.state_differences(before, after)
assert restored_step == trainer.global_step and float(SCHEDULE(trainer.optimizers["generator_g"].iterations)) == lr_before
print(f"restored step {restored_step}: the weights, Adam's moments and the learning rate "
      f"({lr_before:.2e}) are exactly as before the disconnect")

# %% [markdown]
# Training continues from there to the end of the schedule. `run_training` restores by itself
# (here it finds the same checkpoint again), so in a real new session this one call is all you run.
# On a machine with several GPUs, load the data with a global batch of
# `cfg.batch_size * replicas`; a larger global batch is a different setup from the papers' batch
# of 1, whose learning rate was chosen for it. Instance norm, unlike [batch norm](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#batch-normalisation), needs no
# synchronisation across GPUs: it only looks at one image.
#
# **The caveat with more than one replica.** Changing the global batch also breaks the *exact*
# resume of the data. `run_training` finds its place by skipping as many batches as steps were
# done (`dataset.repeat().skip(step)`); with a global batch of `replicas` images those are
# different, larger batches, so the resumed run skips `replicas` times as many images and then
# sees other images, in other groupings, than the interrupted run would have seen. Weights, Adam's
# moments, the step and the schedule are still restored exactly; each step now averages over more
# images, so the run covers more epochs in the same number of steps. For an exact continuation,
# resume on the same number of replicas (and so the same global batch) as the run that wrote the
# checkpoint. With one replica, as here, nothing changes.

# %%
if replicas > 1:   # a larger global batch: the data position after the resume differs (see above)
    train_ds = load_train(cfg.batch_size * replicas)
    print(f"{replicas} replicas: global batch {cfg.batch_size * replicas}; the data stream is not the "
          "interrupted run's continuation, the model state is.")
second = run(trainer, cfg.steps)
assert second["resumed_from"] == restored_step and trainer.global_step == cfg.steps
print(f"resumed from step {second['resumed_from']}, finished at step {second['step']} on {replicas} replica(s); "
      f"learning rate now {float(SCHEDULE(trainer.optimizers['generator_g'].iterations)):.1e}")
print("checkpoints:", sorted(p.name for p in (RUN_DIR / "checkpoints").glob("*.index")))

# %% [markdown]
# ### Two replicas, seen up close
# Here the strategy had one device. To watch two replicas on any machine we hand a
# strategy two devices ourselves: two GPUs if the machine has them, otherwise the two logical CPUs
# that the first cells set up (`distribute.replica_devices`). A **replica** is one copy of the model
# on one device, and every step does three things:
#
# 1. the **global batch** of $B$ images is split evenly: each replica gets the **per-replica batch**
#    $B / R$ (with $R$ replicas);
# 2. each replica computes the losses of its share and their gradients;
# 3. the gradients are summed over the replicas (the all-reduce) and every replica applies the same
#    update to its copy, so the copies never drift apart.
#
# Since our trainers divide each replica's loss by $R$, the sum in step 3 is the gradient of the
# mean loss over the whole global batch: the same update as one device given all $B$ images
# (`tests/test_train.py` checks this on two logical CPUs). To keep the papers' batch of 1 *per
# device*, make the global batch `cfg.batch_size * R`.

# %%
tf.get_logger().setLevel("ERROR")   # TensorFlow logs a line for every all-reduce it sets up: keep them quiet
# With two GPUs `strategy` already has two replicas: reuse it (one strategy per set of devices).
two = strategy if replicas >= cfg.replicas else tf.distribute.MirroredStrategy(distribute.replica_devices(cfg.replicas))
R = two.num_replicas_in_sync
GLOBAL_BATCH = cfg.batch_size * R
print(f"{R} replicas on {list(two.extended.worker_devices)}: global batch {GLOBAL_BATCH}, "
      f"per-replica batch {distribute.per_replica_batch(GLOBAL_BATCH, R)}")

# %% [markdown]
# `experimental_distribute_dataset` does the split of step 1: every element it yields holds one part
# per replica. `two.run` calls a function on every replica with that replica's part; here the
# function only reports the shape it received.

# %%
split_ds = two.experimental_distribute_dataset(load_train(GLOBAL_BATCH, cache=False))
x_parts, y_parts = next(iter(split_ds))                      # one (B/R, S, S, 3) part per replica
shapes = two.run(lambda x, y: tf.shape(x), args=(x_parts, y_parts))
for device, shape in zip(two.extended.worker_devices, two.experimental_local_results(shapes)):
    print(f"{device}: x of shape {shape.numpy().tolist()}")   # [B/R, S, S, 3] each

# %% [markdown]
# Training on the two replicas is the same code as before, inside `two.scope()`: `fit` splits each
# global batch by itself. On CPUs this is a demonstration, not a speed-up (both logical CPUs share
# the same cores), so it uses small networks on the shipped images at 32x32 for three steps. Then we
# check step 3's promise: the two copies of a kernel hold exactly the same numbers.

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
# Sections 2-6 measured and tested the pieces; now one run uses all of them and ends in a result:
#
# - the version of the step that section 4 measured to finish these steps soonest (`PAYOFF_VARIANT`);
# - the paper's schedule shape, shortened honestly (section 5): half the steps at
#   $\eta_0 = 2\times10^{-4}$ (the paper's rate), half decaying linearly to zero. The smoke profile's
#   run is so short that it starts higher, at `cfg.payoff_learning_rate`, for the reason lesson 03
#   gives in section 9: at the paper's rate, a run this short leaves the transposed convolutions'
#   checkerboard in every output;
# - checkpoints to Drive and samples as it goes (section 6), on every GPU of the machine
#   (`strategy`, one device here).
#
# In the full profile that is 13,340 steps, **10 epochs of horse2zebra** (5 constant + 5 decaying):
# 5 % of the paper's 200 epochs, so judge it as a short run, not against the paper's pictures. The
# smoke profile trains 1,200 steps on the shipped day2dusk set at 32x32. If the session
# disconnects, run the notebook again from the top with the same Drive: this run continues from
# its last checkpoint. The run folder remembers the step version it started with
# (`runs.remember_choices`), so a resumed run keeps it even if today's measurement picks another.

# %%
if cfg.is_smoke:
    assert cfg.payoff_steps == 1200   # what the words above say
PAYOFF_DIR = RUNS / f"04_payoff_{cfg.dataset}_{cfg.image_size}px_{cfg.payoff_steps}steps_{cfg.profile}"
if cfg.starts_fresh and PAYOFF_DIR.exists():
    shutil.rmtree(PAYOFF_DIR)              # smoke and cut runs: fresh; full: resume whatever is there
settings = runs.remember_choices(PAYOFF_DIR, {"variant": PAYOFF_VARIANT, "policy": PAYOFF_POLICY, "xla": PAYOFF_XLA})
PAYOFF_SCHEDULE = train.LinearDecay(cfg.payoff_learning_rate, cfg.payoff_steps // 2,
                                     cfg.payoff_steps - cfg.payoff_steps // 2)
with strategy.scope():
    payoff, _ = bench_trainer(settings["policy"], settings["xla"], learning_rate=PAYOFF_SCHEDULE)
print(f"{PAYOFF_DIR.name}: {settings['variant']}, {cfg.payoff_steps} steps from learning rate "
      f"{cfg.payoff_learning_rate:g}, global batch "
      f"{cfg.batch_size * replicas}, on {replicas} replica(s)")
if step_s is not None:
    print(f"section 6 measured {1e3 * step_s:.0f} ms per float32 step here: about "
          f"{perf.format_duration(cfg.payoff_steps * step_s)} for the whole run in float32")

# %% [markdown]
# The run itself: one call, with a progress bar in the full profile (on a GPU, as long as the
# estimate above says; the smoke run takes about a minute on a CPU).

# %%
payoff_timer = runs.StepTimer()
result = runs.run_training(payoff, train_ds, cfg.payoff_steps, PAYOFF_DIR,
                            checkpoint_every=cfg.payoff_checkpoint_every, sample_inputs=(sample_x, sample_y),
                            sample_every=cfg.payoff_sample_every, callbacks=[payoff_timer], verbose=VERBOSE)
assert payoff.global_step == cfg.payoff_steps
payoff_s = payoff_timer.typical_seconds(busy_every=(cfg.payoff_checkpoint_every, cfg.payoff_sample_every))
print(f"started at step {result['resumed_from']}, trained {result['steps_run']} steps in this session"
      + (f", {1e3 * payoff_s:.0f} ms per step ({perf.format_duration(sum(payoff_timer.seconds))} in all)"
         if payoff_s is not None else ""))

# %% [markdown]
# ## 8. Watching training
#
# **TensorBoard** reads the event files the `TensorBoardLogger` wrote: the losses as curves and
# the sample grids as images, indexed by the global step (so a resumed run continues the same
# curves). In Colab it opens inside the notebook with the two magics `%load_ext tensorboard` and
# `%tensorboard --logdir <run folder>/tensorboard`, which the next cell runs for you:

# %%
if config.in_colab():
    ip = get_ipython()  # noqa: F821  (defined inside notebooks)
    ip.run_line_magic("load_ext", "tensorboard")
    ip.run_line_magic("tensorboard", f"--logdir '{PAYOFF_DIR / 'tensorboard'}'")
else:
    print(f"Outside Colab, run in a terminal: tensorboard --logdir {PAYOFF_DIR / 'tensorboard'}")

# %% [markdown]
# The **loss curves** also live in `history.csv` in the run folder (one row per step, written as
# training goes, and cleaned of steps repeated after a resume). GAN losses do not fall steadily:
# each generator's loss is high when its discriminator is winning. What to look for is stability
# (no loss stuck at 0 or exploding) and the cycle term going down.

# %%
plotting.plot_loss_history(PAYOFF_DIR / "history.csv", keys=["g_loss", "f_loss", "dx_loss", "dy_loss", "cycle"],
                           smoothing=0.9, title="The payoff run's CycleGAN losses (from history.csv)");

# %% [markdown]
# The **samples** are the fixed test images pushed through the networks every
# `cfg.payoff_sample_every` steps: per row $x \to G(x) \to F(G(x))$, then $y \to F(y) \to G(F(y))$.
# The browser below plays them as a film (in Colab or Jupyter; a static page shows the last one
# underneath). Read losses and samples together: a falling cycle loss with grey, blurry samples
# means the generators found an easy way back, not a good translation.

# %%
browser = widgets.sample_browser(PAYOFF_DIR / "samples")
browser

# %% [markdown]
# The last picture on its own, as the run saved it:

# %%
last = plotting.sample_image_paths(PAYOFF_DIR / "samples")[-1]
plt.figure(figsize=(4, 4))
plt.imshow(plt.imread(last))
plt.axis("off")
plt.title(f"{last.name}: x | G(x) | F(G(x)), then y | F(y) | G(F(y))", fontsize=9);

# %% [markdown]
# ## 9. Evaluating
#
# - **Cycle error** $\frac{1}{N}\sum \lvert F(G(x)) - x \rvert$: how well the round trip returns.
#   Low is necessary, not sufficient (an identity mapping has zero cycle error).
# - **Correspondence error** $\frac{1}{N}\sum \lvert G(x) - G_{\text{true}}(x) \rvert$, and
#   **[PSNR](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#psnr) and [SSIM](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#ssim)** against the same true answer, compare an output with
#   its *target*, so they need pairs: Pix2Pix's test pairs, or here the shipped day2dusk set, whose
#   true translation is known (`data.true_translation`, lesson 03). For horse2zebra there is no true
#   zebra for a given horse.
# - **[KID](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#kid)** (kernel inception distance, [Binkowski et al. 2018](https://arxiv.org/abs/1801.01401)) compares the *distributions* of real
#   and generated images, not image by image, so it needs no pairs. It does so in a **feature space**:
#   each image is replaced by a vector of $d = 2048$ numbers, the last pooled layer of an InceptionV3
#   trained on ImageNet, in which images with similar content lie close together whatever their exact
#   pixels. It needs those weights (about 90 MB, downloaded once).
#
# KID is the squared **maximum mean discrepancy** (MMD) between the real features $x_1, \dots, x_m$
# and the generated ones $y_1, \dots, y_n$, with the cubic polynomial kernel
# $k(a, b) = \left(\tfrac{a \cdot b}{d} + 1\right)^3$, which measures how alike two feature vectors are.
# The estimator averages the kernel within each set (leaving out each vector paired with itself)
# and subtracts twice the average across the sets:
#
# $$\widehat{\text{KID}} = \frac{1}{m(m-1)} \sum_{i \ne j} k(x_i, x_j) + \frac{1}{n(n-1)} \sum_{i \ne j} k(y_i, y_j)
# - \frac{2}{mn} \sum_{i=1}^{m} \sum_{j=1}^{n} k(x_i, y_j).$$
#
# If the two sets come from the same distribution, the three averages estimate the same number
# and KID is 0; the more the distributions differ, the larger it gets. Leaving out the $i = j$ terms
# makes the estimator **unbiased**: its average over many test sets is the true MMD$^2$, so a small
# set gives a fair but noisy number (a single value can even be slightly negative). With a test set of
# about a hundred images, report it with its spread over random subsets and the sample sizes, as
# the result below prints them. (FID, the better-known relative, is biased for small sets.)
#
# Every number needs a **baseline**, a trivial answer it must beat. Ours is **"leave the image
# unchanged"**, $G(x) = x$: a generator that learned nothing but the identity. On day2dusk it gets a
# correspondence error, a PSNR and an SSIM against the true dusk images; on horse2zebra a KID between
# the unchanged horses and real zebras. A translation worth keeping beats it clearly.
#
# First the payoff run's translations of the test images, through `inference.translate` (the
# course's way to run a trained generator: batches, no dropout, each image normalised on its own).

# %%
test_x, test_y = data.unpaired_test_images(cfg.dataset, cfg.eval_images, cfg.image_size)  # (N, S, S, 3) each
g_x = inference.translate(payoff.generator_g, test_x)           # (N, S, S, 3): X -> Y
f_y = inference.translate(payoff.generator_f, test_y)           # (N, S, S, 3): Y -> X
f_g_x = inference.translate(payoff.generator_f, g_x)            # the round trips
g_f_y = inference.translate(payoff.generator_g, f_y)
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
              f"not on: {[m for m, b in better.items() if not b] or 'nothing'}")
    print("speckle ratio (high-frequency energy / the true translation's; 1 is right, lesson 03): "
          f"G(x) {results.speckle_ratio(g_x, true_g(test_x)):.2f}, F(y) {results.speckle_ratio(f_y, true_f(test_y)):.2f}")
    for out, base in (("G(x)", "x unchanged"), ("F(y)", "y unchanged")):
        ratio = scores[out]["l1"] / scores[base]["l1"]
        print(f"{out}: {ratio:.2f} x the error of doing nothing")
        if cfg.is_smoke:   # measured in this lesson: 0.21 x both ways (docs/results.md)
            assert ratio <= 0.3, f"the smoke payoff run should cut the do-nothing error to about a quarter: {ratio:.2f}"
else:
    print("horse2zebra has no true pairs: its baseline comparison is the KID below.")

# %% [markdown]
# Read the three columns separately. The correspondence error and PSNR measure the colour of every
# pixel, and there the short run clearly beats doing nothing: it has learned the colours of dusk.
# SSIM compares local *structure* (edges, textures) more than colour, and the day2dusk map keeps
# every edge where it was, so the unchanged image starts with a fair SSIM, and a generator that
# blurs the edges can fall below it. If your SSIM is below the baseline, the translation has the
# right colours but not yet sharp shapes: an honest result of a short run. (The smoke run's 1,200
# steps beat it on SSIM too, 0.80 against 0.60, in docs/results.md.) Look for the edges in the
# pictures at the end of this section.

# %% [markdown]
# Now KID. The formula in a few lines of NumPy, checked against `metrics.kid_from_features` on made-up
# "features": two sets from the same distribution, and a set shifted away from them.

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
# On the real test images in the full profile: InceptionV3 features of real $Y$ against those of
# $G(X)$, and against the baseline, the untranslated $X$. Translated horses should be closer to the
# zebras than the horses themselves were: a lower KID than the baseline's.

# %%
if not cfg.is_smoke:
    try:   # downloads InceptionV3's weights on first use
        subset = dict(subsets=10, subset_size=min(50, len(g_x)))
        kid = metrics.kernel_inception_distance(test_y, g_x, **subset)
        kid_unchanged = metrics.kernel_inception_distance(test_y, test_x, **subset)
        print("KID real Y vs G(X):       ", kid)
        print("KID real Y vs X unchanged:", kid_unchanged, "(the baseline)")
    except RuntimeError as err:   # no internet: the error says how to fix it
        print(err)
else:
    print("KID skipped in the smoke profile: it needs InceptionV3's ImageNet weights (a 90 MB download, done "
          "in the full profile) and on forty 32x32 images it would mean little.")

# %% [markdown]
# And the pictures the numbers describe: test images, their translations and round trips.

# %%
plotting.plot_cycle_rows(test_x, g_x, f_g_x, max_rows=3);

# %% [markdown]
# ## 10. Using the result: export, reload, translate your own image
#
# `run_training` exported both generators as `.keras` files (architecture and weights in one
# file). That file is all you need later: no trainer, no discriminators, no optimizer. Reloading
# must give the very same function:

# %%
export = {k: Path(v) for k, v in result["export"].items()}
print({k: f"{v.name} ({v.stat().st_size / 1e6:.1f} MB)" for k, v in export.items()})
g_loaded = keras.models.load_model(export["generator_g"])
np.testing.assert_allclose(inference.translate(g_loaded, test_x[:2]), g_x[:2], atol=1e-5)
print("the reloaded generator gives the same outputs")

# %% [markdown]
# To translate an image of your own: decode it, cut the central square, resize it to the training
# size, scale to $[-1, 1]$, run $G$, scale back.

# %%
def prepare(raw_bytes):
    image = tf.io.decode_image(raw_bytes, channels=3, expand_animations=False)   # (h, w, 3) uint8
    side = tf.minimum(tf.shape(image)[0], tf.shape(image)[1])
    image = tf.image.resize_with_crop_or_pad(image, side, side)                   # (side, side, 3): central square
    return data.normalize(data.resize(image, cfg.image_size))[None]              # (1, S, S, 3) in [-1, 1]


# %% [markdown]
# In Colab, the upload button below asks for a file. If you cancel, upload nothing or pick a file
# that is not an image, the cell says so and uses a test image from the shipped set instead, as it
# always does outside Colab.

# %%
fallback = sorted((shipped / "testA").glob("*.jpg"))[0]
name, raw = fallback.name, fallback.read_bytes()
if config.in_colab():
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
plotting.show_images([mine[0], inference.translate(g_loaded, mine)[0]], [name, "G(image)"], size=3);

# %% [markdown]
# The same from a terminal, without writing any Python, for a single file or a whole folder (each
# image is resized to the model's size, translated, and resized back to its own size):
#
# ```
# python -m course_utils translate --model <run folder> --input my_photos/ --output zebras/
# ```
#
# With a run folder, `--direction AtoB` (the default) uses `generator_g.keras` and `BtoA`
# `generator_f.keras`. The command line is a thin layer over the package, so the next cell runs
# exactly that command inside this notebook (without starting a second Python):

# %%
from course_utils import cli, images

source = sorted((shipped / "testA").glob("*.jpg"))[0]
out_folder = PAYOFF_DIR / "translated"
status = cli.main(["translate", "--model", str(PAYOFF_DIR), "--input", str(source), "--output", str(out_folder)])
assert status == 0 and (out_folder / source.name).exists()
pair = [images.from_uint8(Image.open(f).convert("RGB")) for f in (source, out_folder / source.name)]   # pixels -> [-1, 1]
plotting.show_images(pair, [source.name, "translated by the CLI"], size=2.5);

# %% [markdown]
# The whole training run of this lesson is also one command; rerun it after a disconnect and it
# resumes from the latest checkpoint in `--out` (`--precision` and `--xla` are the switches of
# section 4):
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
# float16 (the T4, compute capability 7.5, has no bfloat16 units). float16 has only 5 exponent bits: gradients below about $6 \times 10^{-8}$ underflow to zero. Multiplying the loss by $S$ lifts them into range; they are divided by $S$ before the update.
#
# </details>
#
# **2.** A float16 run starts with $S = 2^{15}$ and `growth_steps=2000`. The gradients overflow at step 100 only. What is $S$ after step 100, and at which step does it grow again?
#
# <details><summary>Answer</summary>
#
# $2^{14}$: step 100 is skipped and $S$ halves, and the count of finite steps starts again. Steps 101 to 2100 are the next 2000 finite steps in a row, so step 2100 doubles $S$ back to $2^{15}$.
#
# </details>
#
# **3.** You can afford a tenth of the paper's steps. How do you shorten the schedule honestly?
#
# <details><summary>Answer</summary>
#
# Scale both phases by the same factor: the same peak rate, a 1:1 split between constant and decaying steps, ending at zero. Then report the run as N steps with the paper's schedule shape, not as the paper's result.
#
# </details>
#
# **4.** What must a checkpoint hold to resume *exactly* where a disconnected session stopped?
#
# <details><summary>Answer</summary>
#
# The weights, the optimizer states (including their step counters, which the learning-rate schedule reads), the global step, the image pools and the random state; the data position follows from the step.
#
# </details>
#
# **5.** Why is the first step with XLA slow, and why do our batches all have the same shape?
#
# <details><summary>Answer</summary>
#
# The first call compiles the whole step (fusing the element-wise work around the convolutions), which takes tens of seconds. Every new input shape compiles again, so a static batch shape keeps it to one compilation.
#
# </details>

# %% [markdown]
# ## Summary
#
# - Check the runtime first; FLOPs per step and the measured step time tell you what a run costs.
# - Decode in parallel, cache, jitter after the cache, prefetch: the GPU should never wait.
# - XLA and mixed precision (float16 + loss scaling on a T4, bfloat16 on newer GPUs) are switches;
#   measure them on your GPU.
# - Shorten the paper's schedule by scaling both phases and say that you did.
# - Checkpoint everything (weights, optimizer state, step, schedule, pools, random state) to Drive,
#   and resume with the same call, on one GPU or, inside `MirroredStrategy`, on several; each replica
#   gets `global batch / replicas` images and the summed gradients give every copy the same update.
# - A short run with the measured settings and the schedule's shape gives a real result; judge it
#   against a baseline ("leave the image unchanged") before you believe it.
# - Watch losses *and* samples; evaluate with cycle error, paired metrics where pairs exist, and KID.
#
# References: Zhu et al. 2017 (CycleGAN); [Isola et al. 2017](https://arxiv.org/abs/1611.07004) (Pix2Pix); Micikevicius et al. 2018
# (mixed precision training); Binkowski et al. 2018 (KID).

# %% [markdown]
# ## Further reading
#
# **The papers this lesson uses**
#
# - Micikevicius et al. (2018), *Mixed Precision Training*, [arXiv:1710.03740](https://arxiv.org/abs/1710.03740).
# - Binkowski et al. (2018), *Demystifying MMD GANs* (KID), [arXiv:1801.01401](https://arxiv.org/abs/1801.01401).
# - Zhu et al. (2017), CycleGAN, [arXiv:1703.10593](https://arxiv.org/abs/1703.10593), and
#   Isola et al. (2017), Pix2Pix, [arXiv:1611.07004](https://arxiv.org/abs/1611.07004), for the
#   settings we train with.
#
# **The TensorFlow and Keras documentation we used**
#
# - [Mixed precision](https://www.tensorflow.org/guide/mixed_precision) and Keras's
#   [mixed precision API](https://keras.io/api/mixed_precision/).
# - [XLA](https://www.tensorflow.org/xla), [Better performance with the tf.data API](https://www.tensorflow.org/guide/data_performance),
#   [Training checkpoints](https://www.tensorflow.org/guide/checkpoint) and
#   [Distributed training with TensorFlow](https://www.tensorflow.org/guide/distributed_training)
#   (`MirroredStrategy`).
# - Intel's [bfloat16 guide for TensorFlow](https://www.intel.com/content/www/us/en/developer/articles/guide/getting-started-with-automixedprecisionmkl.html):
#   which CPUs gain from bfloat16 (those with AMX or AVX512-BF16).
#
# **Where to go next**
#
# - Heusel et al. (2017), FID, [arXiv:1706.08500](https://arxiv.org/abs/1706.08500): KID's better-known
#   cousin, biased on small sets.
# - Parmar et al. (2022), *On Aliased Resizing and Surprising Subtleties in GAN Evaluation*,
#   [arXiv:2104.11222](https://arxiv.org/abs/2104.11222): how resizing and JPEG choices move FID and KID.
# - The [NVIDIA T4 data sheet](https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf),
#   source of the peaks in `perf.PEAK_FLOPS`, against which your measured steps are compared.
