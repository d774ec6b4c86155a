"""Lesson 01's lab: does the saturating generator loss starve the generator of gradient?

Goodfellow et al. (2014, sec. 3) wrote the game with the generator minimising
``log(1 - D(G(z)))`` (the *saturating* loss) and advised training it on ``-log D(G(z))`` (the
*non-saturating* loss) instead: when the discriminator rejects a fake with probability
``D(G(z)) = d``, the first loss's slope in the logit is ``-d`` and the second's ``d - 1``, so per
fake the saturating gradient is ``d / (1 - d)`` times the other, small when ``d`` is small. This
module measures it on lesson 01's ring GAN (:mod:`course_utils.lessons.ring`, the plain discriminator):
for each seed, optimizer (plain SGD, and the ring's Adam) and loss it trains a fresh pair from the
same weights, records the generator's gradient norm, its update's norm and ``D``'s mean output on
the fakes at every one of the first steps, and counts the modes covered at the last step.

>>> from course_utils import config
>>> from course_utils.lessons.labs import gan
>>> plan = gan.lab_plan(config.DcganConfig.smoke())
>>> result = gan.run_lab(plan)                                     # doctest: +SKIP
>>> print("\\n".join(gan.conclusion("non-saturating", result, gan.load_longer_run())))   # doctest: +SKIP

The shipped longer run (``data/reference/lab_gan_loss.json``) is this module's command line::

    python -m course_utils.lessons.labs.gan --seeds 0 1 2 3 4 --steps 1500
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from course_utils.core.model_config import BETA_1

#: The generator losses the lab compares.
LOSSES = ("non-saturating", "saturating")
#: The optimizers the lab compares: plain gradient steps, and the ring's Adam (section 12's settings).
OPTIMIZERS = ("sgd", "adam")
#: The two update orders of :func:`lab_step`: one forward pass for both players, or D first then G.
ORDERS = ("simultaneous", "D then G")
#: Plain SGD's learning rate for both players: large enough that D starts to win within ~30 steps.
SGD_LEARNING_RATE = 0.05
#: A ratio of gradient norms within this factor of 1 counts as "the same".
SAME_WITHIN = 1.1
#: The longer run's file, beside the reference weights (so it ships with the package, for Colab).
RESULTS_NAME = "lab_gan_loss.json"
#: The answers a learner can predict: which loss gives the generator the larger early gradient under SGD.
ANSWERS = ("non-saturating", "saturating", "the same")


def results_file() -> Path:
    """Where the longer run's figures live: ``data/reference/lab_gan_loss.json`` (shipped data)."""
    from course_utils.lessons import results

    return results.reference_dir() / RESULTS_NAME


# --------------------------------------------------------------------------- the losses and one step
def saturating_generator_loss(fake_logits):
    r"""The minimax game's generator loss, :math:`\mathbb{E}[\log(1 - D(G(z)))]`, from logits.

    With :math:`D = \sigma(\ell)`, :math:`\log(1 - \sigma(\ell)) = -\mathrm{softplus}(\ell)`, which
    stays finite for any logit. It equals ``-BCE(0, logits)``: the generator *maximises* the
    discriminator's loss on the fakes.
    """
    import tensorflow as tf

    return -tf.reduce_mean(tf.nn.softplus(tf.cast(fake_logits, tf.float32)))


def _generator_loss(name: str):
    from course_utils.core import losses

    if name == "non-saturating":
        return losses.generator_loss
    if name == "saturating":
        return saturating_generator_loss
    raise ValueError(f"loss must be one of {LOSSES}, got {name!r}.")


