"""course_utils.capstone: dataset counts, the unchanged baseline, failure cases, the write-up."""

import json

import numpy as np
import pytest
from PIL import Image

from course_utils import capstone, data


def _images(folder, n, size=(16, 16)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((*size[::-1], 3), 40 * i, np.uint8)).save(folder / f"{i}.jpg")


def test_describe_dataset_counts_the_shipped_sets():
    paired = capstone.describe_dataset(data.shipped_paired_path(), "pix2pix")
    assert paired == {"train": 300, "val": 40, "test": 40}
    unpaired = capstone.describe_dataset(data.shipped_unpaired_path(), "cyclegan")
    assert unpaired == {"trainA": 200, "trainB": 200, "testA": 40, "testB": 40}


def test_describe_dataset_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        capstone.describe_dataset(tmp_path / "nope", "pix2pix")
    _images(tmp_path / "trainA", 2)
    with pytest.raises(FileNotFoundError, match=r"no images in trainB/.*trainA/ trainB/ testA/ testB/"):
        capstone.describe_dataset(tmp_path, "cyclegan")
    _images(tmp_path / "trainB", 2)
    _images(tmp_path / "testA", 1)
    with pytest.raises(FileNotFoundError, match="no held-out images"):
        capstone.describe_dataset(tmp_path, "cyclegan")
    _images(tmp_path / "testB", 1)
    assert capstone.describe_dataset(tmp_path, "cyclegan") == {"trainA": 2, "trainB": 2, "testA": 1, "testB": 1}
    with pytest.raises(ValueError, match="pix2pix.*cyclegan"):
        capstone.describe_dataset(tmp_path, "unet")


def test_beats_knows_which_way_is_better():
    base = {"l1": 0.5, "psnr": 12.0, "ssim": 0.4}
    assert capstone.beats({"l1": 0.2, "psnr": 20.0, "ssim": 0.3}, base) == {"l1": True, "psnr": True, "ssim": False}
    assert capstone.beats({"cycle_error": 0.1}, base) == {}


def test_worst_images_from_both_kinds_of_report(tmp_path):
    p2p = {"kind": "pix2pix", "per_image": [{"file": "a.jpg", "l1": 0.1}, {"file": "b.jpg", "l1": 0.4},
                                             {"file": "c.jpg", "l1": 0.2}]}
    assert [r["file"] for r in capstone.worst_images(p2p, k=2)] == ["b.jpg", "c.jpg"]
    cyc = {"kind": "cyclegan", "A": {"per_image": [{"file": "h1.jpg", "cycle_error": 0.3}]},
           "B": {"per_image": [{"file": "z1.jpg", "cycle_error": 0.5}, {"file": "z2.jpg", "cycle_error": 0.1}]}}
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(cyc))
    assert [(r["domain"], r["file"]) for r in capstone.worst_images(path)] == [("B", "z1.jpg"), ("A", "h1.jpg"),
                                                                               ("B", "z2.jpg")]
    with pytest.raises(FileNotFoundError, match="evaluate"):
        capstone.worst_images(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="Not an evaluate report"):
        capstone.worst_images({"kind": "other"})


def test_write_up_fills_the_numbers_and_leaves_the_rest_to_you(tmp_path):
    path = capstone.write_up(
        tmp_path / "WRITEUP.md", title="pix2pix on shipped", task="labels to scenes", data="shipped",
        counts={"train": 300, "test": 40}, model="pix2pix", image_size=32, filters=8, steps=60, batch_size=4,
        schedule="constant 2e-4", hardware="CPU only", scores={"l1": 0.2, "psnr": 18.0, "ssim": 0.5},
        baselines={"mean training image": {"l1": 0.25, "psnr": 16.0, "ssim": 0.6},
                   "input unchanged": {"l1": 0.5, "psnr": 10.0, "ssim": 0.1}},
        failures=["b.jpg: TODO (you) (why?)"])
    text = path.read_text()
    assert "| model | 0.200 | 18.000 | 0.500 |" in text
    assert "| baseline: mean training image | 0.250 | 16.000 | 0.600 |" in text
    assert "| baseline: input unchanged | 0.500 | 10.000 | 0.100 |" in text
    assert 'Against "mean training image": l1 better, psnr better, ssim NOT better.' in text
    assert 'Against "input unchanged": l1 better, psnr better, ssim better.' in text
    assert "60 at batch 4 (constant 2e-4)" in text and "train: 300, test: 40" in text
    assert text.count(capstone.TODO) == 3                        # resumed?, what next, the failure's reason
    bare = capstone.write_up(tmp_path / "c.md", title="t", task="t", data="d", counts={}, model="cyclegan",
                             image_size=32, filters=8, steps=1, batch_size=1, schedule="s", hardware="h",
                             scores={"cycle_error": 0.1}, baselines={}, failures=[]).read_text()
    assert "No baseline shares these metrics" in bare and "| model | 0.100 |" in bare
    with pytest.raises(ValueError, match="no metric"):
        capstone.write_up(tmp_path / "x.md", title="t", task="t", data="d", counts={}, model="pix2pix",
                          image_size=32, filters=8, steps=1, batch_size=1, schedule="s", hardware="h",
                          scores={}, baselines={}, failures=[])
