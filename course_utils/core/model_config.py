"""The settings type every model (and every lesson) shares: frozen, with three profiles, stored by runs.

Profiles (:data:`PROFILES`):

* **learner** the default on a GPU: the papers' networks and losses, sized so that each training
  run of a lesson fits in 20 minutes of a Colab T4 by the course's estimate (``python -m
  course_utils costs``);
* **paper**   the papers' settings (image size, steps, schedule), for long checkpointed runs;
* **smoke**   tiny sizes and step counts, so CI and CPUs run every cell in seconds.

``COURSE_PROFILE=learner|paper|smoke`` picks one (``COURSE_SMOKE=1`` is an alias of smoke); with
neither set, ``current()`` takes *learner* when TensorFlow sees a GPU and *smoke* when it does not.
``COURSE_STEPS=N`` (``make check-full``) cuts every step count of learner or paper to at most ``N``
(:func:`with_course_steps`; profile ``"learner-cutN"``); each class says how in ``_cut(limit)``.
A model's subclass of :class:`ModelConfig` is also the command line's: :func:`add_flags` makes one
flag per field.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, TypeVar

#: Adam's rate and beta_1 in all three papers (Radford et al. 2016, Isola et al. 2017, Zhu et al. 2017),
#: written once: the configs' defaults and the trainers' default optimizers.
LEARNING_RATE = 2e-4
BETA_1 = 0.5

#: The profiles every model's and every lesson's settings have, in the order lesson 00 shows them.
PROFILES = ("learner", "paper", "smoke")

C = TypeVar("C", bound="ModelConfig")
P = TypeVar("P", bound="Profiled")


def option(default: Any, help: str, *, flag: str | None = None, choices: tuple | None = None,
           same_run: bool = True, cli: bool = True) -> Any:
    """A settings field: its default, and what the command line's flag for it says.

    ``same_run=False``: the field may change when a run is resumed (how often to save, the target
    step of a constant rate); ``cli=False``: a lesson's field that the command line does not take;
    ``flag``: another spelling of the flag (``--data`` for ``dataset``).
    """
    return field(default=default, metadata={"help": help, "flag": flag, "choices": choices,
                                            "same_run": same_run, "cli": cli})


@functools.lru_cache(maxsize=1)
def gpu_visible() -> bool:
    """True when TensorFlow sees a GPU (asked once; it reads the devices without initialising them)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def profile_name() -> str:
    """The profile lessons run: ``COURSE_PROFILE``, else ``COURSE_SMOKE``, else learner on a GPU, smoke on a CPU.

    Raises:
        ValueError: ``COURSE_PROFILE`` names no profile, or contradicts ``COURSE_SMOKE=1``.
    """
    raw = os.environ.get("COURSE_PROFILE", "").strip().lower()
    smoke_raw = os.environ.get("COURSE_SMOKE", "").strip().lower()
    smoke = smoke_raw in {"1", "true", "yes"}
    if raw:
        if raw not in PROFILES:
            raise ValueError(f"COURSE_PROFILE={raw!r} is not a profile: use one of {', '.join(PROFILES)} "
                             "(or unset it: learner on a GPU, smoke without one).")
        if smoke and raw != "smoke":
            raise ValueError(f"COURSE_PROFILE={raw} and COURSE_SMOKE=1 disagree: COURSE_SMOKE=1 means "
                             "COURSE_PROFILE=smoke. Unset one of them.")
        return raw
    if smoke:
        return "smoke"
    if smoke_raw in {"0", "false", "no"}:
        return "learner"
    return "learner" if gpu_visible() else "smoke"


def course_steps() -> int | None:
    """``COURSE_STEPS`` as a positive int, or None when unset or empty (no cut).

    ``COURSE_STEPS=N`` runs the learner or paper profile (their sizes, the papers' widths, the real
    datasets) with every training loop cut to at most ``N`` steps: what ``make check-full`` runs, so that every
    cell a Colab learner meets has run here first. It never changes the smoke profile.

    Raises:
        ValueError: the variable is set to something other than a whole number >= 1.
    """
    raw = os.environ.get("COURSE_STEPS", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"COURSE_STEPS must be a whole number >= 1 (the most steps any training loop runs), "
                         f"got {raw!r}. Unset it to run the profile uncut.")
    return value


