# %% [markdown]
# # 00 · Setup
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/00_setup.ipynb)
#
# Before we train anything, we make sure the machine is ready. This lesson is short.
#
# By the end of it you will be able to:
#
# - open any lesson of this course in Google Colab and install its helper package;
# - check that your runtime has a GPU, and switch to one if it does not;
# - choose between the three **profiles**: learner (a GPU afternoon), paper and smoke (CPUs).

# %% [markdown]
# ## 1. Where are we running?
#
# The lessons run in two places:
#
# - **Google Colab**, with a free GPU. This is where you train for real.
# - **Your own machine** (or the course's CI), where the package is already installed
#   from a clone of the repository (the README says how).
#
# Colab loads a module called `google.colab` into every notebook, so its presence tells us
# which case we are in.

# %%
import sys

IN_COLAB = "google.colab" in sys.modules
print("Running in Colab" if IN_COLAB else "Running outside Colab")

# %% [markdown]
# ## 2. Install the course's helper package
#
# Every lesson imports small, tested pieces from `course_utils`: model builders, losses,
# data loaders, trainers and plotting. On Colab we install it straight from the
# repository, at a **pinned release tag**, so that the lesson you read and the code it
# imports always match. The package carries the small datasets the quick runs use, so nothing
# else is fetched.
#
# Colab's TensorFlow, Keras and NumPy are built to work together, and replacing one of them
# can break `import tensorflow`. So the cell installs in two steps: first the package alone
# (`--no-deps`), then `install.install_requirements()` adds only what is missing, and never a
# TensorFlow, Keras or NumPy. If the runtime's versions are too old for the course, it stops
# with a message that says so; if `pip` fails, you see `pip`'s own explanation.
#
# Every lesson starts with this same cell.

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
tf = course.runtime.import_tensorflow()   # without TensorFlow's start-up lines on a CPU runtime

print("course_utils from", course.config.REPO_URL, "at", course.config.PINNED_REF)

# %% [markdown]
# ## 3. Check the versions
#
# The course is written for TensorFlow 2.16 or newer with Keras 3. Note what you have:
# if something behaves differently from the lesson, these numbers are the first thing to
# compare.

# %%
import platform

import keras
import tensorflow as tf

versions = {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__}
print(versions)
assert int(keras.__version__.split(".")[0]) >= 3, "These lessons need Keras 3 (TensorFlow 2.16 or newer)."

# %% [markdown]
# ## 4. Is there a GPU?
#
# Training at the papers' size, 256×256, is heavy. The course counts the arithmetic of one training
# step and has timed steps on a 2-core CPU (`docs/performance.md`). The GPU times below are
# **estimates**, not measurements: the step's count of floating-point operations ([FLOPs](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#flop)) divided by
# the GPU's peak speed from its data sheet. That gives a floor that real training does not reach.
# Lesson 04 measures the step on *your* runtime.
#
# - one **Pix2Pix** step costs about 75 GFLOP (billion floating-point operations): measured at about
#   1.3 s on the 2-core CPU; on a Colab T4 GPU it could not take less than about 0.01 s, even at the
#   T4's [float32 peak](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#peak-flops) of 8.1 TFLOP/s (trillion operations per second);
# - one **CycleGAN** step trains four networks and costs about 1.9 TFLOP, 25 times more: some 15 s
#   on the same CPU (estimated from its measured speed at 128×128), and at least 0.23 s on a T4 at
#   that peak.
#
# Thousands of such steps are out of reach on a CPU, so for the lessons' real training you want a GPU.
#
# If the cell below says there is none and you are in Colab, open the menu
# **Runtime → Change runtime type**, pick **T4 GPU**, save, and run the notebook again.
# (TPU runtimes do not work: TensorFlow is not installed on them.)

# %%
gpus = course.runtime.check_gpu()
print(f"{len(gpus)} GPU(s) visible to TensorFlow")

