"""The command line: ``python -m course_utils {train,translate,evaluate,bench} ...``.

* ``train``     trains a GAN, Pix2Pix or CycleGAN into an output folder. Running the same
  command again on the same ``--out`` resumes from the latest checkpoint. While it runs, a
  progress bar and messages go to stderr; at the end exactly one JSON line goes to stdout.
* ``translate`` runs an exported generator on your own images of any size.
* ``evaluate``  judges a trained generator on held-out images: ``metrics.json`` and a picture
  report (PNG grids and an ``index.html``), see :mod:`course_utils.tools.evaluation`.
* ``bench``     measures training speed: the course's trainer next to a tutorial-style step
  (:mod:`course_utils.tools.bench`).

What each model name means (its networks, trainer, data and settings) is its entry in
:mod:`course_utils.core.registry`; ``train <model>`` takes one flag per field of the model's config. Bad arguments or bad data end with a one-line ``error: ...`` on
stderr and a non-zero exit status, never a traceback. TensorFlow starts only once the arguments
are checked (checking ``--precision`` against ``train.PRECISIONS`` is what starts it first).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from course_utils.core import model_config, registry
from course_utils.core.files import ARCHIVE_SUFFIXES, IMAGE_SUFFIXES, is_archive, is_image_file



class UsageError(ValueError):
    """A bad command-line argument."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line: ``error: ... (see --help)``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _int_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum``, with a one-line error naming ``what``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_non_negative_int = _int_at_least(0, "a non-negative integer")


def _precision(text: str) -> str:
    """An argparse type: one of ``train.PRECISIONS`` (the one list of dtype policies)."""
    from course_utils.core import train

    if text not in train.PRECISIONS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(train.PRECISIONS)}, got {text!r}")
    return text


# ===========================================================================
# The parser
# ===========================================================================
def _add_train(subs: Any) -> None:
    """``train <model>``: one parser per registered model, its flags generated from the model's config."""
    tr = subs.add_parser(
        "train", help="train a model into an output folder (rerun the same command to resume)",
        description="Train a registered model into --out. Checkpoints, samples, TensorBoard logs and the loss "
                    "history are written there; the same command run again on the same --out resumes from the "
                    "latest checkpoint. At the end the generator(s) are exported to <out>/export/ and one JSON "
                    "line with the step reached and the final losses is printed on stdout. "
                    "'train <model> --help' lists the model's settings.")
    models = tr.add_subparsers(dest="model", metavar="{" + ",".join(registry.names()) + "}", parser_class=_Parser,
                               help="the model to train ('train <model> --help' lists its settings)")
    models.required = True
    for name in registry.names():
        spec = registry.get(name)
        p = models.add_parser(name, help=f"{spec.paper}: {spec.data}", description=f"{spec.paper}. Data: {spec.data}.")
        p.add_argument("--data", default=None, help="the dataset: a folder, a .zip or .tar.gz of one (unpacked once "
                       "into ~/.cache/course_utils/datasets), or 'shipped' (the course's offline stand-in)"
                       + (f"; one of {', '.join(spec.data_choices)}" if spec.data_choices else ""))
        p.add_argument("--tfds", default=None, metavar="NAME",
                       help="a TFDS config instead of --data (models that read TFDS); downloaded on first use")
        p.add_argument("--val", default=None, metavar="FOLDER",
                       help="models that validate: a folder to validate on at every checkpoint (default: the "
                            "dataset's val/ when it has one; 'none' turns validation off)")
        p.add_argument("--skip-bad-files", action="store_true",
                       help="leave unreadable image files out with a warning naming them, instead of stopping")
        p.add_argument("--out", required=True, type=Path,
                       help="output folder: checkpoints/, samples/, tensorboard/, history.csv/.json, export/")
        p.add_argument("--steps", required=True, type=_positive_int,
                       help="the global step to reach (a resumed run continues up to it)")
        p.add_argument("--checkpoint-every", type=_positive_int, default=100,
                       help="save a checkpoint (and a sample grid) every K steps, and always at the end (default 100)")
        p.add_argument("--xla", action="store_true", help="compile the training step with XLA (jit_compile=True)")
        p.add_argument("--quiet", action="store_true", help="no progress bar (messages and errors still go to stderr)")
        model_config.add_flags(p, spec.config)


