"""Train one Pix2Pix U-Net on the shipped label2scene set and score it in every inference mode.

    python scripts/compare_inference_modes.py --size 64 --filters 32 --steps 800 [--bottleneck-norm]

Prints one JSON line: validation L1 of the mean-image baseline, of ``training=False`` (batch norm's
running averages), of per-image statistics with dropout off (``inference.translate``, the course's
convention) and with dropout on (the pix2pix paper's test mode, averaged over 3 draws). This is the
experiment behind the course's inference convention (docs/results.md).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from course_utils import data, inference, metrics, models, results, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--bottleneck-norm", action="store_true", help="the TF tutorial's U-Net")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    ds = data.load_paired_folder(data.shipped_paired_path(), "train", image_size=args.size, batch_size=1,
                                 seed=0).repeat()
    val_x, val_y = results.paired_split("val", args.size)
    g = models.unet_generator(args.size, filters=args.filters, bottleneck_norm=args.bottleneck_norm)
    trainer = train.Pix2Pix(g, models.patchgan_discriminator(args.size, filters=args.filters))
    trainer.compile()
    start = time.time()
    trainer.fit(ds, steps_per_epoch=args.steps, epochs=1, verbose=0)
    seconds = time.time() - start
    mean_image = np.broadcast_to(results.mean_target("train", args.size)[None], val_y.shape)
    per_image = inference.translate(g, val_x)
    moving = g.predict(val_x, verbose=0)
    # Last, as it updates the running averages: the paper's mode, one image at a time, dropout on.
    dropout_on = [np.concatenate([g(val_x[i:i + 1], training=True).numpy() for i in range(len(val_x))])
                  for _ in range(3)]
    print(json.dumps({"bottleneck_norm": args.bottleneck_norm, "steps": args.steps, "seconds": round(seconds, 1),
                      "params": g.count_params(), "mean_image": metrics.mean_l1(mean_image, val_y),
                      "training_false": metrics.mean_l1(moving, val_y),
                      "per_image_dropout_off": metrics.mean_l1(per_image, val_y),
                      "per_image_dropout_on": float(np.mean([metrics.mean_l1(p, val_y) for p in dropout_on]))}))


if __name__ == "__main__":
    main()
