"""Data for the lessons: shipped mini datasets, real-dataset loaders and fast ``tf.data`` pipelines.

Read top to bottom, this module is the appendix to the lessons' input pipelines:

1. **Where the data is**: the small sets shipped in ``data/`` (drawn by ``data/make_data.py``)
   and the known answer of the unpaired set (:func:`true_translation`).
2. **Preprocessing** as small pure functions that work on tensors, inside ``tf.data`` or in a
   notebook cell: :func:`normalize`, :func:`denormalize`, :func:`split_pair`, :func:`resize`,
   :func:`random_crop_pair`, :func:`random_mirror_pair`, :func:`random_jitter`.
3. **Checking files before TensorFlow sees them** (:func:`check_image_files`): a corrupt,
   truncated, empty or non-image file is named in a clear error, never a crash deep inside a
   ``tf.data`` iterator.
4. **Loaders**: :func:`load_paired_folder` (pix2pix layout), :func:`load_unpaired_folder`
   (CycleGAN layout; one of its folders: :func:`load_image_folder`), :func:`load_cycle_gan_tfds` (TFDS ``cycle_gan/*``) and :func:`load_digits`.
5. **Measuring** the input pipeline (:func:`pipeline_throughput`), and the held-out images of
   an unpaired set as arrays (:func:`unpaired_test_images`).

Downloading the pix2pix archives and unpacking your own dataset from a ``.zip`` or ``.tar.gz``
are :mod:`course_utils.core.archives`'s; every loader here accepts such an archive in place of a folder.

Conventions everywhere: images are ``float32``, channels-last, in ``[-1, 1]`` (the range of a
``tanh`` generator); batches have a fixed (static) shape, so a compiled training step is traced
once.

The random jitter follows Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks", section 6.2 and Zhu et al. 2017 (CycleGAN), appendix 7.1: resize
256 -> 286, random crop back to 256, random horizontal mirror.
"""

from __future__ import annotations

import concurrent.futures
import os
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from course_utils.core.files import data_dir
from course_utils.core.archives import dataset_folder
from course_utils.core.files import IMAGE_SUFFIXES, is_image_file
from course_utils.core.images import UINT8_HALF, from_uint8, to_unit
from course_utils.core.counts import positive_int

AUTOTUNE = tf.data.AUTOTUNE

#: The jitter's "load size" relative to the crop size: 286 / 256 in both papers.
JITTER_SCALE = 286 / 256

#: Above this many bytes of decoded images, the folder loaders do not cache in memory.
MAX_CACHE_BYTES = 2 * 1024**3

#: The smallest side, in pixels, of one half of a paired file that the loaders accept.
MIN_HALF_SIZE = 8

# ===========================================================================
# 1. The shipped datasets
# ===========================================================================
PAIRED_NAME = "label2scene"
UNPAIRED_NAME = "day2dusk"


def shipped_paired_path() -> Path:
    """Folder of the shipped paired set (pix2pix layout ``train/ val/ test/``).

    Each file is 128x64: a procedural label map (A, left) beside the shaded scene it
    describes (B, right). ``direction="AtoB"`` therefore learns labels -> scene.
    """
    return data_dir() / PAIRED_NAME


def shipped_unpaired_path() -> Path:
    """Folder of the shipped unpaired set (CycleGAN layout ``trainA/ trainB/ testA/ testB/``).

    A holds 64x64 daylight scenes, B dusk scenes of *other* scenes. The true mapping between
    the domains is known: :func:`true_translation`.
    """
    return data_dir() / UNPAIRED_NAME


def shipped_digits_path() -> Path:
    """The shipped digits file (``images`` (N, 28, 28) uint8 and ``labels`` (N,) uint8)."""
    return data_dir() / "digits" / "digits.npz"


#: The dusk map darkens with this gamma after swapping red and blue (see data/make_data.py).
DUSK_GAMMA = 1.5


