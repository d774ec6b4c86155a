"""course_utils.tools.capstone: dataset counts, the unchanged baseline, failure cases, the write-up."""

import csv
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
    assert text.count(capstone.TODO) == 4                        # resumed?, why, what next, the failure line
    bare = capstone.write_up(tmp_path / "c.md", title="t", task="t", data="d", counts={}, model="cyclegan",
                             image_size=32, filters=8, steps=1, batch_size=1, schedule="s", hardware="h",
                             scores={"cycle_error": 0.1}, baselines={}, failures=[]).read_text()
    assert "No baseline shares these metrics" in bare and "| model | 0.100 |" in bare
    with pytest.raises(ValueError, match="no metric"):
        capstone.write_up(tmp_path / "x.md", title="t", task="t", data="d", counts={}, model="pix2pix",
                          image_size=32, filters=8, steps=1, batch_size=1, schedule="s", hardware="h",
                          scores={}, baselines={}, failures=[])


# --- the rubric ----------------------------------------------------------------------------
ANSWERS = {"task": "labels to scenes", "resumed": "no", "why": "rare layouts", "next": "train longer"}


def _run_folder(tmp_path, *, l1=0.12, command=True, settings=None, export=True):
    """A run folder as lesson 05 leaves it: run_settings.json, export/, capstone.json."""
    run = tmp_path / "run"
    (run / "export").mkdir(parents=True)
    if export:
        (run / "export" / "generator.keras").write_bytes(b"stand-in")
    stored = {"model": "pix2pix", "image_size": 32, "batch_size": 1, "filters": 16, "seed": 0, "precision": "float32"}
    stored.update(settings or {})
    (run / "run_settings.json").write_text(json.dumps({"trainer": {}, "settings": stored}))
    args = ["train", "pix2pix", "--data", "shipped", "--out", str(run), "--steps", "400", "--image-size", "32",
            "--filters", "16", "--batch-size", "1", "--seed", "0"]
    capstone.save_result(run, command=args if command else [], scores={"l1": l1, "psnr": 18.0},
                         baselines={"mean training image": {"l1": 0.20, "psnr": 16.0},
                                    "input unchanged": {"l1": 0.50, "psnr": 9.0}})
    return run


def test_the_rubric_gives_full_mechanical_points_to_a_complete_run(tmp_path):
    run = _run_folder(tmp_path)
    score = capstone.score_rubric(run, ANSWERS)
    assert {k: c["points"] for k, c in score["criteria"].items()} == {"baseline": 5, "writeup": 3, "reproducible": 2}
    assert score["points"] == score["out_of"] == 10
    assert "beats 'mean training image' on l1 (0.12 against 0.2)" in score["criteria"]["baseline"]["note"]
    assert score["criteria"]["reproducible"]["note"].startswith("python -m course_utils train pix2pix")
    assert [c["key"] for c in score["for_instructor"]] == ["choice", "failures", "limits", "pictures"]
    assert sum(c.points for c in capstone.RUBRIC) == 20


def test_a_baseline_not_beaten_costs_its_share(tmp_path):
    half = capstone.score_rubric(_run_folder(tmp_path, l1=0.30), ANSWERS)["criteria"]["baseline"]
    assert half["points"] == 2.5 and "does NOT beat 'mean training image'" in half["note"]
    none = capstone.score_rubric(_run_folder(tmp_path / "b", l1=0.9), ANSWERS)["criteria"]["baseline"]
    assert none["points"] == 0


def test_empty_write_up_fields_are_named(tmp_path):
    run = _run_folder(tmp_path)
    partly = capstone.score_rubric(run, {**ANSWERS, "why": "", "next": capstone.TODO})["criteria"]["writeup"]
    assert partly["points"] == 1.5 and "why" in partly["note"] and "next" in partly["note"]
    assert capstone.score_rubric(run)["criteria"]["writeup"]["points"] == 0      # no WRITEUP.md yet


