"""Lesson 02's labs: Pix2Pix ablations, predict then run (Isola et al. 2017, section 4).

Three questions from the paper, each answered by training small variants on the shipped
``label2scene`` pairs and scoring them on its ``val`` split against the mean-image baseline:

* **objective** (fig. 4, table 1): L1 only, cGAN only, cGAN + L1;
* **generator** (fig. 5): U-Net against the same network without skip connections
  (an encoder-decoder);
* **discriminator** (table 3, fig. 6): patches of 1x1, a small patch, a "70x70"-sized patch and
  the whole image, scaled to the lab's image size (:data:`PATCHES` says how).

Every variant is scored with two figures: the L1 distance to the true targets
(:func:`course_utils.core.metrics.mean_l1`) and :func:`sharpness`, its high-frequency energy relative
to the targets' (1 = as much fine detail as the targets, below 1 = blurred, above 1 = more edges
or noise than the targets). L1 alone rewards a blurred average, which is the paper's point.

Read it in this order: the scale-down of the patch sizes (:data:`PATCHES`), the two networks
(:func:`encoder_decoder_generator`, ``models.unet_generator`` without skips; :func:`patch_discriminator`),
the variants (:data:`VARIANTS`, :data:`LABS`), the measure of blur (:func:`gradient_energy`,
:func:`sharpness`), training and scoring (:func:`train_variant`, :func:`run_lab`), the results
of the longer runs (:func:`load_results`, :func:`orderings`), the learner's prediction against both
runs (:func:`conclusion`) and the command line that makes the longer runs
(``python -m course_utils.lessons.labs.pix2pix``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from course_utils.tools import costs
from course_utils.core import inference, losses, metrics, models, train
from course_utils.lessons import results
from course_utils.core.counts import positive_int
from course_utils.lessons.labs import prediction_opening
from course_utils.core.layers import conv_block, init

#: Where the longer runs' figures are kept (committed with the course).
#: The longer runs' figures, beside the reference weights (so they ship with the package, for Colab).
RESULTS_FILE = results.reference_dir() / "labs_pix2pix.json"

#: Smoke scale (the lesson) and the longer runs (the script): image size, base filters, steps.
SMOKE = {"image_size": 32, "filters": 8, "steps": 300}
LONGER = {"image_size": 32, "filters": 8, "steps": 3000}


# ===========================================================================
# 1. Patch sizes, scaled to a small image
# ===========================================================================
# The paper's patches at 256x256 cover 1/256, 16/256, 70/256 and 286/256 of the image side. At 32x32
# we keep those fractions roughly: a 1-pixel field, a 4-pixel one (one 4x4 conv), 7 pixels (the
# PatchGAN's two stride-1 4x4 convs with no halving: 7/32 = 0.22 against 70/256 = 0.27), and 34 pixels
# (two halvings: every cell sees the whole image, like the paper's 286x286 "ImageGAN").
#: name -> (paper's receptive field at 256, recipe): ("pixel", n) = n 1x1 convs; ("patch", n_down) =
#: the PatchGAN with n_down halvings (0 = none) before its two stride-1 4x4 convs; ("small", 0) = one
#: 4x4 conv, then 1x1 convs.
PATCHES: dict[str, tuple[int, tuple[str, int]]] = {
    "1x1": (1, ("pixel", 0)),
    "16x16": (16, ("small", 0)),
    "70x70": (70, ("patch", 0)),
    "whole image": (286, ("patch", 2)),
}


def encoder_decoder_generator(image_size: int = 256, filters: int = 64, dropout: float = 0.5,
                              dropout_blocks: int = 3) -> keras.Model:
    """The U-Net of :func:`course_utils.core.models.unet_generator` without its skip connections (``skips=False``).

    The paper's "encoder-decoder" (fig. 5): the same blocks, the same widths, but every decoder
    block sees only the block below it, so everything passes through the 1x1 bottleneck.
    ``(b, S, S, 3) -> (b, S, S, 3)`` in [-1, 1].
    """
    return models.unet_generator(image_size, filters=filters, dropout=dropout, dropout_blocks=dropout_blocks,
                                 skips=False)


def patch_discriminator(image_size: int, patch: str = "70x70", filters: int = 64) -> keras.Model:
    """A conditional discriminator ``[input, image] -> (b, g, g, 1)`` logits with the field of ``patch``.

    ``patch`` is a key of :data:`PATCHES`. The "patch" recipes are the pix2pix PatchGAN (4x4 convs,
    no batch norm on the first, LeakyReLU 0.2) with ``n_down`` halvings; "pixel" is the paper's
    PixelGAN (1x1 convs); "small" starts with one 4x4 conv and continues with 1x1 convs.
    """
    if patch not in PATCHES:
        raise ValueError(f"patch must be one of {', '.join(PATCHES)}; got {patch!r}.")
    kind, n_down = PATCHES[patch][1]
    x_in = keras.Input((image_size, image_size, 3), name="input_image")
    y_in = keras.Input((image_size, image_size, 3), name="target_image")
    x = layers.Concatenate()([x_in, y_in])                          # (b, S, S, 6)
    if kind == "patch":
        for i in range(n_down):
            x = conv_block(x, filters * 2**i, norm="none" if i == 0 else "batch", use_bias=False)
        x = layers.ZeroPadding2D()(x)
        if n_down == 0:                                            # the first conv has no batch norm
            x = conv_block(x, filters, strides=1, padding="valid", norm="none", use_bias=True)
        else:
            x = conv_block(x, filters * 2**n_down, strides=1, padding="valid")
        x = layers.ZeroPadding2D()(x)
        logits = layers.Conv2D(1, 4, kernel_initializer=init())(x)
    else:
        first_kernel = 1 if kind == "pixel" else 4
        x = conv_block(x, filters, kernel_size=first_kernel, strides=1, norm="none", use_bias=True)
        x = conv_block(x, filters * 2, kernel_size=1, strides=1)
        logits = layers.Conv2D(1, 1, kernel_initializer=init())(x)
    return keras.Model([x_in, y_in], logits, name=f"discriminator_{patch.replace(' ', '_')}")


def receptive_field(discriminator: keras.Model) -> int:
    """Side of the input patch one output cell of ``discriminator`` sees (its convolutions, walked back)."""
    convs = [op for op in discriminator.layers if isinstance(op, layers.Conv2D)]
    return models.receptive_field_size([(conv.kernel_size[0], conv.strides[0], 0) for conv in convs])


# ===========================================================================
# 2. The variants and the labs
# ===========================================================================
@dataclasses.dataclass(frozen=True)
class Variant:
    """One way to train Pix2Pix: the generator's objective, the generator, the discriminator's patch."""

    objective: str = "cGAN + L1"     # "L1 only", "cGAN only" or "cGAN + L1"
    generator: str = "U-Net"         # "U-Net" or "encoder-decoder"
    patch: str = "70x70"             # a key of PATCHES

    @property
    def name(self) -> str:
        return f"{self.objective}, {self.generator}, {self.patch}"


BASELINE = Variant()
#: Each lab: the variants it compares, in the paper's order. The baseline variant is in all three.
LABS: dict[str, list[Variant]] = {
    "objective": [Variant(objective="L1 only"), Variant(objective="cGAN only"), BASELINE],
    "generator": [Variant(generator="encoder-decoder"), BASELINE],
    "patch": [Variant(patch="1x1"), Variant(patch="16x16"), BASELINE, Variant(patch="whole image")],
}
#: How each lab labels its variants.
LABEL = {"objective": lambda v: v.objective, "generator": lambda v: v.generator, "patch": lambda v: v.patch}
#: Every variant once (the baseline is trained once and shared by the labs).
VARIANTS: list[Variant] = list(dict.fromkeys(v for lab in LABS.values() for v in lab))

#: What the paper found, in words (Isola et al. 2017, section 4).
PAPER = {
    "objective": "L1 alone gives reasonable but blurry results; cGAN alone gives sharper images with "
                 "visual artefacts on some inputs; cGAN + L1 is sharp and mostly artefact-free "
                 "(fig. 4; table 1: FCN per-pixel accuracy 0.42 L1, 0.22 cGAN, 0.66 L1 + cGAN).",
    "generator": "Without skips the encoder-decoder fails to give realistic images, and L1 + cGAN "
                 "does not rescue it; the U-Net gives better results with either loss (fig. 5, table 2).",
    "patch": "1x1 (PixelGAN) gives no spatial sharpness but more colour; 16x16 gives sharp but tiled "
             "images; 70x70 is as sharp and the best score; the whole image (286x286) is no better "
             "than 70x70 and scores lower (table 3: FCN per-pixel accuracy 0.39, 0.65, 0.66, 0.42; fig. 6).",
}


# ===========================================================================
# 3. Blur, measured
# ===========================================================================
def gradient_energy(images: Any) -> float:
    """Mean squared difference between neighbouring pixels, horizontal and vertical averaged.

    ``images``: ``(b, h, w, c)`` (or one ``(h, w, c)``) in any range. A flat image scores 0; edges and
    texture (or noise) raise it. Example: the 2x2 image ``[[0, 1], [0, 1]]`` has horizontal
    differences 1, 1 and vertical 0, 0, so ``(1 + 0) / 2 = 0.5``.
    """
    x = np.asarray(images, np.float64)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or min(x.shape[1:3]) < 2:
        raise ValueError(f"gradient_energy needs images (b, h, w, c) of at least 2x2 pixels; got shape {x.shape}.")
    horizontal = np.mean((x[:, :, 1:] - x[:, :, :-1]) ** 2)
    vertical = np.mean((x[:, 1:] - x[:, :-1]) ** 2)
    return float((horizontal + vertical) / 2)


def sharpness(predictions: Any, targets: Any) -> float:
    """High-frequency energy of ``predictions`` relative to ``targets``: 1 = as much fine detail.

    Below 1 the predictions are smoother than the truth (blur); above 1 they have more edges or
    noise than it. Compare it with 1, not "the higher the better".
    """
    reference = gradient_energy(targets)
    if reference == 0:
        raise ValueError("sharpness needs targets with some detail: every target is flat.")
    return gradient_energy(predictions) / reference


# ===========================================================================
# 4. Training and scoring
# ===========================================================================
def build_players(variant: Variant, image_size: int, filters: int) -> tuple[keras.Model, keras.Model]:
    """The generator and discriminator of ``variant`` at ``image_size`` with ``filters`` base filters."""
    if variant.generator == "U-Net":
        generator = models.unet_generator(image_size, filters=filters)
    elif variant.generator == "encoder-decoder":
        generator = encoder_decoder_generator(image_size, filters=filters)
    else:
        raise ValueError(f"generator must be 'U-Net' or 'encoder-decoder'; got {variant.generator!r}.")
    return generator, patch_discriminator(image_size, variant.patch, filters=filters)


def _l1_only_step(generator, g_opt, inp, target):
    """The generator's step on L1 alone: no discriminator at all."""
    with tf.GradientTape() as tape:
        l1 = losses.l1_loss(target, generator(inp, training=True))
    grads = tape.gradient(l1, generator.trainable_variables)
    g_opt.apply_gradients(zip(grads, generator.trainable_variables))
    return {"g_l1": l1}


