# %% [markdown]
# # 04 Going further: training on a Colab GPU
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/04_training_on_colab_further.ipynb)
#
# Optional studies around [lesson 04](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/04_training_on_colab.ipynb), for the curious: the course's loader without
# a cache, bfloat16 on CPUs, why resuming on another number of GPUs changes the data, and how FID's
# bias grows with the number of features. Nothing here trains a GAN; it runs in a minute or two.

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

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from course_utils import data, metrics, models, perf

# %% [markdown]
# ## 1. The course's loader without a cache
#
# Lesson 04 timed a pipeline on 256x256 JPEGs with a cache. `data.pipeline_throughput` times the
# course's paired loader on facades-like 256x512 JPEGs **without** one: every image is read and
# decoded every time, the hard case of a dataset too large for memory. We compare with what the
# GPU could consume at most: a 256x256 CycleGAN step at the T4's fp16 peak.

# %%
pipe = data.pipeline_throughput(image_size=256, batch_size=1, n_batches=20 if cfg.is_smoke else 200,
                                repeats=2 if cfg.is_smoke else 3, warmup_batches=5 if cfg.is_smoke else 20)
g256, d256 = (perf.count_macs(models.resnet_generator(256)),          # the paper's networks, MACs per image
              perf.count_macs(models.patchgan_discriminator(256, target_channels=None, norm="instance")))
paper_flops = perf.step_flops({"generator_g": g256, "generator_f": g256, "discriminator_x": d256,
                               "discriminator_y": d256}, course.cyclegan.POOL_PASSES, 1)   # one step, batch 1
t4 = perf.PEAK_FLOPS["T4"]
print(f"course loader, no cache (facades-like): {pipe['images_per_second']:.0f} images/s "
      f"(runs: {', '.join(f'{r:.0f}' for r in pipe['runs'])})")
print(f"a 256x256 CycleGAN step at the T4's fp16 peak would consume at most {t4.fp16 / paper_flops:.0f} images/s")

# %% [markdown]
# Decoding in parallel scales with the free CPU cores: on a 2-core machine shared with other work
# it can gain nothing. As long as the first number is the larger, prefetching hides the CPU time.
# With many GPUs, large batches or expensive augmentation, measure again.

# %% [markdown]
# ## 2. bfloat16 on a CPU
#
# Lesson 04 picks bfloat16 for mixed precision on a CPU, because a CPU has no float16 units. It
# pays off only on CPUs with bfloat16 instructions (AVX512-BF16, or AMX: Intel Xeons from Cooper
# Lake and Sapphire Rapids on, AMD Zen 4). Elsewhere TensorFlow converts to and from float32
# around each operation, which is usually *slower* than plain float32. Linux lists the
# instructions of this machine in `/proc/cpuinfo`:

# %%
cpu_flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
print("CPU bfloat16 instructions:", sorted(cpu_flags & {"avx512_bf16", "amx_bf16"}) or "none reported")

# %% [markdown]
# ## 3. Resuming on another number of replicas
#
# `course.runs.run_training` finds its place in the data by skipping as many batches as steps were done
# (`dataset.repeat().skip(step)`). That is exact as long as a step takes the same batch. Resume a
# run made on one GPU on two, with a global batch of two images, and the skipped batches are
# twice as large: the resumed run lands elsewhere in the data. Here with image numbers standing in
# for images, a run stopped after 4 steps of batch 1:

# %%
images = tf.data.Dataset.range(12)                         # image numbers 0..11 in a fixed order
for global_batch in (1, 2):
    resumed = images.batch(global_batch).repeat().skip(4).take(3)
    print(f"global batch {global_batch}: the next steps see images", [b.numpy().tolist() for b in resumed])

# %% [markdown]
# With one replica the run continues at image 4, as the interrupted run would have. With two it
# skips 8 images and sees them in pairs. The weights, Adam's moments, the step and the schedule are
# restored exactly either way; only the data stream differs. For an exact continuation, resume on
# the same number of replicas as the run that wrote the checkpoint.

# %% [markdown]
# ## 4. FID's bias and the number of features
#
# Lesson 04 showed FID's bias falling with the number of images. It also grows with the number of
# features $d$: the covariance has $d(d+1)/2$ entries to estimate, and each one's noise adds
# distance. Two samples of 50 points from the same Gaussian, at several $d$ (InceptionV3 has 2048):

# %%
rng = np.random.default_rng(cfg.seed)
DIMS, N, DRAWS = (4, 16, 64, 256), 50, 5
fid_d = {d: [metrics.frechet_inception_distance(rng.normal(size=(N, d)), rng.normal(size=(N, d)))
             for _ in range(DRAWS)] for d in DIMS}
kid_d = {d: [metrics.kid_from_features(rng.normal(size=(N, d)), rng.normal(size=(N, d))).value
             for _ in range(DRAWS)] for d in DIMS}
for d in DIMS:
    print(f"d = {d:>3}: FID {np.mean(fid_d[d]):8.2f} +/- {np.std(fid_d[d]):6.2f}   "
          f"KID {np.mean(kid_d[d]):+.4f} +/- {np.std(kid_d[d]):.4f}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.errorbar(DIMS, [np.mean(fid_d[d]) for d in DIMS], yerr=[np.std(fid_d[d]) for d in DIMS], marker="o", capsize=3)
ax.set(xscale="log", yscale="log", xticks=DIMS, xticklabels=DIMS, xlabel="features d",
       ylabel="FID (true value 0)", title=f"FID of two samples of {N} from one Gaussian")
plt.show()

# %% [markdown]
# The true distance is 0 at every $d$. FID's estimate grows with $d$, roughly in proportion to it,
# while KID stays centred on 0. That is why FIDs are only comparable with the same features and the
# same number of images. Chong and Forsyth (2020), *Effectively Unbiased FID and Inception Score and
# where to find them* ([arXiv:1911.07023](https://arxiv.org/abs/1911.07023)), extrapolate FID to an
# infinite number of images to remove the bias.
