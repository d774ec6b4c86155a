"""Judging a trained generator on held-out images: numbers, pictures and validation during training.

Read this module top to bottom as the appendix to ``python -m course_utils evaluate``:

1. **Finding the generators** of a training run, an ``export/`` folder or one ``.keras`` file
   (:func:`find_generators`).
2. **Reading held-out images**: paired ``A|B`` files or two unpaired folders, without jitter, in
   file-name order, so every number can be traced back to a file (:func:`paired_images`,
   :func:`unpaired_images`).
3. **Evaluating**: :func:`evaluate_pix2pix` compares each translation with its target (L1, PSNR,
   SSIM, as :mod:`course_utils.core.metrics` defines them); :func:`evaluate_cyclegan` has no
   targets, so it measures the round trips ``F(G(a))`` against ``a`` and ``G(F(b))`` against
   ``b`` (cycle error, with PSNR and SSIM of the reconstructions) and how much each generator
   changes images already in its output domain (identity error). Every generator runs through
   the course's inference convention, :func:`course_utils.core.inference.translate`.
4. **The report**: :func:`write_report` writes ``metrics.json`` (means and one entry per
   image) and a picture report, PNG grids ``input | output | target`` and an ``index.html``
   that shows them with the numbers.
5. **Validation while training**: :class:`ValidationCallback` computes the same paired
   numbers at every checkpoint and writes them to ``validation.csv``/``validation.json`` and
   TensorBoard.

Images are float32, channels last, in [-1, 1] throughout.
"""

from __future__ import annotations

import html
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import keras
import numpy as np

from course_utils.core import inference, registry
from course_utils.tools import runs
from course_utils.core.images import ssim_fits, tile, to_unit
from course_utils.core.counts import positive_int
from course_utils.core.files import is_image_file, write_atomically

#: How many images per PNG grid in the report.
ROWS_PER_GRID = 8

#: Files in a folder that mark it as training output (never a place to write a report into).
_RUN_MARKERS = ("checkpoints", runs.SETTINGS_FILE, "generator.keras", "generator_g.keras", "generator_f.keras")


# ===========================================================================
# 1. Finding the generators
# ===========================================================================
@dataclass(frozen=True)
class Generators:
    """Where a run's generators are: ``kind`` is the registered model that made them
    (:mod:`course_utils.core.registry`), ``files`` its exported generators by name (``generator``, or
    ``generator_g`` A -> B and ``generator_f`` B -> A); ``settings`` is the run's own settings from its
    ``run_settings.json`` when the path was a training folder (else empty)."""

    kind: str
    files: dict[str, Path]
    settings: dict[str, Any] = field(default_factory=dict)

    def for_direction(self, direction: str = "AtoB") -> Path:
        """The file that translates ``direction`` (``"AtoB"`` or ``"BtoA"``): a model with two generators has
        one per direction (the first A -> B); one generator translates the one way it was trained (A to B)."""
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}.")
        stems = list(self.files)
        if len(stems) == 2:
            return self.files[stems[0] if direction == "AtoB" else stems[1]]
        if direction == "BtoA":
            raise ValueError(f"{self.files[stems[0]]} translates one way only (A to B); leave out --direction BtoA")
        return self.files[stems[0]]


