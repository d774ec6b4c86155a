"""Lesson 03's lab: which parts of CycleGAN's objective matter? Predict, then run.

Zhu et al. (2017) train CycleGAN with least-squares adversarial losses, a cycle loss
(lambda = 10), an identity loss (0.5 lambda, adopted from Taigman et al. 2017) and discriminators
that learn from an image pool. The lab trains five variants on the shipped ``day2dusk`` set, each
with one ingredient removed or swapped:

* ``full``: the whole objective, as the lesson trains it;
* ``no cycle``: cycle weight 0 (the adversarial and identity losses only);
* ``no identity``: identity weight 0;
* ``BCE``: binary cross-entropy instead of least squares;
* ``no pool``: the discriminators learn from the newest fakes only.

Because day2dusk was made by a known colour map (:func:`course_utils.core.data.true_translation`),
each variant is scored exactly: the mean L1 error of ``G(x)`` against the *true* dusk version
of every test image, beside the do-nothing baseline ``G(x) = x``. :func:`run_lab` trains and
scores all variants at one scale; :func:`main` (``python -m course_utils.lessons.labs.cyclegan``) runs
the longer version over several seeds and writes ``data/reference/labs_cyclegan.json``, which the
lesson prints beside the learner's smoke result (:func:`load_longer_run`). :func:`conclusion` ends
the lab: the learner's prediction against both runs, in sentences computed from their figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course_utils.lessons.labs import prediction_opening

#: The variants, each as the settings it changes from the full objective.
VARIANTS: dict[str, dict[str, Any]] = {
    "full": {},
    "no cycle": {"cycle_weight": 0.0},
    "no identity": {"identity_weight": 0.0},
    "BCE": {"loss_form": "bce"},
    "no pool": {"pool_size": 0},
}

#: What the paper reports about each ingredient (Zhu et al. 2017), in our words.
PAPER_FINDINGS: dict[str, str] = {
    "no cycle": "Table 4 (Cityscapes labels -> photo, FCN scores): 'GAN alone' and 'GAN + backward cycle' "
                "score clearly below the full CycleGAN, and fig. 7 shows their outputs ignoring the input "
                "(mode collapse); the full objective is best or close to best.",
    "no identity": "Fig. 9 (paintings -> photos): without the identity loss the generators change the tint "
                   "of whole pictures (a daytime painting becomes a sunset photo); not measured in a table.",
    "BCE": "Section 4: least squares replaced the log-likelihood loss because it trains more stably and "
           "gives better images (following Mao et al. 2017); no ablation table.",
    "no pool": "Section 4: the pool of 50 past fakes (Shrivastava et al. 2017) is there to reduce "
               "oscillation; the paper shows no ablation of it.",
}

#: The file the longer run writes, relative to the repository root.
#: The longer run's file, beside the reference weights (so it ships with the package, for Colab).
RESULTS_NAME = "labs_cyclegan.json"


@dataclass(frozen=True)
class LabScale:
    """How big and how long each variant trains (the smoke lab and the longer run differ only here)."""

    image_size: int = 32
    filters: int = 8
    n_blocks: int = 2
    steps: int = 120
    seeds: tuple[int, ...] = (0,)
    # Lesson 03's smoke rate, not the paper's 2e-4: in a run this short, 2e-4 leaves the transposed
    # convolutions' checkerboard in every variant's output (the speckle study, notebooks/03_cyclegan_further).
    learning_rate: float = 1e-3


#: The smoke lab inside lesson 03 (budget: about 75 s for all five variants on 2 idle cores).
SMOKE = LabScale()
#: The longer run of ``python -m course_utils.lessons.labs.cyclegan``.
LONGER = LabScale(image_size=32, filters=8, n_blocks=2, steps=400, seeds=(0, 1))


def _check_variants(names: Any) -> list[str]:
    names = list(VARIANTS) if names is None else list(names)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown lab variant(s) {unknown}; choose from {list(VARIANTS)}.")
    return names



def _settings(variant: str) -> dict[str, Any]:
    """The full objective's settings (the paper's, from CycleGAN's config) with the variant's change applied."""
    from course_utils.core.cyclegan import CycleGanConfig

    paper = CycleGanConfig()
    return {"cycle_weight": paper.cycle_weight, "identity_weight": paper.identity_weight, "loss_form": paper.loss_form,
            "pool_size": paper.pool_size, **VARIANTS[variant]}


class LabTrainer:
    """Trains every variant from the same starting weights with :func:`course_utils.core.train.cyclegan_train_step`.

    Tracing a CycleGAN step costs far more than running it at this size (seconds of one core,
    against a few hundredths of a second a step), so the variants share one ``tf.function``: the
    weights are tensors, so the variants that change only them share one trace; the loss form
    and the pool each trace once more. Before each variant the four
    networks get the same initial weights back, the optimizers and pools are emptied.
    """

    def __init__(self, scale: LabScale = SMOKE, seed: int = 0):
        import keras
        import tensorflow as tf

        from course_utils.core import data, models, train

        self.scale, self.seed = scale, seed
        keras.utils.set_random_seed(seed)
        nets = models.cyclegan_networks(scale.image_size, filters=scale.filters, n_blocks=scale.n_blocks)
        self.nets = [nets[k] for k in ("generator_g", "generator_f", "discriminator_x", "discriminator_y")]
        self.initial = [net.get_weights() for net in self.nets]
        half = max(1, scale.steps // 2)
        schedule = train.LinearDecay(scale.learning_rate, constant_steps=half, decay_steps=max(1, scale.steps - half))
        self.opts = [keras.optimizers.Adam(schedule, beta_1=train.BETA_1) for _ in range(4)]
        for net, opt in zip(self.nets, self.opts):
            opt.build(net.trainable_variables)
        shape = (scale.image_size, scale.image_size, 3)
        self.pools = [train.ImagePool(50, shape, seed=seed), train.ImagePool(50, shape, seed=seed + 1)]
        train_x, train_y = data.load_unpaired_folder(data.shipped_unpaired_path(), "train",
                                                     image_size=scale.image_size, batch_size=1, seed=seed)
        self.batches = tf.data.Dataset.zip(train_x.repeat(), train_y.repeat())   # ((1, S, S, 3), (1, S, S, 3))
        # No autograph: the step's branches are Python choices or explicit tf.cond/while_loop, and
        # converting the trainer's code tripled the tracing (measured, 3 traces: 77 s against 33 s).
        self.step = tf.function(self._step, autograph=False)

    def _step(self, x, y, cycle_weight, identity_weight, loss_form: str, use_pool: bool):
        """The trainer's step with a variant's settings (:meth:`step_settings`); no pool unless ``use_pool``."""
        from course_utils.core import train

        pools = self.pools if use_pool else (None, None)
        return train.cyclegan_train_step(*self.nets, *self.opts, x, y, cycle_weight, identity_weight,
                                         loss_form, *pools)

    def reset(self) -> None:
        """Back to the starting point: the initial weights, empty optimizers and pools."""
        for net, weights in zip(self.nets, self.initial):
            net.set_weights(weights)
        for opt in self.opts:
            for v in opt.variables:
                v.assign(np.zeros(v.shape, v.dtype))
        for pool in self.pools:
            pool.count.assign(0), pool.queries.assign(0)

    def step_settings(self, variant: str) -> tuple:
        """``(cycle_weight, identity_weight, loss_form, use_pool)`` of ``variant``, the weights as tensors."""
        import tensorflow as tf

        s = _settings(variant)
        return (tf.constant(s["cycle_weight"]), tf.constant(s["identity_weight"]), s["loss_form"], s["pool_size"] > 0)

    def train(self, variant: str, verbose: int = 1, pace: Any = None) -> float:
        """Reset, then train ``variant`` for ``scale.steps`` steps; returns the seconds it took.

        ``pace``: a :class:`course_utils.tools.costs.Pace` told of every step (the lesson's, over all variants).
        """
        import keras

        _check_variants([variant])
        self.reset()
        settings = self.step_settings(variant)
        bar = keras.utils.Progbar(self.scale.steps, verbose=verbose, stateful_metrics=["cycle"])
        start = time.perf_counter()
        for i, (x, y) in enumerate(self.batches.take(self.scale.steps)):
            logs = self.step(x, y, *settings)
            bar.update(i + 1, [("cycle", float(logs["cycle"]))] if verbose else None)
            if pace is not None:
                pace.step()
        return time.perf_counter() - start

    @property
    def generators(self) -> tuple[Any, Any]:
        """G and F as they are now."""
        return self.nets[0], self.nets[1]


def score(generator_g: Any, generator_f: Any) -> dict[str, float]:
    """Errors against the true translation on all test images: ``{"AtoB", "BtoA", "identity AtoB", ...}``."""
    from course_utils.lessons import results

    judged = results.cyclegan_results(generator_g, generator_f)
    return {"AtoB": judged["generator"]["AtoB"], "BtoA": judged["generator"]["BtoA"],
            "identity AtoB": judged["identity"]["AtoB"], "identity BtoA": judged["identity"]["BtoA"]}


def run_lab(scale: LabScale = SMOKE, variants: Any = None, verbose: int = 1,
            show: Any = None, pace: Any = None) -> dict[str, Any]:
    """Train and score every variant at ``scale``, over its seeds (``pace``: see :meth:`LabTrainer.train`).

    ``show``: a batch of day images (n, S, S, 3); each variant's translation of it (first seed)
    is kept for the picture rows. Returns ``{"scale": settings, "scores": {variant: {"AtoB": mean
    over seeds, "AtoB per seed": [...], "BtoA": ..., "seconds": ...}}, "baseline": {"AtoB",
    "BtoA"}, "translations": {variant: images}}``.
    """
    from course_utils.core import inference

    names = _check_variants(variants)
    per_variant: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    translations: dict[str, Any] = {}
    baseline: dict[str, float] = {}
    for seed in scale.seeds:
        lab = LabTrainer(scale, seed=seed)
        for name in names:
            if verbose:
                print(f"{name} (seed {seed}):")
            seconds = lab.train(name, verbose=verbose, pace=pace)
            judged = score(*lab.generators)
            per_variant[name].append({**judged, "seconds": seconds})
            baseline = {"AtoB": judged["identity AtoB"], "BtoA": judged["identity BtoA"]}
            if show is not None and name not in translations:
                translations[name] = inference.translate(lab.generators[0], show)
    scores = {name: {"AtoB": float(np.mean([s["AtoB"] for s in runs])),
                     "AtoB per seed": [round(s["AtoB"], 4) for s in runs],
                     "BtoA": float(np.mean([s["BtoA"] for s in runs])),
                     "seconds": round(float(sum(s["seconds"] for s in runs)), 1)}
              for name, runs in per_variant.items()}
    return {"scale": asdict(scale), "scores": scores, "baseline": baseline, "translations": translations}


def ranking(scores: dict[str, dict[str, Any]], key: str = "AtoB") -> list[str]:
    """Variant names from the lowest error (best) to the highest."""
    return sorted(scores, key=lambda name: scores[name][key])


def orderings(scores: dict[str, dict[str, Any]], key: str = "AtoB") -> dict[str, bool]:
    """For each ablated variant: is the full objective better (lower error) than it?"""
    return {name: scores["full"][key] < scores[name][key] for name in scores if name != "full"}


def report_lines(result: dict[str, Any], longer: dict[str, Any] | None = None) -> list[str]:
    """One line per variant: its error to the true dusk image, as a share of doing nothing, beside the longer run."""
    base = result["baseline"]["AtoB"]
    lines = [f"{'variant':12s} {'smoke: error':>12s} {'/ nothing':>9s}"
             + (f" | {'longer run: error':>17s} {'/ nothing':>9s}" if longer else "")]
    for name, s in result["scores"].items():
        line = f"{name:12s} {s['AtoB']:12.3f} {s['AtoB'] / base:9.2f}"
        if longer and name in longer["scores"]:
            lb = longer["baseline"]["AtoB"]
            line += f" | {longer['scores'][name]['AtoB']:17.3f} {longer['scores'][name]['AtoB'] / lb:9.2f}"
        lines.append(line)
    lines.append(f"{'do nothing':12s} {base:12.3f} {1.0:9.2f}"
                 + (f" | {longer['baseline']['AtoB']:17.3f} {1.0:9.2f}" if longer else ""))
    return lines


#: Below this many units of error, a difference between two variants is not counted as a finding:
#: the longer run's seeds disagree by more than this on the same variant.
MARGIN = 0.01


def _ablations(scores: dict[str, Any]) -> list[str]:
    return [name for name in scores if name != "full"]


def _run_sentences(label: str, run: dict[str, Any], prediction: str | None) -> list[str]:
    """What one run (the learner's or the longer one) shows, and how the prediction fares in it."""
    scores, base = run["scores"], run["baseline"]["AtoB"]
    ablated = sorted(_ablations(scores), key=lambda n: scores[n]["AtoB"], reverse=True)   # worst first
    worst, full = ablated[0], scores["full"]["AtoB"]
    n_seeds = len(run["scale"]["seeds"])
    out = [f"In {label} ({run['scale']['steps']:,} steps, {n_seeds} seed{'s' if n_seeds != 1 else ''}), '{worst}' ends "
           f"furthest from the true dusk images: error "
           f"{scores[worst]['AtoB']:.3f} ({scores[worst]['AtoB'] / base:.2f} of doing nothing), against "
           f"{full:.3f} ({full / base:.2f}) for the full objective."]
    per_seed = {n: scores[n]["AtoB per seed"] for n in scores}
    worst_by_seed = [max(ablated, key=lambda n: per_seed[n][k]) for k in range(n_seeds)]
    if n_seeds > 1:
        if len(set(worst_by_seed)) == 1:
            out.append(f"It is the furthest on every one of the {n_seeds} seeds.")
        else:
            out.append("The furthest variant changes with the seed (" + ", ".join(
                f"seed {run['scale']['seeds'][k]}: '{w}'" for k, w in enumerate(worst_by_seed))
                + "), so this run does not single out one ingredient.")
        spread = {n: max(v) - min(v) for n, v in per_seed.items()}
        widest = max(spread, key=spread.get)
        out.append(f"The same variant's error differs between seeds by up to {spread[widest]:.3f} ('{widest}').")
    clear = [n for n in ablated if all(f + MARGIN < v for f, v in zip(per_seed["full"], per_seed[n]))]
    unclear = [n for n in ablated if n not in clear]
    every = "on every seed" if n_seeds > 1 else "in its one seed"
    if clear:
        out.append(f"The full objective beats {_names(clear)} by more than {MARGIN} {every}.")
    if unclear:
        out.append(f"It does not beat {_names(unclear)} by more than {MARGIN} {every}.")
    better = [n for n in ablated if scores[n]["AtoB"] < full]
    if better:
        out.append(f"{_names(better)} {'ends' if len(better) == 1 else 'end'} closer to the true images than the "
                   "full objective: " + ", ".join(f"{n} {scores[n]['AtoB']:.3f}" for n in better) + f" against {full:.3f}.")
    if prediction is not None:
        if prediction == worst and len(set(worst_by_seed)) > 1:
            out.append(f"Your prediction, '{prediction}', is the furthest on average in {label}, but not on every seed.")
        elif prediction == worst:
            out.append(f"Your prediction, '{prediction}', agrees with {label}.")
        else:
            rank = ablated.index(prediction) + 1
            out.append(f"Your prediction, '{prediction}', does not agree with {label}: there it ranks {rank} of "
                       f"{len(ablated)} from the worst, with error {scores[prediction]['AtoB']:.3f}.")
    return out


def _names(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def conclusion(prediction: str | None, result: dict[str, Any], longer: dict[str, Any] | None = None) -> list[str]:
    """The lab's ending: the learner's prediction against their run and the longer run, in sentences.

    ``prediction``: the variant the learner expected to end furthest from the true translation
    (``"no cycle"``, ``"no identity"``, ``"BCE"`` or ``"no pool"``), or None. ``result``: what
    :func:`run_lab` returned; ``longer``: :func:`load_longer_run`'s figures (None if missing).
    Every figure and every verdict in the sentences is computed from the two runs.
    """
    choices = _ablations(result["scores"])
    opening, prediction = prediction_opening(
        prediction, choices, f"You predicted that '{prediction}' ends furthest from the true dusk images.")
    lines = [opening]
    lines += _run_sentences("your run", result, prediction)
    if longer is None:
        lines.append(f"The longer run's file ({RESULTS_NAME}) is missing, so only your run is compared.")
    else:
        lines += _run_sentences("the longer run", longer, prediction)
    return lines


def load_longer_run(root: Path | None = None) -> dict[str, Any] | None:
    """The longer run's figures from ``data/reference/labs_cyclegan.json`` (None when the file is not there)."""
    from course_utils.lessons import results

    path = Path(root) / RESULTS_NAME if root is not None else results.reference_dir() / RESULTS_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """``python -m course_utils.lessons.labs.cyclegan``: the longer run, written to ``data/reference/labs_cyclegan.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=LONGER.steps)
    parser.add_argument("--seeds", type=int, default=len(LONGER.seeds), help="how many seeds (0, 1, ...)")
    parser.add_argument("--out", type=Path, default=None, help=f"the JSON file (default: data/reference/{RESULTS_NAME})")
    args = parser.parse_args(argv)
    if args.steps < 2 or args.seeds < 1:
        raise ValueError(f"--steps must be >= 2 and --seeds >= 1; got {args.steps} and {args.seeds}.")
    from course_utils.lessons import results

    scale = dataclasses.replace(LONGER, steps=args.steps, seeds=tuple(range(args.seeds)))
    start = time.perf_counter()
    result = run_lab(scale, verbose=1)
    result.pop("translations")
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["command"] = "python -m course_utils.lessons.labs.cyclegan" + ("" if argv is None else " " + " ".join(argv))
    result["ranking"] = ranking(result["scores"])
    result["full beats"] = orderings(result["scores"])
    result["paper"] = PAPER_FINDINGS
    out = args.out or (results.reference_dir() / RESULTS_NAME)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("\n".join(report_lines(result)))
    print(f"written to {out} ({result['seconds']:.0f} s)")
    return result


if __name__ == "__main__":
    main()
