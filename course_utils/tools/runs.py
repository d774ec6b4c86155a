"""Running a training for hours: checkpoints, callbacks, logs, exports and resume checks.

:mod:`course_utils.core.train` says what one training step computes; this module is what a long run
needs around it, so that a Colab disconnect costs minutes, not the run. Read it top to bottom as
an appendix to lessons 02 to 04:

1. **Checkpoints**: :func:`make_checkpoint`, :func:`checkpoint_manager`, :func:`save_checkpoint`
   and :func:`restore` save and resume *everything* (networks, optimizer slots, the step, the
   schedule's position, the image pools, the random state); :func:`trainer_state` and
   :func:`state_differences` check that a restore brought back the very same numbers.
2. **Files a run writes**: PNG pictures (:func:`save_png`, :func:`sample_path`) and TensorBoard
   records (:func:`tensorboard_scalar`, :func:`tensorboard_image`), each written so that a kill
   never leaves half a file.
3. **Watching training: callbacks**: :class:`NaNGuard`, :class:`CheckpointCallback`,
   :class:`SampleGrid`, :class:`TensorBoardLogger`, :class:`LossHistory`, :class:`StepTimer`, and
   :func:`standard_callbacks`, the list the lessons use.
4. **Resuming honestly**: :func:`step_settings` records what a training step means,
   :func:`check_resume` refuses to continue a run with other settings (``run_settings.json``,
   the one settings file of a run, read back by :func:`read_run_settings`), and
   :func:`remember_choices` keeps the choices a run started with.
5. **One call for a whole run**: :func:`run_training` resumes from the output folder, trains to
   a target step and exports the generators (:func:`export_generators`); the command line
   (``python -m course_utils train``) is a thin layer on top of it.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from course_utils.core import inference
from course_utils.core.counts import positive_int
from course_utils.core.files import write_atomically
from course_utils.core.images import unit_to_uint8

if TYPE_CHECKING:   # only for the type hints: train imports this module, not the other way round
    from course_utils.core.train import Trainer


# ===========================================================================
# 1. Surviving disconnects: checkpoints
# ===========================================================================
CHECKPOINT_DIR = "checkpoints"


def make_checkpoint(trainer: Trainer) -> tf.train.Checkpoint:
    """A ``tf.train.Checkpoint`` of everything needed to resume exactly.

    Every network; every optimizer, with its slots and ``iterations`` (which is also the
    learning-rate schedule's position, and for mixed_float16 the loss scale); the global step;
    the dropout and noise random states; CycleGAN's image pools. The trainer must be compiled
    first, so that the optimizers' slot variables exist when values are restored into them.
    """
    return tf.train.Checkpoint(**trainer.checkpoint_items())


#: How many checkpoints a run folder keeps when nobody says otherwise.
MAX_TO_KEEP = 3


def checkpoint_manager(trainer: Trainer, out_dir: str | os.PathLike,
                       max_to_keep: int | None = None) -> tf.train.CheckpointManager:
    """The manager of ``<out_dir>/checkpoints``, keeping the latest ``max_to_keep`` checkpoints.

    Cached on the trainer, one per folder. ``max_to_keep=None`` takes the cached manager as it
    is (or keeps :data:`MAX_TO_KEEP` for a new one); a number that differs from the cached
    manager's builds a new manager for the folder, which picks up the checkpoints already there.

    ``tf.train.CheckpointManager`` writes a checkpoint's files first and only then updates its
    index file (atomically), so a process killed during a save leaves the previous checkpoint
    as the latest one.
    """
    if max_to_keep is not None:
        max_to_keep = positive_int(max_to_keep, "max_to_keep", "checkpoints to keep")
    folder = str(Path(out_dir) / CHECKPOINT_DIR)
    managers = trainer.__dict__.setdefault("_course_checkpoint_managers", {})
    cached = managers.get(folder)
    if cached is None or (max_to_keep is not None and cached[0] != max_to_keep):
        keep = max_to_keep or MAX_TO_KEEP
        manager = tf.train.CheckpointManager(make_checkpoint(trainer), folder, max_to_keep=keep,
                                             step_counter=trainer.step)
        managers[folder] = cached = (keep, manager)
    return cached[1]


def save_checkpoint(trainer: Trainer, out_dir: str | os.PathLike) -> str:
    """Save now, numbered by the global step; returns the checkpoint's path prefix."""
    return checkpoint_manager(trainer, out_dir).save(checkpoint_number=trainer.global_step)


def restore(trainer: Trainer, out_dir: str | os.PathLike) -> int:
    """Resume from the latest complete checkpoint in ``<out_dir>/checkpoints``; return its step.

    Returns 0 and changes nothing when there is no checkpoint yet (a fresh run). Raises a
    ``ValueError`` naming the fix when the checkpoint was written by different networks.
    """
    manager = checkpoint_manager(trainer, out_dir)
    latest = manager.latest_checkpoint
    if latest is None:
        return 0
    try:
        manager.checkpoint.restore(latest).assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.InvalidArgumentError) as err:
        raise ValueError(
            f"The checkpoint {latest} does not fit these networks ({str(err).splitlines()[0][:200]}). "
            "It was written by a run with other settings (model, image size, filters); use the same "
            "settings, or a new output folder.") from err
    return trainer.global_step

