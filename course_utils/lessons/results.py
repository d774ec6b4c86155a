"""Judging trained models against named baselines, and the reference weights shipped with the course.

A GAN that "runs" proves nothing: its losses go up and down whether or not it learns. Every
training demo in the course is therefore judged on held-out shipped data against a baseline
that needs no learning at all, with the numbers printed side by side:

==========  ===========================================  ==========================================
lesson      score (held-out data)                        baseline
==========  ===========================================  ==========================================
01 DCGAN    share of samples a digit classifier labels   the untrained generator
            with confidence >= 0.9, and how many of the
            10 classes appear among them
02 Pix2Pix  L1 / PSNR / SSIM to the true targets          the mean training target (a constant image)
            (label2scene ``val``)
03 CycleGAN correspondence error: L1 of ``G(x)`` to the   leaving the image unchanged (identity)
            true translation (day2dusk ``test``, both
            directions)
==========  ===========================================  ==========================================

Generators run by :mod:`course_utils.core.inference`'s convention, as everywhere else.

The second half of the module handles the **reference weights** in ``data/reference/``: the
same networks as the lessons' smoke runs, trained longer on the same shipped data by
``make reference-models`` (``scripts/make_reference_models.py``). Weights are stored as float16
``.npz`` files (half the bytes; the manifest's metrics are measured after the rounding), and
``manifest.json`` records for each file its SHA-256, the command, steps, seconds and the metrics
reached. Lessons load them to show "what longer training gives" next to the learner's own short
run; tests re-measure every metric.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from course_utils.core import data, inference, metrics, models
from course_utils.core.files import file_sha256, write_atomically
from course_utils.core.images import as_numpy, from_uint8, ssim_fits

# ===========================================================================
# 1. Held-out data and baselines
# ===========================================================================
#: How many noise vectors the DCGAN is judged on, and their seed (fixed: same samples every time).
DIGIT_SAMPLES, DIGIT_NOISE_SEED = 1000, 1234
#: A generated digit counts when the classifier gives it at least this probability.
DIGIT_CONFIDENCE = 0.9
#: The shipped digits: the first ones train the judge, the last ``DIGIT_TEST`` test it.
DIGIT_TEST = 500


def _paired_batches(split: str, image_size: int, root: str | os.PathLike | None, direction: str) -> Any:
    return data.load_paired_folder(root or data.shipped_paired_path(), split, image_size=image_size, jitter=False,
                                   direction=direction, shuffle=False, batch_size=16, drop_remainder=False,
                                   cache=False).as_numpy_iterator()


def paired_split(split: str, image_size: int, root: str | os.PathLike | None = None,
                 direction: str = "AtoB") -> tuple[np.ndarray, np.ndarray]:
    """Every pair of a paired split (default: the shipped label2scene), resized without jitter.

    Returns ``(inputs, targets)``, float32 ``(n, image_size, image_size, 3)`` in [-1, 1].
    """
    pairs = list(_paired_batches(split, image_size, root, direction))
    return np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs])


def mean_target(split: str, image_size: int, root: str | os.PathLike | None = None,
                direction: str = "AtoB") -> np.ndarray:
    """The average target image of a paired split, ``(image_size, image_size, 3)``: the mean-image baseline."""
    total, count = None, 0
    for _, targets in _paired_batches(split, image_size, root, direction):
        batch_sum = targets.sum(axis=0, dtype=np.float64)
        total = batch_sum if total is None else total + batch_sum
        count += len(targets)
    return (total / count).astype(np.float32)


def unpaired_split(split: str, image_size: int, root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every image of a day2dusk split (``"test"`` -> testA, testB), resized without jitter, in [-1, 1]."""
    ds_a, ds_b = data.load_unpaired_folder(root or data.shipped_unpaired_path(), split, image_size=image_size,
                                           jitter=False, shuffle=False, batch_size=1)
    return (np.concatenate(list(ds_a.as_numpy_iterator())), np.concatenate(list(ds_b.as_numpy_iterator())))


