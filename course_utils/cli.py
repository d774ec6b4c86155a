"""The command line: ``python -m course_utils {train,translate,evaluate,bench} ...``.

* ``train``     trains a GAN, Pix2Pix or CycleGAN into an output folder. Running the same
  command again on the same ``--out`` resumes from the latest checkpoint. While it runs, a
  progress bar and messages go to stderr; at the end exactly one JSON line goes to stdout.
* ``translate`` runs an exported generator on your own images of any size.
* ``evaluate``  judges a trained generator on held-out images: ``metrics.json`` and a picture
  report (PNG grids and an ``index.html``), see :mod:`course_utils.evaluation`.
* ``bench``     measures training speed: the course's trainer next to a tutorial-style step
  (:mod:`course_utils.bench`).

What each model name means (its networks, trainer, data and default settings) is its recipe in
:mod:`course_utils.recipes`. Bad arguments or bad data end with a one-line ``error: ...`` on
stderr and a non-zero exit status, never a traceback. TensorFlow starts only once the arguments
are checked (checking ``--precision`` against ``train.PRECISIONS`` is what starts it first).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

from course_utils import recipes
from course_utils.files import ARCHIVE_SUFFIXES, IMAGE_SUFFIXES, is_archive, is_image_file



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
    from course_utils import train

    if text not in train.PRECISIONS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(train.PRECISIONS)}, got {text!r}")
    return text


def _per_model(field: str) -> str:
    """A recipe default of every model, for help texts: ``"gan 64, pix2pix 1, cyclegan 1"``."""
    return ", ".join(f"{name} {getattr(recipes.recipe(name), field):g}" for name in recipes.MODELS)


# ===========================================================================
# The parser
# ===========================================================================
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m course_utils``."""
    parser = _Parser(prog="python -m course_utils",
                     description="Train, use and time the course's image-to-image GANs.")
    subs = parser.add_subparsers(dest="command", metavar="{train,translate,evaluate,bench}", parser_class=_Parser)
    subs.required = True

    tr = subs.add_parser(
        "train", help="train a model into an output folder (rerun the same command to resume)",
        description="Train a GAN (digits), Pix2Pix (paired folder) or CycleGAN (unpaired folder or TFDS) "
                    "into --out. Checkpoints, samples, TensorBoard logs and the loss history are written "
                    "there; the same command run again on the same --out resumes from the latest "
                    "checkpoint. At the end the generator(s) are exported to <out>/export/ and one JSON "
                    "line with the step reached and the final losses is printed on stdout.")
    tr.add_argument("model", choices=recipes.MODELS,
                    help="gan: DCGAN on 28x28 digits; pix2pix: U-Net + PatchGAN on paired images; "
                         "cyclegan: ResNet generators + PatchGANs on two unpaired folders")
    tr.add_argument("--data", default=None,
                    help="the dataset. gan: 'shipped' (offline digits) or 'mnist' (downloaded). pix2pix: a "
                         "folder with train/*.jpg (A|B side by side) or 'shipped'. cyclegan: a folder with "
                         "trainA/ and trainB/ or 'shipped'. A .zip or .tar.gz of such a folder works too (unpacked "
                         "once into ~/.cache/course_utils/datasets). Not needed with --tfds.")
    tr.add_argument("--direction", choices=("AtoB", "BtoA"), default=None,
                    help="pix2pix only: AtoB (default) learns the left half of each file -> the right half, BtoA "
                         "the other way (facades, cityscapes and maps labels -> photo are BtoA)")
    tr.add_argument("--val", default=None, metavar="FOLDER",
                    help="pix2pix only: a folder of A|B files to validate on at every checkpoint (L1, PSNR, SSIM "
                         "into validation.csv/.json, TensorBoard and the final JSON line). Default: the dataset's "
                         "val/ folder when it has one; 'none' turns validation off")
    tr.add_argument("--skip-bad-files", action="store_true",
                    help="leave unreadable or unusable image files out with a warning naming them, instead of "
                         "stopping (pix2pix and cyclegan folders)")
    tr.add_argument("--tfds", default=None, metavar="NAME",
                    help="cyclegan only: a TFDS cycle_gan config (e.g. horse2zebra) instead of --data; "
                         "downloaded on first use")
    tr.add_argument("--out", required=True, type=Path,
                    help="output folder: checkpoints/, samples/, tensorboard/, history.csv/.json, export/")
    tr.add_argument("--steps", required=True, type=_positive_int,
                    help="the global step to reach (a resumed run continues up to it)")
    tr.add_argument("--image-size", type=_positive_int, default=None,
                    help=f"side of the square images, a power of two (default: {_per_model('image_size')}; "
                         "gan's is fixed)")
    tr.add_argument("--batch-size", type=_positive_int, default=None,
                    help=f"images per step (default: {_per_model('batch_size')}; batch 1 as in the papers)")
    tr.add_argument("--checkpoint-every", type=_positive_int, default=100,
                    help="save a checkpoint (and a sample grid) every K steps, and always at the end "
                         "(default 100)")
    tr.add_argument("--seed", type=int, default=0,
                    help="seed of weights, data order, augmentation and noise; same seed, same losses on "
                         "the CPU (default 0)")
    tr.add_argument("--precision", type=_precision, default=None, metavar="POLICY",
                    help="float32 (default); mixed_float16 (with loss scaling; T4/V100/A100 GPUs); "
                         "mixed_bfloat16 (TPU, A100 and newer)")
    tr.add_argument("--xla", action="store_true", help="compile the training step with XLA (jit_compile=True)")
    tr.add_argument("--filters", type=_positive_int, default=None,
                    help="base width of the networks (default 64, the papers'; use 8 for quick CPU runs)")
    tr.add_argument("--learning-rate", type=float, default=None,
                    help=f"Adam learning rate (default: {_per_model('learning_rate')}); cyclegan "
                         "keeps it for the first half of --steps and decays it linearly to zero over the second "
                         "(that schedule is stored in the run folder and kept when the run is resumed)")
    tr.add_argument("--upsample", choices=("resize", "transpose"), default=None,
                    help="cyclegan only: how the generators upsample: transpose (default, the paper's transposed "
                         "convolutions) or resize (resize, then convolve: no checkerboard; 03_cyclegan_further, section 2)")
    tr.add_argument("--n-blocks", type=_positive_int, default=None,
                    help="cyclegan only: residual blocks in each generator (default: the paper's 9 at 256 px and "
                         "above, 6 below; lesson 03's smoke profile uses 3)")
    tr.add_argument("--quiet", action="store_true", help="no progress bar (messages and errors still go to stderr)")

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

    be = subs.add_parser(
        "bench", help="time the course's training steps next to the tutorials' (make bench)",
        description="Time the course's trainer of a model next to a training step written the way the TensorFlow "
                    "tutorials write it, on the papers' networks and one fixed batch, interleaved; report the "
                    "ratio, FLOP/s, peak memory and the input pipeline's speed (course_utils.bench). Options left "
                    "out take the model's benchmark defaults; with --standard, the options given override the "
                    "standard set's.")
    be.add_argument("--model", choices=recipes.MODELS, default=None,
                    help="which model's trainer to time (default pix2pix; not with --standard)")
    be.add_argument("--image-size", type=_positive_int, default=None,
                    help=f"image side (default: {_per_model('bench_image_size')})")
    be.add_argument("--steps", type=_positive_int, default=None, help="timed steps per round (default 5)")
    be.add_argument("--batch-size", type=_positive_int, default=None,
                    help=f"images per step (default: {_per_model('bench_batch_size')})")
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

    gr = subs.add_parser(
        "grade", help="grade a class: run every submitted notebook's exercises safely, write a gradebook",
        description="Run each learner notebook's exercise cells (found by the function names the check cells "
                    "use) with the cells they read from, in a sandbox of its own (smoke profile, scratch folder, "
                    "no network, no view of other files, memory, process and time limits), check what each answer "
                    "produced with the course's checker outside the sandbox and write GRADES/grades.csv, GRADES/feedback/<learner>.html and GRADES/summary.html. "
                    "One JSON line goes to stdout (course_utils.grade).")
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
    return parser