def trainer_state(trainer: Trainer) -> dict[str, list[np.ndarray]]:
    """A copy of what a checkpoint must bring back: ``{"step", "weights", "optimizers"}``.

    ``weights`` are every network's variables, ``optimizers`` every optimizer's variables (Adam's
    step counter, which is also the schedule's position, and its two moments per weight), all as
    NumPy copies, so the trainer can be deleted and the snapshot compared with a restored one
    (:func:`state_differences`).
    """
    trainer._require_compiled()
    return {"step": [np.asarray(trainer.global_step)],
            "weights": [np.array(v.numpy()) for net in trainer.networks.values() for v in net.weights],
            "optimizers": [np.array(v.numpy()) for opt in trainer.optimizers.values() for v in opt.variables]}


def state_differences(before: Mapping[str, Sequence[np.ndarray]], after: Mapping[str, Sequence[np.ndarray]]) -> list[str]:
    """The parts of two :func:`trainer_state` snapshots that differ (``[]`` when they are identical).

    Compares exactly, value by value: a restore must bring back the very same numbers.
    """
    differ = []
    for key in ("step", "weights", "optimizers"):
        a, b = before[key], after[key]
        if len(a) != len(b) or any(x.shape != y.shape or not np.array_equal(x, y) for x, y in zip(a, b)):
            differ.append(key)
    return differ


# ===========================================================================
# 2. Files a run writes: pictures and TensorBoard records
# ===========================================================================
def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file, then rename: a kill never leaves a half-written file."""
    write_atomically(path, data)


def read_step_csv(path: str | os.PathLike, up_to_step: int,
                  columns: Sequence[str] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """The rows of a step-numbered CSV (a loss history, a validation log) up to ``up_to_step``.

    ``columns`` defaults to the file's header (without ``step``). A line cut short by a kill is
    skipped; rows after ``up_to_step`` (written after the checkpoint a resume starts from) are
    dropped. Returns ``(columns, rows)``, each row ``{"step": int, column: float, ...}``.
    """
    path = Path(path)
    if not path.is_file():
        return list(columns or []), []
    rows: list[dict[str, Any]] = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        names = list(columns) if columns is not None else [c for c in (reader.fieldnames or []) if c != "step"]
        for row in reader:
            try:
                parsed = {"step": int(float(row["step"])), **{c: float(row[c]) for c in names}}
            except (KeyError, TypeError, ValueError):   # a line cut short by a kill
                continue
            if parsed["step"] <= up_to_step:
                rows.append(parsed)
    return names, rows


def write_step_csv(path: str | os.PathLike, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` (as :func:`read_step_csv` returns them) to ``path`` atomically, floats exactly."""
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["step", *columns])
    for row in rows:
        writer.writerow([row["step"]] + [repr(float(row[c])) for c in columns])
    _write_atomically(Path(path), buffer.getvalue().encode())


