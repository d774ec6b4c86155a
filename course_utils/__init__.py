"""Support package for the image-to-image GAN course.

The lessons import small, tested pieces from here so that each notebook can
spend its words on the idea it teaches:

- :mod:`course_utils.config`   lesson settings (learner, paper and smoke profiles), Colab detection
- :mod:`course_utils.runtime`  TensorFlow started quietly, the GPU check, ``start_lesson``
- :mod:`course_utils.counts`   the one check of every "how many" argument (``positive_int``)
- :mod:`course_utils.images`   the image convention: ranges, conversions, the range check, SSIM's size rule
- :mod:`course_utils.layers`   reflection padding, packing, conv blocks (instance norm written out)
- :mod:`course_utils.models`   DCGAN, U-Net, PatchGAN (and its receptive field), ResNet, the small CycleGAN nets
- :mod:`course_utils.losses`   adversarial (BCE / least squares), L1, cycle and identity losses
- :mod:`course_utils.data`     shipped mini datasets, real-dataset loaders, tf.data pipelines
- :mod:`course_utils.archives` the pix2pix downloads, your own dataset as a .zip / .tar.gz
- :mod:`course_utils.files`    image and archive suffixes, a file's SHA-256, atomic writes
- :mod:`course_utils.inference` running trained generators: per-image batch norm, exports
- :mod:`course_utils.pretrained` the CycleGAN/pix2pix authors' trained generators in the course's networks
- :mod:`course_utils.train`    each model's losses, the explicit steps, ``GAN``, ``Pix2Pix``, ``CycleGAN``
- :mod:`course_utils.runs`     checkpoints, callbacks, logs, resume checks, ``run_training``
- :mod:`course_utils.plotting` figures; :mod:`course_utils.diagrams` the lessons' diagrams;
  :mod:`course_utils.widgets` interactive explorers
- :mod:`course_utils.checkers` checking a learner's function, model or training step against the course's
- :mod:`course_utils.exercises` the registered exercises (:mod:`course_utils.exercise_sets`, one module a lesson)
- :mod:`course_utils.labs`     the lessons' labs: several variants trained and scored, beside the longer runs
- :mod:`course_utils.metrics`  L1, PSNR, SSIM, KID, correspondence error, mode coverage
- :mod:`course_utils.evaluation` metrics.json and picture reports of a trained generator
- :mod:`course_utils.ring`     lesson 01's ring of Gaussians: the data, plain vs packed, its pictures
- :mod:`course_utils.perf`     FLOP accounting, GPU peaks and step timing
- :mod:`course_utils.bench`    the instructor's benchmark (``python -m course_utils bench``)
- :mod:`course_utils.registry` the models by name (modules dcgan, pix2pix, cyclegan: each model in one place)
- :mod:`course_utils.distribute` MirroredStrategy on any machine (two logical CPUs), per-replica batch
- :mod:`course_utils.capstone` lesson 05: dataset counts, beating a baseline, failure cases, write-up

Submodules are imported on demand (``from course_utils import models``) so that
``import course_utils`` stays cheap and does not start TensorFlow.
"""

import os as _os

__version__ = "0.1.0"

# Quiet lessons. TensorFlow's C++ runtime logs to stderr: on a CPU runtime a failed cuInit,
# grappler's "remapper failed" and other lines a learner cannot act on, some marked as errors.
# Level 3 keeps only fatal C++ messages; real failures still raise Python exceptions, and
# Python warnings (Keras, TensorFlow's Python logger, ours) are untouched. It only counts if
# set before TensorFlow is imported, which is why every lesson imports course_utils first.
# To see everything: set TF_CPP_MIN_LOG_LEVEL=0 before importing course_utils.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