def find_generators(path: str | os.PathLike) -> Generators:
    """The generator files of a training ``--out`` folder, its ``export/`` folder or a ``.keras`` file.

    The model is the one the run stored, else the registered evaluable model whose generators the
    folder holds (a lone ``.keras`` file: a one-generator model).

    Raises:
        FileNotFoundError: nothing there, or a folder without exported generators.
        ValueError: a file that is not a ``.keras`` model, or a model that cannot be evaluated.
    """
    path = Path(path)
    if path.is_file():
        if path.suffix != ".keras":
            raise ValueError(f"--model {path} is not a .keras file; give an exported generator, the export/ "
                             "folder or the training --out folder")
        return Generators(registry.for_generators({"generator"}).name, {"generator": path})
    if not path.is_dir():
        raise FileNotFoundError(f"--model {path}: no such file or folder. Give the training --out folder, its "
                                "export/ folder or a .keras file.")
    settings = next(filter(None, map(runs.stored_settings, (path, path.parent))), {})   # a run's folder or its export/
    folder = path / "export" if (path / "export").is_dir() else path
    stems = {f.stem for f in folder.glob("*.keras")}
    spec = registry.get(settings["model"]) if settings.get("model") in registry.names() else None
    if spec is not None and spec.evaluate is None:
        raise ValueError(f"{folder} holds a {spec.name} generator ({spec.paper}); evaluate judges image-to-image "
                         "generators (" + ", ".join(n for n in registry.names() if registry.get(n).evaluate) + ")")
    if spec is None or not set(spec.generators) <= stems:
        spec = next((registry.get(n) for n in registry.names() if registry.get(n).evaluate
                     and len(registry.get(n).generators) > 1 and set(registry.get(n).generators) <= stems),
                    registry.for_generators({"generator"}) if "generator" in stems else None)
    if spec is None:
        raise FileNotFoundError(f"no exported generator in {folder}: expected generator.keras (pix2pix) or "
                                "generator_g.keras and generator_f.keras (cyclegan). A training run exports them "
                                "at its end; rerun its train command to finish or export it.")
    return Generators(spec.name, {stem: folder / f"{stem}.keras" for stem in spec.generators}, settings)


def load_generator(path: str | os.PathLike) -> Any:
    """Load an exported generator with plain Keras (the course's custom layers registered)."""
    import keras

    from course_utils.core import layers# noqa: F401  (registers the custom layers for loading)

    return keras.saving.load_model(path, compile=False)


def _image_size(generator: Any, fallback: int | None) -> int:
    shape = generator.input_shape
    if isinstance(shape, list):
        shape = shape[0]
    if len(shape) != 4 or shape[-1] not in (1, 3):
        raise ValueError(f"the generator takes inputs of shape {shape}; evaluate needs an image-to-image "
                         "generator (batch, height, width, 3)")
    if shape[1] is not None and shape[2] is not None:
        if shape[1] != shape[2]:
            raise ValueError(f"the generator takes {shape[1]}x{shape[2]} images; evaluate needs square ones")
        return int(shape[1])
    if fallback is None:
        raise ValueError("the generator accepts any image size; pass --image-size to choose one")
    return int(fallback)


# ===========================================================================
# 2. Reading held-out images
# ===========================================================================
def _usable_names(folder: Path, paired: bool) -> list[str]:
    """File names the loader keeps, in its order (the checks are cached, so this is cheap)."""
    from course_utils.core import data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checked = data.check_image_files(data.list_image_files(folder), paired=paired, skip_bad_files=True)
    return [c.path.name for c in checked]


def image_folder(path: str | os.PathLike, splits: Sequence[str]) -> Path:
    """``path`` itself when it holds images, else its first existing sub-folder among ``splits``.

    ``path`` may be a ``.zip``/``.tar.gz`` of the folder (see :func:`course_utils.core.data.dataset_folder`).
    """
    from course_utils.core import data

    root = data.dataset_folder(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{path}: no such folder. Give a folder of images, or a dataset folder with "
                                f"{' or '.join(s + '/' for s in splits)}.")
    if any(is_image_file(p) for p in data.list_image_files(root)):
        return root
    for split in splits:
        if (root / split).is_dir():
            return root / split
    found = sorted(p.name for p in root.iterdir() if p.is_dir())
    raise FileNotFoundError(f"{root} holds no images and none of the sub-folders {', '.join(splits)} "
                            f"(found: {found or 'none'}). Give the folder that holds the images.")


