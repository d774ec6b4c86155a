"""Train the course's reference models on the shipped data and record them in data/reference/.

    make reference-models                       # all four, in order (the DCGAN needs the judge)
    python scripts/make_reference_models.py --only pix2pix cyclegan

Each reference uses the same networks as its lesson's smoke profile (``config.*Config.smoke()``),
built, trained and fed by the model's own module (``course_utils.core.registry``: the trainer and the shipped
data the command line uses, with the lesson's settings), only for more steps, seeded, on the
2-core CPU the course is tested on (``CYCLEGAN_UPSAMPLE`` can switch the CycleGAN to lesson 03's
resize-then-convolve deviation; measured, it did not help). Exceptions, each measured for issue 20
(docs/results.md): the CycleGAN trains at 64 px (``CYCLEGAN_IMAGE_SIZE``), twice the smoke size, and
the DCGAN is twice the smoke width (``DCGAN_DISCRIMINATOR_FILTERS``), its step smooths its real label
(``DCGAN_REAL_LABEL``) and it ships its generator's weight average (``DCGAN_AVERAGE_DECAY``).
The weights are written as float16 ``.npz`` files (``results.save_weights``), reloaded, and
*then* scored, so the manifest's metrics are those of the shipped files. ``manifest.json``
records for every file its SHA-256 and builder arguments, and for every model the command, the
steps, the seconds and the metrics next to their baselines. Never edit the outputs by hand: a
test re-measures every metric from the files and compares it with the manifest.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from course_utils import config, data, dcgan, results, train  # noqa: E402
from course_utils import cyclegan as cyclegan_model, pix2pix as pix2pix_model  # noqa: E402
from course_utils.core.registry import DataSource  # noqa: E402
from course_utils.core.files import file_sha256  # noqa: E402

#: Training steps of each reference (each under 45 minutes on the busy 2-core CPU).
STEPS = {"dcgan": 10000, "pix2pix": 6000, "cyclegan": 10000}
#: The reference DCGAN's target for real digits: one-sided label smoothing (Salimans et al. 2016), the
#: one training change it makes to lesson 01's step. Measured, seed 0, 1,000 samples judged: with 1 the
#: share of recognisable digits rose from 47 % (1,500 steps) to 72.5 % (9,000); with 0.9, 54 % to 77 %
#: (docs/results.md, issue 20).
DCGAN_REAL_LABEL = 0.9
#: The reference DCGAN ships an exponential moving average of its generator's weights (Yazici et al.
#: 2019, arXiv 1806.04498), updated after every step with this decay; 0 ships the last weights.
DCGAN_AVERAGE_DECAY = 0.999


#: The reference DCGAN's discriminator width (its generator is 4x wider, as the tutorial's); None keeps
#: lesson 01's smoke width (16). Measured (smoothing and the 0.999 average, 1,000 samples judged): at 16,
#: 20,000 steps gave 79.4 %, 78.7 % and 78.6 % on seeds 0, 1 and 2 (30,000 steps: 79.1 %); at 32, seed 0
#: reached 78.6 % at 7,500 steps and 82.8 % at 10,000 (docs/results.md, issue 20).
DCGAN_DISCRIMINATOR_FILTERS: int | None = 32
#: The reference DCGAN's batch and learning rate: Radford et al.'s 2e-4 at batch 64, what lesson 01's
#: smoke profile used when the shipped weights were trained (the smoke profile now takes batch 32 at
#: 4e-4, to reach readable digits in a short run; a long run does not need that).
DCGAN_BATCH_SIZE = 64
DCGAN_LEARNING_RATE = 2e-4


def _recognisable(generator: keras.Model, judge: keras.Model) -> float:
    """The share of the 1,000 fixed samples the judge recognises (the manifest's ``confident``)."""
    samples = generator.predict(results.digit_noise(generator.input_shape[-1]), verbose=0, batch_size=250)
    return results.digit_sample_scores(judge, samples)["confident"]


class JudgeEvery(keras.callbacks.Callback):
    """Print the share of recognisable digits every ``every`` steps (the generator and its average)."""

    def __init__(self, generator: keras.Model, judge: keras.Model, every: int,
                 average: keras.Model | None = None):
        super().__init__()
        self.generator, self.judge, self.every, self.average = generator, judge, every, average

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if (batch + 1) % self.every:
            return
        shares = {"last": _recognisable(self.generator, self.judge)}
        if self.average is not None:
            shares["average"] = _recognisable(self.average, self.judge)
        print(f"step {batch + 1}: recognisable {shares}", flush=True)


class WeightAverage(keras.callbacks.Callback):
    """After every training step: ``average = decay * average + (1 - decay) * network``, weight by weight.

    Every weight is averaged, batch norm's moving statistics too, so the average is a network that
    runs like the one it follows. Starts from a copy of the network's weights.
    """

    def __init__(self, network: keras.Model, decay: float):
        super().__init__()
        self.network, self.decay = network, float(decay)
        self.average = keras.models.clone_model(network)
        self.average.set_weights(network.get_weights())

    @tf.function
    def _update(self) -> None:
        for mine, theirs in zip(self.average.weights, self.network.weights):
            mine.assign(self.decay * mine + (1.0 - self.decay) * theirs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update()
#: How the reference CycleGAN's generators upsample: the paper's transposed convolutions, as lesson 03's
#: smoke networks. Measured (learning rate 1e-3): 2,500 steps "transpose" 0.097 / 0.089, speckle 1.23 /
#: 1.09; 5,000 steps "resize" (lesson 03's named deviation) 0.093 / 0.092, speckle 1.20 / 1.15, in
#: 2.7x the time: no better, so the reference keeps the paper's networks (docs/results.md).
CYCLEGAN_UPSAMPLE = "transpose"
#: The reference CycleGAN's image size: twice lesson 03's smoke size. At 32 px three pixels in four lie
#: on an edge of the scene, and every CycleGAN we trained there stopped near 0.09 error to the true
#: translation; at 64 px, 2,500 steps reached 0.080 / 0.082, 7,500 steps 0.066 / 0.070 and 10,000 steps
#: (shipped) 0.061 / 0.064 (docs/results.md, issue 20).
CYCLEGAN_IMAGE_SIZE = 64
ORDER = ("digit_classifier", "dcgan", "pix2pix", "cyclegan")


def _record(model: keras.Model, builder: str, kwargs: dict[str, Any], folder: Path, stem: str) -> dict[str, Any]:
    """Save ``model`` as ``<stem>.npz``, reload it (float16 rounding), return its manifest record."""
    path = results.save_weights(model, folder / f"{stem}.npz")
    results.load_weights(model, path)       # measure what ships, not the float32 weights
    return {"file": path.name, "sha256": file_sha256(path), "builder": builder, "kwargs": kwargs,
            "bytes": path.stat().st_size, "params": int(model.count_params())}


def digit_classifier(folder: Path, seed: int | None = None, also_average: tuple[float, ...] = ()) -> dict[str, Any]:
    classifier = results.train_digit_classifier(epochs=8, seed=0, verbose=2)
    files = {"classifier": _record(classifier, "digit_classifier", {}, folder, "digit_classifier")}
    return {"files": files, "steps": None, "settings": {"epochs": 8, "batch_size": 64, "optimizer": "Adam(1e-3)",
                                                        "train_images": 3000 - results.DIGIT_TEST}}


def dcgan(folder: Path, seed: int | None = None, also_average: tuple[float, ...] = (),
          discriminator_filters: int | None = None) -> dict[str, Any]:
    cfg = dataclasses.replace(_seeded(config.DcganConfig.smoke(), seed), batch_size=DCGAN_BATCH_SIZE,
                              learning_rate=DCGAN_LEARNING_RATE)
    width = discriminator_filters or DCGAN_DISCRIMINATOR_FILTERS
    if width:
        cfg = dataclasses.replace(cfg, discriminator_filters=width, generator_filters=4 * width)
    # The recipe's DCGAN is 4x wider in its generator than in its discriminator, as the tutorial's.
    if cfg.generator_filters != 4 * cfg.discriminator_filters:
        raise ValueError(f"DcganConfig.smoke() has generator_filters={cfg.generator_filters} and "
                         f"discriminator_filters={cfg.discriminator_filters}; dcgan.build_networks "
                         f"builds a generator 4x wider than its discriminator. Keep that ratio.")
    kwargs = {"latent_dim": cfg.latent_dim, "base_filters": cfg.generator_filters}
    model_cfg = dcgan.DcganConfig(filters=cfg.discriminator_filters, learning_rate=cfg.learning_rate,
                                  beta_1=cfg.beta_1, seed=cfg.seed)
    networks = dcgan.build_networks(model_cfg)
    if networks["generator"].input_shape[-1] != cfg.latent_dim:
        raise ValueError(f"DcganConfig.latent_dim={cfg.latent_dim}, but the recipe's DCGAN takes noise of "
                         f"length {networks['generator'].input_shape[-1]}.")
    trainer = dcgan.build_trainer(model_cfg, networks, real_label=DCGAN_REAL_LABEL)
    ds = data.load_digits("shipped", batch_size=cfg.batch_size, seed=cfg.seed)
    averaging = [WeightAverage(networks["generator"], DCGAN_AVERAGE_DECAY)] if DCGAN_AVERAGE_DECAY else []
    others = [WeightAverage(networks["generator"], d) for d in also_average]   # judged for the record only
    judge = results.load_reference("digit_classifier", folder)[0]["classifier"]
    progress = [JudgeEvery(networks["generator"], judge, 2500, averaging[0].average if averaging else None)]
    trainer.fit(ds.repeat(), epochs=1, steps_per_epoch=STEPS["dcgan"], verbose=2,
                callbacks=averaging + others + progress)
    settings = {**_settings(cfg, ("latent_dim", "generator_filters", "discriminator_filters", "batch_size",
                                  "learning_rate", "beta_1", "seed")),
                "real_label": DCGAN_REAL_LABEL, "weight_average_decay": DCGAN_AVERAGE_DECAY}
    shipped = networks["generator"]
    if averaging:   # the last weights' score, for the record; the average is what ships
        settings["last_weights_confident"] = _recognisable(shipped, judge)
        shipped = averaging[0].average
    if others:
        settings["other_averages_confident"] = {str(o.decay): _recognisable(o.average, judge) for o in others}
    files = {"generator": _record(shipped, "dcgan_generator", kwargs, folder, "dcgan_generator")}
    return {"files": files, "steps": STEPS["dcgan"], "settings": settings}


def pix2pix(folder: Path, seed: int | None = None, also_average: tuple[float, ...] = ()) -> dict[str, Any]:
    cfg = _seeded(config.Pix2PixConfig.smoke(), seed)
    kwargs = {"image_size": cfg.image_size, "filters": cfg.filters}
    networks = pix2pix_model.build_networks(cfg)
    trainer = pix2pix_model.build_trainer(cfg, networks)
    ds, _ = pix2pix_model.load_data(cfg, DataSource("shipped"))
    trainer.fit(ds.repeat(), epochs=1, steps_per_epoch=STEPS["pix2pix"], verbose=2)
    files = {"generator": _record(networks["generator"], "unet_generator", kwargs, folder, "pix2pix_generator")}
    return {"files": files, "steps": STEPS["pix2pix"], "settings": _settings(cfg, ("image_size", "filters",
            "batch_size", "learning_rate", "beta_1", "l1_weight", "seed"))}


def cyclegan(folder: Path, seed: int | None = None, also_average: tuple[float, ...] = ()) -> dict[str, Any]:
    cfg = _seeded(config.CycleGanConfig.smoke(), seed)
    kwargs = {"image_size": CYCLEGAN_IMAGE_SIZE, "n_blocks": cfg.n_blocks, "filters": cfg.filters,
              "upsample": CYCLEGAN_UPSAMPLE}
    steps = STEPS["cyclegan"]
    # The paper's schedule shape at this length: constant for the first half, then linear decay to 0.
    run_cfg = cyclegan_model.schedule(dataclasses.replace(cfg, image_size=CYCLEGAN_IMAGE_SIZE, upsample=CYCLEGAN_UPSAMPLE,
                                                          steps_per_epoch=None), steps)
    networks = cyclegan_model.build_networks(run_cfg)
    trainer = cyclegan_model.build_trainer(run_cfg, networks)
    ds, _ = cyclegan_model.load_data(run_cfg, DataSource("shipped"))
    trainer.fit(ds, epochs=1, steps_per_epoch=steps, verbose=2)
    files = {name: _record(networks[name], "resnet_generator", kwargs, folder, f"cyclegan_{name}")
             for name in ("generator_g", "generator_f")}
    return {"files": files, "steps": steps, "settings": {**_settings(cfg, ("filters", "n_blocks",
            "batch_size", "learning_rate", "beta_1", "cycle_weight", "identity_weight", "loss_form",
            "pool_size", "seed")),
            "upsample": CYCLEGAN_UPSAMPLE, "image_size": CYCLEGAN_IMAGE_SIZE,
            "schedule": f"constant {steps // 2} steps, then linear decay to 0 over {steps - steps // 2}"}}


def _seeded(cfg: Any, seed: int | None) -> Any:
    """The lesson's smoke config, with another seed when one is asked for (to measure seed noise)."""
    return cfg if seed is None else dataclasses.replace(cfg, seed=seed)


def _settings(cfg: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: getattr(cfg, n) for n in names}


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "digit_classifier": digit_classifier, "dcgan": dcgan, "pix2pix": pix2pix, "cyclegan": cyclegan}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=ORDER, default=list(ORDER), help="train only these")
    parser.add_argument("--out", type=Path, default=results.reference_dir(), help="the folder (data/reference)")
    parser.add_argument("--seed", type=int, default=None,
                        help="train with this seed instead of the lesson's (for seed-to-seed spread; use with --out)")
    parser.add_argument("--steps", type=int, default=None,
                        help="train this many steps instead of STEPS[name] (for studies; use with --out)")
    parser.add_argument("--dcgan-width", type=int, default=None,
                        help="DCGAN: the discriminator's width (the generator's is 4x; "
                             "default DCGAN_DISCRIMINATOR_FILTERS)")
    parser.add_argument("--also-average", nargs="*", type=float, default=[],
                        help="DCGAN: also judge weight averages with these decays (recorded, not shipped)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / results.MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    if args.steps is not None:
        STEPS.update({name: args.steps for name in args.only})
    for name in [n for n in ORDER if n in args.only]:
        print(f"== {name}", flush=True)
        keras.utils.set_random_seed(0 if args.seed is None else args.seed)
        start = time.time()
        extra = {"discriminator_filters": args.dcgan_width} if name == "dcgan" else {}
        entry = BUILDERS[name](args.out, seed=args.seed, also_average=tuple(args.also_average), **extra)
        entry["seconds_training"] = round(time.time() - start, 1)
        manifest[name] = entry          # the DCGAN's score needs the judge recorded first
        _write(manifest_path, manifest)
        networks, _ = results.load_reference(name, args.out)
        entry["metrics"] = results.score_reference(name, networks, args.out)
        entry["command"] = f"python scripts/make_reference_models.py --only {name}"
        entry["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, " \
                           f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
        manifest[name] = entry
        _write(manifest_path, manifest)
        print(json.dumps({name: entry["metrics"], "seconds": entry["seconds_training"]}), flush=True)
    total = sum(f["bytes"] for e in manifest.values() for f in e["files"].values())
    print(f"reference weights: {total / 1e6:.1f} MB in {args.out}")
    return 0


def _write(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
