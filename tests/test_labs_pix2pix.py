"""Lesson 02's labs: the blur measure on hand-computed images, the variants' networks, and the orderings reported."""

import json

import keras
import numpy as np
import pytest

from pathlib import Path

from course_utils import models
from course_utils.lessons.checkers import layer_sequence
from course_utils.lessons.labs import pix2pix as lab

ROOT = Path(__file__).resolve().parents[1]


# ---- the blur measure, by hand ------------------------------------------------------------------
def test_gradient_energy_of_hand_made_images():
    stripes = np.array([[0.0, 1.0], [0.0, 1.0]])[None, :, :, None]       # horizontal diffs 1, 1; vertical 0, 0
    assert lab.gradient_energy(stripes) == pytest.approx(0.5)
    checker = np.array([[0.0, 1.0], [1.0, 0.0]])[:, :, None]              # one (h, w, c) image: all diffs 1
    assert lab.gradient_energy(checker) == pytest.approx(1.0)
    assert lab.gradient_energy(np.full((3, 4, 4, 3), 0.7)) == 0.0
    ramp = np.tile(np.array([0.0, 0.5, 1.0]), (3, 1))[None, :, :, None]    # horizontal 0.25, vertical 0
    assert lab.gradient_energy(ramp) == pytest.approx(0.125)


def test_sharpness_is_relative_to_the_targets():
    rng = np.random.default_rng(0)
    targets = rng.uniform(-1, 1, (2, 8, 8, 3))
    assert lab.sharpness(targets, targets) == pytest.approx(1.0)
    assert lab.sharpness(0.5 * targets, targets) == pytest.approx(0.25)    # half the contrast: a quarter of the energy
    assert lab.sharpness(np.zeros_like(targets), targets) == 0.0
    with pytest.raises(ValueError, match="flat"):
        lab.sharpness(targets, np.zeros_like(targets))
    with pytest.raises(ValueError, match="2x2"):
        lab.gradient_energy(np.zeros((1, 1, 5, 3)))


# ---- the variants' networks ----------------------------------------------------------------------
@pytest.mark.parametrize("patch,field", [("1x1", 1), ("16x16", 4), ("70x70", 7), ("whole image", 34)])
def test_each_patch_discriminator_sees_the_field_the_lab_prints(patch, field):
    disc = lab.patch_discriminator(32, patch, filters=4)
    assert lab.receptive_field(disc) == field
    assert lab.PATCHES[patch][0] in (1, 16, 70, 286)


def test_the_patchgan_recipe_matches_the_course_patchgan_at_two_halvings():
    ours = lab.patch_discriminator(32, "whole image", filters=4)
    theirs = models.patchgan_discriminator(32, filters=4, n_downsampling=2)
    assert layer_sequence(ours) == layer_sequence(theirs)
    # 6*16*4 (first conv) + 4*16*8 + 4*8 (conv, batch norm) + 8*16*16 + 4*16 + 16*16 + 1 (logits)
    assert ours.count_params() == theirs.count_params() == 384 + 544 + 2_112 + 257


def test_the_encoder_decoder_is_the_unet_without_its_skips():
    enc_dec = lab.encoder_decoder_generator(32, filters=8)
    unet = models.unet_generator(32, filters=8)
    assert not any(isinstance(op, keras.layers.Concatenate) for op in enc_dec.layers)
    assert layer_sequence(enc_dec) == [w for w in layer_sequence(unet) if w != "Concatenate"]
    # Each decoder conv sees half the channels without the skips: fewer weights, by a count we can pin.
    assert enc_dec.count_params() < unet.count_params()


def test_unknown_variant_parts_are_refused():
    with pytest.raises(ValueError, match="patch must be one of"):
        lab.patch_discriminator(32, "8x8")
    with pytest.raises(ValueError, match="objective must be"):
        lab.train_variant(lab.Variant(objective="L2"), np.zeros((1, 32, 32, 3), "float32"),
                          np.zeros((1, 32, 32, 3), "float32"), steps=1, verbose=False)


def test_the_baseline_is_shared_and_trained_once():
    assert lab.VARIANTS.count(lab.BASELINE) == 1
    assert all(lab.BASELINE in variants for variants in lab.LABS.values())
    assert len(lab.VARIANTS) == 7


