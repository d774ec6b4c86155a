"""Lesson 05, your own translation: what a dataset holds, the baseline to beat, the worst cases, the write-up.

Training and evaluating are the command line's job (``python -m course_utils train`` and
``evaluate``); this module holds the small steps around them that a project report needs:

1. :func:`describe_dataset` counts the images of each split and says what is missing.
2. :func:`beats` says, metric by metric, whether a model did better than a baseline (the
   baselines themselves are scored with :func:`course_utils.results.image_scores`, like the model).
3. :func:`worst_images` picks the images a model does worst on, from ``metrics.json``.
4. :func:`write_up` writes the report template with the measured numbers filled in.

Images are float32, channels last, in [-1, 1].
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence
from course_utils.counts import positive_int

MODELS = ("pix2pix", "cyclegan")

#: The folders each model reads (train is required; a held-out split is needed to evaluate).
SPLITS = {"pix2pix": ("train", "val", "test"), "cyclegan": ("trainA", "trainB", "testA", "testB")}


def _check_model(model: str) -> str:
    if model not in MODELS:
        raise ValueError(f"model must be 'pix2pix' (pairs of images) or 'cyclegan' (two unpaired collections), "
                         f"got {model!r}.")
    return model


# ---------------------------------------------------------------------------
# 1. What the dataset holds
# ---------------------------------------------------------------------------
def describe_dataset(folder: str | os.PathLike, model: str) -> dict[str, int]:
    """Image files per split folder of a dataset in ``model``'s layout, e.g. ``{"train": 300, "val": 0, ...}``.

    Raises:
        FileNotFoundError: the folder does not exist, or a split that training or evaluation needs
            is missing or empty. The message names the folder and the layout to use.
    """
    from course_utils import data

    model = _check_model(model)
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder. Give the dataset folder (or its .zip/.tar.gz, which "
                                "data.dataset_folder unpacks).")
    counts = {split: len(data.list_image_files(root / split)) if (root / split).is_dir() else 0
              for split in SPLITS[model]}
    layout = ("train/ (and test/ or val/) holding A|B files side by side" if model == "pix2pix"
              else "trainA/ trainB/ testA/ testB/, one image per file")
    train_splits = ("train",) if model == "pix2pix" else ("trainA", "trainB")
    empty = [s for s in train_splits if counts[s] == 0]
    if empty:
        raise FileNotFoundError(f"{root} has no images in {', '.join(s + '/' for s in empty)}: a {model} dataset "
                                f"needs {layout}. Found: {counts}.")
    held_out = ("test", "val") if model == "pix2pix" else ("testA", "testB")
    if (model == "pix2pix" and not any(counts[s] for s in held_out)) or \
            (model == "cyclegan" and not all(counts[s] for s in held_out)):
        raise FileNotFoundError(f"{root} has no held-out images ({' or '.join(s + '/' for s in held_out)}): move "
                                "about one image in ten out of training into it, so the evaluation judges images "
                                f"the model never saw. Found: {counts}.")
    return counts


# ---------------------------------------------------------------------------
# 2. Against a baseline
# ---------------------------------------------------------------------------
def beats(model_scores: Mapping[str, Any], baseline: Mapping[str, float]) -> dict[str, bool]:
    """For each metric both have: does the model do better (lower L1, higher PSNR and SSIM)?"""
    better = {}
    for key, base in baseline.items():
        value = model_scores.get(key)
        if value is None:
            continue
        better[key] = value < base if key == "l1" else value > base
    return better


# ---------------------------------------------------------------------------
# 3. Failure cases
# ---------------------------------------------------------------------------
def worst_images(metrics_json: str | os.PathLike | Mapping[str, Any], k: int = 3) -> list[dict[str, Any]]:
    """The ``k`` images the model did worst on, from an ``evaluate`` report's ``metrics.json``.

    Pix2Pix reports are ranked by L1 against the target; CycleGAN reports by cycle error over
    both domains (each record gains a ``domain`` key). Worst first.
    """
    positive_int(k, "k")
    if isinstance(metrics_json, Mapping):
        report = dict(metrics_json)
    else:
        path = Path(metrics_json)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: run `python -m course_utils evaluate` first.")
        report = json.loads(path.read_text())
    kind = report.get("kind")
    if kind == "pix2pix":
        records, key = list(report["per_image"]), "l1"
    elif kind == "cyclegan":
        records = [dict(r, domain=d) for d in ("A", "B") for r in report[d]["per_image"]]
        key = "cycle_error"
    else:
        raise ValueError(f"Not an evaluate report (kind {kind!r}); give the metrics.json it wrote.")
    return sorted(records, key=lambda r: r[key], reverse=True)[:k]


# ---------------------------------------------------------------------------
# 4. The write-up
# ---------------------------------------------------------------------------
TODO = "TODO (you)"

_TEMPLATE = """# {title}

## What I translated
- Task: {task}
- Data: {data} ({counts})
- Model: {model}, {image_size}x{image_size}, base width {filters}

## How I trained it
- Steps: {steps} at batch {batch_size} ({schedule})
- Hardware and time: {hardware}
- Resumed after a disconnect? {TODO}

## Results on held-out images
| | {metric_names} |
|---|{metric_rule}|
| model | {model_row} |
{baseline_rows}

{verdict}

## Where it fails
{failures}

## What I would change next
{TODO}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def write_up(path: str | os.PathLike, *, title: str, task: str, data: str, counts: Mapping[str, int], model: str,
             image_size: int, filters: int, steps: int, batch_size: int, schedule: str, hardware: str,
             scores: Mapping[str, Any], baselines: Mapping[str, Mapping[str, float]],
             failures: Sequence[str]) -> Path:
    """Write the project's report template (Markdown) with every measured number filled in.

    What only you can say is left as ``TODO (you)``: whether the run was resumed, and what you
    would change next. ``scores`` holds the model's metrics, ``baselines`` one dictionary of the
    same metrics per baseline (e.g. ``{"mean training image": {...}, "input unchanged": {...}}``);
    a verdict line per baseline says, metric by metric, whether the model beat it.
    """
    keys = set(scores).union(*[set(b) for b in baselines.values()]) if baselines else set(scores)
    names = [k for k in ("l1", "psnr", "ssim", "cycle_error", "identity_error", "kid") if k in keys]
    if not names:
        raise ValueError("scores and baselines hold no metric (l1, psnr, ssim, cycle_error, identity_error, kid).")
    verdicts = []
    for name, base in baselines.items():
        won = beats(scores, base)
        if won:
            verdicts.append(f"Against \"{name}\": " + ", ".join(
                f"{k} {'better' if ok else 'NOT better'}" for k, ok in won.items()) + ".")
    verdict = "\n".join(verdicts) or "No baseline shares these metrics: judge by the pictures and the failure cases."
    text = _TEMPLATE.format(
        title=title, task=task, data=data, counts=", ".join(f"{k}: {v}" for k, v in counts.items()), model=model,
        image_size=image_size, filters=filters, steps=steps, batch_size=batch_size, schedule=schedule,
        hardware=hardware, metric_names=" | ".join(names), metric_rule="|".join("---" for _ in names),
        model_row=" | ".join(_fmt(scores.get(k)) for k in names),
        baseline_rows="\n".join(f"| baseline: {name} | " + " | ".join(_fmt(base.get(k)) for k in names) + " |"
                                 for name, base in baselines.items()),
        verdict=verdict,
        failures="\n".join(f"- {f}" for f in failures) if failures else f"- {TODO}", TODO=TODO)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
