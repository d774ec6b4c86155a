"""Draw the pictures of docs/results.md from the shipped reference weights and the shipped data.

    python scripts/make_results_figures.py            # writes docs/results/*.png and prints the figures

Every number printed is measured here, now, on the held-out split, by :mod:`course_utils.lessons.results`
(the same functions the lessons and tests use).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from course_utils import data, inference, plotting, results  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "results"


def pix2pix() -> dict:
    nets, entry = results.load_reference("pix2pix")
    g = nets["generator"]
    size = g.input_shape[1]
    val_x, val_y = results.paired_split("val", size)
    mean_image = np.broadcast_to(results.mean_target("train", size)[None], val_y.shape)
    per_image, moving = inference.translate(g, val_x), g.predict(val_x, verbose=0)
    fig = plotting.plot_image_rows({"input (labels)": val_x, "target": val_y, "mean image": mean_image,
                                    "reference G": per_image, "G, training=False": moving}, max_rows=4, size=1.6)
    fig.savefig(OUT / "pix2pix.png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return {"reference": results.image_scores(per_image, val_y), "training=False": results.image_scores(moving, val_y),
            "mean image": results.image_scores(mean_image, val_y), "steps": entry["steps"]}


def cyclegan() -> dict:
    nets, entry = results.load_reference("cyclegan")
    g, f = nets["generator_g"], nets["generator_f"]
    test_a, test_b = results.unpaired_split("test", g.input_shape[1])
    gx, fy = inference.translate(g, test_a), inference.translate(f, test_b)
    fig = plotting.plot_image_rows({"day x": test_a, "G(x)": gx, "true dusk": data.true_translation(test_a, "AtoB"),
                                    "dusk y": test_b, "F(y)": fy, "true day": data.true_translation(test_b, "BtoA")},
                                   max_rows=4, size=1.4)
    fig.savefig(OUT / "cyclegan.png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return {**results.cyclegan_results(g, f), "steps": entry["steps"]}


def dcgan() -> dict:
    nets, entry = results.load_reference("dcgan")
    judge, _ = results.load_reference("digit_classifier")
    samples = nets["generator"].predict(results.digit_noise(), verbose=0)
    fig = plotting.show_images(samples[:32], ncols=16, size=0.8, suptitle="Reference DCGAN, first 32 fixed noise vectors")
    fig.savefig(OUT / "dcgan.png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return {**results.dcgan_results(nets["generator"], judge["classifier"]), "steps": entry["steps"]}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    report = {"pix2pix": pix2pix(), "cyclegan": cyclegan(), "dcgan": dcgan()}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