def _add_translate(subs: Any) -> None:
    """``translate``: an exported generator on your own images."""
    tl = subs.add_parser(
        "translate", help="translate your own images with an exported generator",
        description="Load an exported generator (.keras) and translate images of any size: each is resized "
                    "to the model's input size, translated, resized back to its original size and saved "
                    "under the same file name in --output.")
    tl.add_argument("--model", required=True, type=Path,
                    help="a .keras file, an export/ folder, or a training --out folder")
    tl.add_argument("--input", required=True, type=Path,
                    help=f"an image file, or a folder of images ({', '.join(IMAGE_SUFFIXES)})")
    tl.add_argument("--output", required=True, type=Path, help="folder for the translated images (created)")
    tl.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB",
                    help="for a CycleGAN folder: AtoB uses generator_g.keras, BtoA generator_f.keras "
                         "(default AtoB)")


def _add_evaluate(subs: Any) -> None:
    """``evaluate``: a trained generator judged on held-out images."""
    ev = subs.add_parser(
        "evaluate", help="judge a trained generator on held-out images: metrics.json and a picture report",
        description="Run a trained generator on held-out images and write a report into --out: metrics.json "
                    "(pix2pix: L1, PSNR, SSIM against the targets; cyclegan: cycle and identity error, PSNR and "
                    "SSIM of the round trips; counts of images; one entry per image), PNG grids (input | output "
                    "| target) and an index.html that shows them. One JSON line with the main numbers goes to "
                    "stdout.")
    ev.add_argument("--model", required=True, type=Path,
                    help="a training --out folder, its export/ folder or an exported .keras generator")
    ev.add_argument("--data", required=True,
                    help="pix2pix: a folder of A|B files, or a dataset folder (its test/, else val/, is used); "
                         "cyclegan: a dataset folder with testA/ and testB/, or the A folder with --data-b. "
                         "A .zip or .tar.gz of the folder works too; 'shipped' means the course's shipped set")
    ev.add_argument("--data-b", default=None,
                    help="cyclegan only: the folder of domain B images, when --data is the folder of domain A")
    ev.add_argument("--split", default=None,
                    help="the split inside a dataset folder (pix2pix default: test, else val; cyclegan: test)")
    ev.add_argument("--out", required=True, type=Path,
                    help="folder for the report (new, empty, or holding an earlier report; never a training folder)")
    ev.add_argument("--direction", choices=("AtoB", "BtoA"), default=None,
                    help="pix2pix: which half of each file is the input (default: the run's own --direction from "
                         "its run_settings.json, else AtoB)")
    ev.add_argument("--batch-size", type=_positive_int, default=8,
                    help="images translated at once (default 8; the numbers do not depend on it)")
    ev.add_argument("--report-images", type=_non_negative_int, default=16,
                    help="how many images (per domain) the picture report shows (default 16; metrics use all)")
    ev.add_argument("--skip-bad-files", action="store_true",
                    help="leave unreadable image files out with a warning instead of stopping")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_bench(subs: Any) -> None:
    """``bench``: the course's trainer timed beside a tutorial-style step."""
    be = subs.add_parser(
        "bench", help="time the course's training steps next to the tutorials' (make bench)",
        description="Time the course's trainer of a model next to a training step written the way the TensorFlow "
                    "tutorials write it, on the papers' networks and one fixed batch, interleaved; report the "
                    "ratio, FLOP/s, peak memory and the input pipeline's speed (course_utils.tools.bench). Options left "
                    "out take the model's benchmark defaults; with --standard, the options given override the "
                    "standard set's.")
    be.add_argument("--model", choices=registry.names(), default=None,
                    help="which model's trainer to time (default pix2pix; not with --standard)")
    be.add_argument("--image-size", type=_positive_int, default=None,
                    help="image side (default: the model's benchmark size)")
    be.add_argument("--steps", type=_positive_int, default=None, help="timed steps per round (default 5)")
    be.add_argument("--batch-size", type=_positive_int, default=None,
                    help="images per step (default: the model's benchmark batch)")
    be.add_argument("--filters", type=_positive_int, default=None, help="base width (default 64, the papers')")
    be.add_argument("--xla", action="store_true", help="compile the steps with XLA (jit_compile=True)")
    be.add_argument("--precision", type=_precision, default=None, metavar="POLICY",
                    help="Keras dtype policy: float32 (default), mixed_float16 or mixed_bfloat16")
    be.add_argument("--warmup", type=_non_negative_int, default=None,
                    help="untimed steps after the first call (default 2)")
    be.add_argument("--repeats", type=_positive_int, default=None,
                    help="rounds; trainer and baseline alternate within each (default 3)")
    be.add_argument("--json", action="store_true", help="print exactly one JSON line and nothing else")
    be.add_argument("--standard", action="store_true",
                    help="run the standard set (pix2pix at 256, CycleGAN at 128) and print a table")
    be.add_argument("--json-out", type=Path, default=None, help="also write the results to this JSON file")
    be.add_argument("--no-pipeline", action="store_true", help="skip the input-pipeline measurement")
    be.add_argument("--no-trainer", action="store_true", help="time the baseline only")


