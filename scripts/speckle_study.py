"""Where does the CycleGAN speckle come from? One variable at a time, on the shipped day2dusk set.

    python scripts/speckle_study.py                        # every variant at the smoke length
    python scripts/speckle_study.py --only base resize --steps 400

Each row trains a fresh CycleGAN (``course_utils.core.cyclegan``: the trainer and data the command line
uses) that differs from the *base* (the smoke profile before issue 20: 32 px, 16 filters, 3 residual
blocks, transposed-conv upsampling, the default PatchGAN depth, pool 50, identity weight 5,
Adam(2e-4, 0.5), half the steps constant and half decaying) in **one** setting, then scores both
generators on the test split: the correspondence error to the true translation
(``data.true_translation``), the do-nothing error beside it, and the speckle ratio
(``results.speckle_ratio``: the outputs' mean absolute Laplacian over the true translation's).
Seeded; the seconds per step are medians on a shared 2-core machine (noisy).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from course_utils import cyclegan, data, models, results  # noqa: E402

BASE = dict(image_size=32, filters=16, n_blocks=3, upsample="transpose", n_downsampling=None, pool_size=50,
            identity_weight=5.0, cycle_weight=10.0, learning_rate=2e-4)
#: name -> the one setting that differs from BASE (steps multiplies the run's length).
VARIANTS: dict[str, dict] = {
    "base": {},
    "size64": dict(image_size=64),
    "resize": dict(upsample="resize"),
    "disc_1down": dict(n_downsampling=1),
    "identity0": dict(identity_weight=0.0),
    "identity1": dict(identity_weight=1.0),
    "lr1e-3": dict(learning_rate=1e-3),
    "lr5e-4": dict(learning_rate=5e-4),
    "lr2e-3": dict(learning_rate=2e-3),
    "filters8": dict(filters=8),
    "lesson04net": dict(filters=8, n_blocks=2),   # lesson 04 smoke networks (two changes)
    "nopool": dict(pool_size=0),
    "wide32": dict(filters=32),
    "blocks6": dict(n_blocks=6),
    "cycle20": dict(cycle_weight=20.0),
}


def run(settings: dict, steps: int, seed: int = 0) -> dict:
    keras.utils.set_random_seed(seed)
    s = settings
    networks = models.cyclegan_networks(s["image_size"], filters=s["filters"], n_blocks=s["n_blocks"],
                                        upsample=s["upsample"], n_downsampling=s["n_downsampling"])
    cfg = cyclegan.CycleGanConfig(learning_rate=s["learning_rate"], seed=seed, cycle_weight=s["cycle_weight"],
                                  identity_weight=s["identity_weight"], pool_size=s["pool_size"],
                                  epochs=steps, decay_epochs=steps - steps // 2, steps_per_epoch=1)
    trainer = cyclegan.build_trainer(cfg, networks)
    ds = tf.data.Dataset.zip(tuple(d.repeat() for d in data.load_unpaired_folder(
        data.shipped_unpaired_path(), "train", image_size=s["image_size"], batch_size=1, seed=seed)))
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.t)

    trainer.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[Clock()])
    out = results.cyclegan_results(trainer.generator_g, trainer.generator_f)
    times.sort()
    return {"G": out["generator"]["AtoB"], "F": out["generator"]["BtoA"],
            "G/id": out["generator"]["AtoB"] / out["identity"]["AtoB"],
            "F/id": out["generator"]["BtoA"] / out["identity"]["BtoA"],
            "spk_G": out["speckle"]["AtoB"], "spk_F": out["speckle"]["BtoA"],
            "s/step": times[len(times) // 2]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=200, help="training steps per run (half decaying)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="change the base for every row, e.g. --set upsample=resize image_size=64")
    args = parser.parse_args(argv)
    base = dict(BASE)
    for item in args.set:
        key, value = item.split("=", 1)
        if key not in BASE:
            raise ValueError(f"--set {item}: {key} is not a setting; choose from {sorted(BASE)}.")
        base[key] = type(BASE[key])(value) if BASE[key] is not None else int(value)
    print(f"base: {base}, steps {args.steps}, seed {args.seed}", flush=True)
    header = f"{'variant':<12} {'G err':>6} {'F err':>6} {'G/id':>5} {'F/id':>5} {'spk G':>6} {'spk F':>6} {'s/step':>6}"
    print(header, flush=True)
    for name in args.only:
        r = run({**base, **VARIANTS[name]}, args.steps, args.seed)
        print(f"{name:<12} {r['G']:6.3f} {r['F']:6.3f} {r['G/id']:5.2f} {r['F/id']:5.2f} {r['spk_G']:6.2f} "
              f"{r['spk_F']:6.2f} {r['s/step']:6.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
