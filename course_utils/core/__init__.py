"""The core a learner reads: layers, networks, losses, training steps and trainers, data.

Each model has one module (:mod:`~course_utils.core.dcgan`, :mod:`~course_utils.core.pix2pix`,
:mod:`~course_utils.core.cyclegan`) holding its configuration, its profiles and its registration in
:mod:`~course_utils.core.registry`. Nothing here imports the lesson support or the tools.
"""