def _add_grade(subs: Any) -> None:
    """``grade``: a class's notebooks graded in sandboxes."""
    gr = subs.add_parser(
        "grade", help="grade a class: run every submitted notebook's exercises safely, write a gradebook",
        description="Run each learner notebook's exercise cells (found by the function names the check cells "
                    "use) with the cells they read from, in a sandbox of its own (smoke profile, scratch folder, "
                    "no network, no view of other files, memory, process and time limits), check what each answer "
                    "produced with the course's checker outside the sandbox and write GRADES/grades.csv, GRADES/feedback/<learner>.html and GRADES/summary.html. "
                    "One JSON line goes to stdout (course_utils.tools.grade).")
    gr.add_argument("submissions", type=Path,
                    help="a folder or .zip of learner notebooks: one .ipynb per learner (any name) or one folder "
                         "per learner")
    gr.add_argument("--out", required=True, type=Path, help="folder for grades.csv, feedback/ and summary.html")
    gr.add_argument("--lesson", default=None, metavar="NN",
                    help="the lesson to grade, e.g. 01 (default: the lesson most submissions belong to)")
    gr.add_argument("--time-limit", type=_positive_int, default=90, metavar="SECONDS",
                    help="seconds per exercise, and per other cell it needs (default 90)")
    gr.add_argument("--notebook-time-limit", type=_positive_int, default=600, metavar="SECONDS",
                    help="seconds per notebook in all (default 600)")
    gr.add_argument("--memory-gb", type=float, default=6.0,
                    help="memory limit of each kernel, in GB of address space (default 6; 0: none)")
    gr.add_argument("--workers", type=_positive_int, default=1,
                    help="notebooks graded at the same time, each in its own kernel (default 1)")
    gr.add_argument("--sandbox", choices=["bwrap", "docker", "podman"], default=None,
                    help="how each notebook is fenced in (default: bubblewrap where installed, else Docker or "
                         "Podman with COURSE_GRADE_IMAGE); see the README's guard section")
    gr.add_argument("--no-sandbox", action="store_true",
                    help="grade without a sandbox: the learners' code runs as you and can read, change or leak "
                         "your files and the other submissions, reach the network and leave processes running; "
                         "only for notebooks you trust")
    gr.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m course_utils``."""
    parser = _Parser(prog="python -m course_utils",
                     description="Train, use and time the course's image-to-image GANs.")
    subs = parser.add_subparsers(dest="command", metavar="{train,translate,evaluate,bench}", parser_class=_Parser)
    subs.required = True

    for add in (_add_train, _add_translate, _add_evaluate, _add_bench, _add_grade):
        add(subs)
    return parser


# ===========================================================================
# train
# ===========================================================================
def _config(spec: registry.ModelSpec, args: argparse.Namespace, stored: dict[str, Any] | None) -> Any:
    """The run's config: the stored one when ``--out`` holds a run (the flags given must agree with it), else
    the paper's with the flags given and the schedule of a run to ``--steps``."""
    given = model_config.given(args, spec.config)
    if given.get("learning_rate", 1) <= 0:
        raise UsageError(f"--learning-rate must be positive, got {given['learning_rate']}")
    size = given.get("image_size")
    if size is not None and size & (size - 1):
        raise UsageError(f"--image-size {size} is not a power of two: use 32, 64, 128, 256, ...")
    if "steps" in {f.name for f in dataclasses.fields(spec.config)}:
        given["steps"] = args.steps
    if stored is None or stored.get("model") != spec.name:   # a fresh run (another model's: check_resume refuses)
        return spec.schedule(dataclasses.replace(spec.config.paper(), **given), args.steps)
    fields = {f.name for f in dataclasses.fields(spec.config)}
    return dataclasses.replace(spec.config.from_json({k: v for k, v in stored.items() if k in fields}), **given)


