"""Lesson 01's ring of eight Gaussians: the data, the two settings, training and the pictures.

Read it top to bottom:

1. **The data**: :func:`ring_centers` and :func:`ring_of_gaussians` (8 modes on a circle of
   radius 2, std 0.02; Metz et al. 2017). How many modes a generator covers is
   :func:`course_utils.core.metrics.mode_coverage`.
2. **The settings**: :class:`RingSetting`, and :func:`ring_settings`, which makes the lesson's
   two from a :class:`course_utils.lessons.config.DcganConfig`: ``plain`` and ``packed`` (PacGAN).
3. **Training**: :func:`train_ring` trains a fresh MLP GAN (:func:`course_utils.core.models.mlp_generator`
   and :func:`course_utils.core.models.mlp_discriminator`) with the lesson's loop: one simultaneous
   step of both players (:func:`course_utils.core.train.gan_train_step`), Adam, a fresh real batch
   every step and snapshots of 2,500 samples from a fixed batch of noise. :func:`ring_results`
   runs both settings for every seed.
4. **Pictures**: :func:`plot_ring_samples` (samples over the modes, covered ones green),
   :func:`plot_ring_runs` (snapshots of several runs), :func:`plot_ring_comparison`, and
   :func:`save_ring_results`, which writes the side-by-side figure and a markdown table.

>>> from course_utils import config, ring
>>> results = ring.ring_results(config.DcganConfig.smoke())          # doctest: +SKIP
>>> ring.save_ring_results(results, "docs/results")                      # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from course_utils.core import metrics
from course_utils.core.counts import positive_int
from course_utils.core.images import as_numpy

#: The data: 8 modes on a circle of radius 2, standard deviation 0.02 (Metz et al. 2017).
RING_STD = 0.02
#: Samples judged per snapshot, as in VEEGAN and PacGAN.
PROBE_SAMPLES = 2500


# ---------------------------------------------------------------------------
# 1. The data.
# ---------------------------------------------------------------------------
def ring_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The ``modes`` centres evenly spaced on a circle of ``radius``, shape ``(modes, 2)``."""
    positive_int(modes, "modes")
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).astype(np.float32)


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.02,
                      seed: int | None = None) -> np.ndarray:
    """``n`` samples of the mixture of ``modes`` equal Gaussians on a ring, shape ``(n, 2)``.

    The defaults (8 modes, radius 2, std 0.02) are the toy problem of Metz et al. (2017,
    unrolled GANs): a generator that collapses puts all its samples on one or a few modes.
    Its centres are :func:`ring_centers` ``(modes, radius)``.
    """
    positive_int(n, "n", "samples")
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}.")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, modes, size=n)
    return (ring_centers(modes, radius)[which] + rng.normal(0.0, std, size=(n, 2))).astype(np.float32)


# ---------------------------------------------------------------------------
# 2. The settings, and one trained run.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RingSetting:
    """One way of training the ring GAN; :func:`ring_settings` makes the lesson's two."""

    name: str
    steps: int
    batch_size: int
    learning_rate: float
    beta_1: float
    pack: int = 1
    final_learning_rate: float | None = None   # linear decay to this by the last step; None: constant


def ring_settings(cfg) -> tuple[RingSetting, RingSetting]:
    """``cfg``'s two ring settings (a :class:`DcganConfig`), identical but for packing:
    ``plain`` (pack 1) and ``packed`` (``cfg.ring_pack``)."""
    common = dict(steps=cfg.ring_steps, batch_size=cfg.ring_batch_size, learning_rate=cfg.ring_learning_rate,
                  final_learning_rate=cfg.ring_final_learning_rate, beta_1=cfg.ring_beta_1)
    return RingSetting("plain", pack=1, **common), RingSetting("packed", pack=cfg.ring_pack, **common)


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
        return metrics.mode_coverage(self.final, ring_centers(), RING_STD)