def save_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Save an ``(H, W, C)`` float image in [0, 1] as PNG (atomically); returns the path."""
    from PIL import Image
    import io

    arr = unit_to_uint8(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(arr).save(buffer, format="PNG")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, buffer.getvalue())
    return path


def sample_path(out_dir: str | os.PathLike, step: int) -> Path:
    """Where the sample grid of ``step`` goes: ``<out_dir>/samples/step_000100.png``."""
    return Path(out_dir) / "samples" / f"step_{step:06d}.png"


def _summary_metadata(plugin: str, data_class: int) -> Any:
    from tensorflow.core.framework import summary_pb2

    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
                                       data_class=data_class)


def tensorboard_scalar(name: str, value: float, step: int) -> None:
    """Write one scalar in TensorBoard's format into the default writer.

    Same records as ``tf.summary.scalar``, written with TensorFlow's own ``tf.summary.write``,
    so logging works even where the ``tensorboard`` package (needed only to *view* them) is
    not installed.
    """
    from tensorflow.core.framework import summary_pb2

    tf.summary.write(name, tf.constant(float(value), tf.float32), step=step,
                     metadata=_summary_metadata("scalars", summary_pb2.DATA_CLASS_SCALAR))


def tensorboard_image(name: str, image: np.ndarray, step: int) -> None:
    """Write one ``(H, W, C)`` image in [0, 1] in TensorBoard's image format (a PNG blob)."""
    from tensorflow.core.framework import summary_pb2

    arr = unit_to_uint8(image)
    png = tf.image.encode_png(arr)
    blob = tf.stack([tf.as_string(arr.shape[1]), tf.as_string(arr.shape[0]), png])   # width, height, images
    tf.summary.write(name, blob, step=step, metadata=_summary_metadata("images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE))


# ===========================================================================
# 3. Watching training: callbacks
# ===========================================================================
class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; training stopped before anything was saved."""


def _finite_logs(logs: Mapping[str, Any] | None) -> tuple[bool, str, float]:
    """(all finite?, first bad name, its value)."""
    for key, value in (logs or {}).items():
        v = float(value)
        if not math.isfinite(v):
            return False, key, v
    return True, "", 0.0


# Not keras.callbacks.TerminateOnNaN: it reads logs["loss"] only, which the GAN trainers do not return
# (they return g_loss, d_loss, ...): with a NaN g_loss it let 4 of 4 steps run (tests/test_runs.py).
class NaNGuard(keras.callbacks.Callback):
    """Stop training with a clear message as soon as a loss is NaN or infinite.

    Put it first in the callback list: it raises :class:`NonFiniteLossError` at the end of the
    bad step, before any later callback could save a checkpoint, so the last good checkpoint is
    left as it was.
    """

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        ok, key, value = _finite_logs(logs)
        if not ok:
            self.model.stop_training = True
            step = int(self.model.step.numpy())
            raise NonFiniteLossError(
                f"{key} became {value} at step {step}; training stopped and nothing was saved after the "
                "last good checkpoint. Try a lower learning rate (halve it), check that the images are "
                "scaled to [-1, 1], or train in float32 instead of mixed precision.")


class CheckpointCallback(keras.callbacks.Callback):
    """Save a checkpoint every ``every_n_steps`` global steps and at the end of training.

    Never saves after a non-finite loss (it checks the step's logs itself), so even without
    :class:`NaNGuard` the last checkpoint holds good weights.
    """

    def __init__(self, out_dir: str | os.PathLike, every_n_steps: int = 100, max_to_keep: int = MAX_TO_KEEP):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.every_n_steps = positive_int(every_n_steps, "every_n_steps", "steps between checkpoints")
        self.max_to_keep = positive_int(max_to_keep, "max_to_keep", "checkpoints to keep")
        self.healthy = True
        self.saved_step = -1

    def _save(self) -> None:
        step = int(self.model.step.numpy())
        if self.healthy and step != self.saved_step:
            manager = checkpoint_manager(self.model, self.out_dir, self.max_to_keep)
            manager.save(checkpoint_number=step)
            self.saved_step = step

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self.healthy = True
        self.saved_step = int(self.model.step.numpy())   # the state we start from is saved or fresh

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if not _finite_logs(logs)[0]:
            self.healthy = False
        elif int(self.model.step.numpy()) % self.every_n_steps == 0:
            self._save()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self._save()


def sample_grid_once(trainer: Trainer, sample_inputs: Any) -> np.ndarray:
    """``trainer.sample_grid(sample_inputs)``, drawn at most once per global step and inputs.

    :class:`SampleGrid` and :class:`TensorBoardLogger` both show the step's picture; whichever
    asks first draws it, the other gets the same array, in whatever order they are listed.
    """
    step = int(trainer.step.numpy())
    cached = trainer.__dict__.get("_course_sample_grid")
    if cached is not None and cached[0] == step and cached[1] is sample_inputs:
        return cached[2]
    grid = trainer.sample_grid(sample_inputs)
    trainer.__dict__["_course_sample_grid"] = (step, sample_inputs, grid)
    return grid


class SampleGrid(keras.callbacks.Callback):
    """Save ``trainer.sample_grid(sample_inputs)`` as a PNG every ``every`` steps.

    Files are ``<out_dir>/samples/step_000100.png`` (and ``step_000000.png`` before the first
    step), kept for the sample browser. Use fixed inputs, so the pictures show the networks
    changing rather than the inputs.
    """

    def __init__(self, out_dir: str | os.PathLike, sample_inputs: Any, every: int = 100):
        super().__init__()
        self.out_dir, self.sample_inputs = Path(out_dir), sample_inputs
        self.every = positive_int(every, "every", "steps between pictures")

    def _save(self) -> None:
        step = int(self.model.step.numpy())
        save_png(sample_grid_once(self.model, self.sample_inputs), sample_path(self.out_dir, step))

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        if int(self.model.step.numpy()) == 0:
            self._save()

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if int(self.model.step.numpy()) % self.every == 0 and _finite_logs(logs)[0]:
            self._save()


# Not keras.callbacks.TensorBoard: it counts steps from 1 in each fit() call (a resumed run's curves
# start over at step 1 instead of continuing at the restored global step, tests/test_runs.py) and
# writes no pictures.
class TensorBoardLogger(keras.callbacks.Callback):
    """Losses as TensorBoard scalars every ``every`` steps, the sample grid as an image every
    ``image_every`` steps, into ``log_dir`` (``%tensorboard --logdir <out>/tensorboard``).

    Steps on the x axis are the global step, so a resumed run continues the same curves. With
    a :class:`SampleGrid` on the same inputs, the picture is drawn once per step for both
    (:func:`sample_grid_once`), whichever of the two is listed first.
    """

    def __init__(self, log_dir: str | os.PathLike, every: int = 10, sample_inputs: Any = None,
                 image_every: int = 100):
        super().__init__()
        self.log_dir, self.sample_inputs = str(log_dir), sample_inputs
        self.every = positive_int(every, "every", "steps between scalars")
        self.image_every = positive_int(image_every, "image_every", "steps between pictures")
        self.writer: Any = None

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self.writer = tf.summary.create_file_writer(self.log_dir)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        step = int(self.model.step.numpy())
        with self.writer.as_default():
            if step % self.every == 0:
                for key, value in (logs or {}).items():
                    tensorboard_scalar(key, float(value), step)
            if step % self.image_every == 0 and self.sample_inputs is not None:
                tensorboard_image("samples", sample_grid_once(self.model, self.sample_inputs), step)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self.writer is not None:
            self.writer.flush()


class LossHistory(keras.callbacks.Callback):
    """Every ``every`` steps, one row ``step, <loss>, ...`` into ``history.csv`` and ``history.json``.

    Rows hold that step's values (what ``train_step`` returned), ready for
    ``course_utils.lessons.plotting.load_history``/``plot_loss_history``. The CSV gets each row as it
    comes (flushed); the JSON (a list of row objects) is rewritten every ``json_every`` rows and
    at the end. On a resumed run, rows after the restored step (written before a crash, for
    steps that will now be run again) are dropped first, so every step appears once.
    """

    def __init__(self, out_dir: str | os.PathLike, every: int = 1, json_every: int = 50):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.every = positive_int(every, "every", "steps between rows")
        self.json_every = positive_int(json_every, "json_every", "rows between rewrites of history.json")
        self.rows: list[dict[str, float]] = []
        self.columns: list[str] = []

    @property
    def csv_path(self) -> Path:
        return self.out_dir / "history.csv"

    @property
    def json_path(self) -> Path:
        return self.out_dir / "history.json"

    def _read_existing(self, up_to_step: int) -> None:
        self.columns, self.rows = read_step_csv(self.csv_path, up_to_step)

    def _rewrite_csv(self) -> None:
        write_step_csv(self.csv_path, self.columns, self.rows)

    def _write_json(self) -> None:
        _write_atomically(self.json_path, json.dumps(self.rows).encode())

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._read_existing(int(self.model.step.numpy()))
        if self.columns:
            self._rewrite_csv()

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        step = int(self.model.step.numpy())
        if step % self.every or not logs:
            return
        row = {"step": step, **{k: float(v) for k, v in logs.items()}}
        if not self.columns:
            self.columns = [k for k in row if k != "step"]
            self._rewrite_csv()
        self.rows.append(row)
        with open(self.csv_path, "a", newline="") as f:
            csv.writer(f).writerow([step] + [repr(row.get(c, float("nan"))) for c in self.columns])
        if len(self.rows) % self.json_every == 0:
            self._write_json()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self._write_json()


class StepTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every training step, with the global step each one ended at.

    Add it after :func:`standard_callbacks` (``run_training(..., callbacks=[timer])``): a step's
    time then includes the checkpoint or sample grid it wrote. :meth:`typical_seconds` leaves
    those steps and the first one (tracing the graph) out.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self.steps: list[int] = []
        self._start = 0.0

    def on_train_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)
        self.steps.append(int(self.model.global_step) if hasattr(self.model, "global_step") else len(self.seconds))

    def typical_seconds(self, busy_every: Sequence[int] = ()) -> float | None:
        """Median seconds of the plain steps: not the first, not those at a multiple of ``busy_every``.

        Returns ``None`` when no such step was timed (e.g. a resumed run that had one step left).
        """
        plain = [sec for sec, step in list(zip(self.seconds, self.steps))[1:]
                 if not any(every and step % every == 0 for every in busy_every)]
        return float(np.median(plain)) if plain else None


def standard_callbacks(out_dir: str | os.PathLike, sample_inputs: Any = None, every: int = 100,
                       checkpoint_every: int | None = None, tensorboard: bool = True,
                       history_every: int = 1) -> list[keras.callbacks.Callback]:
    """The callbacks the lessons use, in a safe order, all writing under ``out_dir``:

    :class:`NaNGuard` (first: stops before anything saves a bad state), :class:`LossHistory`
    (``history.csv``/``.json``), :class:`SampleGrid` (``samples/step_*.png`` every ``every``
    steps, if ``sample_inputs`` is given), :class:`TensorBoardLogger` (``tensorboard/``) and
    :class:`CheckpointCallback` (``checkpoints/``, every ``checkpoint_every`` steps, default
    ``every``, and at the end).
    """
    out = Path(out_dir)
    callbacks: list[keras.callbacks.Callback] = [NaNGuard(), LossHistory(out, every=history_every)]
    if sample_inputs is not None:
        callbacks.append(SampleGrid(out, sample_inputs, every=every))
    if tensorboard:   # the same picture as SampleGrid's, drawn once (sample_grid_once)
        callbacks.append(TensorBoardLogger(out / "tensorboard", every=max(1, min(every, 10)),
                                           sample_inputs=sample_inputs, image_every=every))
    callbacks.append(CheckpointCallback(out, checkpoint_every or every))
    return callbacks


# ===========================================================================
# 4. Resuming honestly: what a step means, stored with the run
# ===========================================================================
SETTINGS_FILE = "run_settings.json"

#: How to train a run longer or with other settings, which every refusal to resume names.
TRAIN_LONGER = ("To train longer or with other settings, start a new run in a new folder (on the command line: the "
                "same command with the new settings and another --out); the run here stays as it is and can still "
                "be resumed with its own settings.")


def _latest_checkpoint_step(out: Path) -> int | None:
    """The step of the latest checkpoint in ``out`` (its number), or None when there is none."""
    latest = tf.train.latest_checkpoint(str(out / CHECKPOINT_DIR))
    if latest is None:
        return None
    try:
        return int(latest.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def read_run_settings(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The settings the run in ``out_dir`` stored when it started (``run_settings.json``); ``None`` before
    its first checkpoint (nothing trained yet, so nothing to continue) or when the file is missing or
    unreadable (cut by a kill: restoring the checkpoint still checks the networks)."""
    return None if _latest_checkpoint_step(Path(out_dir)) is None else stored_settings(out_dir)


def stored_settings(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The settings in ``<folder>/run_settings.json``, checkpoint or not; ``None`` when it is missing or unreadable."""
    try:
        stored = json.loads((Path(folder) / SETTINGS_FILE).read_text()).get("settings")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    return stored if isinstance(stored, dict) else None


def check_resume(out_dir: str | os.PathLike, settings: Mapping[str, Any]) -> None:
    """Refuse to resume the run in ``out_dir`` with ``settings`` other than those it stored.

    Raises:
        ValueError: naming each setting that differs, its stored value and :data:`TRAIN_LONGER`.
            Nothing in ``out_dir`` is changed.
    """
    stored = read_run_settings(out_dir)
    if stored is None:
        return
    now = json.loads(json.dumps(dict(settings)))
    differing = sorted(k for k in set(stored) | set(now) if k not in stored or k not in now or stored[k] != now[k])
    if differing:
        def shown(values: Mapping[str, Any], key: str) -> str:
            return repr(values[key]) if key in values else "(not set)"

        lines = "\n".join(f"  {k}: stored {shown(stored, k)}, now {shown(now, k)}" for k in differing)
        raise ValueError(f"{out_dir} holds a run (at step {_latest_checkpoint_step(Path(out_dir)):,}) trained with "
                         f"other settings, so resuming it would not continue that run:\n{lines}\n{TRAIN_LONGER}")


def write_run_settings(out_dir: str | os.PathLike, settings: Mapping[str, Any]) -> Path:
    """Write ``<out_dir>/run_settings.json`` (atomically); returns its path."""
    path = Path(out_dir) / SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, (json.dumps(settings, indent=2) + "\n").encode())
    return path


def remember_choices(out_dir: str | os.PathLike, choices: Mapping[str, Any]) -> dict[str, Any]:
    """The choices the run in ``out_dir`` was started with (e.g. the precision a lesson measured best).

    The first call writes ``choices`` to ``<out_dir>/choices.json`` and returns them; later calls
    (a resumed run, maybe in a new session where a new measurement would choose otherwise) return
    the stored ones, so the trainer is built as the checkpoints expect and :func:`check_resume`
    finds the same settings. Keys that differ from today's are named on stdout.

    Raises:
        ValueError: ``choices.json`` exists but is not a JSON object (the message names the file).
    """
    path = Path(out_dir) / "choices.json"
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err}); fix or delete it (then today's choices "
                             "are stored again).") from err
        if not isinstance(stored, dict):
            raise ValueError(f"{path} must hold a JSON object of choices; fix or delete it.")
        changed = sorted(k for k in set(stored) | set(choices) if stored.get(k) != choices.get(k))
        if changed:
            print(f"Resuming {path.parent.name} with the choices it started with; today's differ in: "
                  + ", ".join(f"{k} (stored {stored.get(k)!r}, today {choices.get(k)!r})" for k in changed))
        return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, (json.dumps(dict(choices), indent=2, sort_keys=True) + "\n").encode())
    return dict(choices)


# ===========================================================================
# 5. One call for a whole run: resume, train, export
# ===========================================================================
def export_generators(trainer: Trainer, folder: str | os.PathLike) -> dict[str, Path]:
    """Save the trainer's generator(s) as ``.keras`` files into ``folder``.

    ``generator.keras`` for GAN and Pix2Pix; ``generator_g.keras`` (A -> B) and
    ``generator_f.keras`` (B -> A) for CycleGAN. Each file is written next to its final name
    and renamed into place, so an interrupted export never leaves a broken model file.

    Image-to-image generators are saved with :func:`inference.exportable_generator`: their batch
    norm becomes per-image normalisation, so ``keras.models.load_model(path)(images)`` gives
    what ``evaluate()`` and the sample grids show. The DCGAN (noise in) is saved as it is.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for stem, model in trainer.generators().items():
        written[stem] = inference.export_generator(model, folder / f"{stem}.keras")
    return written



def run_training(trainer: Trainer, dataset: tf.data.Dataset, steps: int, out_dir: str | os.PathLike, *,
                 checkpoint_every: int = 100, sample_inputs: Any = None, sample_every: int | None = None,
                 tensorboard: bool = True, callbacks: Iterable[keras.callbacks.Callback] = (),
                 verbose: int | str = "auto", export: bool = True,
                 settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Train ``trainer`` until its global step reaches ``steps``, resuming from ``out_dir``.

    0. Check that resuming continues the run exactly (:func:`check_resume`): your ``settings``
       (a model's config, ``ModelConfig.identity()``, and anything else that decides what a step
       does) must match those stored in ``<out_dir>/run_settings.json``; otherwise a ``ValueError``
       names each difference and nothing is changed.
    1. Restore the latest checkpoint in ``<out_dir>/checkpoints`` (if any).
    2. Continue the data where it stopped: ``dataset.repeat().skip(step)``, so pass a dataset
       whose order is fixed by a seed (the loaders' ``seed=``); then the resumed run sees the
       batches an uninterrupted one would have seen. Skipped batches are still decoded and
       jittered: measured ~475 unpaired 256x256 batches/s on 2 CPU cores, so resuming at step
       180,000 of a CycleGAN run spends about 6 minutes catching up (exact, and no state to save).
    3. ``fit`` for the remaining steps with :func:`standard_callbacks` (checkpoints every
       ``checkpoint_every`` steps and at the end; samples every ``sample_every`` steps).
    4. Export the generator(s) to ``<out_dir>/export/`` (:func:`export_generators`).

    Returns ``{"step", "resumed_from", "steps_run", "losses", "mean_losses", "export"}``:
    ``losses`` are the last step's values, ``mean_losses`` their means over this call.
    """
    steps = positive_int(steps, "steps", "the global step to reach")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    check_resume(out, settings or {})
    start = restore(trainer, out)
    write_run_settings(out, {"settings": dict(settings or {})})
    result: dict[str, Any] = {"step": start, "resumed_from": start, "steps_run": 0, "losses": {}, "mean_losses": {}}
    if start < steps:
        data = dataset.repeat().skip(start)
        cbs = standard_callbacks(out, sample_inputs, every=sample_every or checkpoint_every,
                                 checkpoint_every=checkpoint_every, tensorboard=tensorboard)
        history = trainer.fit(data, epochs=1, steps_per_epoch=steps - start, callbacks=cbs + list(callbacks),
                              verbose=verbose, shuffle=False)
        result["losses"] = {k: float(v[-1]) for k, v in history.history.items()}
        result["mean_losses"] = {k: float(v) for k, v in trainer.get_metrics_result().items()
                                 if k in trainer.train_metric_names}
        result["step"] = trainer.global_step
        result["steps_run"] = result["step"] - start
    if export:
        result["export"] = {k: str(v) for k, v in export_generators(trainer, out / "export").items()}
    return result
