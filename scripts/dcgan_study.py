"""What holds the DCGAN's recognisable digits near 50-60 %? One variable at a time, on the shipped digits.

    python scripts/dcgan_study.py                          # every variant, 1,000 steps
    python scripts/dcgan_study.py --only base decay --steps 460

Each row trains lesson 01's smoke DCGAN as it was when the table was measured (``config.DcganConfig.smoke()``
with its old batch and rate: the DCGAN tutorial's
networks at a quarter of the widths, batch 64, Adam(2e-4, 0.5), through ``train.GAN``) changed in
**one** setting, and judges 1,000 fixed samples with the shipped digit classifier
(``results.dcgan_results``). The first line is the ceiling: the share of *real* held-out digits the
same judge recognises at the same threshold.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from course_utils import config, data, models, results, train  # noqa: E402
from course_utils.core.images import from_uint8  # noqa: E402

# The settings of docs/results.md's one-change table: lesson 01's smoke profile as it was then (batch 64,
# Adam(2e-4, 0.5)); the profile now trains at batch 32 and 4e-4.
_cfg = dataclasses.replace(config.DcganConfig.smoke(), batch_size=64, learning_rate=2e-4)
BASE = dict(g_filters=_cfg.generator_filters, d_filters=_cfg.discriminator_filters, batch_size=_cfg.batch_size,
            g_lr=_cfg.learning_rate, d_lr=_cfg.learning_rate, beta_1=_cfg.beta_1, dropout=0.3, decay=False)
VARIANTS: dict[str, dict] = {
    "base": {},
    "decay": dict(decay=True),
    "d_lr_x2": dict(d_lr=2 * _cfg.learning_rate),
    "g_lr_x2": dict(g_lr=2 * _cfg.learning_rate),
    "g_lr_x5": dict(g_lr=5 * _cfg.learning_rate),
    "d_lr_half": dict(d_lr=_cfg.learning_rate / 2),
    "g_lr_x2_no_dropout": dict(g_lr=2 * _cfg.learning_rate, dropout=0.0),   # the two best rows together
    "d_wide64": dict(d_filters=64),
    "g_wide128": dict(g_filters=128),
    "batch256": dict(batch_size=256),
    "no_dropout": dict(dropout=0.0),
    "beta0.9": dict(beta_1=0.9),
}


def run(s: dict, steps: int, judge: keras.Model, seed: int = 0) -> dict:
    keras.utils.set_random_seed(seed)
    generator = models.dcgan_generator(_cfg.latent_dim, base_filters=s["g_filters"])
    discriminator = models.dcgan_discriminator(base_filters=s["d_filters"], dropout=s["dropout"])
    trainer = train.GAN(generator, discriminator, seed=seed)

    def rate(lr: float):
        return train.LinearDecay(lr, steps // 2, steps - steps // 2) if s["decay"] else lr

    trainer.compile(g_optimizer=keras.optimizers.Adam(rate(s["g_lr"]), beta_1=s["beta_1"]),
                    d_optimizer=keras.optimizers.Adam(rate(s["d_lr"]), beta_1=s["beta_1"]))
    ds = data.load_digits("shipped", batch_size=s["batch_size"], seed=seed)
    trainer.fit(ds.repeat(), epochs=1, steps_per_epoch=steps, verbose=0)
    return results.dcgan_results(generator, judge)["generator"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    judge = results.load_reference("digit_classifier")[0]["classifier"]
    images, _ = data.load_digits_arrays("shipped")
    real = results.digit_sample_scores(judge, from_uint8(images[-results.DIGIT_TEST:])[..., None])
    print(f"ceiling: real held-out digits {real['confident']:.1%} recognisable, {real['classes']} classes", flush=True)
    print(f"base: {BASE}, steps {args.steps}, seed {args.seed}", flush=True)
    print(f"{'variant':<11} {'recognisable':>12} {'classes':>7}", flush=True)
    for name in args.only:
        r = run({**BASE, **VARIANTS[name]}, args.steps, judge, args.seed)
        print(f"{name:<11} {r['confident']:12.1%} {r['classes']:7d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