def _run_settings(spec: registry.ModelSpec, cfg: Any, source: registry.DataSource) -> dict[str, Any]:
    """What the run stores and a resumed run must match: the model, its config's identity and the training
    files (by fingerprint, so a moved dataset still resumes)."""
    return {"model": spec.name, **cfg.identity(), "tfds": source.tfds, "skip_bad_files": source.skip_bad_files,
            "data_files": _data_files(spec, source)}


def _data_files(spec: registry.ModelSpec, source: registry.DataSource) -> str | None:
    """A fingerprint of the training files (names and sizes), so a moved dataset still resumes."""
    import hashlib

    from course_utils.core import data

    if not spec.train_folders or source.tfds or source.data is None or spec.dataset_root is None:
        return None
    root = spec.dataset_root(source.data)
    files = [f for name in spec.train_folders if (root / name).is_dir() for f in data.list_image_files(root / name)]
    digest = hashlib.sha256("".join(f"{f.parent.name}/{f.name}\t{f.stat().st_size}\n" for f in files).encode())
    return f"{len(files)} files, sha256 {digest.hexdigest()[:16]}"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _check_data(args: argparse.Namespace, spec: registry.ModelSpec) -> registry.DataSource:
    if args.data not in (None, "shipped", *spec.data_choices) and not Path(args.data).is_dir():
        if not Path(args.data).is_file():
            raise FileNotFoundError(f"--data {args.data}: no such folder or archive. Give the dataset folder "
                                    f"({spec.data}), a .zip or .tar.gz of it, or 'shipped'.")
        if not is_archive(args.data):
            raise ValueError(f"--data {args.data} is a file but not a dataset archive ({', '.join(ARCHIVE_SUFFIXES)}); "
                             "give the dataset folder or a .zip / .tar.gz of it")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file; give a folder")
    return registry.DataSource(args.data, args.tfds, bool(args.skip_bad_files))


def train_command(args: argparse.Namespace) -> int:
    """``train``: resume or start, train to ``--steps``, export, print one JSON line."""
    from course_utils.tools import runs

    spec, out = registry.get(args.model), args.out
    source = _check_data(args, spec)
    stored = runs.read_run_settings(out)
    cfg = _config(spec, args, stored)
    end = spec.schedule_end(cfg)
    if end is not None and args.steps > end:
        raise ValueError(f"The run's learning-rate schedule ends at step {end:,} and you asked for step "
                         f"{args.steps:,}; past its end it would train at rate zero. {runs.TRAIN_LONGER}")
    started = time.time()
    settings = _run_settings(spec, cfg, source)
    if stored is not None:
        runs.check_resume(out, settings)
    import keras

    from course_utils.core import train

    keras.utils.set_random_seed(cfg.seed)
    dataset, samples = spec.load_data(cfg, source)
    with train.precision(cfg.precision):
        trainer = spec.build_trainer(cfg, spec.build_networks(cfg), jit_compile=args.xla)
    callbacks: list[Any] = []
    if args.val is not None and spec.validation is None:
        raise UsageError(f"--val is for models that validate; {spec.name} does not")
    from course_utils.tools import evaluation

    check = (spec.validation(evaluation, cfg, args.data, args.val, out, args.checkpoint_every)
             if spec.validation else None)
    callbacks += [check] if check is not None else []
    keras.utils.set_random_seed(cfg.seed)   # the same global seed for tf.data, fresh or resumed
    with contextlib.redirect_stdout(sys.stderr):    # Keras's progress bar writes to stdout
        result = runs.run_training(trainer, dataset, args.steps, out, checkpoint_every=args.checkpoint_every,
                                   sample_inputs=samples, verbose=0 if args.quiet else 1, callbacks=callbacks,
                                   settings=settings)
    if result["resumed_from"]:
        _say(f"resumed from step {result['resumed_from']}")
    if check is not None:
        result["validation"] = check.last or _last_validation(out)
    result.update(model=args.model, out=str(out), seconds=round(time.time() - started, 2))
    print(json.dumps(result), flush=True)
    return 0