# ---- orderings -----------------------------------------------------------------------------------
def _scores(**figures):
    base = {"l1": 0.2, "sharpness": 0.8}
    return {v.name: dict(base, **figures.get(lab.LABEL[name](v), {})) for name in lab.LABS for v in lab.LABS[name]}


def test_orderings_read_the_right_figure():
    found = lab.orderings(_scores(**{"L1 only": {"sharpness": 0.5}, "cGAN only": {"l1": 0.3, "sharpness": 0.9},
                                     "encoder-decoder": {"l1": 0.25}, "1x1": {"sharpness": 0.6},
                                     "whole image": {"l1": 0.19}}))
    assert found == {
        "L1 only is blurrier than cGAN + L1": True,
        "L1 only is blurrier than cGAN only": True,
        "cGAN + L1 is closer to the targets (L1) than cGAN only": True,
        "the U-Net is closer to the targets (L1) than the encoder-decoder": True,
        "the 1x1 discriminator gives blurrier images than the 70x70 one": True,
        "the 70x70 discriminator gives a lower L1 than the whole-image one": False,
    }


def test_the_committed_longer_runs_are_consistent():
    record = lab.load_results(missing_ok=True)
    results_md = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    section = results_md[results_md.index("## Lab: Pix2Pix ablations (lesson 02)"):]
    if record is None:   # not recorded yet: the notes must not claim any ordering
        assert "reproduced:" not in section and "not recorded" in section
        return
    assert lab.markdown_table(record) in section
    assert record["command"].startswith("python -m course_utils.lessons.labs.pix2pix")
    assert record["settings"]["steps"] > lab.SMOKE["steps"]
    assert set(record["scores"]) == {"mean image"} | {v.name for v in lab.VARIANTS}
    assert record["orderings"] == lab.orderings(record["scores"])
    # Every trained variant is sharper than the mean image; every one with an L1 term beats it on L1,
    # while cGAN alone does not (docs/results.md says so).
    mean = record["scores"]["mean image"]
    for v in lab.VARIANTS:
        assert record["scores"][v.name]["sharpness"] > mean["sharpness"], v.name
        assert (record["scores"][v.name]["l1"] < mean["l1"]) == (v.objective != "cGAN only"), v.name


def test_a_missing_results_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m course_utils.lessons.labs.pix2pix"):
        lab.load_results(tmp_path / "none.json")


@pytest.mark.slow
def test_each_ordering_reported_as_reproduced_holds_in_the_recorded_figures():
    record = lab.load_results()
    section = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    reported = {line.split("reproduced: ", 1)[1] for line in section.splitlines() if line.startswith("- reproduced: ")}
    assert reported, "docs/results.md reports no reproduced ordering"
    found = lab.orderings(record["scores"])
    for claim in reported:
        assert found[claim], claim
    # The clearest one, with a margin: the encoder-decoder's L1 is over 1.3 x the U-Net's.
    scores = record["scores"]
    assert scores["cGAN + L1, encoder-decoder, 70x70"]["l1"] > 1.3 * scores["cGAN + L1, U-Net, 70x70"]["l1"]


# ---- the prediction against both runs -------------------------------------------------------------
def _run(steps, **sharpness):
    """A hand-made run record: the objective lab's three variants with the given sharpness figures."""
    scores = {v.name: {"l1": 0.1, "sharpness": sharpness[lab.LABEL["objective"](v)]} for v in lab.LABS["objective"]}
    return {"settings": {"steps": steps}, "scores": scores}


