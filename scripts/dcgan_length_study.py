"""What holds the DCGAN's recognisable digits below 80 %? Long runs, judged as they go (issue 20).

    python scripts/dcgan_length_study.py --steps 9000 --every 1500                  # the plain step
    python scripts/dcgan_length_study.py --steps 20000 --every 2500 --real-label 0.9   # label smoothing
    python scripts/dcgan_length_study.py --steps 1500 --data fresh                  # 30,000 new digits
    python scripts/dcgan_length_study.py --steps 1500 --shift                       # D sees shifted images
    python scripts/dcgan_length_study.py --steps 9000 --average 0.999               # + weight average
    python scripts/dcgan_length_study.py --steps 3000 --batch 32 --lr-mult 2 --seed 1  # another seed

Lesson 01's smoke DCGAN as it was before issue 20's session 5 (``config.DcganConfig.smoke()`` with its
old batch and rate: the tutorial's networks at a quarter of
the widths, Adam(2e-4, 0.5), batch 64) in a plain two-tape loop, seed 0, changed in the one setting
the options name. Every ``--every`` steps it judges the 1,000 fixed samples with the shipped digit
classifier (``results.dcgan_results``), and at the end it prints the discriminator's mean logit on
1,000 shipped (seen) and 1,000 newly drawn (unseen) real digits: a discriminator that had memorised
the 3,000 shipped digits would score the seen ones clearly higher.

``--data fresh`` trains on 30,000 digits drawn by ``data/make_data.py`` that are not in the shipped
file (is the plateau the small data set?); ``--shift`` moves real and fake images by up to 2 pixels
before the discriminator sees them (DiffAugment's translation, Zhao et al. 2020); ``--real-label
0.9`` is one-sided label smoothing (Salimans et al. 2016); ``--average D`` also judges an
exponential moving average of the generator's weights (Yazici et al. 2019).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import make_data  # noqa: E402
from course_utils import config, data, losses, models, results, train  # noqa: E402
from course_utils.core.images import from_uint8  # noqa: E402

# The settings every row of docs/results.md's length table started from: lesson 01's smoke profile as it
# was then (batch 64, Adam(2e-4, 0.5)); the profile now trains at batch 32 and 4e-4 (--batch 32 --lr-mult 2).
cfg = dataclasses.replace(config.DcganConfig.smoke(), batch_size=64, learning_rate=2e-4)


def shift(x: tf.Tensor, pad: int = 2) -> tf.Tensor:
    """Each image moved by a random whole number of pixels in [-pad, pad] both ways, background filled in."""
    b = tf.shape(x)[0]
    padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], constant_values=-1.0)
    dy = tf.random.uniform([b], 0, 2 * pad + 1, tf.int32)
    dx = tf.random.uniform([b], 0, 2 * pad + 1, tf.int32)
    return tf.map_fn(lambda a: a[0][a[1]:a[1] + 28, a[2]:a[2] + 28], (padded, dy, dx), fn_output_signature=tf.float32)


def run(images, steps: int, every: int, judge: keras.Model, real_label: float = 1.0, batch: int = 64,
        lr_mult: float = 1.0, decay: bool = False, average: float = 0.0, augment: bool = False, seed: int = 0):
    keras.utils.set_random_seed(seed)
    generator = models.dcgan_generator(cfg.latent_dim, base_filters=cfg.generator_filters)
    discriminator = models.dcgan_discriminator(base_filters=cfg.discriminator_filters)
    rate = cfg.learning_rate * lr_mult
    rate = train.LinearDecay(rate, steps // 2, steps - steps // 2) if decay else rate
    g_opt, d_opt = keras.optimizers.Adam(rate, beta_1=cfg.beta_1), keras.optimizers.Adam(rate, beta_1=cfg.beta_1)
    averaged = keras.models.clone_model(generator) if average else None
    if averaged is not None:
        averaged.set_weights(generator.get_weights())
    x = from_uint8(images)[..., None]
    batches = iter(tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=seed).repeat()
                   .batch(batch, drop_remainder=True))
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(real):
        noise = tf.random.normal((batch, cfg.latent_dim))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            seen_real, seen_fake = (shift(real), shift(fake)) if augment else (real, fake)
            real_logits = discriminator(seen_real, training=True)
            fake_logits = discriminator(seen_fake, training=True)
            g_loss = losses.generator_loss(fake_logits, "bce")
            d_loss = bce(tf.fill(tf.shape(real_logits), real_label), real_logits) + bce(tf.zeros_like(fake_logits),
                                                                                      fake_logits)
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                  discriminator.trainable_variables))
        if averaged is not None:
            for mine, theirs in zip(averaged.weights, generator.weights):
                mine.assign(average * mine + (1 - average) * theirs)

    start = time.time()
    for s in range(1, steps + 1):
        step(next(batches))
        if s % every == 0 or s == steps:
            if averaged is not None:
                a = results.dcgan_results(averaged, judge)["generator"]
                print(f"  step {s} average: {a['confident']:.1%} ({a['classes']} classes)", flush=True)
            r = results.dcgan_results(generator, judge)["generator"]
            print(f"  step {s}: {r['confident']:.1%} ({r['classes']} classes) {time.time() - start:.0f}s", flush=True)
    return discriminator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("shipped", "fresh"), default="shipped")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--every", type=int, default=1500, help="judge every N steps")
    parser.add_argument("--real-label", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr-mult", type=float, default=1.0, help="both learning rates times this")
    parser.add_argument("--decay", action="store_true", help="linear decay to 0 over the second half")
    parser.add_argument("--average", type=float, default=0.0, help="also judge a weight average with this decay")
    parser.add_argument("--shift", action="store_true", help="shift real and fake images before D")
    parser.add_argument("--seed", type=int, default=0, help="the networks', noise's and shuffle's seed")
    args = parser.parse_args(argv)
    print(vars(args), flush=True)
    judge = results.load_reference("digit_classifier")[0]["classifier"]
    shipped, _ = data.load_digits_arrays("shipped")
    unseen, _ = make_data.make_digits(33000 if args.data == "fresh" else 4000)
    unseen = unseen[len(shipped):]                       # drawn by the same code, not in the shipped file
    images = unseen if args.data == "fresh" else shipped
    discriminator = run(images, args.steps, args.every, judge, args.real_label, args.batch, args.lr_mult,
                        args.decay, args.average, args.shift, args.seed)
    seen = float(discriminator(from_uint8(shipped[:1000])[..., None], training=False).numpy().mean())
    new = float(discriminator(from_uint8(unseen[:1000])[..., None], training=False).numpy().mean())
    print(f"D's mean logit: {seen:.2f} on 1,000 shipped digits, {new:.2f} on 1,000 it never saw", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