def lab_step(generator, discriminator, g_opt, d_opt, real, noise, loss="non-saturating",
             order: str = "simultaneous") -> dict[str, Any]:
    """One update of both players with generator loss ``loss`` and update ``order``.

    ``loss`` is one of :data:`LOSSES`, or a boolean tensor (True: saturating) so that one traced
    step serves both.
    ``"simultaneous"`` is :func:`course_utils.core.train.gan_train_step`: both gradients from one forward
    pass. ``"D then G"`` is Goodfellow et al.'s algorithm 1 with k = 1: the discriminator steps
    first; then the generator makes fresh fakes (new noise) and steps against the updated
    discriminator. Returns ``{"d_loss", "g_loss", "g_grad_norm", "g_update_norm", "d_fake"}``:
    the losses, the norm of the generator's gradient and of the change its optimizer made, and
    D's mean probability on the fakes the generator learned from.
    """
    import tensorflow as tf

    from course_utils.core import losses

    if isinstance(loss, str):
        g_loss_fn = _generator_loss(loss)
    else:   # a boolean tensor: one traced step serves both losses (True: saturating)
        def g_loss_fn(logits):
            return tf.where(loss, saturating_generator_loss(logits), losses.generator_loss(logits))
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}.")
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    before = [tf.identity(v) for v in g_vars]
    if order == "simultaneous":
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_logits = discriminator(generator(noise, training=True), training=True)
            d_loss = losses.discriminator_loss(discriminator(real, training=True), fake_logits)
            g_loss = g_loss_fn(fake_logits)
        g_grads = g_tape.gradient(g_loss, g_vars)
        d_grads = d_tape.gradient(d_loss, d_vars)
        g_opt.apply_gradients(zip(g_grads, g_vars))
        d_opt.apply_gradients(zip(d_grads, d_vars))
    else:
        with tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            d_loss = losses.discriminator_loss(discriminator(real, training=True), discriminator(fake, training=True))
        d_grads = d_tape.gradient(d_loss, d_vars)
        d_opt.apply_gradients(zip(d_grads, d_vars))
        with tf.GradientTape() as g_tape:
            fake_logits = discriminator(generator(tf.random.normal(tf.shape(noise)), training=True), training=True)
            g_loss = g_loss_fn(fake_logits)
        g_grads = g_tape.gradient(g_loss, g_vars)
        g_opt.apply_gradients(zip(g_grads, g_vars))
    return {"d_loss": d_loss, "g_loss": g_loss, "g_grad_norm": tf.linalg.global_norm(g_grads),
            "g_update_norm": tf.linalg.global_norm([v - b for v, b in zip(g_vars, before)]),
            "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32)))}


# --------------------------------------------------------------------------- the plan and the runs
@dataclass(frozen=True)
class LabPlan:
    """What the lab runs: ``steps`` per run (coverage at the last), the first ``early_steps`` compared."""

    seeds: tuple[int, ...]
    steps: int
    early_steps: int
    batch_size: int = 256
    sgd_learning_rate: float = SGD_LEARNING_RATE
    adam_learning_rate: float = 1e-3
    adam_final_learning_rate: float = 1e-4
    adam_beta_1: float = BETA_1


def lab_plan(cfg, seeds: Sequence[int] | None = None, steps: int | None = None) -> LabPlan:
    """The lab's plan for a :class:`~course_utils.lessons.config.DcganConfig`: section 12's plain ring settings.

    Smoke: 100 steps per run, all compared (12 runs of 100 steps). Learner and paper: the ring's own
    1,500 steps (the first 100 compared), so that the Adam runs have section 12's schedule.
    """
    seeds = tuple(seeds) if seeds is not None else (0, 1, 2)
    steps = steps if steps is not None else (100 if cfg.is_smoke else cfg.ring_steps)
    return LabPlan(seeds=seeds, steps=steps, early_steps=min(100, steps), batch_size=cfg.ring_batch_size,
                   adam_learning_rate=cfg.ring_learning_rate, adam_final_learning_rate=cfg.ring_final_learning_rate,
                   adam_beta_1=cfg.ring_beta_1)


def _optimizer(plan: LabPlan, name: str):
    import keras

    if name == "sgd":
        return keras.optimizers.SGD(plan.sgd_learning_rate)
    if name == "adam":
        schedule = keras.optimizers.schedules.PolynomialDecay(plan.adam_learning_rate, plan.steps,
                                                              plan.adam_final_learning_rate)
        return keras.optimizers.Adam(schedule, beta_1=plan.adam_beta_1)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}.")