# %% [markdown]
# ## 5. Three profiles: learner, paper, smoke
#
# Each lesson reads its settings from one frozen dataclass with three profiles. They keep the
# papers' networks and losses; sizes, step counts, the dataset and the precision differ:
#
# | profile | for | what it trains |
# |---|---|---|
# | **learner** | you, on a Colab GPU (the default there) | every training run of a lesson in at most 20 T4 minutes, a lesson's runs in 30 |
# | **paper** | long runs you checkpoint to Drive and resume (lesson 04, the capstone) | the papers' settings: 256×256, CycleGAN's 200 epochs (the table below gives the T4 time) |
# | **[smoke](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#smoke-profile)** | CPUs and the course's automatic checks (the default without a GPU) | small images and networks, a few hundred steps, the small datasets shipped with the course |
#
# The variable `COURSE_PROFILE` picks one (`learner`, `paper` or `smoke`); without it a lesson takes
# *learner* when it sees a GPU and *smoke* when it does not. The next cell prints, from the course's own
# estimate, what each lesson's training costs on a T4 in both GPU profiles. The estimate is the FLOP
# count of a step divided by a share of the T4's peak; the share was checked against step times
# people published for these networks. On a GPU, each training cell also prints its *measured* step time
# after 100 steps.

# %%

print(course.costs.format_table(course.costs.cost_table()))

# %% [markdown]
# And the settings themselves: each lesson's image size and length in all three profiles.

# %%
for lesson, settings in course.costs.LESSONS.items():
    for profile in course.config.PROFILES:
        c = settings.of(profile)
        size = f"{c.image_size}x{c.image_size}" if hasattr(c, "image_size") else "28x28"
        length = f"{c.steps:,} steps" if hasattr(c, "steps") else f"{c.epochs} epochs"
        print(f"{lesson} {settings.__name__:20s} {profile:7s}: {size:>9} images, {length}, "
              f"dataset {getattr(c, 'dataset', None) or c.data}")

# %% [markdown]
# And this is the one the lessons will use right now:

# %%
cfg = course.config.Pix2PixConfig.current()
print("profile:", cfg.profile)

# %% [markdown]
# To pick a profile yourself, set the variable *before* importing anything, for example in a
# first cell:
#
# ```python
# import os; os.environ["COURSE_PROFILE"] = "smoke"
# ```
#
# or from a terminal: `COURSE_PROFILE=smoke jupyter notebook`.
#
# ## 6. A first look at the data
#
# When the repository is cloned, the smoke datasets are in `data/`. They are tiny and
# made by our own code, so they are free to use. On Colab the lessons download the real
# datasets instead (MNIST, facades, horse2zebra).

# %%
if not IN_COLAB:

    pair_files = sorted((course.data.shipped_paired_path() / "train").glob("*.jpg"))[:4]
    print(f"{len(list((course.data.shipped_paired_path() / 'train').glob('*.jpg')))} training pairs in", course.data.shipped_paired_path())
    pairs = [course.data.normalize(tf.io.decode_jpeg(tf.io.read_file(str(p)))) for p in pair_files]  # (H, 2W, 3) in [-1, 1]
    fig = course.plotting.show_images(pairs, titles=[p.name for p in pair_files], size=3.5)
else:
    print("On Colab the lessons download the real datasets; the shipped ones stay in the repository.")

# %% [markdown]
# Each picture holds an input on the left and its target on the right: the layout of the
# Pix2Pix datasets, which lesson 02 explains.
#
# **You are ready.** Next: [01 · GAN basics](01_gan_basics.ipynb).

# %% [markdown]
# ## Further reading
#
# - [Colab's FAQ](https://research.google.com/colaboratory/faq.html): what a runtime is, which
#   GPUs the free tier offers, and its usage limits.
# - TensorFlow guide, [Use a GPU](https://www.tensorflow.org/guide/gpu): how TensorFlow finds
#   GPUs and places work on them; [Install TensorFlow with pip](https://www.tensorflow.org/install/pip)
#   to set up your own machine.
# - [Keras 3](https://keras.io/keras_3/): what changed from the Keras that shipped inside
#   TensorFlow 2.15 and earlier.
# - The [NVIDIA T4 data sheet](https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf),
#   source of the 8.1 TFLOP/s float32 peak used for the estimates above.
# - The course's [glossary](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md): every term the lessons use, in a sentence or two.
