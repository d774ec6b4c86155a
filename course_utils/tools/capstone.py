"""Lesson 05, your own translation: what a dataset holds, the baseline to beat, the worst cases, the write-up.

Training and evaluating are the command line's job (``python -m course_utils train`` and
``evaluate``); this module holds the small steps around them that a project report needs:

1. :func:`describe_dataset` counts the images of each split and says what is missing.
2. :func:`beats` says, metric by metric, whether a model did better than a baseline (the
   baselines themselves are scored with :func:`course_utils.lessons.results.image_scores`, like the model).
3. :func:`worst_images` picks the images a model does worst on, from ``metrics.json``.
4. :func:`write_up` writes the report template with the measured numbers filled in.
5. :func:`save_result` records the train command, the scores and the baselines in the run folder, and
   :func:`score_rubric` scores the rubric's mechanical criteria (:data:`RUBRIC`) from that folder.

Images are float32, channels last, in [-1, 1].
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence
from course_utils.core.counts import positive_int

def _spec(model: str) -> Any:
    """The registered model ``model``, if a capstone can train and evaluate it on its own folders."""
    from course_utils.core import registry

    usable = [n for n in registry.names() if registry.get(n).held_out_folders]
    if model not in usable:
        raise ValueError(f"model must be one of {', '.join(map(repr, usable))}, got {model!r}.")
    return registry.get(model)


# ---------------------------------------------------------------------------
# 1. What the dataset holds
# ---------------------------------------------------------------------------
def describe_dataset(folder: str | os.PathLike, model: str) -> dict[str, int]:
    """Image files per split folder of a dataset in ``model``'s layout, e.g. ``{"train": 300, "val": 0, ...}``.

    Raises:
        FileNotFoundError: the folder does not exist, or a split that training or evaluation needs
            is missing or empty. The message names the folder and the layout to use.
    """
    from course_utils.core import data

    spec = _spec(model)
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder. Give the dataset folder (or its .zip/.tar.gz, which "
                                "data.dataset_folder unpacks).")
    counts = {split: len(data.list_image_files(root / split)) if (root / split).is_dir() else 0
              for split in spec.train_folders + spec.held_out_folders}
    empty = [s for s in spec.train_folders if counts[s] == 0]
    if empty:
        raise FileNotFoundError(f"{root} has no images in {', '.join(s + '/' for s in empty)}: a {model} dataset "
                                f"needs {spec.layout}. Found: {counts}.")
    held_out = spec.held_out_folders
    if not (all if spec.held_out_all else any)(counts[s] for s in held_out):
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
    from course_utils.core import registry

    kind = report.get("kind")
    spec = registry.get(kind) if kind in registry.names() else None
    if spec is None or spec.failure_records is None:
        raise ValueError(f"Not an evaluate report (kind {kind!r}); give the metrics.json it wrote.")
    records, key = spec.failure_records(report)
    return sorted(records, key=lambda r: r[key], reverse=True)[:k]


# ---------------------------------------------------------------------------
# 4. The write-up
# ---------------------------------------------------------------------------
TODO = "TODO (you)"

#: What only the learner can write in the report: ``{field: what it asks}``.
WRITEUP_FIELDS = {"task": "what goes in, what should come out",
                  "resumed": "was the run resumed after a disconnect, and from which step",
                  "why": "why the worst images fail (your best guess, from the pictures)",
                  "next": "what you would change next"}


def _unfilled(text: Any) -> bool:
    return not str(text or "").strip() or TODO in str(text)

_TEMPLATE = """# {title}

## What I translated
- Task: {task}
- Data: {data} ({counts})
- Model: {model}, {image_size}x{image_size}, base width {filters}

## How I trained it
- Steps: {steps} at batch {batch_size} ({schedule})
- Hardware and time: {hardware}
- Resumed after a disconnect? {resumed}

## Results on held-out images
| | {metric_names} |
|---|{metric_rule}|
| model | {model_row} |
{baseline_rows}

{verdict}

## Where it fails
{failures}

Why: {why}

