"""course_utils.ring: lesson 01's ring of Gaussians, plain and packed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_utils import config, metrics, ring


def _tiny(pack: int = 1, steps: int = 12) -> ring.RingSetting:
    return ring.RingSetting("tiny", steps=steps, batch_size=16, learning_rate=1e-3, beta_1=0.5, pack=pack)


def test_settings_differ_only_in_packing():
    plain, packed = config.GanBasicsConfig.smoke().ring_settings()
    assert (plain.name, plain.pack, packed.name, packed.pack) == ("plain", 1, "packed", 2)
    assert plain == dataclasses.replace(packed, name="plain", pack=1)
    assert (plain.steps, plain.batch_size, plain.learning_rate, plain.final_learning_rate) == (1500, 256, 1e-3, 1e-4)


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
    assert "pack 2 | 0 | 12 |" in table and "python -m course_utils.ring" in table