def true_translation(images: Any, direction: str = "AtoB") -> Any:
    """The ground-truth translation of the shipped unpaired set ``day2dusk``, for evaluation only.

    Every dusk image (B) was made from a day image (A) by a fixed per-pixel colour map:
    swap the red and blue channels, then darken with ``x ** 1.5`` (colours in [0, 1]). Both
    steps are invertible, so the true answer is known in both directions, for *any* image,
    including a generator's output. A CycleGAN is never shown these pairs; the lessons use this
    function to measure how close ``G(x)`` comes to the right answer, e.g.
    ``mean(|G(x) - true_translation(x)|)``.

    Args:
        images: NumPy array or tensor in [-1, 1], channels-last RGB (any leading shape).
        direction: ``"AtoB"`` (day -> dusk) or ``"BtoA"`` (dusk -> day).

    Returns:
        The translated images, in [-1, 1], of the same kind (NumPy in, NumPy out).
    """
    direction = _check_direction(direction)
    x01 = denormalize(images)   # colours in [0, 1]; NumPy stays NumPy, anything else becomes a tensor
    if direction == "AtoB":
        out = x01[..., ::-1] ** DUSK_GAMMA
    else:
        out = (x01 ** (1.0 / DUSK_GAMMA))[..., ::-1]
    return out * 2.0 - 1.0        # back to [-1, 1]: images.to_signed, written for tensors too


# ===========================================================================
# 2. Preprocessing: small pure functions on tensors
# ===========================================================================
def normalize(image: tf.Tensor) -> tf.Tensor:
    """uint8 (or float in [0, 255]) -> float32 in [-1, 1]: ``x / 127.5 - 1``.

    :func:`course_utils.core.images.from_uint8` in TensorFlow ops, so that it runs inside a
    ``tf.data`` pipeline (in graph mode, where NumPy cannot).
    """
    return tf.cast(image, tf.float32) / UINT8_HALF - 1.0


def denormalize(image: Any) -> Any:
    """[-1, 1] -> [0, 1] for display (``plt.imshow``); values outside are clipped."""
    if isinstance(image, np.ndarray):
        return to_unit(image)
    # A tensor, maybe inside a tf.data pipeline: images.to_unit in TensorFlow ops.
    return tf.clip_by_value((tf.cast(image, tf.float32) + 1.0) / 2.0, 0.0, 1.0)


