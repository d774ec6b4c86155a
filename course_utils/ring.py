"""Lesson 01's ring of eight Gaussians, as one function a test or a script can call.

:func:`train_ring` trains a fresh MLP GAN (:func:`course_utils.models.mlp_generator` and
:func:`course_utils.models.mlp_discriminator`) on :func:`course_utils.metrics.ring_of_gaussians`
with the lesson's loop: the non-saturating BCE losses, one simultaneous step of both players
(:func:`course_utils.train.gan_train_step`), Adam, a fresh real batch every step and snapshots of
2,500 samples from a fixed batch of noise. :func:`ring_results` runs the lesson's two settings,
plain and packed (:meth:`course_utils.config.GanBasicsConfig.ring_settings`), and
:func:`save_ring_results` writes the side-by-side figure and a markdown table.

>>> from course_utils import config, ring
>>> results = ring.ring_results(config.GanBasicsConfig.smoke())          # doctest: +SKIP
>>> ring.save_ring_results(results, "docs/results")                      # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from course_utils import metrics

#: The data: 8 modes on a circle of radius 2, standard deviation 0.02 (Metz et al. 2017).
RING_STD = 0.02
#: Samples judged per snapshot, as in VEEGAN and PacGAN.
PROBE_SAMPLES = 2500


@dataclass(frozen=True)
class RingSetting:
    """One way of training the ring GAN; :meth:`GanBasicsConfig.ring_settings` makes them."""

    name: str
    steps: int
    batch_size: int
    learning_rate: float
    beta_1: float
    pack: int = 1
    final_learning_rate: float | None = None   # linear decay to this by the last step; None: constant


@dataclass(frozen=True)
class RingRun:
    """One trained run: its snapshots ``{step: (2500, 2)}``, their coverage and the time it took."""

    setting: RingSetting
    seed: int
    snapshots: dict
    seconds: float

    @property
    def final(self) -> np.ndarray:
        return self.snapshots[max(self.snapshots)]

    @property
    def coverage(self) -> metrics.ModeCoverage:
        """The strict count (3 std, >= 20 of 2,500 samples) of the last snapshot."""
        return metrics.mode_coverage(self.final, metrics.ring_centers(), RING_STD)


def train_ring(setting: RingSetting, seed: int, *, snapshots: int = 6, make_step: Callable | None = None,
               progress: bool = True) -> RingRun:
    """Train one fresh MLP GAN on the ring with ``setting`` and ``seed``; seeded and repeatable.

    ``make_step(generator, discriminator, g_optimizer, d_optimizer)`` returns the step
    ``step(real, noise)``; the default is :func:`course_utils.train.gan_train_step`, which lesson
    01 checks against the learner's own ``make_train_step``.
    """
    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    from course_utils import models, train

    if setting.steps < 1 or setting.batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got {setting}.")
    if setting.batch_size % setting.pack:
        raise ValueError(f"batch_size {setting.batch_size} must be a multiple of pack {setting.pack}: "
                         "the packed discriminator judges pack points at a time.")
    if make_step is None:
        def make_step(g, d, g_opt, d_opt):
            return lambda real, noise: train.gan_train_step(g, d, g_opt, d_opt, real, noise)

    keras.utils.set_random_seed(seed)
    g, d = models.mlp_generator(), models.mlp_discriminator(pack=setting.pack)
    lr = (setting.learning_rate if setting.final_learning_rate is None else
          keras.optimizers.schedules.PolynomialDecay(setting.learning_rate, setting.steps, setting.final_learning_rate))
    step_fn = tf.function(make_step(g, d, keras.optimizers.Adam(lr, beta_1=setting.beta_1),
                                    keras.optimizers.Adam(lr, beta_1=setting.beta_1)))
    real_points = metrics.ring_of_gaussians(setting.steps * setting.batch_size, std=RING_STD, seed=seed + 100)
    probe = tf.random.normal([PROBE_SAMPLES, 2], seed=seed)
    every = max(1, setting.steps // snapshots)
    snaps = {}
    start = time.perf_counter()
    for i in tqdm(range(1, setting.steps + 1), desc=f"ring, {setting.name}, seed {seed}", mininterval=1.0,
                  disable=not progress):
        batch = real_points[(i - 1) * setting.batch_size: i * setting.batch_size]
        step_fn(batch, tf.random.normal([setting.batch_size, 2]))
        if i % every == 0 or i == setting.steps:
            snaps[i] = g(probe, training=False).numpy()
    return RingRun(setting, seed, snaps, time.perf_counter() - start)


def ring_results(cfg, seeds: tuple[int, ...] | None = None, progress: bool = True) -> dict[str, list[RingRun]]:
    """Both of ``cfg``'s ring settings (a :class:`GanBasicsConfig`), each for every seed."""
    seeds = cfg.ring_seeds if seeds is None else tuple(seeds)
    return {s.name: [train_ring(s, seed, progress=progress) for seed in seeds] for s in cfg.ring_settings()}