# ===========================================================================
# train
# ===========================================================================
def _check_train_args(args: argparse.Namespace) -> None:
    """Argument combinations argparse cannot check; raises UsageError with the fix."""
    _check_image_size(args.model, args.image_size)
    if args.model == "gan":
        if args.tfds:
            raise UsageError("--tfds is for cyclegan; gan uses --data shipped or --data mnist")
        if args.data not in ("shipped", "mnist"):
            raise UsageError("gan needs --data shipped (offline digits) or --data mnist (downloaded)")
    elif args.model == "pix2pix":
        if args.tfds:
            raise UsageError("--tfds is for cyclegan; pix2pix reads a paired folder: --data PATH or --data shipped")
        if args.data is None:
            raise UsageError("pix2pix needs --data PATH (a folder with train/) or --data shipped")
    else:
        if (args.data is None) == (args.tfds is None):
            raise UsageError("cyclegan needs exactly one of --data PATH (trainA/ and trainB/), --data shipped, "
                             "or --tfds NAME")
    if args.model != "pix2pix":
        for option, value in (("--direction", args.direction), ("--val", args.val)):
            if value is not None:
                raise UsageError(f"{option} is for pix2pix" + ("; a cyclegan learns both directions"
                                                               if args.model == "cyclegan" and option == "--direction"
                                                               else ""))
    if args.n_blocks is not None and args.model != "cyclegan":
        raise UsageError(f"--n-blocks is the number of residual blocks of CycleGAN's generators; {args.model} has none")
    if args.skip_bad_files and args.model == "gan":
        raise UsageError("--skip-bad-files is for image folders (pix2pix, cyclegan); gan reads the digits")
    if args.image_size is not None and args.model != "gan" and args.image_size & (args.image_size - 1):
        raise UsageError(f"--image-size {args.image_size} is not a power of two: use 32, 64, 128, 256, ...")
    if args.learning_rate is not None and not args.learning_rate > 0:
        raise UsageError(f"--learning-rate must be positive, got {args.learning_rate}")