## What I would change next
{next}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def write_up(path: str | os.PathLike, *, title: str, task: str, data: str, counts: Mapping[str, int], model: str,
             image_size: int, filters: int, steps: int, batch_size: int, schedule: str, hardware: str,
             scores: Mapping[str, Any], baselines: Mapping[str, Mapping[str, float]],
             failures: Sequence[str], answers: Mapping[str, str] | None = None) -> Path:
    """Write the project's report template (Markdown) with every measured number filled in.

    What only you can say comes from ``answers`` (the keys of :data:`WRITEUP_FIELDS`: the task,
    whether the run was resumed, why the worst images fail, what you would change next); an
    empty or missing answer is left as ``TODO (you)``. ``scores`` holds the model's metrics, ``baselines`` one dictionary of the
    same metrics per baseline (e.g. ``{"mean training image": {...}, "input unchanged": {...}}``);
    a verdict line per baseline says, metric by metric, whether the model beat it.
    """
    said = {k: str((answers or {}).get(k) or "").strip() or TODO for k in WRITEUP_FIELDS}
    if said["task"] == TODO and task:
        said["task"] = task       # what the caller wrote (it may say what is still TODO)
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
        title=title, task=said["task"], data=data, counts=", ".join(f"{k}: {v}" for k, v in counts.items()), model=model,
        image_size=image_size, filters=filters, steps=steps, batch_size=batch_size, schedule=schedule,
        hardware=hardware, metric_names=" | ".join(names), metric_rule="|".join("---" for _ in names),
        model_row=" | ".join(_fmt(scores.get(k)) for k in names),
        baseline_rows="\n".join(f"| baseline: {name} | " + " | ".join(_fmt(base.get(k)) for k in names) + " |"
                                 for name, base in baselines.items()),
        verdict=verdict,
        failures="\n".join(f"- {f}" for f in failures) if failures else f"- {TODO}",
        resumed=said["resumed"], why=said["why"], next=said["next"])
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


# ---------------------------------------------------------------------------
# 5. The rubric
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    """One line of the capstone's rubric: ``mechanical`` ones are scored by :func:`score_rubric`."""

    key: str
    text: str
    points: int
    mechanical: bool


#: The capstone's rubric (lesson 05 shows it as a table): 10 points scored from the run folder, 10 by the instructor.
RUBRIC = (
    Criterion("baseline", "the model beats every baseline on held-out images (main metric: L1, or KID)", 5, True),
    Criterion("writeup", "the write-up's fields are filled in (task, resumed?, why it fails, what next)", 3, True),
    Criterion("reproducible", "the run is reproducible from its recorded train command", 2, True),
    Criterion("choice", "the choice of data and model is argued (pairs or not, how many images, which size)", 3, False),
    Criterion("failures", "failure cases are shown and explained", 3, False),
    Criterion("limits", "honest limits: steps against the paper's, what the numbers do not show", 2, False),
    Criterion("pictures", "pictures: inputs, outputs, targets or round trips, beside the baselines", 2, False),
)

RESULT_FILE = "capstone.json"
#: Which metric decides "beats the baseline", in order of preference, and which way is better.
_MAIN_METRICS = ("l1", "kid", "psnr", "ssim")


def save_result(run_dir: str | os.PathLike, *, command: Sequence[str], scores: Mapping[str, Any],
                baselines: Mapping[str, Mapping[str, float]]) -> Path:
    """Record what the rubric reads in ``<run_dir>/capstone.json``: the ``train`` command (the arguments
    after ``python -m course_utils``), the model's held-out scores and each baseline's."""
    def plain(d: Mapping[str, Any]) -> dict[str, float]:
        return {str(k): float(v) for k, v in d.items() if isinstance(v, (int, float))}

    record = {"command": [str(a) for a in command], "scores": plain(scores),
              "baselines": {str(name): plain(base) for name, base in baselines.items()}}
    out = Path(run_dir) / RESULT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out


def _writeup_answers(writeup: Mapping[str, str] | str | os.PathLike | None, run_dir: Path) -> dict[str, str] | None:
    """The write-up's fields, from a dict or from a WRITEUP.md written by :func:`write_up`."""
    if isinstance(writeup, Mapping):
        return {k: str(writeup.get(k) or "") for k in WRITEUP_FIELDS}
    path = Path(writeup) if writeup is not None else run_dir / "WRITEUP.md"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")

    def after(label: str, stop: str = "\n") -> str:
        """The text between ``label`` and ``stop`` (a line by default, or up to the next section)."""
        return text.split(label, 1)[1].split(stop, 1)[0].strip() if label in text else ""

    return {"task": after("- Task:"), "resumed": after("- Resumed after a disconnect?"),
            "why": after("\nWhy:", "\n## "), "next": after("## What I would change next", "\n## ")}