# ---------------------------------------------------------------------------
# 3. Training.
# ---------------------------------------------------------------------------
def train_ring(setting: RingSetting, seed: int, *, snapshots: int = 6, make_step: Callable | None = None,
               progress: bool = True) -> RingRun:
    """Train one fresh MLP GAN on the ring with ``setting`` and ``seed``; seeded and repeatable.

    ``make_step(generator, discriminator, g_optimizer, d_optimizer)`` returns the step
    ``step(real, noise)``; the default is :func:`course_utils.core.train.gan_train_step`, which lesson
    01 checks against the learner's own ``make_train_step``.
    """
    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    from course_utils.core import models, train

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
    real_points = ring_of_gaussians(setting.steps * setting.batch_size, std=RING_STD, seed=seed + 100)
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
    """Both of ``cfg``'s ring settings (a :class:`DcganConfig`), each for every seed."""
    seeds = cfg.ring_seeds if seeds is None else tuple(seeds)
    return {s.name: [train_ring(s, seed, progress=progress) for seed in seeds] for s in ring_settings(cfg)}


# ---------------------------------------------------------------------------
# 4. Pictures.
# ---------------------------------------------------------------------------
def plot_ring_samples(samples: Any, centers: Any | None = None, std: float = 0.02, *, threshold: float | None = None,
                      min_count: int = 20, real: Any | None = None, title: str | None = None,
                      ax: Any | None = None) -> Any:
    """Generated 2-D samples over the mixture's modes, covered modes in green, missed in red.

    Coverage is :func:`course_utils.core.metrics.mode_coverage` (a sample is high quality within
    ``threshold``, default 3 std, of a centre; a mode is covered with ``min_count`` of them).
    The circles drawn around the centres have that radius. ``real`` adds real samples in grey.
    ``ax`` draws into an existing axes (e.g. one panel of a side-by-side figure); the figure
    returned is then that axes' figure.
    """
    import matplotlib.pyplot as plt

    pts = as_numpy(samples)
    ctr = ring_centers() if centers is None else as_numpy(centers)
    coverage = metrics.mode_coverage(pts, ctr, std, threshold, min_count=min_count)
    radius = 3.0 * std if threshold is None else threshold
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    else:
        fig = ax.figure
    if real is not None:
        r = as_numpy(real)
        ax.scatter(r[:, 0], r[:, 1], s=4, color="grey", alpha=0.3, label="real")
    ax.scatter(pts[:, 0], pts[:, 1], s=4, color="C0", alpha=0.5, label="generated")
    for (cx, cy), ok, count in zip(ctr, coverage.covered, coverage.counts):
        colour = "green" if ok else "red"
        ax.add_patch(plt.Circle((cx, cy), max(radius, 0.05), fill=False, edgecolor=colour, linewidth=2))
        ax.annotate(str(int(count)), (cx, cy), textcoords="offset points", xytext=(8, 8), color=colour, fontsize=8)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or str(coverage), fontsize=10)
    fig.tight_layout()
    return fig


def plot_ring_runs(runs: Mapping[str, Mapping[int, Any]], centers: Any | None = None, std: float = 0.02, *,
                   real: Any | None = None, limit: float = 3.0) -> Any:
    """Snapshots of several ring runs: one row per run (name -> {step: samples (n, 2)}).

    Each panel shows the samples (blue) over the real data (grey) and the modes' centres (red
    crosses), and its title gives the step, the modes covered and the share of high-quality
    samples (:func:`course_utils.core.metrics.mode_coverage`).
    """
    import matplotlib.pyplot as plt

    ctr = ring_centers() if centers is None else as_numpy(centers)
    n_cols = max((len(run) for run in runs.values()), default=0)
    if n_cols == 0:
        raise ValueError("plot_ring_runs needs at least one run with at least one snapshot.")
    fig, axes = plt.subplots(len(runs), n_cols, figsize=(2.4 * n_cols, 2.7 * len(runs)), squeeze=False)
    for r, (name, run) in enumerate(runs.items()):
        for ax in axes[r, len(run):]:
            ax.axis("off")
        for ax, (step, samples) in zip(axes[r], run.items()):
            pts = as_numpy(samples)
            cov = metrics.mode_coverage(pts, ctr, std)
            if real is not None:
                ax.scatter(*as_numpy(real).T, s=1, color="lightgrey")
            ax.scatter(*pts.T, s=1, color="C0", alpha=0.4)
            ax.scatter(*ctr.T, marker="x", color="red", s=20)
            ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", xticks=[], yticks=[])
            ax.set_title(f"{name}, step {step}\n{cov.modes_covered}/{len(ctr)} modes, "
                         f"{100 * cov.high_quality_rate:.0f}% HQ", fontsize=9)
    fig.tight_layout()
    return fig



