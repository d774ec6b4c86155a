"""Lesson 05's smoke run: which cheap setting brings the validation L1 under 0.7x the mean image's?

    python scripts/capstone_study.py --only base lr5e-4

Each row runs the lesson's own commands (``python -m course_utils train pix2pix`` on the shipped
pairs, then ``evaluate``) with the smoke profile (``config.CapstoneConfig.smoke()``) changed in
**one** setting, and prints the held-out L1 beside the mean training image's and the wall-clock
seconds of the training command (a shared 2-core machine: noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from course_utils import cli, config, data, results  # noqa: E402

_cfg = config.CapstoneConfig.smoke()
BASE = dict(image_size=_cfg.image_size, filters=_cfg.filters, batch_size=_cfg.batch_size, steps=_cfg.steps,
            learning_rate=2e-4)
VARIANTS: dict[str, dict] = {
    "base": {},
    "lr5e-4": dict(learning_rate=5e-4),
    "lr1e-3": dict(learning_rate=1e-3),
    "filters8_64px": dict(filters=8, image_size=64),
    "filters32": dict(filters=32),
    "steps600": dict(steps=600),
}


def run(s: dict, folder: Path) -> dict:
    start = time.time()
    status = cli.main(["train", "pix2pix", "--data", "shipped", "--out", str(folder), "--steps", str(s["steps"]),
                       "--image-size", str(s["image_size"]), "--filters", str(s["filters"]),
                       "--batch-size", str(s["batch_size"]), "--learning-rate", str(s["learning_rate"]),
                       "--checkpoint-every", str(s["steps"]), "--seed", "0", "--quiet"])
    seconds = time.time() - start
    if status != 0:
        raise RuntimeError(f"training failed with status {status}")
    status = cli.main(["evaluate", "--model", str(folder), "--data", "shipped", "--out", str(folder / "report"),
                       "--report-images", "2", "--quiet"])
    report = json.loads((folder / "report" / "metrics.json").read_text())
    _, target = results.paired_split("val", s["image_size"], root=data.shipped_paired_path())
    mean = results.mean_target("train", s["image_size"], root=data.shipped_paired_path())
    mean_l1 = results.image_scores(np.broadcast_to(mean, target.shape), target)["l1"]
    return {"l1": report["l1"], "mean": mean_l1, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args(argv)
    print(f"base: {BASE}", flush=True)
    for name in args.only:
        with tempfile.TemporaryDirectory() as tmp:
            r = run({**BASE, **VARIANTS[name]}, Path(tmp) / "run")
        print(f"{name:<14} L1 {r['l1']:.3f}  mean image {r['mean']:.3f}  ratio {r['l1'] / r['mean']:.2f}  "
              f"train {r['seconds']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
