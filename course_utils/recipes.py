"""The course's three models, each written down once: networks, trainer, data and defaults.

A *recipe* answers, for one model name, the four questions every tool of the course asks:

1. **Networks.** Which architectures, at which image size and width:
   :func:`build_networks` returns them keyed by the names the trainer takes.
2. **Trainer.** Which :mod:`course_utils.train` trainer trains them, with which optimizers and
   loss form: :func:`build_trainer`.
3. **Data.** Which shipped dataset stands in for the real one, and which loader of
   :mod:`course_utils.data` reads a folder of it: :func:`dataset_root` and :func:`training_dataset`.
4. **Defaults.** The settings ``python -m course_utils train`` uses when an option is left out
   (the papers' training setup), and, where they differ, what ``python -m course_utils bench``
   times (``bench_image_size``, ``bench_batch_size``).

The command line (:mod:`course_utils.cli`), the benchmark (:mod:`course_utils.bench`), the
reference-weights script and the tests all read from here, so a model means the same thing
everywhere. :data:`MODELS` is the one list of model names.

>>> from course_utils import recipes
>>> recipes.recipe("pix2pix").image_size, recipes.recipe("cyclegan").bench_image_size
(256, 128)
>>> nets = recipes.build_networks("pix2pix", image_size=32, filters=4)      # doctest: +SKIP
>>> trainer = recipes.build_trainer("pix2pix", nets, seed=0)                # doctest: +SKIP

Importing this module is cheap: TensorFlow starts only when networks, trainers or data are built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

#: The model names, in the order of the lessons.
MODELS = ("gan", "pix2pix", "cyclegan")


@dataclass(frozen=True)
class Recipe:
    """What one model name means. Every field is a plain value; the builders below read them."""

    name: str
    paper: str
    #: The networks :func:`build_networks` returns, keyed as the trainer's constructor takes them.
    networks: tuple[str, ...]
    #: The class in :mod:`course_utils.train` that trains them.
    trainer: str
    #: What the training data is, and where the offline stand-in comes from.
    data: str
    #: The folders of a dataset folder that hold its training images (empty: not a folder dataset).
    train_folders: tuple[str, ...]

    # --- defaults of ``python -m course_utils train`` (the papers' training setup) ---
    image_size: int
    batch_size: int
    filters: int = 64
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    loss_form: str = "bce"
    #: CycleGAN's generators: "transpose" (the paper's) or "resize" (resize-then-convolve, 03_cyclegan_further).
    upsample: str = "transpose"
    #: True when the architecture takes one image size only (the DCGAN's 28x28 digits).
    fixed_image_size: bool = False

    # --- defaults of ``python -m course_utils bench`` (what is timed on a 2-core CPU) ---
    bench_image_size: int = 256
    bench_batch_size: int = 1


RECIPES: dict[str, Recipe] = {
    # Radford et al. 2016 as the TensorFlow DCGAN tutorial trains it: batch 256 there (timed by the
    # benchmark), 64 by default on the command line (the shipped digits are 3,000 images);
    # Adam(1e-4) with Keras's beta_1 = 0.9, as in the tutorial.
    "gan": Recipe(
        name="gan", paper="DCGAN (Radford et al. 2016), as in the TensorFlow DCGAN tutorial",
        networks=("generator", "discriminator"), trainer="GAN",
        data="28x28 digits: 'shipped' (data/digits, offline) or 'mnist' (downloaded)", train_folders=(),
        image_size=28, batch_size=64, learning_rate=1e-4, beta_1=0.9, fixed_image_size=True,
        bench_image_size=28, bench_batch_size=256),
    # Isola et al. 2017: U-Net + conditional 70x70 PatchGAN, batch 1, Adam(2e-4, 0.5), lambda_L1 = 100.
    "pix2pix": Recipe(
        name="pix2pix", paper="Pix2Pix (Isola et al. 2017)",
        networks=("generator", "discriminator"), trainer="Pix2Pix",
        data="paired A|B files in train/ (data/paired when 'shipped')", train_folders=("train",),
        image_size=256, batch_size=1),
    # Zhu et al. 2017: two ResNet generators + two PatchGANs with instance norm, least-squares losses,
    # batch 1, Adam(2e-4, 0.5). The benchmark times 128x128, where a CPU step takes seconds, not tens.
    "cyclegan": Recipe(
        name="cyclegan", paper="CycleGAN (Zhu et al. 2017)",
        networks=("generator_g", "generator_f", "discriminator_x", "discriminator_y"), trainer="CycleGAN",
        data="unpaired images in trainA/ and trainB/ (data/unpaired when 'shipped'), or a TFDS cycle_gan config",
        train_folders=("trainA", "trainB"),
        image_size=256, batch_size=1, loss_form="lsgan", bench_image_size=128),
}


def recipe(name: str) -> Recipe:
    """The :class:`Recipe` of ``name`` (one of :data:`MODELS`)."""
    if name not in RECIPES:
        known = "; ".join(f"{r.name!r}: {r.paper}" for r in RECIPES.values())
        raise ValueError(f"Unknown model {name!r}. The course has three models: {known}.")
    return RECIPES[name]


# ===========================================================================
# 1. Networks
# ===========================================================================
def build_networks(name: str, image_size: int | None = None, filters: int | None = None,
                   n_blocks: int | None = None, upsample: str | None = None) -> dict[str, Any]:
    """The networks of model ``name`` with the papers' architectures, keyed as its trainer takes them.

    * ``gan``: the DCGAN tutorial's generator (base width ``4 * filters``, 100-long noise) and
      discriminator (``filters``), on 28x28 digits.
    * ``pix2pix``: the U-Net generator and the conditional PatchGAN (batch norm).
    * ``cyclegan``: two ResNet generators (``n_blocks`` residual blocks: the paper's 9 at 256 and
      above, 6 below) and two PatchGANs with instance norm (:func:`course_utils.models.cyclegan_networks`).
      ``upsample``: how the generators grow the image back, the paper's ``"transpose"`` by default
      or ``"resize"`` (resize-then-convolve, Odena et al. 2016).

    ``image_size`` and ``filters`` default to the recipe's (the command line's). Build them under
    the precision you will train in (``with train.precision(policy): ...``).
    """
    from course_utils import models

    r = recipe(name)
    size = r.image_size if image_size is None else image_size
    width = r.filters if filters is None else filters
    if n_blocks is not None and name != "cyclegan":
        raise ValueError(f"n_blocks is the number of residual blocks of CycleGAN's generators; {name} has none.")
    if upsample is not None and name != "cyclegan":
        raise ValueError(f"upsample is how CycleGAN's generators upsample; {name} has no such option.")
    if r.fixed_image_size and size != r.image_size:
        raise ValueError(f"The DCGAN works on {r.image_size}x{r.image_size} digits; got image_size={size}. "
                         f"Leave the image size out.")
    if name == "gan":
        return {"generator": models.dcgan_generator(base_filters=4 * width),
                "discriminator": models.dcgan_discriminator(base_filters=width)}
    if name == "pix2pix":
        return {"generator": models.unet_generator(size, filters=width),
                "discriminator": models.patchgan_discriminator(size, filters=width)}
    return models.cyclegan_networks(size, filters=width, n_blocks=n_blocks, upsample=upsample or r.upsample)


# ===========================================================================
# 2. The trainer
# ===========================================================================
def build_trainer(name: str, networks: Mapping[str, Any], *, learning_rate: Any = None, beta_1: float | None = None,
                  loss_form: str | None = None, seed: int | None = None, jit_compile: bool = False,
                  **trainer_options: Any) -> Any:
    """The compiled :mod:`course_utils.train` trainer of model ``name`` on ``networks``.

    Every network gets its own ``Adam(learning_rate, beta_1)``; ``learning_rate`` may be a number or
    a schedule (CycleGAN's command line passes a ``train.LinearDecay``). Left out, the learning rate,
    ``beta_1`` and the loss form are the recipe's. ``trainer_options`` go to the trainer's
    constructor (``l1_weight`` for Pix2Pix; ``cycle_weight``, ``identity_weight`` and ``pool_size``
    for CycleGAN: the papers' values by default); ``seed`` goes to the trainers that draw random
    numbers of their own (``takes_seed``: GAN's noise, CycleGAN's pools), not to Pix2Pix. Under
    ``mixed_float16`` networks the trainer adds loss scaling by itself.
    """
    import keras

    from course_utils import train

    r = recipe(name)
    if set(networks) != set(r.networks):
        raise ValueError(f"A {name} trainer takes the networks {list(r.networks)}; got {sorted(networks)}. "
                         f"Build them with recipes.build_networks({name!r}, ...).")
    rate = r.learning_rate if learning_rate is None else learning_rate
    momentum = r.beta_1 if beta_1 is None else beta_1
    trainer_class = getattr(train, r.trainer)
    if trainer_class.takes_seed:   # GAN's noise, CycleGAN's pools; Pix2Pix draws no random numbers of its own
        trainer_options = {"seed": seed, **trainer_options}
    trainer = trainer_class(**networks, **trainer_options)
    optimizers = [keras.optimizers.Adam(rate, beta_1=momentum) for _ in r.networks]
    trainer.compile(*optimizers, loss_form=r.loss_form if loss_form is None else loss_form, jit_compile=jit_compile)
    return trainer


def run_learning_rate(name: str, steps: int, learning_rate: float | None = None,
                      stored: Mapping[str, Any] | None = None) -> Any:
    """The learning rate of a command-line run that trains model ``name`` to step ``steps``.

    GAN and Pix2Pix: the recipe's constant rate (or ``learning_rate``). CycleGAN: the paper's
    shape (constant, then linearly to zero) shortened honestly to the run: constant for the first
    half of ``steps``, decaying over the second (a :class:`course_utils.train.LinearDecay`).

    ``stored`` is what a run being resumed stored (:func:`course_utils.runs.read_run_settings`).
    Asked for no more steps than its schedule covers, the run keeps that schedule (stopping early
    must not change the rate of the steps already taken); asked for more, the new schedule is
    returned and :func:`course_utils.runs.check_resume` continues only if that is exact.
    """
    r = recipe(name)
    rate = r.learning_rate if learning_rate is None else learning_rate
    if name != "cyclegan":
        return rate
    from course_utils import train

    constant, decay = steps // 2, steps - steps // 2
    stored_optimizers = ((stored or {}).get("trainer") or {}).get("optimizers") or {}
    for optimizer in stored_optimizers.values():
        plan = optimizer.get("learning_rate")
        if isinstance(plan, Mapping) and plan.get("schedule") == "LinearDecay":
            if steps <= plan["constant_steps"] + plan["decay_steps"]:
                constant, decay = plan["constant_steps"], plan["decay_steps"]
            break
    return train.LinearDecay(rate, constant, decay)


# ===========================================================================
# 3. Data
# ===========================================================================
def dataset_root(name: str, source: str | Path) -> Path:
    """The dataset folder of ``source`` for model ``name``: ``"shipped"`` is the course's offline
    stand-in (``data/paired`` or ``data/unpaired``); a folder or an archive of one is resolved by
    :func:`course_utils.data.dataset_folder` (an archive is unpacked once)."""
    from course_utils import data

    r = recipe(name)
    if not r.train_folders:
        raise ValueError(f"{name} does not read a dataset folder: its data is {r.data}.")
    if str(source) == "shipped":
        return data.shipped_paired_path() if name == "pix2pix" else data.shipped_unpaired_path()
    return data.dataset_folder(source)


def training_dataset(name: str, source: str | Path | None, *, image_size: int, batch_size: int, seed: int | None,
                     direction: str = "AtoB", skip_bad_files: bool = False, tfds: str | None = None) -> Any:
    """The training batches a trainer of model ``name`` fits on, jittered and shuffled as in the papers.

    * ``gan``: ``source`` is ``"shipped"`` or ``"mnist"``; batches of digits.
    * ``pix2pix``: ``(input, target)`` batches from ``train/`` of the dataset folder; ``direction``
      says which half of each file is the input.
    * ``cyclegan``: ``(x, y)`` batches from ``trainA/`` and ``trainB/`` (or the TFDS config ``tfds``,
      with ``source=None``), each domain repeated, since the two rarely hold as many images.
    """
    import tensorflow as tf

    from course_utils import data

    recipe(name)
    if name == "gan":
        return data.load_digits(str(source), batch_size=batch_size, seed=seed)
    if name == "pix2pix":
        return data.load_paired_folder(dataset_root(name, source), "train", image_size=image_size,
                                       batch_size=batch_size, seed=seed, direction=direction,
                                       skip_bad_files=skip_bad_files)
    if tfds:
        ds_a, ds_b = data.load_cycle_gan_tfds(tfds, "train", image_size=image_size, batch_size=batch_size, seed=seed)
    else:
        ds_a, ds_b = data.load_unpaired_folder(dataset_root(name, source), "train", image_size=image_size,
                                               batch_size=batch_size, seed=seed, skip_bad_files=skip_bad_files)
    return tf.data.Dataset.zip((ds_a.repeat(), ds_b.repeat()))