def plot_ring_comparison(runs: Mapping[str, RingRun]):
    """The last snapshot of each run side by side, covered modes green, with the strict counts."""
    import matplotlib.pyplot as plt

    real = ring_of_gaussians(PROBE_SAMPLES, std=RING_STD, seed=0)
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 5), squeeze=False)
    for ax, (label, run) in zip(axes[0], runs.items()):
        cov = run.coverage
        plot_ring_samples(run.final, ring_centers(), RING_STD, real=real, ax=ax,
                          title=f"{label}, seed {run.seed}, step {max(run.snapshots)}\n{cov.modes_covered}/8 modes "
                                f"covered, {100 * cov.high_quality_rate:.0f}% high quality")
        ax.set(xlim=(-3, 3), ylim=(-3, 3))
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
    real = metrics.mode_coverage(ring_of_gaussians(PROBE_SAMPLES, std=RING_STD, seed=0), ring_centers(), RING_STD)
    rows = [f"| real ring samples (baseline) | - | - | {real.modes_covered}/8 | 8/8 | "
            f"{100 * real.high_quality_rate:.0f}% | - |"]
    for name, runs in results.items():
        s = runs[0].setting
        for run in runs:
            cov = run.coverage
            visited = metrics.mode_coverage(run.final, ring_centers(), RING_STD, threshold=np.inf,
                                            min_count=PROBE_SAMPLES // 20).modes_covered
            decay = "" if s.final_learning_rate is None else f" to {s.final_learning_rate:g}"
            rows.append(f"| {name}: {s.steps} steps, batch {s.batch_size}, Adam {s.learning_rate:g}{decay} "
                        f"(beta_1 {s.beta_1:g}), pack {s.pack} | {run.seed} | {max(run.snapshots)} | "
                        f"{cov.modes_covered}/8 | {visited}/8 | {100 * cov.high_quality_rate:.0f}% | {run.seconds:.1f} |")
    seeds = ",".join(str(r.seed) for r in next(iter(results.values())))
    table = "\n".join(rows)
    (folder / "ring.md").write_text(f"""## The ring of eight Gaussians (lesson 01, section 12)

Profile: {profile}. Modes covered: at least 20 of 2,500 samples within 3 std (0.06) of a \
mode's centre (`metrics.mode_coverage`, as lesson 01 counts). Modes visited: at least 5% of \
the samples have that mode as their nearest, however far. High-quality samples: the share \
within 3 std of a centre. Seconds: wall-clock training time on the machine that wrote this \
table. The figure shows the first seed of each setting.

| setting | seed | step | modes covered | modes visited | high-quality samples | seconds |
|---|---|---|---|---|---|---|
{table}

![the plain and the packed run side by side](ring.png)

Reproduce: `COURSE_SMOKE=1 .venv/bin/python -m course_utils.lessons.ring docs/results --seeds {seeds}`
""")

    return folder / "ring.png"


if __name__ == "__main__":  # pragma: no cover - a script entry point
    import argparse

    from course_utils.core.dcgan import DcganConfig

    parser = argparse.ArgumentParser(description="Train the ring's plain and packed GANs; write ring.png and ring.md.")
    parser.add_argument("folder", nargs="?", default="docs/results")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default: the profile's ring_seeds)")
    args = parser.parse_args()
    cfg = DcganConfig.current()
    seeds = None if args.seeds is None else tuple(int(s) for s in args.seeds.split(","))
    out = save_ring_results(ring_results(cfg, seeds), args.folder, cfg.profile)
    print(f"wrote {out} and {out.with_suffix('.md')}")
