"""course_utils.lessons.ring: lesson 01's ring of Gaussians, plain and packed."""

from __future__ import annotations

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import config, metrics, ring  # noqa: E402


def _tiny(pack: int = 1, steps: int = 12) -> ring.RingSetting:
    return ring.RingSetting("tiny", steps=steps, batch_size=16, learning_rate=1e-3, beta_1=0.5, pack=pack)


def test_settings_differ_only_in_packing():
    plain, packed = ring.ring_settings(config.DcganConfig.smoke())
    assert (plain.name, plain.pack, packed.name, packed.pack) == ("plain", 1, "packed", 2)
    assert plain == dataclasses.replace(packed, name="plain", pack=1)


@pytest.mark.slow  # trains the ring GAN twice
def test_train_ring_is_repeatable_and_snapshots_on_schedule():
    a = ring.train_ring(_tiny(pack=2), seed=3, snapshots=4, progress=False)
    b = ring.train_ring(_tiny(pack=2), seed=3, snapshots=4, progress=False)
    assert sorted(a.snapshots) == [3, 6, 9, 12]
    assert a.final.shape == (ring.PROBE_SAMPLES, 2)
    np.testing.assert_array_equal(a.final, b.final)
    c = ring.train_ring(_tiny(pack=2), seed=4, snapshots=4, progress=False)
    assert not np.allclose(a.final, c.final)


def test_train_ring_rejects_a_batch_the_pack_cannot_split():
    with pytest.raises(ValueError, match="multiple of pack 3"):
        ring.train_ring(_tiny(pack=3), seed=0, progress=False)


@pytest.mark.slow  # trains two short ring runs
def test_save_ring_results_writes_the_figure_and_the_table(tmp_path):
    results = {"plain": [ring.train_ring(_tiny(), 0, snapshots=2, progress=False)],
               "packed": [ring.train_ring(_tiny(pack=2), 0, snapshots=2, progress=False)]}
    png = ring.save_ring_results(results, tmp_path / "results")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (tmp_path / "results" / "ring.md").read_text()
    assert "| real ring samples (baseline) | - | - | 8/8 |" in table
    assert "| plain: 12 steps, batch 16, Adam 0.001 (beta_1 0.5), pack 1 | 0 | 12 |" in table
    assert "pack 2 | 0 | 12 |" in table and "python -m course_utils.lessons.ring" in table


# --- the data and the pictures ------------------------------------------------------------
def test_ring_of_gaussians_lies_on_the_ring_and_covers_all_modes():
    pts = ring.ring_of_gaussians(4000, seed=0)
    assert pts.shape == (4000, 2) and pts.dtype == np.float32
    assert np.allclose(np.linalg.norm(pts, axis=1), 2.0, atol=0.15)
    np.testing.assert_array_equal(pts, ring.ring_of_gaussians(4000, seed=0))
    cov = metrics.mode_coverage(pts, ring.ring_centers(), std=0.02)
    assert cov.modes_covered == 8
    # In 2-D, P(distance < 3 std) = 1 - exp(-9/2) = 0.9889.
    assert cov.high_quality_rate == pytest.approx(1 - math.exp(-4.5), abs=0.01)


def test_plot_ring_samples_colours_covered_and_missed_modes():
    centers = ring.ring_centers()
    collapsed = np.repeat(centers[:2], 100, axis=0) + np.random.default_rng(0).normal(0, 0.01, (200, 2))
    fig = ring.plot_ring_samples(collapsed, centers, std=0.02, real=ring.ring_of_gaussians(200, seed=1))
    edge = [tuple(np.round(p.get_edgecolor()[:3], 2)) for p in fig.axes[0].patches]
    assert edge.count((0.0, 0.5, 0.0)) == 2 and edge.count((1.0, 0.0, 0.0)) == 6
    assert fig.axes[0].get_title().startswith("2/8 modes covered")
    plt.close(fig)


def test_plot_ring_samples_draws_into_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    out = ring.plot_ring_samples(ring.ring_of_gaussians(500, seed=0), std=0.02, ax=axes[1], title="right")
    assert out is fig and axes[1].get_title() == "right" and len(axes[1].patches) == 8
    assert len(axes[0].patches) == 0
    plt.close(fig)


def test_plot_ring_runs_titles_each_snapshot_with_its_coverage():
    centres = ring.ring_centers()
    collapsed = np.repeat(centres[:1], 200, axis=0)           # every sample on mode 0
    spread = ring.ring_of_gaussians(2000, std=0.02, seed=0)
    fig = ring.plot_ring_runs({"run a": {0: collapsed, 10: spread}, "run b": {0: spread}}, centres, 0.02)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "run a, step 0\n1/8 modes, 100% HQ"
    assert titles[1].startswith("run a, step 10\n8/8 modes")
    assert titles[3] == "" and not fig.axes[3].axison          # run b has one snapshot: the spare panel is off