class _Players:
    """One generator, discriminator and pair of optimizers, reset to a seed's fresh state before each run.

    Reusing them lets one traced step (``tf.function``) serve every seed and both losses: tracing
    costs seconds on a CPU, the ring's steps milliseconds.
    """

    def __init__(self, plan: LabPlan, optimizer: str):
        import tensorflow as tf

        from course_utils.core import models

        self.g, self.d = models.mlp_generator(), models.mlp_discriminator()
        self.g_opt, self.d_opt = _optimizer(plan, optimizer), _optimizer(plan, optimizer)
        self.g_opt.build(self.g.trainable_variables)
        self.d_opt.build(self.d.trainable_variables)
        self.fresh_opt = [[v.numpy() for v in o.variables] for o in (self.g_opt, self.d_opt)]
        self.step = tf.function(lambda real, noise, saturating: lab_step(
            self.g, self.d, self.g_opt, self.d_opt, real, noise, loss=saturating))

    def reset(self, seed: int) -> None:
        """The weights a fresh pair gets after ``keras.utils.set_random_seed(seed)``; fresh optimizer state."""
        import keras

        from course_utils.core import models

        keras.utils.set_random_seed(seed)
        self.g.set_weights(models.mlp_generator().get_weights())
        self.d.set_weights(models.mlp_discriminator().get_weights())
        for opt, values in zip((self.g_opt, self.d_opt), self.fresh_opt):
            for variable, value in zip(opt.variables, values):
                variable.assign(value)