def paired_images(folder: str | os.PathLike, image_size: int, direction: str = "AtoB", batch_size: int = 8,
                  skip_bad_files: bool = False) -> tuple[Any, list[str]]:
    """``(dataset of (input, target) batches, file names in the same order)`` from a folder of A|B files.

    No jitter, no shuffling, the last batch kept: each file is read once, in name order.
    """
    from course_utils.core import data

    folder = Path(folder)
    ds = data.load_paired_folder(folder.parent, folder.name, image_size=image_size, jitter=False,
                                 direction=direction, batch_size=batch_size, shuffle=False,
                                 skip_bad_files=skip_bad_files, cache=False, drop_remainder=False)
    return ds, _usable_names(folder, paired=True)


def unpaired_images(folder: str | os.PathLike, image_size: int, batch_size: int = 8,
                    skip_bad_files: bool = False) -> tuple[Any, list[str]]:
    """``(dataset of image batches, file names in the same order)`` from one folder of images."""
    from course_utils.core import data

    folder = Path(folder)
    ds = data.load_image_folder(folder, image_size=image_size, jitter=False, batch_size=batch_size, shuffle=False,
                                skip_bad_files=skip_bad_files, cache=False, drop_remainder=False)
    return ds, _usable_names(folder, paired=False)


# ===========================================================================
# 3. Evaluating
# ===========================================================================
def _l1(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.mean(np.abs(prediction.astype(np.float64) - target), axis=(1, 2, 3))


def _per_image(prediction: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """L1, PSNR and SSIM (NaN below 11x11 pixels) of each image pair."""
    from course_utils.core import metrics

    ssim = (metrics.ssim(prediction, target, per_image=True) if ssim_fits(prediction.shape[1], prediction.shape[2])
            else np.full(len(prediction), np.nan))
    return {"l1": _l1(prediction, target), "psnr": np.asarray(metrics.psnr(prediction, target, per_image=True)),
            "ssim": np.asarray(ssim)}


def _mean(values: Sequence[float]) -> float | None:
    """The mean, or None for no values; an infinite PSNR (identical images) or a NaN SSIM makes it None too."""
    if not len(values):
        return None
    mean = float(np.mean(values))
    return mean if math.isfinite(mean) else None


def _clean(value: float) -> float | None:
    """JSON has no infinity nor NaN: an identical image's PSNR, a missing SSIM are written as null."""
    return float(value) if math.isfinite(value) else None


def _progress(iterable: Any, total: int, desc: str, progress: bool) -> Iterator[Any]:
    from tqdm import tqdm

    return iter(tqdm(iterable, total=total, desc=desc, unit="batch", file=sys.stderr,
                     disable=not progress or total < 2))


@dataclass
class Evaluation:
    """What :func:`evaluate_pix2pix` and :func:`evaluate_cyclegan` return.

    ``metrics``: what goes into ``metrics.json`` (means, counts, one record per image).
    ``sections``: for the picture report, ``(title, column names, rows)`` where each row is
    ``(file name, [images in [0, 1]])``.
    """

    metrics: dict[str, Any]
    sections: list[tuple[str, list[str], list[tuple[str, list[np.ndarray]]]]]


def _batches(ds: Any) -> int:
    import tensorflow as tf

    n = int(tf.data.experimental.cardinality(ds).numpy())
    return max(n, 0)


def evaluate_pix2pix(generator: Any, folder: str | os.PathLike, direction: str = "AtoB", batch_size: int = 8,
                     skip_bad_files: bool = False, report_images: int = 16, progress: bool = True) -> Evaluation:
    """Translate every pair in ``folder`` and compare the result with its target.

    Args:
        generator: a Pix2Pix generator (loaded export or the trainer's network).
        folder: a folder of A|B files (``.zip``/``.tar.gz`` accepted), e.g. ``<dataset>/test``.
        direction: ``"AtoB"`` (input = left half) or ``"BtoA"``, as the model was trained.
        batch_size: images translated at once (does not change the numbers).
        skip_bad_files: leave unreadable files out with a warning instead of stopping.
        report_images: how many of the first images go into the picture report.
        progress: a progress bar on stderr for folders of more than one batch.

    Returns:
        An :class:`Evaluation`; ``metrics`` holds ``l1`` (mean absolute error in [-1, 1],
        lower is better), ``psnr`` (dB, higher is better), ``ssim`` (higher is better; None
        below 11x11 pixels), ``images`` (how many) and ``per_image`` (the same per file).
    """
    size = _image_size(generator, None)
    ds, names = paired_images(folder, size, direction, batch_size, skip_bad_files)
    return _evaluate_pairs(generator, ds, names, folder, direction, size, batch_size, report_images, progress)


def _run(ds: Any, names: list[str], folder: Any, desc: str, progress: bool, report_images: int,
         keys: Sequence[str], judge: Any) -> tuple[dict[str, float | None], list[dict[str, Any]], list]:
    """``judge(batch) -> ({key: value per image}, [report columns])`` over every batch of ``ds``: the means,
    one record per file of ``names`` (in the loader's order) and the picture report's first ``report_images`` rows."""
    values: dict[str, list[float]] = {k: [] for k in keys}
    rows: list[tuple[str, list[np.ndarray]]] = []
    seen = 0
    for batch in _progress(ds.as_numpy_iterator(), _batches(ds), desc, progress):
        scored, columns = judge(batch)
        for key in keys:
            values[key].extend(np.asarray(scored[key], np.float64).tolist())
        rows += [(names[seen + i], [to_unit(c[i]) for c in columns])
                 for i in range(min(len(columns[0]), report_images - len(rows)))]
        seen += len(columns[0])
    if seen != len(names):
        raise RuntimeError(f"read {seen} images but {len(names)} files were checked in {folder}; report this bug")
    per_image = [{"file": n, **{k: _clean(v[i]) for k, v in values.items()}} for i, n in enumerate(names)]
    return {k: _mean(v) for k, v in values.items()}, per_image, rows


def _evaluate_pairs(generator: Any, ds: Any, names: list[str], folder: Any, direction: str, size: int,
                    batch_size: int, report_images: int, progress: bool) -> Evaluation:
    def judge(batch: Any) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        inp, target = batch
        output = inference.translate(generator, inp, batch_size)
        return _per_image(output, target), [inp, output, target]

    means, per_image, rows = _run(ds, names, folder, "evaluate", progress, report_images, ("l1", "psnr", "ssim"), judge)
    metrics = {"kind": "pix2pix", "direction": direction, "data": str(folder), "image_size": size,
               "images": len(names), **means, "per_image": per_image}
    return Evaluation(metrics, [("input | output | target", ["input", "output", "target"], rows)])


def _cycle_direction(forward: Any, backward: Any, folder: Path, size: int, batch_size: int, skip_bad_files: bool,
                     report_images: int, progress: bool, label: str) -> tuple[dict[str, Any], list]:
    """Round trips of one domain's images: forward, back again, and the other generator's identity."""
    ds, names = unpaired_images(folder, size, batch_size, skip_bad_files)

    def judge(x: np.ndarray) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        out = inference.translate(forward, x, batch_size)            # A -> B
        back = inference.translate(backward, out, batch_size)        # -> A again
        same = inference.translate(backward, x, batch_size)          # the B -> A generator on an A image: should not change it
        cycle = _per_image(back, x)
        return {"cycle_error": cycle["l1"], "cycle_psnr": cycle["psnr"], "cycle_ssim": cycle["ssim"],
                "identity_error": _l1(same, x)}, [x, out, back]

    keys = ("cycle_error", "cycle_psnr", "cycle_ssim", "identity_error")
    means, per_image, rows = _run(ds, names, folder, f"evaluate {label}", progress, report_images, keys, judge)
    return {"folder": str(folder), "images": len(names), **means, "per_image": per_image}, rows


def evaluate_cyclegan(generator_g: Any, generator_f: Any, folder_a: str | os.PathLike, folder_b: str | os.PathLike,
                      batch_size: int = 8, skip_bad_files: bool = False, report_images: int = 16,
                      progress: bool = True) -> Evaluation:
    """Round trips through both generators on two unpaired folders (no targets needed).

    For each image ``a`` of ``folder_a``: ``G(a)``, ``F(G(a))`` and the identity ``F(a)``; the
    same with the roles swapped for ``folder_b``. ``metrics`` holds, per domain (``A``, ``B``)
    and over both: ``cycle_error`` (mean ``|F(G(a)) - a|``, the cycle loss without its weight),
    ``cycle_psnr``/``cycle_ssim`` of the reconstructions, ``identity_error`` (mean
    ``|F(a) - a|``: how much a generator changes an image that is already in its output domain),
    and the image counts.
    """
    size = _image_size(generator_g, None)
    if _image_size(generator_f, None) != size:
        raise ValueError("generator_g and generator_f take different image sizes; they are not one CycleGAN")
    a, rows_a = _cycle_direction(generator_g, generator_f, Path(folder_a), size, batch_size, skip_bad_files,
                                 report_images, progress, "A")
    b, rows_b = _cycle_direction(generator_f, generator_g, Path(folder_b), size, batch_size, skip_bad_files,
                                 report_images, progress, "B")

    def both(key: str) -> float | None:
        values = [r[key] for r in a["per_image"] + b["per_image"] if r[key] is not None]
        return _mean(values) if len(values) == a["images"] + b["images"] else None

    metrics = {"kind": "cyclegan", "image_size": size, "images": {"A": a["images"], "B": b["images"]},
               "cycle_error": both("cycle_error"), "cycle_psnr": both("cycle_psnr"),
               "cycle_ssim": both("cycle_ssim"), "identity_error": both("identity_error"), "A": a, "B": b}
    metrics.update(known_translation_scores(generator_g, generator_f, folder_a, folder_b, size, batch_size))
    return Evaluation(metrics, [("A: a | G(a) | F(G(a))", ["a", "G(a)", "F(G(a))"], rows_a),
                                ("B: b | F(b) | G(F(b))", ["b", "F(b)", "G(F(b))"], rows_b)])


def known_translation_scores(generator_g: Any, generator_f: Any, folder_a: str | os.PathLike,
                             folder_b: str | os.PathLike, image_size: int, batch_size: int = 8) -> dict[str, Any]:
    """On the shipped day2dusk folders, whose true translation is known, how right and how clean G and F are.

    Returns ``{"correspondence_error": {"AtoB", "BtoA"}, "speckle_ratio": {"AtoB", "BtoA"}}``
    (mean ``|G(a) - true(a)|``, and :func:`course_utils.lessons.results.speckle_ratio`: the outputs'
    high-frequency energy over the true translations', 1 = as smooth as the answer), or ``{}``
    for any other folders, where no true translation exists.
    """
    from course_utils.core import data
    from course_utils.lessons import results
    from course_utils.core.inference import translate

    shipped = data.shipped_unpaired_path().resolve()
    if Path(folder_a).resolve().parent != shipped or Path(folder_b).resolve().parent != shipped:
        return {}
    scores: dict[str, dict[str, float]] = {"correspondence_error": {}, "speckle_ratio": {}}
    for way, generator, folder in (("AtoB", generator_g, folder_a), ("BtoA", generator_f, folder_b)):
        ds, _ = unpaired_images(folder, image_size, batch_size)
        x = np.concatenate(list(ds.as_numpy_iterator()))
        out, truth = translate(generator, x, batch_size), data.true_translation(x, way)
        scores["correspondence_error"][way] = float(np.abs(out - truth).mean())
        scores["speckle_ratio"][way] = results.speckle_ratio(out, truth)
    return scores


# ===========================================================================
# 4. The report: metrics.json, PNG grids and index.html
# ===========================================================================
def check_report_folder(out: str | os.PathLike) -> Path:
    """Refuse to write a report where it could replace someone's training output or files.

    A new or empty folder is fine, and so is one holding an earlier report (``metrics.json``),
    whose files are replaced.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the report")
    if out.is_dir():
        markers = [m for m in _RUN_MARKERS if (out / m).exists()]
        if markers:
            raise ValueError(f"--out {out} holds training output ({', '.join(markers)}); write the report into "
                             f"a folder of its own, e.g. {out / 'evaluation'}")
        if any(out.iterdir()) and not (out / "metrics.json").is_file():
            raise ValueError(f"--out {out} is not empty and holds no earlier report (metrics.json); choose a new "
                             "or empty folder so that nothing of yours is overwritten")
    return out


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


_HEADLINE = {"l1": "L1 (lower is better)", "psnr": "PSNR in dB (higher is better)",
             "ssim": "SSIM (higher is better)", "cycle_error": "cycle error |F(G(x)) - x| (lower is better)",
             "cycle_psnr": "PSNR of the round trip in dB", "cycle_ssim": "SSIM of the round trip",
             "identity_error": "identity error |F(x) - x| (lower is better)"}


def write_report(out: str | os.PathLike, evaluation: Evaluation, title: str = "Evaluation") -> dict[str, Path]:
    """Write ``metrics.json``, ``grids/*.png`` and ``index.html`` into ``out``; returns their paths.

    Each grid holds up to :data:`ROWS_PER_GRID` images, one per row (the columns are named in
    the page). ``index.html`` needs no internet and no server: open it in a browser, or in a
    notebook with ``IPython.display.IFrame``.
    """
    out = check_report_folder(out)
    grids_dir = out / "grids"
    grids_dir.mkdir(parents=True, exist_ok=True)
    for old in grids_dir.glob("*.png"):          # grids of an earlier report in this folder
        old.unlink()
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             "img{image-rendering:pixelated;max-width:100%;border:1px solid #ddd}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    metrics = evaluation.metrics
    parts.append("<h2>Summary</h2><table>")
    counts = metrics.get("images")
    parts.append(f"<tr><th>images</th><td>{_fmt(counts if not isinstance(counts, dict) else ', '.join(f'{k}: {v}' for k, v in counts.items()))}</td></tr>")
    for key, label in _HEADLINE.items():
        if key in metrics:
            parts.append(f"<tr><th>{html.escape(label)}</th><td>{_fmt(metrics[key])}</td></tr>")
    parts.append("</table>")
    written: dict[str, Path] = {}
    for s, (section, columns, rows) in enumerate(evaluation.sections):
        parts.append(f"<h2>{html.escape(section)}</h2>")
        if not rows:
            parts.append("<p>No images.</p>")
        for g in range(0, len(rows), ROWS_PER_GRID):
            chunk = rows[g:g + ROWS_PER_GRID]
            name = f"grid_{s}_{g // ROWS_PER_GRID:03d}.png"
            runs.save_png(tile([images for _, images in chunk]), grids_dir / name)
            written[name] = grids_dir / name
            files = ", ".join(html.escape(n) for n, _ in chunk)
            parts.append(f"<figure><img src='grids/{name}' alt='{html.escape(section)}'>"
                         f"<figcaption>columns: {' | '.join(html.escape(c) for c in columns)}; rows: {files}"
                         "</figcaption></figure>")
    per_image = metrics.get("per_image") or [dict(r, domain=d) for d in ("A", "B")
                                             for r in metrics.get(d, {}).get("per_image", [])]
    if per_image:
        keys = [k for k in per_image[0] if k != "file"]
        parts.append("<h2>Every image</h2><table><tr><th>file</th>"
                     + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>")
        for record in per_image:
            parts.append(f"<tr><td style='text-align:left'>{html.escape(record['file'])}</td>"
                         + "".join(f"<td>{_fmt(record[k])}</td>" for k in keys) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    write_atomically(out / "index.html", "\n".join(parts))
    write_atomically(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    written.update({"index.html": out / "index.html", "metrics.json": out / "metrics.json"})
    return written


# ===========================================================================
# 5. Validation while training
# ===========================================================================
class ValidationCallback(keras.callbacks.Callback):
    """Paired validation numbers (L1, PSNR, SSIM of :func:`evaluate_pix2pix`) every ``every`` steps.

    Each result becomes a row ``step, val_l1, val_psnr, val_ssim`` of ``<out>/validation.csv``
    and ``validation.json`` (readable with ``plotting.load_history``) and TensorBoard scalars in
    ``<out>/tensorboard/validation``; ``last`` holds the latest row. On a resumed run, rows
    after the restored step are dropped first. Validation uses no randomness and does not
    touch the training state, so resumed runs still repeat uninterrupted ones.

    Args:
        folder: a folder of A|B files (e.g. ``<dataset>/val``).
        out_dir: the run folder.
        every: validate when the global step is a multiple of it (use the checkpoint interval),
            and at the end of training.
        direction, batch_size: as in :func:`evaluate_pix2pix`.
        generator: the network to judge (default: the trainer's ``generator``).
    """

    columns = ("val_l1", "val_psnr", "val_ssim")

    def __init__(self, folder: str | os.PathLike, out_dir: str | os.PathLike, every: int = 100,
                 direction: str = "AtoB", batch_size: int = 8, generator: Any = None):
        super().__init__()
        positive_int(every, "every", "steps between evaluations")
        self.folder, self.out_dir, self.every = Path(folder), Path(out_dir), every
        self.direction, self.batch_size, self.generator = direction, batch_size, generator
        self.rows: list[dict[str, Any]] = []
        self.last: dict[str, Any] | None = None
        self.writer: Any = None
        self._pairs: tuple[Any, list[str], int] | None = None

    @property
    def csv_path(self) -> Path:
        return self.out_dir / "validation.csv"

    def _read_existing(self, up_to_step: int) -> None:
        _, self.rows = runs.read_step_csv(self.csv_path, up_to_step, self.columns)

    def _write(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        runs.write_step_csv(self.csv_path, self.columns, self.rows)
        cleaned = [{k: (_clean(v) if isinstance(v, float) else v) for k, v in r.items()} for r in self.rows]
        write_atomically(self.out_dir / "validation.json", json.dumps(cleaned))

    def validate(self) -> dict[str, Any]:
        """Compute the numbers now, for the model's current step, and record them."""
        step = int(self.model.step.numpy())
        generator = self.generator if self.generator is not None else self.model.generator
        if self._pairs is None:   # read and checked once; decoded again at each validation (no cache)
            size = _image_size(generator, None)
            self._pairs = (*paired_images(self.folder, size, self.direction, self.batch_size), size)
        ds, names, size = self._pairs
        result = _evaluate_pairs(generator, ds, names, self.folder, self.direction, size, self.batch_size,
                                 report_images=0, progress=False).metrics
        row = {"step": step, "val_l1": result["l1"],
               "val_psnr": result["psnr"] if result["psnr"] is not None else float("inf"),
               "val_ssim": result["ssim"] if result["ssim"] is not None else float("nan")}
        self.rows = [r for r in self.rows if r["step"] != step] + [row]
        self._write()
        if self.writer is not None:
            with self.writer.as_default():
                for key in self.columns:
                    if math.isfinite(row[key]):
                        runs.tensorboard_scalar(key, row[key], step)
            self.writer.flush()
        self.last = row
        return row

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        import tensorflow as tf

        self._read_existing(int(self.model.step.numpy()))
        self._write()
        self.writer = tf.summary.create_file_writer(str(self.out_dir / "tensorboard" / "validation"))

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if int(self.model.step.numpy()) % self.every == 0:
            self.validate()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self.last is None or self.last["step"] != int(self.model.step.numpy()):
            self.validate()
        if self.writer is not None:
            self.writer.close()


__all__ = ["Generators", "find_generators", "load_generator", "image_folder", "paired_images", "unpaired_images",
           "Evaluation", "evaluate_pix2pix", "evaluate_cyclegan", "check_report_folder",
           "write_report", "ValidationCallback", "ROWS_PER_GRID"]