def split_pair(image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Cut a side-by-side pix2pix image ``A|B`` (H, 2W, C) into ``(A, B)``, each (H, W, C).

    In the pix2pix archives A is the left half (for facades: the photo; its labels are B, so
    labels -> photo is ``direction="BtoA"``).
    """
    half = tf.shape(image)[1] // 2
    return image[:, :half, :], image[:, half:2 * half, :]


def resize(image: tf.Tensor, size: int | tuple[int, int], method: str = "bilinear") -> tf.Tensor:
    """Resize one image (H, W, C) or a batch to ``size`` (int: square) as float32.

    Works both ways: images smaller than ``size`` are scaled up.
    """
    hw = (size, size) if isinstance(size, int) else tuple(size)
    return tf.image.resize(image, hw, method=method)



def random_crop_pair(input_image: tf.Tensor, target_image: tf.Tensor, size: int | tuple[int, int],
                     seed: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor]:
    """The *same* random ``size`` crop of both images (they must have the same shape).

    Stacking the two images and cropping the stack once guarantees the input and its target
    stay aligned pixel for pixel. ``seed``: an optional shape-[2] integer tensor for a
    reproducible (stateless) crop; without it the crop is drawn from TensorFlow's global RNG.
    Resize first if an image may be smaller than the crop.
    """
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    stack = tf.stack([input_image, target_image])
    channels = stack.shape[-1] if stack.shape[-1] is not None else tf.shape(stack)[-1]
    crop_shape = [2, h, w, channels]
    cropped = (tf.image.random_crop(stack, crop_shape) if seed is None
               else tf.image.stateless_random_crop(stack, crop_shape, seed=seed))
    return cropped[0], cropped[1]


def random_mirror_pair(input_image: tf.Tensor, target_image: tf.Tensor,
                       seed: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor]:
    """Flip both images left-right together with probability 1/2 (one coin for the pair)."""
    flip = (tf.random.uniform([]) if seed is None else tf.random.stateless_uniform([], seed=seed)) < 0.5

    return (tf.cond(flip, lambda: tf.reverse(input_image, axis=[-2]), lambda: input_image),
            tf.cond(flip, lambda: tf.reverse(target_image, axis=[-2]), lambda: target_image))


def random_jitter(input_image: tf.Tensor, target_image: tf.Tensor | None = None, image_size: int = 256,
                  seed: tf.Tensor | None = None) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
    """Pix2Pix/CycleGAN augmentation: resize to ``image_size * 286/256``, random crop back, mirror.

    With a ``target_image`` the pair gets the same crop and flip and a pair is returned;
    without one (CycleGAN's unpaired images) only ``input_image`` is jittered and returned.
    Inputs may have any size; they are resized first, so small images work too.
    """
    load = int(round(image_size * JITTER_SCALE))
    crop_seed = mirror_seed = None
    if seed is not None:
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
        crop_seed, mirror_seed = seeds[0], seeds[1]
    single = target_image is None
    a = resize(input_image, load)
    b = a if single else resize(target_image, load)
    a, b = random_crop_pair(a, b, image_size, seed=crop_seed)
    a, b = random_mirror_pair(a, b, seed=mirror_seed)
    return a if single else (a, b)


# ===========================================================================
# 3. Checking image files before tf.data reads them
# ===========================================================================
# How tf.data decodes each checked file (decided from its header, in Python).
_JPEG, _OPAQUE, _ALPHA = 0, 1, 2


@dataclass(frozen=True)
class CheckedImage:
    """One image that passed :func:`check_image_files`."""

    path: Path
    width: int
    height: int
    kind: int  # _JPEG, _OPAQUE (PNG/other without alpha) or _ALPHA (has transparency)


def list_image_files(folder: str | os.PathLike) -> list[Path]:
    """Every regular, non-hidden file in ``folder`` (not recursive), sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _check_one(path: Path, paired: bool) -> CheckedImage | str:
    """Return a CheckedImage, or the reason (a sentence) why the file cannot be used."""
    if not is_image_file(path):
        return f"not an image file (expected {', '.join(IMAGE_SUFFIXES)})"
    try:
        if path.stat().st_size == 0:
            return "empty file (0 bytes)"
        with Image.open(path) as img:
            fmt, mode, (width, height) = img.format, img.mode, img.size
            has_alpha = mode in ("RGBA", "LA", "PA") or "transparency" in img.info
            if fmt == "JPEG":
                # Decoding at 1/8 scale still reads every compressed byte: catches truncation and
                # corrupt data for a fraction of the cost of a full decode.
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                img.load()
            elif fmt == "PNG":
                img.verify()  # walks every chunk and checks its CRC, without decompressing
            elif fmt not in ("GIF", "BMP"):
                return f"is a {fmt} image, which TensorFlow cannot decode here; convert it to PNG or JPEG"
    except UnidentifiedImageError:
        return "not an image (the bytes are not a JPEG or PNG)"
    except (OSError, SyntaxError, ValueError) as err:  # PIL's ways of saying "damaged"
        return f"damaged or truncated image ({err})"
    if paired and width < height:
        return (f"is {width}x{height}, narrower than it is high, so it cannot hold input A and target B "
                f"side by side (a pair is about twice as wide as high, e.g. 512x256); crop or re-export it")
    if paired and min(width // 2, height) < MIN_HALF_SIZE:
        return (f"is {width}x{height}: each half would be {width // 2}x{height} pixels, under the "
                f"{MIN_HALF_SIZE}-pixel minimum; use a larger image")
    kind = _JPEG if fmt == "JPEG" else (_ALPHA if has_alpha and fmt == "PNG" else _OPAQUE)
    return CheckedImage(path, width, height, kind)


_CHECKED: dict[tuple[str, int, int, bool], CheckedImage] = {}


def check_image_files(paths: Sequence[str | os.PathLike], paired: bool = False,
                      skip_bad_files: bool = False) -> list[CheckedImage]:
    """Check every file with PIL before any of them reaches TensorFlow.

    Finds empty files, files that are not JPEG/PNG images, truncated or corrupt images and (with
    ``paired=True``) images that cannot hold a pair: narrower than high, or with halves under
    :data:`MIN_HALF_SIZE` pixels. A pair whose halves are not square (say 512x200) is fine: the
    loaders cut it at half its width and resize each half, as the pix2pix code does;
    :func:`load_paired_folder` warns once, naming such files. The check is cheap: JPEGs are
    decoded at 1/8 scale and PNGs only have their checksums verified, in two threads.

    Raises:
        ValueError: naming *every* bad file and the reason, unless ``skip_bad_files=True``, in
            which case the bad files are left out with a warning that names them.
    """
    paths = [Path(p) for p in paths]

    def check(path: Path) -> CheckedImage | str:
        # A file that passed before, unchanged since (same size and time), is not read again:
        # loading the same folder twice in a notebook costs nothing the second time.
        try:
            st = path.stat()
            key = (str(path.resolve()), st.st_size, st.st_mtime_ns, paired)
        except OSError as err:
            return f"cannot be read ({err})"
        if key in _CHECKED:
            return _CHECKED[key]
        result = _check_one(path, paired)
        if isinstance(result, CheckedImage):
            _CHECKED[key] = result
        return result

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        results = list(pool.map(check, paths))
    good = [r for r in results if isinstance(r, CheckedImage)]
    bad = [(p, r) for p, r in zip(paths, results) if isinstance(r, str)]
    if bad:
        listing = "\n".join(f"  {p}: {reason}" for p, reason in bad)
        if not skip_bad_files:
            raise ValueError(
                f"{len(bad)} of {len(paths)} files cannot be used:\n{listing}\n"
                "Fix: delete or replace these files (re-download or re-export them as JPEG/PNG), "
                "or pass skip_bad_files=True to leave them out with a warning.")
        warnings.warn(f"Skipping {len(bad)} unusable files:\n{listing}", stacklevel=3)
    return good


def _layout_error(folder: Path, problem: str, layout: str) -> FileNotFoundError:
    root = folder.parent
    found = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return FileNotFoundError(
        f"{problem}: {folder}\nExpected layout:\n{layout}\n"
        f"Sub-folders found in {root}: {found if found else 'none (the folder does not exist)'}.\n"
        "Fix: check the path and the split name, or download the data first "
        "(download_pix2pix_dataset, or the shipped sets: shipped_paired_path(), shipped_unpaired_path()).")


def _images_in_split(folder: Path, layout: str, paired: bool, skip_bad_files: bool) -> list[CheckedImage]:
    if not folder.is_dir():
        raise _layout_error(folder, "Missing folder", layout)
    files = list_image_files(folder)
    if not files:
        raise _layout_error(folder, "Empty folder", layout)
    images = check_image_files(files, paired=paired, skip_bad_files=skip_bad_files)
    if not images:
        raise _layout_error(folder, "No usable image left in folder", layout)
    if paired:
        _warn_not_square(images)
    return images


def _warn_not_square(images: Sequence[CheckedImage], show: int = 10) -> None:
    """One warning naming the paired files whose halves are not square (they get resized)."""
    odd = [im for im in images if im.width != 2 * im.height]
    if not odd:
        return
    listing = "\n".join(f"  {im.path.name}: {im.width}x{im.height}" for im in odd[:show])
    more = f"\n  ... and {len(odd) - show} more" if len(odd) > show else ""
    folder = odd[0].path.parent
    warnings.warn(f"{len(odd)} of {len(images)} paired files in {folder} are not exactly twice as wide as high:\n"
                  f"{listing}{more}\nEach is cut at half its width and both halves are resized to the training "
                  "size, as in the pix2pix code, so such images look stretched or squashed. That is fine for a "
                  "few photos; if many are like this, crop them to 2:1 first.", stacklevel=3)


_PAIRED_LAYOUT = """  <path>/
    train/   *.jpg | *.png | *.bmp      each one image: input A and target B side by side (ideally width = 2 x height)
    val/     (same)
    test/    (same)"""

_UNPAIRED_LAYOUT = """  <path>/
    trainA/  *.jpg | *.png | *.bmp      images of domain A
    trainB/  images of domain B (not paired with trainA)
    testA/   testB/"""


# ===========================================================================
# 4. Loaders
# ===========================================================================
def _check_direction(direction: str) -> str:
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be 'AtoB' or 'BtoA', not {direction!r}.")
    return direction


def _decode(path: tf.Tensor, kind: tf.Tensor) -> tf.Tensor:
    """Read and decode one checked file to uint8 RGB (H, W, 3).

    Grayscale becomes RGB; a transparent PNG is composited onto white (so transparent pixels do
    not turn into whatever colour happened to be stored under them).
    """
    data = tf.io.read_file(path)

    def jpeg() -> tf.Tensor:
        return tf.io.decode_jpeg(data, channels=3)

    def opaque() -> tf.Tensor:
        return tf.io.decode_image(data, channels=3, expand_animations=False)

    def alpha() -> tf.Tensor:
        rgba = tf.cast(tf.io.decode_png(data, channels=4), tf.float32)
        a = rgba[..., 3:] / 255.0
        return tf.cast(tf.round(rgba[..., :3] * a + 255.0 * (1.0 - a)), tf.uint8)

    image = tf.switch_case(tf.cast(kind, tf.int32), [jpeg, opaque, alpha])
    return tf.ensure_shape(image, [None, None, 3])


def _element_seeds(seed: int | None) -> tf.data.Dataset:
    """An endless stream of shape-[2] seeds for the stateless random ops, new every epoch."""
    return tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)


def _decoded_images(images: list[CheckedImage], shuffle: bool, cache: bool, seed: int | None) -> tf.data.Dataset:
    """Files -> decoded uint8 images: parallel decode, cache in memory when it fits, shuffle."""
    paths = [str(im.path) for im in images]
    kinds = [im.kind for im in images]
    ds = tf.data.Dataset.from_tensor_slices((paths, kinds))
    decoded_bytes = sum(im.width * im.height * 3 for im in images)
    if cache and decoded_bytes > MAX_CACHE_BYTES:
        warnings.warn(f"Not caching {len(images)} images ({decoded_bytes / 1e9:.1f} GB decoded > "
                      f"{MAX_CACHE_BYTES / 1e9:.1f} GB): they are decoded again every epoch.", stacklevel=3)
        cache = False
    if cache:
        ds = ds.map(_decode, num_parallel_calls=AUTOTUNE).cache()
        if shuffle:
            ds = ds.shuffle(min(len(paths), 1000), seed=seed, reshuffle_each_iteration=True)
    else:
        if shuffle:  # shuffle the cheap file names, then decode
            ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
        ds = ds.map(_decode, num_parallel_calls=AUTOTUNE)
    return ds


def _finish(ds: tf.data.Dataset, batch_size: int, drop_remainder: bool, deterministic: bool) -> tf.data.Dataset:
    # Order only matters when asked for (a seed, or no shuffling): otherwise let parallel maps
    # hand over whichever element is ready first.
    options = tf.data.Options()
    options.deterministic = deterministic
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE).with_options(options)


def _check_batch(batch_size: int, n: int | None = None, drop_remainder: bool = True,
                 where: Path | str = "") -> None:
    positive_int(batch_size, "batch_size")
    if n is not None and drop_remainder and n < batch_size:
        raise ValueError(f"{where} has {n} usable images, fewer than batch_size={batch_size}, so "
                         "every batch would be dropped. Use a smaller batch_size.")


def load_paired_folder(path: str | os.PathLike, split: str, image_size: int = 256, jitter: bool = True,
                       direction: str = "AtoB", batch_size: int = 1, shuffle: bool = True,
                       skip_bad_files: bool = False, cache: bool = True, seed: int | None = None,
                       drop_remainder: bool = True) -> tf.data.Dataset:
    """A pix2pix dataset of ``(input, target)`` batches from ``<path>/<split>/*.jpg``.

    Each file holds A and B side by side. Per image: cut at half its width (A left, B right),
    scale to [-1, 1], then either :func:`random_jitter` (training: both halves resized to
    ``image_size * 286/256``, the same random crop and mirror for both) or a plain resize to
    ``image_size`` (``jitter=False``, for evaluation). Files need not be exactly 2:1: any half is
    resized, as in the pix2pix code and the TensorFlow tutorial (a warning names the files whose
    halves are not square). Files are checked first (:func:`check_image_files`).

    Args:
        path: dataset folder, e.g. ``shipped_paired_path()`` or ``download_pix2pix_dataset("facades", ...)``,
            or a ``.zip``/``.tar.gz`` of one (unpacked once into a cache: :func:`dataset_folder`).
        split: sub-folder, e.g. ``"train"``, ``"val"``, ``"test"``.
        image_size: side of the square outputs.
        jitter: random resize-crop-mirror (same for input and target).
        direction: ``"AtoB"`` (input = left half) or ``"BtoA"`` (input = right half).
        batch_size: images per batch; batches have a static shape.
        shuffle: shuffle every epoch (turn off for a fixed evaluation order).
        skip_bad_files: leave unusable files out with a warning instead of raising.
        cache: keep the decoded images in memory after the first epoch (skipped above 2 GB).
        seed: makes shuffling and jitter reproducible (still different every epoch).
        drop_remainder: drop the last smaller batch (keeps the batch shape static).

    Returns:
        ``tf.data.Dataset`` of ``(input, target)``, each float32 ``(batch_size, image_size, image_size, 3)``.
    """
    direction = _check_direction(direction)
    folder = dataset_folder(path) / split
    images = _images_in_split(folder, _PAIRED_LAYOUT, paired=True, skip_bad_files=skip_bad_files)
    _check_batch(batch_size, len(images), drop_remainder, folder)

    def prepare(image: tf.Tensor, element_seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        a, b = split_pair(normalize(image))
        if jitter:
            a, b = random_jitter(a, b, image_size, seed=element_seed)
        else:
            a, b = resize(a, image_size), resize(b, image_size)
        return (a, b) if direction == "AtoB" else (b, a)

    ds = _decoded_images(images, shuffle, cache, seed)
    ds = tf.data.Dataset.zip(ds, _element_seeds(seed)).map(prepare, num_parallel_calls=AUTOTUNE)
    return _finish(ds, batch_size, drop_remainder, deterministic=seed is not None or not shuffle)


def _single_image_pipeline(ds: tf.data.Dataset, image_size: int, jitter: bool, batch_size: int,
                           seed: int | None, drop_remainder: bool, shuffle: bool) -> tf.data.Dataset:
    """uint8 images -> batches in [-1, 1] with CycleGAN's preprocessing."""
    def prepare(image: tf.Tensor, element_seed: tf.Tensor) -> tf.Tensor:
        x = normalize(image)
        return random_jitter(x, None, image_size, seed=element_seed) if jitter else resize(x, image_size)

    ds = tf.data.Dataset.zip(ds, _element_seeds(seed)).map(prepare, num_parallel_calls=AUTOTUNE)
    return _finish(ds, batch_size, drop_remainder, deterministic=seed is not None or not shuffle)


def load_image_folder(folder: str | os.PathLike, image_size: int = 256, jitter: bool = True, batch_size: int = 1,
                      shuffle: bool = True, skip_bad_files: bool = False, cache: bool = True,
                      seed: int | None = None, drop_remainder: bool = True) -> tf.data.Dataset:
    """One folder of single images (one domain of an unpaired set) as batches in [-1, 1].

    CycleGAN's preprocessing, one image at a time (Zhu et al. 2017); arguments as in
    :func:`load_paired_folder`. With ``jitter=False, shuffle=False, drop_remainder=False`` each
    file is read once, in name order: the held-out images of an evaluation.

    Returns:
        a ``tf.data.Dataset`` of float32 ``(batch_size, image_size, image_size, 3)``.
    """
    folder = Path(folder)
    images = _images_in_split(folder, _UNPAIRED_LAYOUT, paired=False, skip_bad_files=skip_bad_files)
    _check_batch(batch_size, len(images), drop_remainder, folder)
    ds = _decoded_images(images, shuffle, cache, seed)
    return _single_image_pipeline(ds, image_size, jitter, batch_size, seed, drop_remainder, shuffle)


def load_unpaired_folder(path: str | os.PathLike, split: str = "train", image_size: int = 256,
                         jitter: bool = True, batch_size: int = 1, shuffle: bool = True,
                         skip_bad_files: bool = False, cache: bool = True, seed: int | None = None,
                         drop_remainder: bool = True) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Two independent datasets, domain A and domain B, from ``<path>/<split>A`` and ``<path>/<split>B``.

    Each is :func:`load_image_folder`'s (domain B's seed is ``seed + 1``). The two folders may
    hold different numbers of images; zip them (and ``.repeat()`` the shorter one) in the
    training loop. Arguments as in :func:`load_paired_folder`.

    Returns:
        ``(ds_a, ds_b)``, each a ``tf.data.Dataset`` of float32 ``(batch_size, image_size, image_size, 3)``.
    """
    root = dataset_folder(path)
    ds_a, ds_b = (load_image_folder(root / f"{split}{domain}", image_size, jitter, batch_size, shuffle,
                                    skip_bad_files, cache, None if seed is None else seed + offset, drop_remainder)
                  for offset, domain in enumerate("AB"))
    return ds_a, ds_b


#: The TFDS ``cycle_gan`` configs (https://www.tensorflow.org/datasets/catalog/cycle_gan).
CYCLE_GAN_TFDS_NAMES = ("apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo",
                        "cezanne2photo", "ukiyoe2photo", "vangogh2photo", "maps", "cityscapes",
                        "facades", "iphone2dslr_flower")


def load_cycle_gan_tfds(name: str = "horse2zebra", split: str = "train", image_size: int = 256,
                        jitter: bool = True, batch_size: int = 1, shuffle: bool = True,
                        cache: bool = True, seed: int | None = None, data_dir: str | None = None,
                        drop_remainder: bool = True) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """``(ds_a, ds_b)`` from TFDS ``cycle_gan/<name>`` with the same output as :func:`load_unpaired_folder`.

    Downloads and prepares the dataset on first use (on Colab; a few hundred MB for
    horse2zebra). ``split`` is ``"train"`` or ``"test"``: the TFDS splits ``<split>A`` and
    ``<split>B`` become domain A and B. ``cache`` keeps the decoded images in memory
    (horse2zebra's training set needs about 0.4 GB).
    """
    import tensorflow_datasets as tfds  # imported here: it is slow to import and only needed here

    if name not in CYCLE_GAN_TFDS_NAMES:
        raise ValueError(f"Unknown cycle_gan config {name!r}. Choose one of: {', '.join(CYCLE_GAN_TFDS_NAMES)}.")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test' (TFDS splits trainA/trainB/testA/testB), not {split!r}.")
    _check_batch(batch_size)
    out = []
    for offset, domain in enumerate("AB"):
        ds = tfds.load(f"cycle_gan/{name}", split=f"{split}{domain}", as_supervised=True,
                       data_dir=data_dir, shuffle_files=shuffle)
        ds = ds.map(lambda image, label: tf.ensure_shape(image, [None, None, 3]), num_parallel_calls=AUTOTUNE)
        if cache:
            ds = ds.cache()
        domain_seed = None if seed is None else seed + offset
        if shuffle:
            ds = ds.shuffle(1000, seed=domain_seed, reshuffle_each_iteration=True)
        out.append(_single_image_pipeline(ds, image_size, jitter, batch_size, domain_seed, drop_remainder,
                                          shuffle))
    return out[0], out[1]


def load_digits_arrays(source: str = "mnist", num_examples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Digit images (N, 28, 28) uint8 and labels (N,): MNIST's training set or the shipped digits.

    ``source="mnist"`` downloads MNIST with ``keras.datasets.mnist`` (needs the internet, e.g. on
    Colab); ``source="shipped"`` reads ``data/digits/digits.npz`` (drawn by our code, works offline).
    """
    if source == "mnist":
        import keras

        try:
            (images, labels), _ = keras.datasets.mnist.load_data()
        except Exception as err:  # no network, blocked download, ...
            raise RuntimeError(f"Could not download MNIST ({err}). "
                               "Offline, use load_digits(source='shipped').") from err
    elif source == "shipped":
        path = shipped_digits_path()
        if not path.is_file():
            raise FileNotFoundError(f"Missing {path}. Regenerate it with `make data` (python data/make_data.py).")
        with np.load(path) as npz:
            images, labels = npz["images"], npz["labels"]
    else:
        raise ValueError(f"source must be 'mnist' or 'shipped', not {source!r}.")
    if num_examples is not None:
        images, labels = images[:num_examples], labels[:num_examples]
    return images, labels


def load_digits(source: str = "mnist", batch_size: int = 256, num_examples: int | None = None,
                shuffle: bool = True, seed: int | None = None, drop_remainder: bool = True) -> tf.data.Dataset:
    """Batches of digit images, float32 ``(batch_size, 28, 28, 1)`` in [-1, 1], for the DCGAN lesson.

    ``source`` is explicit: ``"mnist"`` (60,000 images, downloaded; use on Colab) or
    ``"shipped"`` (3,000 images drawn by ``data/make_data.py``; the smoke profile's choice).
    ``num_examples`` keeps only the first N images.
    """
    images, _ = load_digits_arrays(source, num_examples)
    _check_batch(batch_size, len(images), drop_remainder, f"the {source} digits")
    x = from_uint8(images)[..., None]
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return _finish(ds, batch_size, drop_remainder, deterministic=True)


# ===========================================================================
# 5. How fast is the input pipeline?
# ===========================================================================
def _facade_like_pair(rng: np.random.Generator, size: int = 256) -> np.ndarray:
    """A (size, 2*size, 3) uint8 image like a facades file: a textured 'photo' | a flat label map."""
    photo = np.empty((size, size, 3), np.float32)
    photo[:] = rng.uniform(90, 200, 3)
    labels = np.zeros((size, size, 3), np.uint8)
    labels[:] = (0, 0, 170)
    rows, cols = rng.integers(3, 7), rng.integers(3, 6)
    for r in range(rows):
        for c in range(cols):
            y0, x0 = int((r + 0.25) * size / rows), int((c + 0.25) * size / cols)
            y1, x1 = y0 + int(0.5 * size / rows), x0 + int(0.5 * size / cols)
            photo[y0:y1, x0:x1] = rng.uniform(20, 80, 3) + np.linspace(0, 60, y1 - y0)[:, None, None]
            labels[y0:y1, x0:x1] = (0, 85, 255)
    photo += rng.normal(0, 12, photo.shape)  # texture, so JPEG sizes are like real photos
    return np.concatenate([np.clip(photo, 0, 255).astype(np.uint8), labels], axis=1)


def make_facade_like_folder(folder: str | os.PathLike, n_files: int = 64, size: int = 256, seed: int = 0) -> Path:
    """Write ``n_files`` facades-like pix2pix JPEGs (``size`` x ``2*size``) into ``<folder>/train``."""
    rng = np.random.default_rng(seed)
    train = Path(folder) / "train"
    train.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        Image.fromarray(_facade_like_pair(rng, size)).save(train / f"{i}.jpg", quality=90)
    return Path(folder)


def pipeline_throughput(path: str | os.PathLike | None = None, image_size: int = 256, jitter: bool = True,
                        batch_size: int = 1, n_batches: int = 300, repeats: int = 3, cache: bool = False,
                        split: str = "train", warmup_batches: int = 20) -> dict[str, Any]:
    """Images per second that :func:`load_paired_folder` delivers (median of ``repeats`` timed runs).

    With ``path=None`` a temporary folder of 64 facades-like 256x512 JPEGs is built, so decoding
    costs what it costs on facades. ``cache=False`` (the default) measures the hard case, where
    every image is read and decoded again; with ``cache=True`` only the jitter runs after the
    first epoch.

    Returns:
        ``{"images_per_second": median, "runs": [...], "image_size", "batch_size", "jitter",
        "cache", "n_batches", "source"}``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(path) if path is not None else make_facade_like_folder(tmp)
        ds = load_paired_folder(folder, split, image_size=image_size, jitter=jitter, batch_size=batch_size,
                                cache=cache, seed=None).repeat()
        it = iter(ds)
        for _ in range(warmup_batches):
            next(it)
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(n_batches):
                next(it)
            runs.append(n_batches * batch_size / (time.perf_counter() - start))
        del it, ds  # stop the prefetching threads before the temporary folder goes away
    return {"images_per_second": statistics.median(runs), "runs": runs, "image_size": image_size,
            "batch_size": batch_size, "jitter": jitter, "cache": cache, "n_batches": n_batches,
            "source": str(path) if path is not None else "64 synthetic facades-like 256x512 JPEGs"}



def epoch_rates(dataset: tf.data.Dataset, epochs: int = 1) -> list[float]:
    """Images per second of each of ``epochs`` passes over ``dataset`` (batches ``(B, ...)``).

    Every pass is timed on its own, so a cached pipeline shows its slow first epoch (decode and
    fill the cache) next to its fast later ones.
    """
    positive_int(epochs, "epochs")
    rates = []
    for _ in range(epochs):
        n, start = 0, time.perf_counter()
        for batch in dataset:
            n += int(tf.shape(tf.nest.flatten(batch)[0])[0])
        if n == 0:
            raise ValueError("The dataset is empty: nothing to time. Check its files (and drop_remainder).")
        rates.append(n / (time.perf_counter() - start))
    return rates


def load_unpaired(source: str | os.PathLike, split: str = "train", **kwargs: Any) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Domain A and domain B of an unpaired dataset, wherever it lives.

    ``source`` is ``"shipped"`` (the offline day2dusk set), a folder in the CycleGAN layout
    (``trainA/ trainB/ testA/ testB/``), or the name of a TFDS ``cycle_gan`` config such as
    ``"horse2zebra"`` (downloaded on first use). Keyword arguments go to
    :func:`load_unpaired_folder` or :func:`load_cycle_gan_tfds`, which share them.
    """
    if str(source) == "shipped":
        return load_unpaired_folder(shipped_unpaired_path(), split, **kwargs)
    if isinstance(source, str) and source in CYCLE_GAN_TFDS_NAMES and not Path(source).exists():
        return load_cycle_gan_tfds(source, split, **kwargs)
    return load_unpaired_folder(source, split, **kwargs)   # a missing folder: its error names the layout


def unpaired_test_images(source: str | os.PathLike, n: int, image_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` test images of each domain, unjittered and in file order: ``(x, y)`` NumPy arrays.

    Each is ``(n, image_size, image_size, 3)`` float32 in [-1, 1] (fewer than ``n`` if the split is
    smaller). Fixed images like these make samples and evaluations comparable across runs.
    """
    positive_int(n, "n")
    a, b = load_unpaired(source, "test", image_size=image_size, jitter=False, batch_size=n, shuffle=False,
                         cache=False, drop_remainder=False)
    return next(iter(a)).numpy(), next(iter(b)).numpy()