def _check_image_size(model: str, image_size: int | None) -> None:
    """A model whose architecture takes one image size only (the DCGAN) refuses any other."""
    r = recipes.recipe(model)
    if r.fixed_image_size and image_size not in (None, r.image_size):
        raise UsageError(f"--image-size is fixed at {r.image_size} for {model} (the DCGAN's digits); leave it out")


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings, the recipe's defaults filled in (those of :data:`STORED` go into
    <out>/run_settings.json, and a resumed run must match them)."""
    r = recipes.recipe(args.model)
    lr = args.learning_rate or r.learning_rate
    image_size = r.image_size if r.fixed_image_size else (args.image_size or r.image_size)
    return {
        "model": args.model,
        "data": args.data,
        "tfds": args.tfds,
        "image_size": image_size,
        "batch_size": args.batch_size or r.batch_size,
        "filters": args.filters or r.filters,
        "seed": args.seed,
        "precision": args.precision or "float32",
        "xla": bool(args.xla),
        "learning_rate": lr,
        "direction": (args.direction or "AtoB") if args.model == "pix2pix" else None,
        "upsample": (args.upsample or r.upsample) if args.model == "cyclegan" else None,
        "n_blocks": (args.n_blocks or _paper_n_blocks(image_size)) if args.model == "cyclegan" else None,
        "skip_bad_files": bool(args.skip_bad_files),
        "steps": args.steps,
    }


#: The settings runs.run_training stores with the run besides the trainer's own (which cover the
#: learning rate and its schedule): they fix the networks, the data and what one step does, so a
#: resumed run must share them (runs.check_resume). --steps, --checkpoint-every, --xla, --val and
#: --quiet may change; --data may move if its training files (data_files) stay the same.
STORED = ("model", "data_files", "tfds", "image_size", "batch_size", "filters", "seed", "precision", "direction",
          "skip_bad_files", "upsample", "n_blocks")


def _paper_n_blocks(image_size: int) -> int:
    from course_utils import models   # imported here: it loads Keras, which --help does not need

    return models.paper_n_blocks(image_size)


def _stored(settings: dict[str, Any], out: Path) -> dict[str, Any]:
    """The settings of :data:`STORED` that a run stores and a resumed run must match. ``n_blocks`` belongs to
    cyclegan only; a cyclegan run folder written before ``--n-blocks`` existed has none and used the
    paper's count, so it resumes while the count is still the paper's."""
    from course_utils import runs

    chosen = {k: settings[k] for k in STORED if k != "n_blocks" or settings["model"] == "cyclegan"}
    before = runs.read_run_settings(out)
    if ("n_blocks" in chosen and before is not None and "n_blocks" not in before.get("settings", {})
            and chosen["n_blocks"] == _paper_n_blocks(settings["image_size"])):
        del chosen["n_blocks"]
    return chosen


def _data_files(settings: dict[str, Any]) -> str | None:
    """A fingerprint of the training files (names and sizes), so a moved dataset still resumes."""
    import hashlib

    from course_utils import data

    folders_of_model = recipes.recipe(settings["model"]).train_folders
    if not folders_of_model or settings["tfds"]:
        return None
    root = recipes.dataset_root(settings["model"], settings["data"])
    folders = [root / name for name in folders_of_model]
    files = [f for folder in folders if folder.is_dir() for f in data.list_image_files(folder)]
    digest = hashlib.sha256("".join(f"{f.parent.name}/{f.name}\t{f.stat().st_size}\n" for f in files).encode())
    return f"{len(files)} files, sha256 {digest.hexdigest()[:16]}"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_data(settings: dict[str, Any]) -> tuple[Any, Any]:
    """(training dataset, fixed sample inputs for the sample grids) for the model."""
    import numpy as np

    from course_utils import data

    model, size, seed = settings["model"], settings["image_size"], settings["seed"]
    skip = bool(settings.get("skip_bad_files", False))
    direction = settings.get("direction") or "AtoB"
    ds = recipes.training_dataset(model, settings["data"], image_size=size, batch_size=settings["batch_size"],
                                  seed=seed, direction=direction, skip_bad_files=skip, tfds=settings["tfds"])
    if model == "gan":
        noise = np.random.default_rng(seed).normal(size=(16, 100)).astype("float32")
        return ds, noise
    if model == "pix2pix":
        path = recipes.dataset_root(model, settings["data"])
        with warnings.catch_warnings():   # the same files: their warnings were given once just above
            warnings.simplefilter("ignore")
            samples = data.load_paired_folder(path, "train", image_size=size, jitter=False, shuffle=False,
                                              batch_size=1, drop_remainder=False, direction=direction,
                                              skip_bad_files=skip)
        inp, tar = zip(*samples.take(4).as_numpy_iterator())
        return ds, (np.concatenate(inp), np.concatenate(tar))
    if settings["tfds"]:
        sample_a, sample_b = data.load_cycle_gan_tfds(settings["tfds"], "train", image_size=size, jitter=False,
                                                      shuffle=False, batch_size=1)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample_a, sample_b = data.load_unpaired_folder(recipes.dataset_root(model, settings["data"]), "train",
                                                           image_size=size, jitter=False, shuffle=False, batch_size=1,
                                                           drop_remainder=False, skip_bad_files=skip)
    xs = np.concatenate(list(sample_a.take(2).as_numpy_iterator()))
    ys = np.concatenate(list(sample_b.take(2).as_numpy_iterator()))
    return ds, (xs, ys)


def _build_trainer(settings: dict[str, Any], stored: dict[str, Any] | None = None) -> Any:
    """The recipe's networks (built under the chosen precision) and its compiled trainer, with the
    recipe's learning rate for the run (``stored``: what a resumed run stored, see
    :func:`recipes.run_learning_rate`)."""
    from course_utils import train

    model = settings["model"]
    rate = recipes.run_learning_rate(model, settings["steps"], settings["learning_rate"], stored)
    with train.precision(settings["precision"]):
        networks = recipes.build_networks(model, settings["image_size"], settings["filters"],
                                          n_blocks=settings.get("n_blocks"), upsample=settings.get("upsample") or None)
        return recipes.build_trainer(model, networks, learning_rate=rate, seed=settings["seed"],
                                     jit_compile=settings["xla"])


def train_command(args: argparse.Namespace) -> int:
    """``train``: resume or start, train to ``--steps``, export, print one JSON line."""
    _check_train_args(args)
    settings = _settings(args)
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder")
    if args.data not in (None, "shipped", "mnist") and not Path(args.data).is_dir():
        if not Path(args.data).is_file():
            raise FileNotFoundError(f"--data {args.data}: no such folder or archive. Give the dataset folder "
                                    "(pix2pix: with train/; cyclegan: with trainA/ and trainB/), a .zip or .tar.gz "
                                    "of it, or 'shipped'.")
        if not is_archive(args.data):
            raise ValueError(f"--data {args.data} is a file but not a dataset archive ({', '.join(ARCHIVE_SUFFIXES)}); "
                             "give the dataset folder or a .zip / .tar.gz of it")

    started = time.time()
    settings["data_files"] = _data_files(settings)
    val_folder = _val_folder(args, settings)
    import keras

    from course_utils import runs

    keras.utils.set_random_seed(settings["seed"])
    dataset, samples = _load_data(settings)
    trainer = _build_trainer(settings, runs.read_run_settings(out))
    callbacks: list[Any] = []
    if val_folder is not None:
        from course_utils import evaluation

        callbacks.append(evaluation.ValidationCallback(val_folder, out, every=args.checkpoint_every,
                                                       direction=settings["direction"]))
    keras.utils.set_random_seed(settings["seed"])   # the same global seed for tf.data, fresh or resumed
    with contextlib.redirect_stdout(sys.stderr):    # Keras's progress bar writes to stdout
        result = runs.run_training(trainer, dataset, args.steps, out, checkpoint_every=args.checkpoint_every,
                                   sample_inputs=samples, verbose=0 if args.quiet else 1, callbacks=callbacks,
                                   settings=_stored(settings, out))
    if result["resumed_from"]:
        _say(f"resumed from step {result['resumed_from']}")
    if val_folder is not None:
        result["validation"] = callbacks[-1].last or _last_validation(out)
    result.update(model=args.model, out=str(out), seconds=round(time.time() - started, 2))
    print(json.dumps(result), flush=True)
    return 0


def _val_folder(args: argparse.Namespace, settings: dict[str, Any]) -> Path | None:
    """The folder of validation pairs: --val, else the dataset's val/ when it exists, else none."""
    if settings["model"] != "pix2pix" or (args.val or "").lower() == "none":
        return None
    from course_utils import evaluation

    if args.val is not None:
        return evaluation.image_folder(args.val, ["val"])
    root = recipes.dataset_root("pix2pix", settings["data"])
    return root / "val" if (root / "val").is_dir() else None


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
    from course_utils import evaluation, inference

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
def _evaluate_folders(args: argparse.Namespace, kind: str) -> tuple[Path, ...]:
    """The image folder(s) to evaluate on, from --data, --data-b and --split."""
    from course_utils import data, evaluation

    source = recipes.dataset_root(kind, "shipped") if args.data == "shipped" else Path(args.data)
    if kind == "pix2pix":
        if args.data_b is not None:
            raise UsageError("--data-b is for a cyclegan model; a pix2pix model reads A|B files from --data alone")
        splits = [args.split] if args.split else ["test", "val"]
        folder = evaluation.image_folder(source, splits)
        if args.split and folder.name != args.split:
            raise FileNotFoundError(f"{source} holds images directly, so --split {args.split} does not apply; "
                                    "leave it out")
        return (folder,)
    if args.data_b is not None:
        if args.split:
            raise UsageError("--split picks folders inside a dataset folder; with --data-b give the two image "
                             "folders themselves")
        return evaluation.image_folder(source, []), evaluation.image_folder(args.data_b, [])
    root = data.dataset_folder(source)
    split = args.split or "test"
    folders = (root / f"{split}A", root / f"{split}B")
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing: a cyclegan model is evaluated on {split}A/ and {split}B/ "
                                    "of a dataset folder, or on two folders: --data FOLDER_A --data-b FOLDER_B")
    return folders