def image_scores(predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """L1 (lower is better), PSNR in dB and SSIM (higher is better) of predictions against targets."""
    scores = {"l1": metrics.mean_l1(predictions, targets), "psnr": metrics.psnr(predictions, targets)}
    if ssim_fits(*targets.shape[1:3]):
        scores["ssim"] = metrics.ssim(predictions, targets)
    return scores


def pix2pix_results(generator: keras.Model, image_size: int | None = None, root: str | os.PathLike | None = None,
                    direction: str = "AtoB") -> dict[str, dict[str, float]]:
    """A Pix2Pix generator on the ``val`` split against the mean-image baseline.

    Returns ``{"generator": scores, "mean image": scores}`` with :func:`image_scores` each. The
    baseline answers every input with the same picture, the average of all *training* targets:
    what a model that ignores its input can reach (for L1 the per-pixel median would do slightly
    better; the mean is the natural "no learning" picture and what the course reports).
    ``root``/``direction``: another pix2pix-layout dataset, e.g. facades with ``"BtoA"``.
    """
    size = image_size or generator.input_shape[1]
    val_x, val_y = paired_split("val", size, root, direction)
    mean_image = np.broadcast_to(mean_target("train", size, root, direction)[None], val_y.shape)
    return {"generator": image_scores(inference.translate(generator, val_x), val_y),
            "mean image": image_scores(mean_image, val_y)}


def cyclegan_results(generator_g: keras.Model, generator_f: keras.Model, image_size: int | None = None,
                     root: str | os.PathLike | None = None) -> dict[str, dict[str, float]]:
    """Correspondence errors of G (day -> dusk) and F (dusk -> day) on the test split.

    The shipped day2dusk set was made by a known colour map (:func:`data.true_translation`), so
    we can measure how far ``G(x)`` lands from the true answer: mean L1 in [-1, 1] units. The
    baseline leaves the image unchanged. Returns ``{"generator": {"AtoB", "BtoA"},
    "identity": {"AtoB", "BtoA"}, "speckle": {"AtoB", "BtoA"}}``, the last being
    :func:`speckle_ratio` of the outputs (1 = as smooth as the true translation).
    """
    size = image_size or generator_g.input_shape[1]
    test_a, test_b = unpaired_split("test", size, root)
    truth_ab, truth_ba = data.true_translation(test_a, "AtoB"), data.true_translation(test_b, "BtoA")
    fake_b, fake_a = inference.translate(generator_g, test_a), inference.translate(generator_f, test_b)
    return {"generator": {"AtoB": metrics.mean_l1(fake_b, truth_ab), "BtoA": metrics.mean_l1(fake_a, truth_ba)},
            "identity": {"AtoB": metrics.mean_l1(test_a, truth_ab), "BtoA": metrics.mean_l1(test_b, truth_ba)},
            "speckle": {"AtoB": speckle_ratio(fake_b, truth_ab), "BtoA": speckle_ratio(fake_a, truth_ba)}}


def laplacian_energy(images: Any) -> float:
    """Mean absolute 4-neighbour Laplacian of ``images`` (``(..., H, W, C)``, interior pixels, every channel).

    ``L(p) = 4 p - (up + down + left + right)``: zero on flat areas and linear ramps, large where a
    pixel differs from its neighbours, so it measures the energy at the highest spatial
    frequency, where speckle and checkerboards live (a smooth colour change has almost none).
    """
    x = np.asarray(as_numpy(images, name="images"), np.float64)
    if x.ndim < 3 or min(x.shape[-3:-1]) < 3:
        raise ValueError(f"images must be (..., H, W, C) with H, W >= 3; got shape {x.shape}.")
    centre = x[..., 1:-1, 1:-1, :]
    lap = 4 * centre - x[..., :-2, 1:-1, :] - x[..., 2:, 1:-1, :] - x[..., 1:-1, :-2, :] - x[..., 1:-1, 2:, :]
    return float(np.abs(lap).mean())


def speckle_ratio(outputs: Any, truths: Any) -> float:
    """High-frequency energy of a generator's outputs relative to the true translations': 1 is right.

    :func:`laplacian_energy` of ``outputs`` divided by that of ``truths`` (same images, translated
    exactly). Above 1: the outputs hold more pixel-to-pixel variation than the answer (speckle,
    checkerboards, texture the target does not have); below 1: they are blurrier. Being a ratio
    over the same scenes, it does not depend on how busy the scenes are; the correspondence error
    says whether the colours are right, this says whether the surface is clean.
    """
    truth_energy = laplacian_energy(truths)
    if truth_energy == 0:
        raise ValueError("truths have no high-frequency energy at all (flat images): the ratio is undefined.")
    return laplacian_energy(outputs) / truth_energy


def digit_noise(latent_dim: int = 100, n: int = DIGIT_SAMPLES, seed: int = DIGIT_NOISE_SEED) -> np.ndarray:
    """The fixed noise vectors every DCGAN is judged on, ``(n, latent_dim)``."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32")


def digit_sample_scores(classifier: keras.Model, images: Any,
                        min_confidence: float = DIGIT_CONFIDENCE) -> dict[str, Any]:
    """How many generated digits a classifier recognises, and of which classes.

    Returns ``{"confident": share of images whose top class has probability >= min_confidence,
    "classes": how many of the 10 digits appear among those, "histogram": count per digit}``.
    """
    images = as_numpy(images, name="images")
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(f"images must be digits (n, 28, 28, 1) in [-1, 1]; got shape {images.shape}.")
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(classifier.predict(images, verbose=0, batch_size=250)))
    confident = probs.max(axis=1) >= min_confidence
    labels = probs.argmax(axis=1)[confident]
    histogram = np.bincount(labels, minlength=10)
    return {"confident": float(confident.mean()), "classes": int((histogram > 0).sum()),
            "histogram": histogram.tolist()}


def dcgan_results(generator: keras.Model, classifier: keras.Model, untrained: keras.Model | None = None
                  ) -> dict[str, dict[str, Any]]:
    """A DCGAN's samples judged by the digit classifier, beside an untrained generator's.

    The DCGAN's batch norm was trained on batches of 64 or more noise vectors, so its moving
    averages are meaningful: it is sampled with ``training=False`` (not the per-image rule of
    :mod:`course_utils.core.inference`, which is for image-to-image generators).
    """
    latent = generator.input_shape[-1]
    noise = digit_noise(latent)
    untrained = untrained or models.dcgan_generator(latent_dim=latent, base_filters=_dcgan_width(generator))
    sample = lambda g: g.predict(noise, verbose=0, batch_size=250)   # noqa: E731  (training=False)
    return {"generator": digit_sample_scores(classifier, sample(generator)),
            "untrained": digit_sample_scores(classifier, sample(untrained))}


def _dcgan_width(generator: keras.Model) -> int:
    first = next(layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2DTranspose))
    return int(first.input.shape[-1])


def digit_test_accuracy(classifier: keras.Model, source: str = "shipped") -> float:
    """The judge's accuracy on the last :data:`DIGIT_TEST` digits of ``source`` (never trained on)."""
    images, labels = data.load_digits_arrays(source)
    x = from_uint8(images[-DIGIT_TEST:])[..., None]
    pred = classifier.predict(x, verbose=0, batch_size=250).argmax(axis=1)
    return float((pred == labels[-DIGIT_TEST:]).mean())


def train_digit_classifier(epochs: int = 8, seed: int = 0, verbose: int = 0, source: str = "shipped",
                           steps_per_epoch: int | None = None) -> keras.Model:
    """Train :func:`models.digit_classifier` on all but the last :data:`DIGIT_TEST` digits of ``source``.

    ``"shipped"`` (the course's drawn digits, offline) judges the smoke profile's DCGAN; a DCGAN
    trained on MNIST needs a judge trained on MNIST (``"mnist"``, downloaded; a minute on a GPU).
    ``steps_per_epoch`` (batches of 64) cuts each epoch short (``COURSE_STEPS``, make check-full).
    """
    keras.utils.set_random_seed(seed)
    images, labels = data.load_digits_arrays(source)
    x = from_uint8(images[:-DIGIT_TEST])[..., None]
    classifier = models.digit_classifier()
    classifier.compile(optimizer=keras.optimizers.Adam(1e-3),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    classifier.fit(x, labels[:-DIGIT_TEST], epochs=epochs, batch_size=64, verbose=verbose,
                   steps_per_epoch=steps_per_epoch)   # None: every image each epoch
    return classifier


# ===========================================================================
# 2. Reference weights: float16 .npz files and a manifest
# ===========================================================================
MANIFEST = "manifest.json"


def reference_dir() -> Path:
    """Where the reference weights live: ``<shipped data>/reference``."""
    return data.shipped_paired_path().parent / "reference"


def save_weights(model: keras.Model, path: str | os.PathLike) -> Path:
    """Every weight of ``model`` in layer order as float16 arrays in a compressed ``.npz``.

    Written to a temporary name and renamed into place. Round the model to what was saved with
    :func:`load_weights` before measuring anything you record about the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"w{i:03d}": np.asarray(w, np.float16) for i, w in enumerate(model.get_weights())}
    return write_atomically(path, lambda tmp: np.savez_compressed(tmp, **arrays))


def load_weights(model: keras.Model, path: str | os.PathLike) -> keras.Model:
    """Load a :func:`save_weights` file into ``model`` (built by the same builder and arguments)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: regenerate the reference weights with `make reference-models`.")
    with np.load(path) as npz:
        arrays = [npz[k].astype(np.float32) for k in sorted(npz.files)]
    expected = [tuple(w.shape) for w in model.weights]
    if [a.shape for a in arrays] != expected:
        raise ValueError(f"{path} does not fit {model.name}: it holds {len(arrays)} arrays, the model "
                         f"{len(expected)} with other shapes. Build the model with the arguments in "
                         f"{MANIFEST}, or regenerate the file with `make reference-models`.")
    model.set_weights(arrays)
    return model


def read_manifest(folder: str | os.PathLike | None = None) -> dict[str, Any]:
    """The manifest: reference name -> files (with builder, arguments, SHA-256), command, steps, metrics."""
    path = Path(folder or reference_dir()) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make reference-models` to train and record the references.")
    return json.loads(path.read_text())


def load_reference(name: str, folder: str | os.PathLike | None = None) -> tuple[dict[str, keras.Model], dict[str, Any]]:
    """Build the networks of reference ``name``, load its shipped weights, return ``(networks, entry)``.

    Each file's manifest record names the :mod:`course_utils.core.models` builder and its arguments, so
    the networks are rebuilt exactly; its SHA-256 is checked first. ``entry`` is the manifest's
    record: settings, steps, seconds, the command and the metrics reached.
    """
    folder = Path(folder or reference_dir())
    manifest = read_manifest(folder)
    if name not in manifest:
        raise ValueError(f"No reference model {name!r} in {folder / MANIFEST}: choose one of {sorted(manifest)}.")
    entry = manifest[name]
    networks = {}
    for stem, record in entry["files"].items():
        path = folder / record["file"]
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: regenerate it with `make reference-models`.")
        if file_sha256(path) != record["sha256"]:
            raise ValueError(f"{path} does not match the SHA-256 in {MANIFEST}: the file was changed by hand or "
                             "only partly copied. Regenerate it with `make reference-models`.")
        networks[stem] = load_weights(getattr(models, record["builder"])(**record["kwargs"]), path)
    return networks, entry


def score_reference(name: str, networks: dict[str, keras.Model], folder: str | os.PathLike | None = None
                    ) -> dict[str, Any]:
    """The metrics the manifest records for reference ``name``, measured now on ``networks``."""
    scorers = {
        "digit_classifier": lambda: {"test_accuracy": digit_test_accuracy(networks["classifier"])},
        "dcgan": lambda: dcgan_results(networks["generator"], load_reference("digit_classifier", folder)[0]["classifier"]),
        "pix2pix": lambda: pix2pix_results(networks["generator"]),
        "cyclegan": lambda: cyclegan_results(networks["generator_g"], networks["generator_f"]),
    }
    if name not in scorers:
        raise ValueError(f"No reference model {name!r}: choose one of {', '.join(scorers)}.")
    return scorers[name]()
