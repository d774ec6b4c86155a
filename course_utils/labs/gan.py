"""Lesson 01's labs: the saturating against the non-saturating generator loss, and the update order.

Goodfellow et al. (2014, sec. 3) wrote the game with the generator minimising
``log(1 - D(G(z)))`` (the *saturating* loss) and advised training it to maximise ``log D(G(z))``
instead (the *non-saturating* loss), because the first gives the generator almost no gradient
early on, when the discriminator rejects its fakes confidently. Their algorithm also updates
the players in turn (the discriminator, then the generator against the updated discriminator),
where the course's step updates both from one forward pass. This module trains
lesson 01's ring GAN (:mod:`course_utils.ring`: 2-D points, 8 modes) with each choice and counts
the modes it covers (:func:`course_utils.metrics.mode_coverage`) against the real samples' 8 of 8:

>>> from course_utils import config, ring
>>> from course_utils.labs import gan
>>> plain, packed = ring.ring_settings(config.GanBasicsConfig.smoke())
>>> run = gan.ring_variant(plain, seed=0, loss="saturating")                  # doctest: +SKIP
>>> gan.print_lab({"saturating": run}, gan.load_longer_run())                  # doctest: +SKIP

The longer run behind ``docs/results.md`` (five seeds of each variant) is this module's command line::

    .venv/bin/python -m course_utils.labs.gan --seeds 0 1 2 3 4 --setting plain
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

#: The generator losses the lab compares.
LOSSES = ("non-saturating", "saturating")
#: The two update orders: both players from one forward pass, or D first and then G against the new D.
ORDERS = ("simultaneous", "D then G")
#: The longer run's file, beside the reference weights (so it ships with the package, for Colab).
RESULTS_NAME = "lab_gan_loss.json"


def results_file() -> Path:
    """Where the longer run's figures live: ``data/reference/lab_gan_loss.json`` (shipped data)."""
    from course_utils import results

    return results.reference_dir() / RESULTS_NAME


def saturating_generator_loss(fake_logits):
    r"""The minimax game's generator loss, :math:`\mathbb{E}[\log(1 - D(G(z)))]`, from logits.

    With :math:`D = \sigma(\ell)`, :math:`\log(1 - \sigma(\ell)) = -\mathrm{softplus}(\ell)`, which
    stays finite for any logit. It equals ``-BCE(0, logits)``: the generator *maximises* the
    discriminator's loss on the fakes.
    """
    import tensorflow as tf

    return -tf.reduce_mean(tf.nn.softplus(tf.cast(fake_logits, tf.float32)))


def _generator_loss(name: str):
    from course_utils import losses

    if name == "non-saturating":
        return losses.generator_loss
    if name == "saturating":
        return saturating_generator_loss
    raise ValueError(f"loss must be one of {LOSSES}, got {name!r}.")


def lab_step(generator, discriminator, g_opt, d_opt, real, noise, loss: str = "non-saturating",
             order: str = "simultaneous") -> dict[str, Any]:
    """One update of both players with generator loss ``loss`` and update ``order``.

    ``"simultaneous"`` is :func:`course_utils.train.gan_train_step`: both gradients from one forward
    pass. ``"D then G"`` is Goodfellow et al.'s algorithm 1 with k = 1: the discriminator steps
    first; then the generator makes fresh fakes (new noise) and steps against the updated
    discriminator, at the cost of a second forward pass. Returns ``{"d_loss", "g_loss"}``.
    """
    import tensorflow as tf

    from course_utils import losses

    g_loss_fn = _generator_loss(loss)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}.")
    if order == "simultaneous":
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            d_loss = losses.discriminator_loss(real_logits, fake_logits)
            g_loss = g_loss_fn(fake_logits)
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}
    with tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        d_loss = losses.discriminator_loss(discriminator(real, training=True), discriminator(fake, training=True))
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    with tf.GradientTape() as g_tape:
        fresh = tf.random.normal(tf.shape(noise))
        g_loss = g_loss_fn(discriminator(generator(fresh, training=True), training=True))
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}


def ring_variant(setting, seed: int = 0, loss: str = "non-saturating", order: str = "simultaneous",
                 progress: bool = True):
    """Train the ring GAN of lesson 01 (:func:`course_utils.ring.train_ring`) with one loss and order."""
    from course_utils import ring

    _generator_loss(loss)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}.")

    def make_step(g, d, g_opt, d_opt):
        def step(real, noise):
            return lab_step(g, d, g_opt, d_opt, real, noise, loss=loss, order=order)
        return step

    return ring.train_ring(setting, seed, make_step=make_step, progress=progress)


def label(loss: str, order: str) -> str:
    """How the lab names a variant: the loss, and the order when it is not the course's."""
    return loss if order == "simultaneous" else f"{loss}, {order}"