def lab_run(plan: LabPlan, seed: int, loss: str, optimizer: str, players: _Players | None = None,
            pace=None) -> dict[str, Any]:
    """Train the plain ring GAN once (as :func:`course_utils.lessons.ring.train_ring` does) with ``loss`` and ``optimizer``.

    Returns one row: the per-step lists ``grad_norm``, ``update_norm`` and ``d_fake`` over the first
    ``plan.early_steps`` steps, and the last step's modes covered, visited and high-quality share.
    ``pace`` (a :class:`course_utils.tools.costs.Pace`) counts the steps.
    """
    import tensorflow as tf

    from course_utils.core import metrics
    from course_utils.lessons import ring

    _generator_loss(loss)
    players = players or _Players(plan, optimizer)
    players.reset(seed)
    saturating = tf.constant(loss == "saturating")
    real_points = ring.ring_of_gaussians(plan.steps * plan.batch_size, std=ring.RING_STD, seed=seed + 100)
    probe = tf.random.normal([ring.PROBE_SAMPLES, 2], seed=seed)
    keys = {"grad_norm": "g_grad_norm", "update_norm": "g_update_norm", "d_fake": "d_fake"}
    early: list[list] = []
    start = time.perf_counter()
    for i in range(plan.steps):
        logs = players.step(real_points[i * plan.batch_size:(i + 1) * plan.batch_size],
                            tf.random.normal([plan.batch_size, 2]), saturating)
        if pace is not None:
            pace.step()
        if i < plan.early_steps:
            early.append([logs[name] for name in keys.values()])   # tensors: read once, after the run
    values = np.array(early, dtype=np.float64).reshape(-1, len(keys))
    trace = {key: [float(f"{v:.4g}") for v in values[:, j]] for j, key in enumerate(keys)}
    final = players.g(probe, training=False).numpy()
    strict = metrics.mode_coverage(final, ring.ring_centers(), ring.RING_STD)
    visited = metrics.mode_coverage(final, ring.ring_centers(), ring.RING_STD, threshold=np.inf,
                                    min_count=len(final) // 20)
    return {"loss": loss, "optimizer": optimizer, "seed": seed, "steps": plan.steps, **trace,
            "covered": int(strict.modes_covered), "visited": int(visited.modes_covered),
            "high_quality": round(float(strict.high_quality_rate), 4),
            "seconds": round(time.perf_counter() - start, 1)}


def run_lab(plan: LabPlan, progress: bool = True) -> dict[str, Any]:
    """Every optimizer, loss and seed of ``plan``: ``{"plan": {...}, "runs": [row, ...]}``.

    On a GPU it prints the measured step time after 100 steps and the projected finish (:class:`costs.Pace`).
    """
    from tqdm.auto import tqdm

    from course_utils.tools import costs

    total = len(OPTIMIZERS) * len(plan.seeds) * len(LOSSES)
    pace = costs.Pace(total * plan.steps, name="the lab's runs")
    runs = []
    with tqdm(total=total, desc="lab runs", disable=not progress) as bar:
        for optimizer in OPTIMIZERS:
            players = _Players(plan, optimizer)
            for seed in plan.seeds:
                for loss in LOSSES:
                    runs.append(lab_run(plan, seed, loss, optimizer, players, pace))
                    bar.update(1)
    return {"plan": asdict(plan), "runs": runs}


# --------------------------------------------------------------------------- the numbers, read back
def summary(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per optimizer: the seeds, each seed's mean early gradient norm and update norm per loss, their ratios
    (saturating over non-saturating), D's mean output on the fakes over the early steps, and the coverage."""
    out: dict[str, dict[str, Any]] = {}
    rows = result["runs"]
    for optimizer in OPTIMIZERS:
        mine = [r for r in rows if r["optimizer"] == optimizer]
        if not mine:
            continue
        seeds = sorted({r["seed"] for r in mine})
        by = {(r["seed"], r["loss"]): r for r in mine}
        entry: dict[str, Any] = {"seeds": seeds, "early_steps": len(mine[0]["grad_norm"]), "steps": mine[0]["steps"]}
        for loss in LOSSES:
            runs = [by[(s, loss)] for s in seeds]
            entry[loss] = {"grad_norm": [float(np.mean(r["grad_norm"])) for r in runs],
                           "update_norm": [float(np.mean(r["update_norm"])) for r in runs],
                           "d_fake_end": [float(np.mean(r["d_fake"][-10:])) for r in runs],
                           "covered": [r["covered"] for r in runs]}
        for key in ("grad_norm", "update_norm"):
            entry[f"{key}_ratio"] = [sat / ns for sat, ns in zip(entry["saturating"][key], entry["non-saturating"][key])]
        out[optimizer] = entry
    return out


def larger(ratios: Sequence[float], within: float = SAME_WITHIN) -> str:
    """Which loss gives the larger norm on every seed, from the ratios saturating / non-saturating.

    ``"non-saturating"`` if every ratio is below ``1 / within``, ``"saturating"`` if every one is above
    ``within``, ``"the same"`` if every one lies between, else ``"mixed"`` (the seeds disagree).
    """
    if all(r < 1 / within for r in ratios):
        return "non-saturating"
    if all(r > within for r in ratios):
        return "saturating"
    if all(1 / within <= r <= within for r in ratios):
        return "the same"
    return "mixed"


def _range(values: Sequence[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f} to {high:.2f}"


def _answer(answer: str) -> str:
    return {"non-saturating": "the non-saturating loss gives the larger gradient",
            "saturating": "the saturating loss gives the larger gradient",
            "the same": "both losses give gradients of about the same size",
            "mixed": "the seeds disagree about which loss gives the larger gradient"}[answer]


def _findings(name: str, s: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    sgd, adam = s.get("sgd"), s.get("adam")
    if sgd:
        n = len(sgd["seeds"])
        lines.append(
            f"{name} ({n} seed{'s' * (n != 1)}, {sgd['steps']:,} steps a run): under plain SGD, over the first "
            f"{sgd['early_steps']} steps, the saturating loss's mean gradient norm was {_range(sgd['grad_norm_ratio'])} "
            f"times the non-saturating one's, so {_answer(larger(sgd['grad_norm_ratio']))}; by then D gave the "
            f"fakes a mean probability of {_range(sgd['non-saturating']['d_fake_end'])} of being real "
            f"(non-saturating runs).")
    if adam:
        closer = all(abs(np.log(u)) < abs(np.log(g)) for u, g in zip(adam["update_norm_ratio"], adam["grad_norm_ratio"]))
        lines.append(
            f"Under Adam the gradient-norm ratio was {_range(adam['grad_norm_ratio'])} "
            f"({_answer(larger(adam['grad_norm_ratio']))}), and the generator's update was "
            f"{_range(adam['update_norm_ratio'])} times as large: Adam divides each step by the recent gradients' "
            "size, " + ("so on every seed the two losses' updates differed less than their gradients." if closer
                        else "yet the updates did not differ less than the gradients on every seed."))
    for optimizer, entry in (("SGD", sgd), ("Adam", adam)):
        if entry:
            lines.append(f"Modes covered at step {entry['steps']:,} with {optimizer}, seed by seed: non-saturating "
                         f"{entry['non-saturating']['covered']}, saturating {entry['saturating']['covered']} (of 8).")
    return lines


def conclusion(prediction: str | None, result: dict[str, Any], longer: dict[str, Any] | None = None) -> list[str]:
    """Sentences comparing the learner's ``prediction`` with the measured ``result`` and the ``longer`` run.

    ``prediction`` is one of :data:`ANSWERS` (which loss gives the larger early gradient under SGD) or
    None. ``result`` and ``longer`` are :func:`run_lab` records. Every number in the sentences is
    read from them.
    """
    s = summary(result)
    lines = _findings("Your run", s)
    measured = larger(s["sgd"]["grad_norm_ratio"]) if "sgd" in s else None
    longer_answer = None
    if longer is not None:
        ls = summary(longer)
        lines += _findings("The shipped longer run", ls)
        longer_answer = larger(ls["sgd"]["grad_norm_ratio"]) if "sgd" in ls else None
    if prediction is None or not str(prediction).strip():
        lines.append("You made no prediction: set PREDICTION before the lab and run it again to compare.")
    elif prediction not in ANSWERS:
        lines.append(f"Your prediction {prediction!r} is not one of {', '.join(map(repr, ANSWERS))}: "
                     "it cannot be compared.")
    else:
        def verdict(answer):
            return ("agrees" if prediction == answer else
                    "cannot tell: its seeds disagree" if answer == "mixed" else "disagrees")

        lines.append(f"You predicted that under SGD {_answer(prediction)}. Your run {verdict(measured)}"
                     + ("." if longer_answer is None else f"; the longer run {verdict(longer_answer)}."))
    return lines


def plot_gradient_norms(result: dict[str, Any], title: str = "The generator's gradient norm, first steps"):
    """Two panels (SGD, Adam): the generator's gradient norm against the step, one line per run, log scale."""
    import matplotlib.pyplot as plt

    panels = [o for o in OPTIMIZERS if any(r["optimizer"] == o for r in result["runs"])]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False, sharey=True)
    colours = {"non-saturating": "C0", "saturating": "C3"}
    for ax, optimizer in zip(axes[0], panels):
        for loss in LOSSES:
            rows = [r for r in result["runs"] if r["optimizer"] == optimizer and r["loss"] == loss]
            for i, row in enumerate(rows):
                ax.plot(np.arange(1, len(row["grad_norm"]) + 1), row["grad_norm"], color=colours[loss],
                        alpha=0.6, linewidth=1, label=f"{loss} ({len(rows)} seeds)" if i == 0 else None)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title("plain SGD" if optimizer == "sgd" else "Adam", fontsize=10)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("|gradient| of G's loss")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the longer run, on file
def save_longer_run(result: dict[str, Any], path: str | Path, command: str, seconds: float) -> Path:
    """Write a :func:`run_lab` record with the command that made it and its total seconds, as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"command": command, "seconds": round(seconds), **result}
    path.write_text(json.dumps(record, separators=(",", ":")) + "\n")
    return path


def load_longer_run(path: str | Path | None = None) -> dict[str, Any]:
    """The longer run's record ``{"command", "seconds", "plan", "runs": [...]}``, read from ``path``."""
    path = Path(path) if path is not None else results_file()
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m course_utils.lessons.labs.gan --out {path}` "
                                "(docs/results.md gives the command), or restore the course's data/reference.")
    record = json.loads(path.read_text())
    if not {"runs", "command", "seconds", "plan"} <= set(record):
        raise ValueError(f"{path} lacks 'runs', 'plan', 'command' or 'seconds': rewrite it with "
                         "`python -m course_utils.lessons.labs.gan`.")
    return record


def main(argv: Sequence[str] | None = None) -> None:
    from course_utils.lessons import config

    parser = argparse.ArgumentParser(description="Lesson 01's lab: saturating vs non-saturating loss, SGD and Adam.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: the ring's 1,500)")
    parser.add_argument("--out", default=None, help="default: data/reference/lab_gan_loss.json")
    args = parser.parse_args(argv)
    plan = lab_plan(config.DcganConfig.paper(), args.seeds, args.steps)
    start = time.time()
    result = run_lab(plan)
    command = (f"python -m course_utils.lessons.labs.gan --seeds {' '.join(map(str, args.seeds))}"
               + (f" --steps {args.steps}" if args.steps else ""))
    path = save_longer_run(result, args.out or results_file(), command, time.time() - start)
    print("\n".join(_findings("The longer run", summary(result))))
    print("wrote", path)


if __name__ == "__main__":
    main()