def train_variant(variant: Variant, train_x: np.ndarray, train_y: np.ndarray, steps: int,
                  filters: int = 8, seed: int = 0, l1_weight: float = losses.L1_WEIGHT,
                  verbose: bool = True) -> keras.Model:
    """Train ``variant`` for ``steps`` steps at batch size 1 and return its generator.

    Pairs are drawn at random from ``(train_x, train_y)`` and mirrored left-right half of the
    time (both halves together); the objectives are the :class:`course_utils.core.train.Pix2Pix` trainer's
    step (cGAN only: ``l1_weight=0``) and, for "L1 only", a step with no discriminator.
    """
    positive_int(steps, "steps")
    keras.utils.set_random_seed(seed)
    if variant.objective not in ("L1 only", "cGAN only", "cGAN + L1"):
        raise ValueError(f"objective must be 'L1 only', 'cGAN only' or 'cGAN + L1'; got {variant.objective!r}.")
    generator, discriminator = build_players(variant, train_x.shape[1], filters)
    # The Pix2Pix trainer with the variant's L1 weight, its default optimizers and its step.
    trainer = train.Pix2Pix(generator, discriminator, l1_weight=0.0 if variant.objective == "cGAN only" else l1_weight)
    trainer.compile()
    if variant.objective == "L1 only":
        step = tf.function(lambda x, y: _l1_only_step(generator, trainer.optimizers["generator"], x, y))
    else:
        step = tf.function(lambda x, y: trainer.train_step((x, y)))
    rng = np.random.default_rng(seed)
    order = rng.integers(0, len(train_x), steps)
    flips = rng.random(steps) < 0.5
    bar = keras.utils.Progbar(steps, verbose=1 if verbose else 0, stateful_metrics=["g_l1"], unit_name="step")
    pace = costs.Pace(steps, name=variant.name) if verbose else None    # on a GPU: the measured step time
    for i, (k, flip) in enumerate(zip(order, flips)):
        x, y = train_x[k:k + 1], train_y[k:k + 1]
        if flip:
            x, y = x[:, :, ::-1], y[:, :, ::-1]
        logs = step(tf.constant(x), tf.constant(y))
        if pace is not None:
            pace.step()
        if verbose and ((i + 1) % 50 == 0 or i + 1 == steps):
            bar.update(i + 1, [("g_l1", float(logs["g_l1"]))])
    return generator