def coverage_row(run) -> dict[str, Any]:
    """A ring run's last snapshot as numbers: modes covered (3 std), modes visited (>= 5%), HQ share.

    ``run`` is a :class:`course_utils.ring.RingRun`, or a lesson's snapshots ``{step: (2500, 2)}``.
    """
    from course_utils import metrics, ring

    snapshots = run if isinstance(run, dict) else run.snapshots
    final = snapshots[max(snapshots)]
    strict = metrics.mode_coverage(final, ring.ring_centers(), ring.RING_STD)
    visited = metrics.mode_coverage(final, ring.ring_centers(), ring.RING_STD, threshold=np.inf,
                                    min_count=len(final) // 20)
    return {"covered": strict.modes_covered, "visited": visited.modes_covered,
            "high_quality": round(float(strict.high_quality_rate), 4), "steps": max(snapshots),
            "seed": getattr(run, "seed", None), "seconds": round(float(getattr(run, "seconds", 0.0)), 1)}


# --------------------------------------------------------------------------- the longer run, on file
#: The longer run's variants: (loss, order).
VARIANTS = (("non-saturating", "simultaneous"), ("saturating", "simultaneous"), ("non-saturating", "D then G"))


def longer_run(cfg, seeds: Sequence[int] = (0, 1, 2, 3, 4), variants=VARIANTS, setting_name: str = "plain",
               progress: bool = False) -> list[dict[str, Any]]:
    """Every variant for every seed on one of ``cfg``'s ring settings; one row of numbers per run."""
    from course_utils import ring
    settings = {s.name: s for s in ring.ring_settings(cfg)}
    if setting_name not in settings:
        raise ValueError(f"setting must be one of {sorted(settings)}, got {setting_name!r}.")
    rows = []
    for loss, order in variants:
        for seed in seeds:
            run = ring_variant(settings[setting_name], seed, loss, order, progress=progress)
            rows.append({"loss": loss, "order": order, "setting": setting_name, **coverage_row(run)})
            print(f"{label(loss, order):32s} seed {seed}: {rows[-1]}", flush=True)
    return rows


def save_longer_run(rows: Sequence[dict[str, Any]], path: str | Path, command: str, seconds: float) -> Path:
    """Write the runs' numbers, the command and its total seconds as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"command": command, "seconds": round(seconds), "runs": list(rows)}, indent=1) + "\n")
    return path


def load_longer_run(path: str | Path | None = None) -> dict[str, Any]:
    """The longer run's record ``{"command", "seconds", "runs": [...]}``, read from ``path``."""
    path = Path(path) if path is not None else results_file()
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m course_utils.labs.gan --out {path}` "
                                "(docs/results.md gives the command), or restore the course's data/reference.")
    record = json.loads(path.read_text())
    if not {"runs", "command", "seconds"} <= set(record):
        raise ValueError(f"{path} lacks 'runs', 'command' or 'seconds': rewrite it with `python -m course_utils.labs.gan`.")
    return record


def longer_run_summary(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per variant: the seeds' modes covered (a list, seed order), their median, and the median HQ share."""
    groups: dict[str, list[dict]] = {}
    for row in record["runs"]:
        groups.setdefault(label(row["loss"], row["order"]), []).append(row)
    return {name: {"covered": [r["covered"] for r in rows], "visited": [r["visited"] for r in rows],
                   "median_covered": float(np.median([r["covered"] for r in rows])),
                   "median_high_quality": float(np.median([r["high_quality"] for r in rows])),
                   "seeds": [r["seed"] for r in rows], "steps": rows[0]["steps"],
                   "median_seconds": float(np.median([r["seconds"] for r in rows]))}
            for name, rows in groups.items()}


def print_lab(runs: dict[str, Any], record: dict[str, Any] | None = None) -> None:
    """One line per run of the lesson (modes covered and visited, high-quality share); then the longer run.

    ``runs`` maps a variant's label to its :class:`~course_utils.ring.RingRun` or its snapshots.
    """
    for name, run in runs.items():
        row = coverage_row(run)
        print(f"  {name:30s} step {row['steps']}: {row['covered']}/8 modes covered, {row['visited']}/8 visited, "
              f"{100 * row['high_quality']:.0f}% high quality")
    if record:
        print(f"the longer run ({record['command']}, {record['seconds']:,} s on 2 shared CPU cores):")
        for name, s in longer_run_summary(record).items():
            print(f"  {name:30s} seeds {', '.join(map(str, s['seeds']))}: modes covered {s['covered']}, "
                  f"median {s['median_covered']:g}/8; median high quality {100 * s['median_high_quality']:.0f}%")


def main(argv: Sequence[str] | None = None) -> None:
    from course_utils import config

    parser = argparse.ArgumentParser(description="Lesson 01's lab on the ring: generator loss and update order.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--setting", default="plain", help="the ring setting: plain or packed")
    parser.add_argument("--out", default=None, help="default: data/reference/lab_gan_loss.json")
    args = parser.parse_args(argv)
    cfg = config.GanBasicsConfig.smoke()
    start = time.time()
    rows = longer_run(cfg, args.seeds, setting_name=args.setting)
    command = (f".venv/bin/python -m course_utils.labs.gan --seeds {' '.join(map(str, args.seeds))} "
               f"--setting {args.setting}")
    print("wrote", save_longer_run(rows, args.out or results_file(), command, time.time() - start))


if __name__ == "__main__":
    main()
