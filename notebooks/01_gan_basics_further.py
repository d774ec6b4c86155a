# %% [markdown]
# # 01 · GAN basics, going further
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/01_gan_basics_further.ipynb)
#
# Optional reading after [lesson 01](01_gan_basics.ipynb): the derivation behind the minimax game's
# optimum, one-sided label smoothing, why the smoke profile departs from the paper's learning rate,
# what the course measured on the ring and about the update order, and more papers. No exercises; it
# runs in under a minute on a CPU.

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
cfg = course.runtime.start_lesson(course.config.DcganConfig)   # the same settings and seeds as lesson 01

import matplotlib.pyplot as plt
import numpy as np

from course_utils import losses

# %% [markdown]
# ## 1. The best discriminator, and the value of the game at the optimum
#
# For a fixed generator, $V(D, G) = \int \big(p_\text{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\big)\,dx$.
# At each $x$ the integrand has the form $a \log y + b \log(1 - y)$, which is largest at
# $y = a / (a + b)$ (set its derivative $a / y - b / (1 - y)$ to zero). So the best discriminator is
#
# $$D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}$$
#
# (Goodfellow et al. 2014, proposition 1). When $p_g = p_\text{data}$, $D^* = \tfrac12$ everywhere and
# $V = \log\tfrac12 + \log\tfrac12 = -\log 4$: the value lesson 01's loss curves compare against
# ($\mathcal{L}_D = 2 \log 2$ is $-V$). Goodfellow et al. show that $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \,\|\, p_g)$,
# so the generator's best reply minimises the Jensen-Shannon divergence. A numerical check of the
# first step, for $a = 0.7$, $b = 0.2$:

# %%
a, b = 0.7, 0.2
y = np.linspace(1e-4, 1 - 1e-4, 100_001)
best = y[np.argmax(a * np.log(y) + b * np.log(1 - y))]
print(f"argmax of a log y + b log(1 - y): {best:.4f}; a / (a + b) = {a / (a + b):.4f}")

# %% [markdown]
# ## 2. One-sided label smoothing
#
# The course's reference DCGAN (lesson 01, section 11) trains its discriminator with the real label
# 0.9 instead of 1. With label 1, cross-entropy keeps rewarding the discriminator for pushing its logit
# on real digits higher, however sure it already is, and an over-confident discriminator has little to
# teach. [Salimans et al. (2016, section 3.4)](https://arxiv.org/abs/1606.03498) ask it for 0.9. Only the **real** label moves: moving
# the fakes' label too would let the fakes pull the discriminator's best answer toward themselves,
# hence **[one-sided label smoothing](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/glossary.md#one-sided-label-smoothing)**. With a target $t$ for real digits,
#
# $$\mathcal{L}_D = -\,t\log D(x) - (1 - t)\log\bigl(1 - D(x)\bigr) - \log\bigl(1 - D(G(z))\bigr),\qquad t = 0.9 .$$
#
# The real-digit term against the logit: with $t = 1$ it keeps falling; with $t = 0.9$ it is smallest
# at $D = 0.9$, a logit of $\log 9 \approx 2.2$.

# %%
logits = np.linspace(-2, 8, 201).astype("float32")
for target in (1.0, 0.9):
    per_logit = [float(losses.bce_with_logits(target, np.array([value]))) for value in logits]   # real term of L_D
    plt.plot(logits, per_logit, label=f"real label {target}")
plt.axvline(np.log(9), color="grey", linestyle=":", linewidth=1)
plt.xlabel("discriminator's logit on a real digit"), plt.ylabel("its loss")
plt.legend(), plt.title("One-sided label smoothing stops rewarding certainty")
plt.show()

# %% [markdown]
# The course's trainer takes it as an option, `train.GAN(generator, discriminator, real_label=0.9)`.
# What the course measured with it (one seed, at the shipped digits' scale) is in
# [docs/results.md](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/results.md), section "DCGAN ceiling and lesson 05": long smoothed runs ended ahead of
# plain ones, and at the smoke profile's quarter widths long runs levelled off below the course's
# target for recognisable digits where doubled widths passed it, so the reference trains at half the
# tutorial's widths. Treat single-seed differences of a few points as noise.

# %% [markdown]
# ## 3. Why the smoke profile learns faster than the paper
#
# A CPU has minutes, not hours. The smoke profile trains on batches of 32 at twice Radford et al.'s
# rate ($4 \cdot 10^{-4}$): more, cheaper steps that each move the weights further. The course compared
# it with batch 64 at $2 \cdot 10^{-4}$ for the same number of steps (docs/results.md, "The smoke runs'
# length"). The learner and paper profiles keep the paper's rate at the tutorial's batch of 256.

# %% [markdown]
# ## 4. The ring: what else was tried
#
# The seed-by-seed tables of the ring's plain and packed runs, over five seeds, are in
# [docs/results/ring.md](https://github.com/gan-course/image-to-image-gans/blob/v0.1.0/docs/results/ring.md), with the settings tried before the
# lesson's: a constant learning rate instead of the decay, 3,000 steps instead of 1,500, and the plain
# seed-0 run under Colab's TensorFlow version. Two lessons from them: one seed and one step count tell
# you little, and even the TensorFlow version can change a single run's count.
#
# Other remedies against collapse, each tested on rings of Gaussians: **unrolled GANs**
# ([Metz et al. 2017](https://arxiv.org/abs/1611.02163)) let the generator look a few discriminator updates ahead; **VEEGAN**
# ([Srivastava et al. 2017](https://arxiv.org/abs/1705.07761)) adds a network that maps samples back to the noise; **PacGAN**
# ([Lin et al. 2018](https://arxiv.org/abs/1712.04086)) is the packing of lesson 01.

# %% [markdown]
# ## 5. The update order
#
# Lesson 01's step is simultaneous; Goodfellow et al.'s algorithm 1 alternates ($D$ first, then $G$
# against the updated $D$ with fresh noise). `course_utils.lessons.labs.gan.lab_step(..., order="D then G")`
# runs the alternating step. docs/results.md ("Lab: saturating vs non-saturating loss") records an
# earlier measurement of both orders on the ring, five seeds; it has not been repeated on images.

# %% [markdown]
# ## 6. More to read
#
# - Goodfellow (2016), *NIPS 2016 Tutorial: Generative Adversarial Networks*, [arXiv:1701.00160](https://arxiv.org/abs/1701.00160).
# - Ioffe & Szegedy (2015), *Batch Normalization*, [arXiv:1502.03167](https://arxiv.org/abs/1502.03167); Kingma & Ba (2015),
#   *Adam*, [arXiv:1412.6980](https://arxiv.org/abs/1412.6980); Odena et al. (2016), [*Deconvolution and Checkerboard Artifacts*](https://distill.pub/2016/deconv-checkerboard/).
# - Gulrajani et al. (2017), *Improved Training of Wasserstein GANs*, [arXiv:1704.00028](https://arxiv.org/abs/1704.00028).
# - Heusel et al. (2017), the two time-scale update rule and FID, [arXiv:1706.08500](https://arxiv.org/abs/1706.08500).
# - TensorFlow's guides to [autodiff](https://www.tensorflow.org/guide/autodiff) and [`tf.function`](https://www.tensorflow.org/guide/function); Keras's
#   [`Conv2DTranspose`](https://keras.io/api/layers/convolution_layers/convolution2d_transpose/), [`BatchNormalization`](https://keras.io/api/layers/normalization_layers/batch_normalization/),
#   [initializers](https://keras.io/api/layers/initializers/) and [customizing `fit()`](https://keras.io/guides/custom_train_step_in_tensorflow/).