def _score_baseline(record: Mapping[str, Any] | None, points: int) -> tuple[float, str]:
    if record is None:
        return 0.0, f"no {RESULT_FILE} in the run folder: call capstone.save_result after the evaluation"
    scores, baselines = record.get("scores", {}), record.get("baselines", {})
    if not baselines:
        return 0.0, "no baseline recorded: score one (the mean image, the input unchanged) on the same images"
    won, notes = 0, []
    for name, base in baselines.items():
        metric = next((m for m in _MAIN_METRICS if m in scores and m in base), None)
        if metric is None:
            notes.append(f"'{name}' shares no metric with the model")
            continue
        better = beats({metric: scores[metric]}, {metric: base[metric]})[metric]
        won += better
        notes.append(f"{'beats' if better else 'does NOT beat'} '{name}' on {metric} "
                     f"({scores[metric]:.4g} against {base[metric]:.4g})")
    return points * won / len(baselines), "; ".join(notes)


def _score_writeup(answers: dict[str, str] | None, points: int) -> tuple[float, str]:
    if answers is None:
        return 0.0, "no write-up: pass the answers or write WRITEUP.md with capstone.write_up"
    missing = [k for k in WRITEUP_FIELDS if _unfilled(answers.get(k))]
    share = (len(WRITEUP_FIELDS) - len(missing)) / len(WRITEUP_FIELDS)
    note = "every field filled" if not missing else "still to fill: " + ", ".join(
        f"{k} ({WRITEUP_FIELDS[k]})" for k in missing)
    return round(2 * points * share) / 2, note


def _score_command(record: Mapping[str, Any] | None, run_dir: Path, points: int) -> tuple[float, str]:
    command = list((record or {}).get("command") or [])
    if not command:
        return 0.0, "no train command recorded: the run cannot be repeated from the folder alone"
    from course_utils.tools import cli

    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args = cli.build_parser().parse_args(command)
    except (SystemExit, Exception) as err:   # argparse exits on a bad command line
        return 0.0, f"the recorded command does not parse ({type(err).__name__}): {' '.join(command)}"
    if args.command != "train":
        return 0.0, f"the recorded command is '{args.command}', not 'train'"
    problems = []
    # The same folder, or one of that name moved since (from Drive to the instructor's hand-ins).
    if Path(args.out).resolve() != run_dir.resolve() and Path(args.out).name != run_dir.resolve().name:
        problems.append(f"its --out {args.out} is not this run folder")
    settings_file = run_dir / "run_settings.json"
    stored = json.loads(settings_file.read_text()).get("settings", {}) if settings_file.is_file() else None
    if stored is None:
        problems.append("the run folder has no run_settings.json (was it trained by this command?)")
    else:
        wanted = {"model": args.model, "seed": args.seed}
        for key, option in (("image_size", "image_size"), ("batch_size", "batch_size"), ("filters", "filters"),
                            ("precision", "precision")):
            if getattr(args, option, None) is not None:
                wanted[key] = getattr(args, option)
        problems += [f"--{k.replace('_', '-')} {v} but the run stored {stored[k]}"
                     for k, v in wanted.items() if k in stored and stored[k] != v]
    if not any((run_dir / "export").glob("*.keras")):
        problems.append("no exported generator in export/: the run did not reach its --steps")
    if problems:
        return 0.0, "; ".join(problems)
    return float(points), "python -m course_utils " + " ".join(command)