def evaluate_command(args: argparse.Namespace) -> int:
    """``evaluate``: metrics.json and a picture report of a trained generator on held-out images."""
    from course_utils import evaluation

    found = evaluation.find_generators(args.model)
    evaluation.check_report_folder(args.out)
    folders = _evaluate_folders(args, found.kind)
    direction = args.direction or found.settings.get("direction") or "AtoB"
    if found.kind == "cyclegan" and args.direction:
        raise UsageError("--direction is for pix2pix; a cyclegan model is evaluated in both directions")
    if args.direction and found.settings.get("direction") not in (None, args.direction):
        _say(f"note: the run was trained with --direction {found.settings['direction']}; evaluating "
             f"{args.direction} as asked")
    started = time.time()
    generators = {name: evaluation.load_generator(path) for name, path in found.files.items()}
    options = dict(batch_size=args.batch_size, skip_bad_files=args.skip_bad_files,
                   report_images=args.report_images, progress=not args.quiet)
    if found.kind == "pix2pix":
        result = evaluation.evaluate_pix2pix(generators["generator"], folders[0], direction, **options)
        headline = {k: result.metrics[k] for k in ("images", "l1", "psnr", "ssim")}
    else:
        result = evaluation.evaluate_cyclegan(generators["generator_g"], generators["generator_f"], *folders,
                                              **options)
        headline = {k: result.metrics[k] for k in ("images", "cycle_error", "identity_error", "cycle_psnr",
                                                   "cycle_ssim")}
        headline.update({k: result.metrics[k] for k in ("correspondence_error", "speckle_ratio")
                         if k in result.metrics})          # the shipped day2dusk: its true translation is known
    result.metrics["model"] = {name: str(path) for name, path in found.files.items()}
    written = evaluation.write_report(args.out, result, title=f"Evaluation of {args.model}")
    line = {"model": str(args.model), "kind": found.kind, **headline, "report": str(written["index.html"]),
            "metrics": str(written["metrics.json"]), "seconds": round(time.time() - started, 2)}
    print(json.dumps(line), flush=True)
    return 0