def score(predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """L1 to the targets and :func:`sharpness` relative to them."""
    return {"l1": metrics.mean_l1(predictions, targets), "sharpness": sharpness(predictions, targets)}


def run_lab(variants: Sequence[Variant] = VARIANTS, image_size: int = SMOKE["image_size"],
            filters: int = SMOKE["filters"], steps: int = SMOKE["steps"], seed: int = 0,
            verbose: bool = True, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train each variant once on the shipped train split and score it on the val split.

    Returns ``{"settings", "scores": {variant name: {"l1", "sharpness"}}, "predictions": {name:
    (n_val, S, S, 3)}, "inputs", "targets", "seconds": {name: s}}``; the mean training target is
    scored as the variant ``"mean image"``. With ``previous`` (an earlier result at the same
    settings) the variants it holds are not trained again, and the result holds both.
    """
    settings = {"image_size": image_size, "filters": filters, "steps": steps, "seed": seed}
    if previous is not None:
        if previous["settings"] != settings:
            raise ValueError(f"previous was run with {previous['settings']}, not {settings}: pass the same settings.")
        out = previous
        val_x, val_y = previous["inputs"], previous["targets"]
    else:
        val_x, val_y = results.paired_split("val", image_size)
        mean_image = np.broadcast_to(results.mean_target("train", image_size)[None], val_y.shape)
        out = {"settings": settings, "scores": {"mean image": score(mean_image, val_y)},
               "predictions": {"mean image": mean_image}, "inputs": val_x, "targets": val_y, "seconds": {}}
    variants = [v for v in variants if v.name not in out["scores"]]
    train_x, train_y = results.paired_split("train", image_size) if variants else (None, None)
    for variant in variants:
        if verbose:
            print(f"{variant.name}:")
        start = time.perf_counter()
        generator = train_variant(variant, train_x, train_y, steps, filters, seed, verbose=verbose)
        predictions = inference.translate(generator, val_x)
        out["seconds"][variant.name] = time.perf_counter() - start
        out["predictions"][variant.name] = predictions
        out["scores"][variant.name] = score(predictions, val_y)
    return out


def picture_rows(lab: str, run: dict[str, Any], n: int = 4):
    """One row per variant of ``lab`` (and the input, target and mean image), ``n`` validation pairs a row."""
    import matplotlib.pyplot as plt

    from course_utils.core.images import to_unit

    rows = [("input", run["inputs"]), ("target", run["targets"]), ("mean image", run["predictions"]["mean image"])]
    rows += [(LABEL[lab](v), run["predictions"][v.name]) for v in LABS[lab]]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.3 * n + 1.2, 1.3 * len(rows)), squeeze=False)
    for r, (name, batch) in enumerate(rows):
        for c in range(n):
            axes[r, c].imshow(np.clip(to_unit(np.asarray(batch[c])), 0, 1))
            axes[r, c].set(xticks=[], yticks=[])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def print_lab(lab: str, smoke: dict[str, Any] | None, longer: dict[str, Any] | None = None) -> None:
    """Print one line per variant of ``lab`` (the table in the lesson is its job): your run's figures
    beside the longer run's, and the mean image.

    ``smoke`` (your run) or ``longer`` may be None: its columns are left out.
    """
    runs = [(f"your run ({smoke['settings']['steps']:,} steps)", smoke)] if smoke else []
    runs += [(f"longer run ({longer['settings']['steps']:,} steps)", longer)] if longer else []
    print(f"{'':>18}" + "".join(f"  {title:>24}" for title, _ in runs))
    print(f"{'':>18}" + "".join(f"  {'L1':>12} {'sharpness':>11}" for _ in runs))
    for name, label in [("mean image", "mean image")] + [(v.name, LABEL[lab](v)) for v in LABS[lab]]:
        line = f"{label:>18}"
        for _, run in runs:
            s = run["scores"].get(name)
            line += f"  {s['l1']:12.3f} {s['sharpness']:11.3f}" if s else f"  {'-':>12} {'-':>11}"
        print(line)


# ===========================================================================
# 5. Orderings: what reproduced
# ===========================================================================
#: The orderings each lab checks: (lab, what, [lower, ..., higher] by the figure, the figure).
#: "closeness" is |sharpness - 1|: how far from the targets' amount of fine detail.
CLAIMS: list[tuple[str, str, list[str], str]] = [
    ("objective", "L1 only is blurrier than cGAN + L1", ["L1 only", "cGAN + L1"], "sharpness"),
    ("objective", "L1 only is blurrier than cGAN only", ["L1 only", "cGAN only"], "sharpness"),
    ("objective", "cGAN + L1 is closer to the targets (L1) than cGAN only", ["cGAN + L1", "cGAN only"], "l1"),
    ("generator", "the U-Net is closer to the targets (L1) than the encoder-decoder",
     ["U-Net", "encoder-decoder"], "l1"),
    ("patch", "the 1x1 discriminator gives blurrier images than the 70x70 one", ["1x1", "70x70"], "sharpness"),
    ("patch", "the 70x70 discriminator gives a lower L1 than the whole-image one", ["70x70", "whole image"], "l1"),
]


def orderings(scores: dict[str, dict[str, float]]) -> dict[str, bool]:
    """For each claim of :data:`CLAIMS` whose variants ``scores`` holds (a lab run may hold only some),
    whether ``scores`` (variant name -> figures) shows it."""
    found = {}
    for lab, what, order, figure in CLAIMS:
        try:
            values = [_lookup(scores, lab, label)[figure] for label in order]
        except KeyError:
            continue
        found[what] = all(a < b for a, b in zip(values, values[1:]))
    return found


def _lookup(scores: dict[str, dict[str, float]], lab: str, label: str) -> dict[str, float]:
    variant = next(v for v in LABS[lab] if LABEL[lab](v) == label)
    return scores[variant.name]


def load_results(path: str | Path = RESULTS_FILE, missing_ok: bool = False) -> dict[str, Any] | None:
    """The longer runs' figures written by ``python -m course_utils.lessons.labs.pix2pix`` (None if missing and ``missing_ok``)."""
    path = Path(path)
    if not path.is_file():
        if missing_ok:
            return None
        raise FileNotFoundError(f"{path} is missing: run `python -m course_utils.lessons.labs.pix2pix` to make it.")
    return json.loads(path.read_text(encoding="utf-8"))


# ===========================================================================
# 6. The learner's prediction against both runs
# ===========================================================================
#: What each lab asks the learner to predict: which of its variants has the lowest value of one figure.
QUESTIONS: dict[str, tuple[str, str]] = {
    "objective": ("sharpness", "gives the blurriest validation images (the lowest sharpness)"),
    "generator": ("l1", "ends closest to the true targets (the lowest L1)"),
    "patch": ("sharpness", "gives the blurriest validation images (the lowest sharpness)"),
}
FIGURE_NAME = {"sharpness": "sharpness (1 = as much fine detail as the targets)", "l1": "L1 to the targets"}


def choices(lab: str = "objective") -> list[str]:
    """The answers a prediction for ``lab`` may give: its variants' labels (``"L1 only"``, ...)."""
    return [LABEL[lab](v) for v in LABS[lab]]


def _run_sentences(label: str, run: dict[str, Any], lab: str, prediction: str | None) -> tuple[list[str], str]:
    """What ``run`` measured for ``lab``'s question, in sentences, and the variant that answers it."""
    figure, _ = QUESTIONS[lab]
    values = {c: _lookup(run["scores"], lab, c)[figure] for c in choices(lab)}
    ranked = sorted(values, key=values.get)
    lowest, second = ranked[0], ranked[1]
    gap = values[second] - values[lowest]
    steps = run["settings"]["steps"]
    sentence = (f"In {label} ({steps:,} steps a variant), {FIGURE_NAME[figure]}: "
                + ", ".join(f"{c} {v:.3f}" for c, v in values.items())
                + f". The lowest is {lowest}, {gap:.3f} below {second} "
                + f"({100 * gap / max(abs(values[second]), 1e-12):.0f}% of it).")

    if prediction is not None:
        sentence += (" That matches your prediction." if lowest == prediction
                     else f" That is not what you predicted ({prediction}).")
    lines = [sentence]
    found = orderings(run["scores"])
    for claim_lab, what, order, claim_figure in CLAIMS:
        if claim_lab == lab and what in found:
            shown = ", ".join(f"{c} {_lookup(run['scores'], lab, c)[claim_figure]:.3f}" for c in order)
            lines.append(f"  The paper's ordering '{what}': {'shown' if found[what] else 'not shown'} by {label} "
                         f"({'L1' if claim_figure == 'l1' else claim_figure}: {shown}).")
    return lines, lowest


def conclusion(prediction: str | None, result: dict[str, Any] | None, longer: dict[str, Any] | None = None,
               lab: str = "objective") -> list[str]:
    """The lab's ending: the learner's prediction against their run and the shipped longer run, in sentences.

    ``prediction``: one of :func:`choices` (the variant the learner expects to answer the lab's
    :data:`QUESTIONS`), or None. ``result``: what :func:`run_lab` returned (or any record with
    ``settings`` and ``scores``), None if the learner did not run the lab; ``longer``:
    :func:`load_results`'s record, None if missing. Every figure, ranking and verdict in the
    sentences is computed from the runs.
    """
    if lab not in QUESTIONS:
        raise ValueError(f"lab must be one of {', '.join(QUESTIONS)}; got {lab!r}.")
    _, question = QUESTIONS[lab]
    options = choices(lab)
    opening, prediction = prediction_opening(prediction, options, f"You predicted that {prediction} {question}.")
    lines = [opening]
    yours = theirs = None
    if result is None:
        lines.append("You did not run this lab, so only the shipped longer run is compared.")
    else:
        run_lines, yours = _run_sentences("your run", result, lab, prediction)
        lines += run_lines
    if longer is None:
        lines.append(f"The shipped longer run ({RESULTS_FILE.name}) is missing, so it is not compared.")
    else:
        run_lines, theirs = _run_sentences("the shipped longer run", longer, lab, prediction)
        lines += run_lines
    if yours is None or theirs is None:
        return lines
    if yours == theirs:
        lines.append(f"Both runs give the same answer: {yours}.")
    else:
        lines.append(f"The two runs disagree ({yours} in yours, {theirs} in the longer run); each is one seed, "
                     "so neither settles the question alone.")
    return lines


def markdown_table(record: dict[str, Any]) -> str:
    """The longer runs of ``record`` as the Markdown table ``docs/results.md`` shows (one row per variant)."""
    lines = ["| variant (objective, generator, patch) | L1 | sharpness |", "|---|---:|---:|"]
    for name, s in record["scores"].items():
        lines.append(f"| {name} | {s['l1']:.3f} | {s['sharpness']:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Train every variant at the longer scale and write :data:`RESULTS_FILE`."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.lessons.labs.pix2pix", description=main.__doc__)
    parser.add_argument("--steps", type=int, default=LONGER["steps"])
    parser.add_argument("--image-size", type=int, default=LONGER["image_size"])
    parser.add_argument("--filters", type=int, default=LONGER["filters"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, default=RESULTS_FILE)
    args = parser.parse_args(argv)
    command = "python -m course_utils.lessons.labs.pix2pix " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    start = time.perf_counter()
    runs = [run_lab(VARIANTS, args.image_size, args.filters, args.steps, seed, verbose=False) for seed in args.seeds]
    seconds = time.perf_counter() - start
    names = list(runs[0]["scores"])
    scores = {n: {k: float(np.mean([r["scores"][n][k] for r in runs])) for k in ("l1", "sharpness")} for n in names}
    per_seed = {str(s): r["scores"] for s, r in zip(args.seeds, runs)}
    record = {"command": command.strip(), "seconds": round(seconds), "settings": {**runs[0]["settings"],
              "seeds": args.seeds}, "scores": scores, "per_seed": per_seed,
              "orderings": orderings(scores),
              "orderings_per_seed": {str(s): orderings(r["scores"]) for s, r in zip(args.seeds, runs)}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"{record['command']}: {seconds:.0f} s; wrote {args.out}")
    for name, s in scores.items():
        print(f"{name:>40}  L1 {s['l1']:.3f}  sharpness {s['sharpness']:.2f}")
    for what, ok in record["orderings"].items():
        print(f"{'reproduced' if ok else 'NOT reproduced':>15}: {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