def cut_interval(interval: int, total_steps: int) -> int:
    """A checkpoint / sample interval for a run cut to ``total_steps`` steps.

    The interval shrinks with the run so that the event still happens at least twice (once in
    the middle, once at the end), which is what a cut run must exercise; never grows.
    """
    return max(1, min(interval, total_steps // 2))


def cut_epochs(epochs: int, steps_per_epoch: int | None, limit: int,
               decay_epochs: int | None = None) -> dict[str, int]:
    """Epochs, steps per epoch (and decaying epochs) for at most ``limit`` steps in all.

    As many epochs as fit with at least 2 steps each (never more than ``epochs``), the steps
    shared evenly, and the decaying share of the epochs kept in proportion (at least one when the
    schedule had any, at least one constant epoch when it had any). ``steps_per_epoch=None``
    (the whole dataset) counts as large.
    """
    n_epochs = max(1, min(epochs, limit // 2))
    per_epoch = max(1, limit // n_epochs)
    if steps_per_epoch is not None:
        per_epoch = min(per_epoch, steps_per_epoch)
    out = {"epochs": n_epochs, "steps_per_epoch": per_epoch}
    if decay_epochs is not None:
        decay = round(decay_epochs * n_epochs / epochs) if epochs else 0
        if decay_epochs > 0:
            decay = max(1, decay)
        if decay_epochs < epochs and n_epochs > 1:
            decay = min(decay, n_epochs - 1)
        out["decay_epochs"] = min(decay, n_epochs)
    return out


def with_course_steps(cfg: P) -> P:
    """``cfg`` with every step count cut to ``COURSE_STEPS`` (learner and paper only); else ``cfg`` itself.

    What ``current()`` hands a lesson. Only step counts, epochs and the intervals that depend on
    them change (the class's ``_cut``): image sizes, widths, blocks, datasets and every branch stay
    the profile's.
    """
    limit = course_steps()
    if limit is None or cfg.is_smoke:
        return cfg
    # The profile says it is cut, so that run folders named after it never mix with a real run's.
    return dataclasses.replace(cfg, profile=f"{cfg.profile}-cut{limit}", **cfg._cut(limit))


@dataclass(frozen=True)
class Profiled:
    """Base class: the field defaults are the papers' settings; ``paper()``, ``learner()``, ``smoke()``,
    ``of(profile)`` and ``current()`` construct them."""

    profile: str = option("paper", "the profile these settings came from", cli=False, same_run=False)

    @classmethod
    def paper(cls: type[P]) -> P:
        return cls()

    @classmethod
    def learner(cls: type[P]) -> P:
        return dataclasses.replace(cls(), profile="learner", **cls._learner_overrides())

    @classmethod
    def smoke(cls: type[P]) -> P:
        return dataclasses.replace(cls(), profile="smoke", **cls._smoke_overrides())

    @classmethod
    def of(cls: type[P], profile: str) -> P:
        """The settings of ``profile`` (one of :data:`PROFILES`)."""
        if profile not in PROFILES:
            raise ValueError(f"{profile!r} is not a profile: use one of {', '.join(PROFILES)}.")
        return getattr(cls, profile)()

    @classmethod
    def current(cls: type[P]) -> P:
        """The profile of :func:`profile_name` (learner and paper cut by ``COURSE_STEPS``)."""
        return with_course_steps(cls.of(profile_name()))

    @classmethod
    def _learner_overrides(cls) -> dict:
        return {}

    @classmethod
    def _smoke_overrides(cls) -> dict:
        return {}

    def _cut(self, limit: int) -> dict[str, Any]:
        """The fields ``COURSE_STEPS=limit`` changes (its step counts and their intervals only)."""
        raise TypeError(f"No COURSE_STEPS rule for {type(self).__name__}: give it a _cut method.")

    @property
    def is_smoke(self) -> bool:
        return self.profile == "smoke"

    @property
    def starts_fresh(self) -> bool:
        """Smoke and cut (``COURSE_STEPS``, profile ``learner-cutN``) runs delete their run folder first:
        they are checks, not work to resume."""
        return self.is_smoke or "-cut" in self.profile


@dataclass(frozen=True)
class ModelConfig(Profiled):
    """The settings of one model, frozen; the field defaults are the paper's (the ``paper`` profile).

    Subclasses override the fields that differ and ``_learner_overrides`` / ``_smoke_overrides``.
    The same object is what a lesson reads, what ``python -m course_utils train`` builds from its
    flags, and what a run folder stores (:meth:`to_json`), so resuming compares like with like.
    """

    image_size: int = option(256, "side of the square images, a power of two")
    batch_size: int = option(1, "images per step (batch 1 as in the papers)")
    filters: int = option(64, "base width of the networks (64, the papers'; 8 for quick CPU runs)")
    learning_rate: float = option(LEARNING_RATE, "Adam learning rate (the papers')")
    beta_1: float = option(BETA_1, "Adam's beta_1 (the papers')")
    precision: str = option("float32", "Keras dtype policy: float32, mixed_float16 (T4/V100/A100) or "
                            "mixed_bfloat16 (TPU, A100)", choices=("float32", "mixed_float16", "mixed_bfloat16"))
    seed: int = option(0, "seed of weights, data order, augmentation and noise")

    #: True when the architecture takes one image size only (the DCGAN's 28x28 digits).
    fixed_image_size: ClassVar[bool] = False

    # --- a run folder stores it ---
    def to_json(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls: type[C], stored: Mapping[str, Any]) -> C:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(stored) - names)
        if unknown:
            raise ValueError(f"The stored settings name fields {cls.__name__} does not have: {', '.join(unknown)}. "
                             "The run was written by another version or model; train into a new folder.")
        defaults = cls()   # a tuple field comes back from JSON as a list: make it a tuple again
        return cls(**{k: tuple(v) if isinstance(getattr(defaults, k), tuple) and isinstance(v, list) else v
                      for k, v in stored.items()})

    def identity(self) -> dict[str, Any]:
        """The fields that decide what a training step does (all but ``same_run=False`` ones), JSON-ready:
        what a run stores and a resumed run must match (:func:`course_utils.tools.runs.check_resume`)."""
        fields = {f.name for f in dataclasses.fields(self) if f.metadata.get("same_run", True)}
        return {k: v for k, v in self.to_json().items() if k in fields}


# ===========================================================================
# Command-line flags generated from the fields
# ===========================================================================
def _flag_type(f: dataclasses.Field) -> Callable[[str], Any]:
    kind = str(f.type).replace(" ", "")
    base = kind.split("|")[0]
    convert = {"int": int, "float": float, "str": str, "bool": _boolean}.get(base, str)
    if "None" in kind.split("|"):
        return lambda text: None if text.lower() == "none" else convert(text)
    return convert


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "1", "yes")


def add_flags(parser: argparse.ArgumentParser, config: type[ModelConfig]) -> None:
    """One flag per command-line field of ``config`` (``image_size`` -> ``--image-size``), typed from the
    field's annotation, with its help and the paper's default. A flag left out is absent from the
    parsed namespace (see :func:`given`)."""
    paper = config.paper()
    for f in dataclasses.fields(config):
        if not f.metadata.get("cli", True) or f"--{f.name.replace('_', '-')}" in parser._option_string_actions:
            continue   # a lesson's field, or one the command already takes (train's --steps)
        flags = [f"--{f.name.replace('_', '-')}"] + ([f.metadata["flag"]] if f.metadata.get("flag") else [])
        default = getattr(paper, f.name)
        parser.add_argument(*flags, dest=f.name, type=_flag_type(f), choices=f.metadata.get("choices"),
                            default=argparse.SUPPRESS, metavar=f.name.upper(),
                            help=f"{f.metadata.get('help', '')} (default: {default})")


def given(args: argparse.Namespace, config: type[ModelConfig]) -> dict[str, Any]:
    """The fields of ``config`` given on the command line, by name."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(config) if hasattr(args, f.name)}


