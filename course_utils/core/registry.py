"""The models the course trains, each registered once under its name, and the settings type they share.

A model is one module (:mod:`course_utils.core.dcgan`, :mod:`course_utils.core.pix2pix`,
:mod:`course_utils.core.cyclegan`) that defines a frozen :class:`ModelConfig` subclass (its settings with
three profiles) and a :class:`ModelSpec` (how to build, feed, time and evaluate it), and calls
:func:`register`. The command line, the benchmark, the cost figures, the evaluation and the
capstone ask :func:`get` for a name and never compare names themselves.

Adding a model: write ``course_utils/<name>.py`` (or any module, as ``tests/toy_model.py`` does)
with its config and spec, ``register`` it, and add its module to :data:`BUILT_IN` if it ships with
the course. ``python -m course_utils train <name> --help`` then lists the flags of its config.

>>> from course_utils import registry
>>> registry.names()
('gan', 'pix2pix', 'cyclegan')
>>> registry.get("pix2pix").config.paper().learning_rate
0.0002
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from course_utils.core.model_config import ModelConfig

#: The modules of the course's own models, imported (and so registered) on first use of the registry.
BUILT_IN = ("course_utils.core.dcgan", "course_utils.core.pix2pix", "course_utils.core.cyclegan")

# ===========================================================================
# The registry
# ===========================================================================
@dataclass(frozen=True)
class ModelSpec:
    """Everything about one model that the tools need, each answered by its own module.

    * ``build_networks(cfg)``: its networks, keyed as its trainer takes them (build them under the
      precision you train in); ``build_trainer(cfg, networks, steps)``: the compiled trainer, its
      learning rate for a run to ``steps`` included.
    * ``load_data(cfg, source)``: ``(training batches, fixed sample inputs)``; ``source`` is a
      :class:`DataSource` (the command line's ``--data`` / ``--tfds`` / ``--skip-bad-files``).
    * ``baseline_step(cfg, networks, jit_compile)``: the tutorial-style ``tf.function`` step the
      benchmark times beside the trainer; ``bench_batch(size, batch_size, seed)``: its fixed batch;
      ``bench``: the settings the benchmark times by default.
    * ``forward_passes``: passes through each network in one step (the cost figures).
    * ``generators``: the exported generators' names; ``evaluate(evaluation, generators, folders, direction,
      options)``: ``(result, headline)`` on held-out folders; ``eval_folders(evaluation, source, data_b, split)``.
      The hooks that judge outputs take :mod:`course_utils.tools.evaluation` as their first argument (as does
      ``validation``): the command line passes it in, so a model module imports nothing but the core.
    * ``schedule(cfg, steps)``: ``cfg`` with the learning-rate schedule of a fresh run to ``steps``
      (the identity for a constant rate); ``schedule_end(cfg)``: the last step it trains at, or None.
    """

    name: str
    paper: str
    config: type[ModelConfig]
    build_networks: Callable[[Any], dict[str, Any]]
    build_trainer: Callable[..., Any]
    load_data: Callable[[Any, Any], tuple[Any, Any]]
    data: str
    baseline_step: Callable[..., Callable]
    bench_batch: Callable[[int, int, int], tuple]
    bench: Any
    forward_passes: Mapping[str, float]
    generators: tuple[str, ...] = ("generator",)
    train_folders: tuple[str, ...] = ()
    data_choices: tuple[str, ...] = ()
    evaluate: Callable[..., tuple[Any, dict]] | None = None
    eval_folders: Callable[..., tuple] | None = None
    schedule: Callable[[Any, int], Any] = lambda cfg, steps: cfg
    schedule_end: Callable[[Any], int | None] = lambda cfg: None
    #: Passes per network with the trainer's own extras (CycleGAN's image pool); None: as ``forward_passes``.
    trainer_passes: Mapping[str, float] | None = None
    #: Trainer variants the benchmark times besides the default: name -> trainer options.
    bench_variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: ``dataset_root(source)``: the dataset folder of ``--data`` (models that read folders).
    dataset_root: Callable[[str], Any] | None = None
    #: ``validation(evaluation, cfg, data, val, out, every)``: a callback validating at every checkpoint, or None.
    validation: Callable[..., Any] | None = None
    #: The capstone's dataset layout: the held-out folders evaluation reads (all of them needed, or any one),
    #: and the layout in words for its messages.
    held_out_folders: tuple[str, ...] = ()
    held_out_all: bool = False
    layout: str = ""
    #: ``failure_records(report)``: an ``evaluate`` report's per-image records and the key that ranks them,
    #: higher worse (the capstone's failure cases).
    failure_records: Callable[[Mapping[str, Any]], tuple[list, str]] | None = None


@dataclass(frozen=True)
class DataSource:
    """Where the command line's training data comes from: ``data`` (a folder, an archive, ``"shipped"`` or a
    model's named source such as ``"mnist"``), ``tfds`` (a TFDS config) and whether to skip bad files."""

    data: str | None = None
    tfds: str | None = None
    skip_bad_files: bool = False


_SPECS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Register ``spec`` under its name (again: replaced, so a reloaded module re-registers)."""
    _SPECS[spec.name] = spec
    return spec


def _load_built_in() -> None:
    for module in BUILT_IN:
        importlib.import_module(module)


def names() -> tuple[str, ...]:
    """The registered model names: the course's in the order of the lessons, then any registered later."""
    _load_built_in()
    rank = {module: i for i, module in enumerate(BUILT_IN)}
    return tuple(sorted(_SPECS, key=lambda n: rank.get(_SPECS[n].config.__module__, len(rank))))


def get(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered as ``name``.

    Raises:
        ValueError: no model has that name; the message lists the registered ones.
    """
    _load_built_in()
    if name not in _SPECS:
        known = "; ".join(f"{s.name!r}: {s.paper}" for s in _SPECS.values())
        raise ValueError(f"Unknown model {name!r}. The registered models are {known}.")
    return _SPECS[name]


def for_generators(stems: set[str]) -> ModelSpec | None:
    """The evaluable model whose exported generators are exactly ``stems`` (e.g. ``{"generator"}``), or None."""
    for spec in (get(n) for n in names()):
        if spec.evaluate is not None and set(spec.generators) == set(stems):
            return spec
    return None


def dumps(name: str, cfg: ModelConfig) -> str:
    return json.dumps({"model": name, "config": cfg.to_json()}, indent=2)