def _last_validation(out: Path) -> dict[str, Any] | None:
    try:
        rows = json.loads((out / "validation.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return rows[-1] if rows else None


# ===========================================================================
# translate
# ===========================================================================
def _input_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if is_image_file(p) and p.is_file())
        if not files:
            raise FileNotFoundError(f"--input {path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        return files
    raise FileNotFoundError(f"--input {path}: no such file or folder")


def translate_command(args: argparse.Namespace) -> int:
    """``translate``: every input image through the generator, same names in ``--output``."""
    from course_utils.tools import evaluation
    from course_utils.core import inference

    model_path = evaluation.find_generators(args.model).for_direction(args.direction)
    files = _input_files(args.input)
    if args.output.exists() and not args.output.is_dir():
        raise UsageError(f"--output {args.output} is a file; give a folder")
    from PIL import Image, UnidentifiedImageError
    from tqdm import tqdm

    generator = evaluation.load_generator(model_path)
    args.output.mkdir(parents=True, exist_ok=True)
    written = []
    for path in tqdm(files, desc="translate", unit="image", file=sys.stderr, disable=len(files) < 2):
        try:
            with Image.open(path) as image:
                image.load()
                result = inference.translate_image(generator, image)
        except (UnidentifiedImageError, OSError) as err:
            raise ValueError(f"{path} is not a readable image ({err})") from None
        target = args.output / path.name
        if path.suffix.lower() in (".jpg", ".jpeg"):
            result.convert("RGB" if result.mode in ("RGBA", "RGB", "P") else "L").save(target, quality=95)
        else:
            result.save(target)
        written.append(str(target))
    print(json.dumps({"model": str(model_path), "translated": len(written), "output": str(args.output)}), flush=True)
    return 0


# ===========================================================================
# evaluate
# ===========================================================================
def evaluate_command(args: argparse.Namespace) -> int:
    """``evaluate``: metrics.json and a picture report of a trained generator on held-out images."""
    from course_utils.tools import evaluation

    found = evaluation.find_generators(args.model)
    spec = registry.get(found.kind)
    evaluation.check_report_folder(args.out)
    source = Path(args.data)
    if args.data == "shipped" and spec.dataset_root is not None:
        source = spec.dataset_root("shipped")
    folders = spec.eval_folders(evaluation, source, args.data_b, args.split)
    if args.direction and found.settings.get("direction") not in (None, args.direction):
        _say(f"note: the run was trained with --direction {found.settings['direction']}; evaluating "
             f"{args.direction} as asked")
    started = time.time()
    generators = {name: evaluation.load_generator(path) for name, path in found.files.items()}
    options = dict(batch_size=args.batch_size, skip_bad_files=args.skip_bad_files,
                   report_images=args.report_images, progress=not args.quiet)
    direction = args.direction or found.settings.get("direction")
    result, headline = spec.evaluate(evaluation, generators, folders, direction, options)
    result.metrics["model"] = {name: str(path) for name, path in found.files.items()}
    written = evaluation.write_report(args.out, result, title=f"Evaluation of {args.model}")
    line = {"model": str(args.model), "kind": found.kind, **headline, "report": str(written["index.html"]),
            "metrics": str(written["metrics.json"]), "seconds": round(time.time() - started, 2)}
    print(json.dumps(line), flush=True)
    return 0


# ===========================================================================
# bench (course_utils.tools.bench) and the entry point
# ===========================================================================
#: The ``bench`` options that set what one run measures; None means "not given on the command line".
BENCH_SETTINGS = ("image_size", "steps", "batch_size", "filters", "warmup", "repeats")


def _bench_runs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The runs ``bench`` measures: the standard set, or one model; the options given override either."""
    from course_utils.tools import bench

    given = {name: getattr(args, name) for name in BENCH_SETTINGS if getattr(args, name) is not None}
    if args.standard:
        if args.model is not None:
            raise UsageError("--standard times pix2pix and cyclegan; leave out --model, or leave out --standard "
                             "to time one model")
        runs = [{**run, **given} for run in bench.STANDARD_RUNS]
    else:
        runs = [{"model": args.model or bench.DEFAULT_MODEL, **given}]
    for run in runs:
        spec = registry.get(run["model"])
        if spec.config.fixed_image_size and run.get("image_size") not in (None, spec.bench.image_size):
            raise UsageError(f"--image-size is fixed at {spec.bench.image_size} for {spec.name}; leave it out")
    return runs


def bench_command(args: argparse.Namespace) -> int:
    """``bench``: time each run, print a table (or one JSON line with ``--json``), optionally save JSON."""
    runs = _bench_runs(args)
    from course_utils.tools import bench

    common = dict(xla=args.xla, precision=args.precision or "float32", pipeline=not args.no_pipeline,
                  trainer=not args.no_trainer)
    results = [bench.run_bench(**run, **common) for run in runs]
    document = {"runs": results} if args.standard else results[0]
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(document, indent=2) + "\n")
    if args.json:
        print(json.dumps(document), flush=True)
    else:
        print(bench.format_table(results))
        if args.json_out is not None:
            print(f"\nwritten: {args.json_out}")
    return 0


# ===========================================================================
# grade (course_utils.tools.grade)
# ===========================================================================
def grade_command(args: argparse.Namespace) -> int:
    """``grade``: every submitted notebook's exercises, graded in guarded kernels; one JSON line."""
    from course_utils.tools import grade

    if args.lesson is not None and not (len(args.lesson) == 2 and args.lesson.isdigit()):
        raise UsageError(f"--lesson takes a lesson's two digits, e.g. 01; got {args.lesson!r}")
    if args.memory_gb < 0:
        raise UsageError(f"--memory-gb must be 0 (no limit) or more; got {args.memory_gb:g}")
    limits = grade.Limits(exercise_seconds=args.time_limit, notebook_seconds=args.notebook_time_limit,
                          memory_gb=args.memory_gb or None)
    if args.no_sandbox and args.sandbox:
        raise UsageError("--no-sandbox and --sandbox exclude each other")
    if args.no_sandbox:
        print("warning: --no-sandbox: the learners' code runs as you, with your files, the other submissions and "
              "the network within its reach, and may leave processes running", file=sys.stderr)
    line = grade.grade_class(args.submissions, args.out, lesson=args.lesson, limits=limits, workers=args.workers,
                             progress=not args.quiet, sandbox="none" if args.no_sandbox else args.sandbox)
    print(json.dumps(line), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m course_utils`` and the ``course-utils`` script; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's C++ chatter off stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["costs"]:   # each lesson's runs and their estimated T4 minutes (course_utils.tools.costs)
        from course_utils.tools import costs

        return costs.main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    commands = {"train": train_command, "translate": translate_command, "evaluate": evaluate_command,
                "bench": bench_command, "grade": grade_command}
    try:
        return commands[args.command](args)
    except UsageError as err:
        _say(f"error: {err} (see 'python -m course_utils {args.command} --help')")
        return 2
    except (ValueError, FileNotFoundError, NotADirectoryError, PermissionError, RuntimeError,
            FloatingPointError) as err:
        message = " ".join(str(err).split())   # one line
        _say(f"error: {message}")
        return 1
    except KeyboardInterrupt:
        _say("error: interrupted; rerun the same command to resume from the latest checkpoint")
        return 130