def plot_ring_comparison(runs: Mapping[str, RingRun]):
    """The last snapshot of each run side by side, covered modes green, with the strict counts."""
    import matplotlib.pyplot as plt

    from course_utils import plotting

    real = metrics.ring_of_gaussians(PROBE_SAMPLES, std=RING_STD, seed=0)
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 5), squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items()):
        cov = run.coverage
        plotting.plot_ring_samples(run.final, metrics.ring_centers(), RING_STD, real=real, ax=ax,
                                   title=f"{label}, seed {run.seed}, step {max(run.snapshots)}\n"
                                         f"{cov.modes_covered}/8 modes covered, "
                                         f"{100 * cov.high_quality_rate:.0f}% high quality")
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
    fig.tight_layout()
    return fig


def save_ring_results(results: Mapping[str, list[RingRun]], folder: str | Path, profile: str = "smoke") -> Path:
    """Write ``ring.png`` (first seed of each setting, side by side) and ``ring.md`` into ``folder``."""
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = plot_ring_comparison({name: runs[0] for name, runs in results.items()})
    fig.savefig(folder / "ring.png", dpi=100)
    plt.close(fig)
    real = metrics.mode_coverage(metrics.ring_of_gaussians(PROBE_SAMPLES, std=RING_STD, seed=0),
                                 metrics.ring_centers(), RING_STD)
    rows = [f"| real ring samples (baseline) | - | - | {real.modes_covered}/8 | 8/8 | "
            f"{100 * real.high_quality_rate:.0f}% | - |"]
    for name, runs in results.items():
        s = runs[0].setting
        for run in runs:
            cov = run.coverage
            visited = metrics.mode_coverage(run.final, metrics.ring_centers(), RING_STD, threshold=np.inf,
                                            min_count=PROBE_SAMPLES // 20).modes_covered
            decay = "" if s.final_learning_rate is None else f" to {s.final_learning_rate:g}"
            rows.append(f"| {name}: {s.steps} steps, batch {s.batch_size}, Adam {s.learning_rate:g}{decay} "
                        f"(beta_1 {s.beta_1:g}), pack {s.pack} | {run.seed} | {max(run.snapshots)} | "
                        f"{cov.modes_covered}/8 | {visited}/8 | {100 * cov.high_quality_rate:.0f}% | {run.seconds:.1f} |")
    text = "\n".join([
        "## The ring of eight Gaussians (lesson 01, section 12)",
        "",
        f"Profile: {profile}. Modes covered: at least 20 of 2,500 samples within 3 std (0.06) of a "
        "mode's centre (`metrics.mode_coverage`, as lesson 01 counts). Modes visited: at least 5% of "
        "the samples have that mode as their nearest, however far. High-quality samples: the share "
        "within 3 std of a centre. Seconds: wall-clock training time on the machine that wrote this "
        "table. The figure shows the first seed of each setting.",
        "",
        "| setting | seed | step | modes covered | modes visited | high-quality samples | seconds |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "![the plain and the packed run side by side](ring.png)",
        "",
        "Reproduce: `COURSE_SMOKE=1 .venv/bin/python -m course_utils.ring docs/results"
        f" --seeds {','.join(str(r.seed) for r in next(iter(results.values())))}`",
        "",
    ])
    (folder / "ring.md").write_text(text)
    return folder / "ring.png"


if __name__ == "__main__":  # pragma: no cover - a script entry point
    import argparse

    from course_utils.config import GanBasicsConfig

    parser = argparse.ArgumentParser(description="Train the ring's plain and packed GANs; write ring.png and ring.md.")
    parser.add_argument("folder", nargs="?", default="docs/results")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default: the profile's ring_seeds)")
    args = parser.parse_args()
    cfg = GanBasicsConfig.current()
    seeds = None if args.seeds is None else tuple(int(s) for s in args.seeds.split(","))
    out = save_ring_results(ring_results(cfg, seeds), args.folder, cfg.profile)
    print(f"wrote {out} and {out.with_suffix('.md')}")