def test_the_conclusion_compares_the_prediction_with_both_runs_in_sentences():
    mine = _run(300, **{"L1 only": 0.30, "cGAN only": 1.10, "cGAN + L1": 0.40})
    longer = _run(3000, **{"L1 only": 0.50, "cGAN only": 1.20, "cGAN + L1": 0.45})
    lines = lab.conclusion("L1 only", mine, longer)
    text = "\n".join(lines)
    assert lines[0] == "You predicted that L1 only gives the blurriest validation images (the lowest sharpness)."
    assert ("In your run (300 steps a variant), sharpness (1 = as much fine detail as the targets): L1 only 0.300, "
            "cGAN only 1.100, cGAN + L1 0.400. The lowest is L1 only, 0.100 below cGAN + L1 (25% of it). "
            "That matches your prediction.") in lines
    assert ("In the shipped longer run (3,000 steps a variant), sharpness (1 = as much fine detail as the targets): "
            "L1 only 0.500, cGAN only 1.200, cGAN + L1 0.450. The lowest is cGAN + L1, 0.050 below L1 only "
            "(10% of it). That is not what you predicted (L1 only).") in lines
    assert ("  The paper's ordering 'L1 only is blurrier than cGAN + L1': shown by your run "
            "(sharpness: L1 only 0.300, cGAN + L1 0.400).") in lines
    assert ("  The paper's ordering 'L1 only is blurrier than cGAN + L1': not shown by the shipped longer run "
            "(sharpness: L1 only 0.500, cGAN + L1 0.450).") in lines
    assert ("  The paper's ordering 'cGAN + L1 is closer to the targets (L1) than cGAN only': not shown by your run "
            "(L1: cGAN + L1 0.100, cGAN only 0.100).") in lines
    assert lines[-1].startswith("The two runs disagree (L1 only in yours, cGAN + L1 in the longer run)")
    agree = lab.conclusion("cGAN + L1", longer, longer)
    assert agree[-1] == "Both runs give the same answer: cGAN + L1." and "That matches your prediction." in agree[1]
    assert "1.100" in text and "0.450" in text


def test_no_prediction_and_a_wrong_choice_are_said():
    mine = _run(300, **{"L1 only": 0.30, "cGAN only": 1.10, "cGAN + L1": 0.40})
    none = lab.conclusion(None, mine, None)
    assert none[0].startswith("You made no prediction (PREDICTION is None)")
    assert not any("predicted" in line for line in none[1:])
    assert none[-1] == "The shipped longer run (labs_pix2pix.json) is missing, so it is not compared."
    not_run = lab.conclusion("cGAN + L1", None, mine)
    assert not_run[1] == "You did not run this lab, so only the shipped longer run is compared."
    assert "That matches your prediction." not in " ".join(not_run) and len(not_run) >= 3
    odd = lab.conclusion("L2", mine, None)
    assert odd[0].startswith("Your prediction 'L2' is not one of 'L1 only', 'cGAN only', 'cGAN + L1'")
    assert lab.choices("generator") == ["encoder-decoder", "U-Net"]
    assert "the lowest L1" in lab.conclusion("U-Net", _generator_run(), None, lab="generator")[0]
    with pytest.raises(ValueError, match="lab must be one of"):
        lab.conclusion(None, mine, None, lab="loss")


def _generator_run():
    scores = {v.name: {"l1": 0.2 if v.generator == "encoder-decoder" else 0.1, "sharpness": 0.5}
              for v in lab.LABS["generator"]}
    return {"settings": {"steps": 300}, "scores": scores}


def test_a_changed_longer_run_file_changes_the_sentences(tmp_path):
    shipped = lab.load_results()
    mine = _run(300, **{"L1 only": 0.30, "cGAN only": 1.10, "cGAN + L1": 0.40})
    before = lab.conclusion("L1 only", mine, shipped)
    # The shipped file says cGAN + L1 is the blurriest (0.436 against L1 only's 0.447): make L1 only blurrier.
    changed = json.loads(json.dumps(shipped))
    changed["scores"]["L1 only, U-Net, 70x70"]["sharpness"] = 0.25
    changed["settings"]["steps"] = 6000
    path = tmp_path / "labs_pix2pix.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    after = lab.conclusion("L1 only", mine, lab.load_results(path))
    assert after != before
    assert any("shipped longer run (3,000 steps" in line and "The lowest is cGAN + L1" in line
               and "not what you predicted" in line for line in before)
    assert any("shipped longer run (6,000 steps" in line and "L1 only 0.250" in line
               and "That matches your prediction." in line for line in after)
    assert after[-1] == "Both runs give the same answer: L1 only." and before[-1].startswith("The two runs disagree")


def test_print_lab_shows_each_run_it_is_given(capsys):
    mine = _run(300, **{"L1 only": 0.30, "cGAN only": 1.10, "cGAN + L1": 0.40})
    mine["scores"]["mean image"] = {"l1": 0.2, "sharpness": 0.05}
    lab.print_lab("objective", mine, None)
    out = capsys.readouterr().out
    assert "your run (300 steps)" in out and "longer run" not in out and "0.300" in out
    lab.print_lab("objective", None, _run(3000, **{"L1 only": 0.5, "cGAN only": 1.2, "cGAN + L1": 0.45}))
    out = capsys.readouterr().out
    assert "longer run (3,000 steps)" in out and "your run" not in out and "0.450" in out