# ===========================================================================
# bench (course_utils.bench) and the entry point
# ===========================================================================
#: The ``bench`` options that set what one run measures; None means "not given on the command line".
BENCH_SETTINGS = ("image_size", "steps", "batch_size", "filters", "warmup", "repeats")


def _bench_runs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The runs ``bench`` measures: the standard set, or one model; the options given override either."""
    from course_utils import bench

    given = {name: getattr(args, name) for name in BENCH_SETTINGS if getattr(args, name) is not None}
    if args.standard:
        if args.model is not None:
            raise UsageError("--standard times pix2pix and cyclegan; leave out --model, or leave out --standard "
                             "to time one model")
        runs = [{**run, **given} for run in bench.STANDARD_RUNS]
    else:
        runs = [{"model": args.model or "pix2pix", **given}]
    for run in runs:
        _check_image_size(run["model"], run.get("image_size"))
    return runs


def bench_command(args: argparse.Namespace) -> int:
    """``bench``: time each run, print a table (or one JSON line with ``--json``), optionally save JSON."""
    runs = _bench_runs(args)
    from course_utils import bench

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
# grade (course_utils.grade)
# ===========================================================================
def grade_command(args: argparse.Namespace) -> int:
    """``grade``: every submitted notebook's exercises, graded in guarded kernels; one JSON line."""
    from course_utils import grade

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
    if argv[:1] == ["costs"]:   # each lesson's runs and their estimated T4 minutes (course_utils.costs)
        from course_utils import costs

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