def test_the_write_up_file_is_read_back_field_by_field(tmp_path):
    run = _run_folder(tmp_path)
    common = dict(title="t", data="shipped", counts={"train": 3}, model="pix2pix", image_size=32, filters=16,
                  steps=400, batch_size=1, schedule="s", hardware="h", scores={"l1": 0.1},
                  baselines={"mean": {"l1": 0.2}}, failures=["a.jpg"])
    capstone.write_up(run / "WRITEUP.md", task=capstone.TODO + ": what goes in", **common)
    todo = capstone.score_rubric(run)["criteria"]["writeup"]
    assert todo["points"] == 0 and all(k in todo["note"] for k in capstone.WRITEUP_FIELDS)
    capstone.write_up(run / "WRITEUP.md", task="ignored", answers=ANSWERS, **common)
    text = (run / "WRITEUP.md").read_text()
    assert capstone.TODO not in text and "- Task: labels to scenes" in text and "Why: rare layouts" in text
    assert capstone.score_rubric(run)["criteria"]["writeup"]["points"] == 3


def test_a_run_without_its_command_or_with_another_is_not_reproducible(tmp_path):
    missing = capstone.score_rubric(_run_folder(tmp_path, command=False), ANSWERS)["criteria"]["reproducible"]
    assert missing["points"] == 0 and "no train command" in missing["note"]
    other = capstone.score_rubric(_run_folder(tmp_path / "b", settings={"filters": 64}), ANSWERS)
    assert other["criteria"]["reproducible"]["points"] == 0
    assert "--filters 16 but the run stored 64" in other["criteria"]["reproducible"]["note"]
    unfinished = capstone.score_rubric(_run_folder(tmp_path / "c", export=False), ANSWERS)
    assert "no exported generator" in unfinished["criteria"]["reproducible"]["note"]
    nothing = capstone.score_rubric(tmp_path / "empty", ANSWERS)
    assert nothing["points"] == 3 and "save_result" in nothing["criteria"]["baseline"]["note"]


def test_lesson_05_shows_the_rubric_it_scores():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "notebooks" / "05_capstone.py").read_text()
    for c in capstone.RUBRIC:
        assert f"| {c.points} |" in text and c.text.split(" (")[0].split(":")[0] in text, c.key
    assert "capstone.score_rubric(" in text


def test_a_class_is_scored_from_its_files_into_one_csv(tmp_path):
    # Three learners: a complete run moved into the hand-ins, a run without its command, no run at all.
    hand_ins = tmp_path / "hand-ins"
    done = _run_folder(hand_ins / "ada" / "drive")
    (done / "WRITEUP.md").write_text("- Task: " + ANSWERS["task"] + "\n")
    _run_folder(hand_ins / "=HYPERLINK(x)", command=False)
    (hand_ins / "bo").mkdir()
    (hand_ins / "notes.txt").write_text("not a learner")
    out = capstone.score_class(hand_ins, tmp_path / "grades")
    rows = {r["learner"]: r for r in csv.DictReader(out.open())}
    assert sorted(rows) == ["'=HYPERLINK(x)", "ada", "bo"]          # a formula-like name is neutralised
    assert float(rows["ada"]["baseline"]) == 5 and float(rows["ada"]["reproducible"]) == 2
    assert rows["ada"]["out_of"] == "10"
    assert float(rows["'=HYPERLINK(x)"]["reproducible"]) == 0 and "no train command" in rows["'=HYPERLINK(x)"]["note"]
    assert rows["bo"]["total"] == "0" and "no capstone.json" in rows["bo"]["note"]
    assert "pictures (instructor, /2)" in rows["ada"]
    with pytest.raises(FileNotFoundError, match="no learner folders"):
        capstone.score_class(tmp_path / "grades", tmp_path / "x")


def test_the_rubric_command_line(tmp_path, capsys):
    _run_folder(tmp_path / "hand-ins" / "ada")
    assert capstone.main([str(tmp_path / "hand-ins"), "--out", str(tmp_path / "g")]) == 0
    assert json.loads(capsys.readouterr().out)["rubric"].endswith("rubric.csv")
    assert capstone.main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "g")]) == 1
    assert "is not a folder" in capsys.readouterr().err