def score_rubric(run_dir: str | os.PathLike, writeup: Mapping[str, str] | str | os.PathLike | None = None
                 ) -> dict[str, Any]:
    """Score the rubric's mechanical criteria (:data:`RUBRIC`) from a capstone's run folder.

    Reads ``<run_dir>/capstone.json`` (:func:`save_result`: the command, the held-out scores, the
    baselines), ``run_settings.json`` and ``export/`` (what training wrote), and the write-up: a dict
    ``{field: text}`` with the keys of :data:`WRITEUP_FIELDS`, a path to a ``WRITEUP.md``, or ``None`` for
    ``<run_dir>/WRITEUP.md``.

    Returns:
        ``{"criteria": {key: {"points", "out_of", "note"}}, "points", "out_of", "for_instructor": [...]}``:
        the mechanical criteria scored, each with a note that says why, and the instructor's criteria
        listed with their points (not scored here).
    """
    run = Path(run_dir)
    record_path = run / RESULT_FILE
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else None
    by_key = {c.key: c for c in RUBRIC}
    scored = {
        "baseline": _score_baseline(record, by_key["baseline"].points),
        "writeup": _score_writeup(_writeup_answers(writeup, run), by_key["writeup"].points),
        "reproducible": _score_command(record, run, by_key["reproducible"].points),
    }
    criteria = {k: {"points": round(p, 2), "out_of": by_key[k].points, "note": note} for k, (p, note) in scored.items()}
    return {"criteria": criteria, "points": round(sum(c["points"] for c in criteria.values()), 2),
            "out_of": sum(c["out_of"] for c in criteria.values()),
            "for_instructor": [{"key": c.key, "text": c.text, "out_of": c.points} for c in RUBRIC if not c.mechanical]}


def score_class(submissions: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Score the rubric's mechanical criteria for a class: ``python -m course_utils rubric SUBMISSIONS --out DIR``.

    ``submissions`` holds one folder per learner (the learner is the folder's name), each with the
    capstone's run folder somewhere inside (the folder holding ``capstone.json``, found without
    following symbolic links) and its ``WRITEUP.md``. Only files are read: nothing a learner wrote
    runs. Writes ``<out>/rubric.csv``: a row per learner with the points of each mechanical criterion,
    the total, the points out of, the notes and an empty column per instructor's criterion; a learner
    whose folder holds no ``capstone.json`` gets a row that says so.
    """
    import csv

    root = Path(submissions)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder: give the folder that holds one folder per learner.")
    learners = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    if not learners:
        raise FileNotFoundError(f"{root} holds no learner folders: put each learner's capstone in a folder "
                                "named after them.")
    mechanical = [c for c in RUBRIC if c.mechanical]
    rows = []
    for learner in learners:
        found = [Path(d) for d, _, files in os.walk(learner, followlinks=False) if RESULT_FILE in files]
        row = {"learner": learner.name}
        if not found:
            row.update({c.key: 0 for c in mechanical}, total=0, note=f"no {RESULT_FILE} in the folder: "
                       "was the capstone's last cell run?")
        else:
            scored = score_rubric(sorted(found, key=lambda p: len(p.parts))[0])
            row.update({k: v["points"] for k, v in scored["criteria"].items()}, total=scored["points"],
                       note="; ".join(f"{k}: {v['note']}" for k, v in scored["criteria"].items()))
        row["out_of"] = sum(c.points for c in mechanical)
        rows.append(row)
    fields = ["learner"] + [c.key for c in mechanical] + ["total", "out_of", "note"] + [
        f"{c.key} (instructor, /{c.points})" for c in RUBRIC if not c.mechanical]
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / ".rubric.csv.partial"
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, restval="")
        writer.writeheader()
        for row in rows:   # a learner's folder name or note never becomes a live spreadsheet formula
            writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()})
    tmp.replace(target / "rubric.csv")
    return target / "rubric.csv"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_utils rubric SUBMISSIONS --out DIR``: :func:`score_class`, one line of JSON."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_utils rubric",
                                     description="Score the capstone rubric's mechanical criteria for a class "
                                                 "(files only: nothing a learner wrote runs).")
    parser.add_argument("submissions", help="a folder with one folder per learner")
    parser.add_argument("--out", required=True, help="where rubric.csv goes")
    args = parser.parse_args(argv)
    try:
        path = score_class(args.submissions, args.out)
    except (FileNotFoundError, NotADirectoryError) as err:
        print(f"error: {err}", file=__import__("sys").stderr)
        return 1
    print(json.dumps({"rubric": str(path)}))
    return 0
