"""The CycleGAN and pix2pix authors' trained generators, as the course's own Keras networks.

Zhu, Park, Isola and Efros published the generators they trained (horse2zebra, monet2photo, the
style_* painters, facades labels -> photo, edges2shoes, ...) as PyTorch state dicts: a dict from
parameter names such as ``model.10.conv_block.1.weight`` to tensors (github.com/junyanz/
pytorch-CycleGAN-and-pix2pix, ``scripts/download_cyclegan_model.sh`` and
``scripts/download_pix2pix_model.sh``; the networks are in ``models/networks.py``). This module
puts those numbers into :func:`course_utils.core.models.resnet_generator` and
:func:`course_utils.core.models.unet_generator` built with ``convention="pytorch"`` (the authors'
padding and skips), so the result computes the authors' function and runs through
:mod:`course_utils.core.inference` like any generator of the course.

Read it top to bottom:

1. **The authors' layout** (:func:`layout`): every name and shape of their state dict, and which
   layer of the course's network each one fills, for ``resnet_9blocks``, ``resnet_6blocks``
   (CycleGAN) and ``unet_256``, ``unet_128`` (pix2pix), at any width.
2. **Converting** (:func:`from_state_dict`): checks the names and shapes (the first mismatch is a
   ``ValueError`` naming it), infers the widths, builds the network and copies the weights in:
   PyTorch's ``(out, in, kh, kw)`` kernels become Keras's ``(kh, kw, in, out)``, and the U-Net's
   skip concatenation (skip first in PyTorch, second here) swaps the halves of the next kernel's
   input channels.
3. **Downloading** (:data:`CHECKPOINTS`, :func:`load`): the authors' published addresses; reading
   a ``.pth`` needs PyTorch (``torch.load(..., weights_only=True)``, which never runs code from the
   file); a ``.npz`` of the same names is read with NumPy alone (the tests' and ``make
   check-full``'s stand-ins).
4. **For the lessons** (:func:`lesson_generator`): the authors' network, or in the smoke profile a
   narrow stand-in with random weights laid out like theirs (:func:`stand_in_state_dict`).

Batch norm (the pix2pix U-Net): ``inference.translate(model, images)`` normalises each image with
its own statistics, as the authors' ``test.py`` does by default (PyTorch's ``.train()`` mode at
batch size 1) but with dropout off; ``model(images, training=False)`` uses their running
statistics (PyTorch's ``.eval()``). Old CycleGAN checkpoints carry running statistics for their
instance norms, which instance norm never uses: they are accepted and ignored, as the authors'
own loader does.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course_utils.core.files import download_checked, file_sha256

__all__ = ["ARCHITECTURES", "CYCLEGAN_URL", "PIX2PIX_URL", "Checkpoint", "CHECKPOINTS", "layout",
           "from_state_dict", "read_state_dict", "download", "load", "stand_in_state_dict", "lesson_generator"]

#: The generators the authors' checkpoints hold (their ``--netG`` names).
ARCHITECTURES = ("resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128")


# ===========================================================================
# 1. The authors' layout
# ===========================================================================
@dataclass(frozen=True)
class _Slot:
    """One module of the authors' network and the course's layer it fills.

    ``kind``: ``"conv"`` (weight ``(out, in, kh, kw)``), ``"tconv"`` (transposed, ``(in, out, kh, kw)``),
    ``"tconv_skip"`` (transposed, after a skip concatenation: input halves swapped) or ``"bn"``.
    """

    prefix: str
    layer: str
    kind: str
    shape: tuple[int, ...]
    bias: bool = False

    def entries(self) -> list[tuple[str, tuple[int, ...]]]:
        if self.kind == "bn":
            return [(f"{self.prefix}.{s}", self.shape) for s in ("weight", "bias", "running_mean", "running_var")]
        out_channels = self.shape[0] if self.kind == "conv" else self.shape[1]
        bias = [(f"{self.prefix}.bias", (out_channels,))] if self.bias else []
        return [(f"{self.prefix}.weight", self.shape)] + bias


def _check_architecture(architecture: str) -> None:
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture={architecture!r}: the authors' checkpoints hold one of "
                         f"{', '.join(ARCHITECTURES)}.")


def _n_blocks(architecture: str) -> int:
    """Residual blocks of ``resnet_<n>blocks``."""
    return int(architecture[len("resnet_")])


def _unet_size(architecture: str) -> int:
    """Image side of ``unet_<size>`` (the U-Net halves it down to 1x1: log2(size) levels)."""
    return int(architecture[len("unet_"):])


def _resnet_slots(n_blocks: int, ngf: int, cin: int, cout: int) -> tuple[list[_Slot], list[str]]:
    """ResnetGenerator: one nn.Sequential ``model``; conv biases everywhere (instance norm)."""
    w = 4 * ngf
    slots = [_Slot("model.1", "stem_conv", "conv", (ngf, cin, 7, 7), True),
             _Slot("model.4", "down1_conv", "conv", (2 * ngf, ngf, 3, 3), True),
             _Slot("model.7", "down2_conv", "conv", (w, 2 * ngf, 3, 3), True)]
    for b in range(n_blocks):        # model.10 ... : pad, conv, norm, ReLU, pad, conv, norm
        slots += [_Slot(f"model.{10 + b}.conv_block.{i}", f"res{b + 1}_{j}_conv", "conv", (w, w, 3, 3), True)
                  for j, i in ((1, 1), (2, 5))]
    slots += [_Slot(f"model.{10 + n_blocks}", "up1_conv", "tconv", (w, 2 * ngf, 3, 3), True),
              _Slot(f"model.{13 + n_blocks}", "up2_conv", "tconv", (2 * ngf, ngf, 3, 3), True),
              _Slot(f"model.{17 + n_blocks}", "output", "conv", (cout, ngf, 7, 7), True)]
    # Where the instance norms sit: old checkpoints keep (unused) running statistics there.
    norms = ["model.2", "model.5", "model.8", f"model.{11 + n_blocks}", f"model.{14 + n_blocks}"]
    norms += [f"model.{10 + b}.conv_block.{i}" for b in range(n_blocks) for i in (2, 6)]
    ignored = [f"{p}.{s}" for p in norms for s in ("running_mean", "running_var", "num_batches_tracked")]
    return slots, ignored


def _unet_slots(depth: int, ngf: int, cin: int, cout: int) -> tuple[list[_Slot], list[str]]:
    """UnetGenerator: nested UnetSkipConnectionBlocks, each level's ``model`` holding the next.

    Level 1 (outermost): [down conv, level 2, ReLU, up conv (bias), tanh]; levels 2..depth-1:
    [LeakyReLU, down conv, BN, next level, ReLU, up conv, BN, (dropout)]; the innermost:
    [LeakyReLU, down conv, ReLU, up conv, BN]. Convs before a batch norm have no bias.
    """
    widths = [min(ngf * 2**k, 8 * ngf) for k in range(depth)]      # encoder outputs, level 1 first
    prefix = "model.model."
    slots = [_Slot(prefix + "0", "down1_conv", "conv", (widths[0], cin, 4, 4)),
             _Slot(prefix + "3", "output", "tconv_skip", (2 * widths[0], cout, 4, 4), True)]
    for k in range(2, depth + 1):
        prefix += "1.model." if k == 2 else "3.model."
        outer, inner, up = widths[k - 2], widths[k - 1], depth + 1 - k       # up1 is the innermost's
        slots.append(_Slot(prefix + "1", f"down{k}_conv", "conv", (inner, outer, 4, 4)))
        if k < depth:
            slots += [_Slot(prefix + "2", f"down{k}_norm", "bn", (inner,)),
                      _Slot(prefix + "5", f"up{up}_conv", "tconv_skip", (2 * inner, outer, 4, 4)),
                      _Slot(prefix + "6", f"up{up}_norm", "bn", (outer,))]
        else:
            slots += [_Slot(prefix + "3", f"up{up}_conv", "tconv", (inner, outer, 4, 4)),
                      _Slot(prefix + "4", f"up{up}_norm", "bn", (outer,))]
    ignored = [f"{s.prefix}.num_batches_tracked" for s in slots if s.kind == "bn"]
    return slots, ignored


def _slots(architecture: str, filters: int, in_channels: int, out_channels: int) -> tuple[list[_Slot], list[str]]:
    _check_architecture(architecture)
    if architecture.startswith("resnet_"):
        return _resnet_slots(_n_blocks(architecture), filters, in_channels, out_channels)
    return _unet_slots(int(np.log2(_unet_size(architecture))), filters, in_channels, out_channels)


def layout(architecture: str, filters: int = 64, in_channels: int = 3,
           out_channels: int = 3) -> dict[str, tuple[int, ...]]:
    """Every name of the authors' state dict for ``architecture`` and its shape (their checkpoints: widths 64).

    Entries they may carry beyond these, and which are ignored: instance norm's running statistics
    (old CycleGAN checkpoints) and batch norm's ``num_batches_tracked``.
    """
    return dict(e for slot in _slots(architecture, filters, in_channels, out_channels)[0] for e in slot.entries())


# ===========================================================================
# 2. Converting
# ===========================================================================
def _as_array(value: Any) -> np.ndarray:
    """A torch tensor (without importing torch) or anything array-like, as a NumPy array."""
    for step in ("detach", "cpu"):
        if hasattr(value, step):
            value = getattr(value, step)()
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _arrays(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"state_dict must map the authors' parameter names to arrays (what torch.load returns for "
                         f"their .pth files), got {type(state_dict).__name__}.")
    # A network saved from inside torch.nn.DataParallel has every name prefixed with "module.".
    strip = all(str(k).startswith("module.") for k in state_dict) and len(state_dict) > 0
    return {str(k)[len("module."):] if strip else str(k): _as_array(v) for k, v in state_dict.items()}


def _widths(architecture: str, arrays: Mapping[str, np.ndarray]) -> tuple[int, int, int]:
    """(filters, in_channels, out_channels) read off the first and last layers; 64, 3, 3 where missing
    (the name check then reports what is missing)."""
    if architecture.startswith("resnet_"):     # first: the 7x7 stem; last: the 7x7 conv to RGB, (out, in, 7, 7)
        first, last, out_axis = "model.1.weight", f"model.{17 + _n_blocks(architecture)}.weight", 0
    else:                                      # first: the outermost down conv; last: its up conv, (in, out, 4, 4)
        first, last, out_axis = "model.model.0.weight", "model.model.3.weight", 1
    filters, cin = arrays[first].shape[:2] if first in arrays and arrays[first].ndim == 4 else (64, 3)
    cout = arrays[last].shape[out_axis] if last in arrays and arrays[last].ndim == 4 else 3
    return int(filters), int(cin), int(cout)


def _check_entries(architecture: str, slots: list[_Slot], ignored: list[str], arrays: Mapping[str, np.ndarray]) -> None:
    for slot in slots:
        for name, shape in slot.entries():
            if name not in arrays:
                raise ValueError(f"This is not the authors' {architecture} state dict: expected {name} with shape "
                                 f"{shape}, found no such entry.")
            if tuple(arrays[name].shape) != shape:
                raise ValueError(f"This is not the authors' {architecture} state dict: expected {name} with shape "
                                 f"{shape}, found shape {tuple(arrays[name].shape)}.")
    known = {name for slot in slots for name, _ in slot.entries()} | set(ignored)
    extra = next((name for name in arrays if name not in known), None)
    if extra is not None:
        raise ValueError(f"This is not the authors' {architecture} state dict: found {extra} with shape "
                         f"{tuple(arrays[extra].shape)}, which {architecture} has no place for.")


def _keras_weights(slot: _Slot, arrays: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    get = lambda suffix: np.asarray(arrays[f"{slot.prefix}.{suffix}"], np.float32)   # noqa: E731
    if slot.kind == "bn":    # Keras's order: gamma, beta, moving mean, moving variance
        return [get(s) for s in ("weight", "bias", "running_mean", "running_var")]
    kernel = get("weight")
    if slot.kind == "tconv_skip":
        # PyTorch concatenates [skip, decoder]; the course's U-Net [decoder, skip].
        half = kernel.shape[0] // 2
        kernel = np.concatenate([kernel[half:], kernel[:half]], axis=0)
    # conv (out, in, kh, kw) -> (kh, kw, in, out); transposed (in, out, kh, kw) -> (kh, kw, out, in)
    return [kernel.transpose(2, 3, 1, 0)] + ([get("bias")] if slot.bias else [])


def from_state_dict(architecture: str, state_dict: Mapping[str, Any], image_size: int | None = None):
    """The course's generator holding the authors' weights ``state_dict``, computing their network's function.

    Args:
        architecture: ``"resnet_9blocks"`` or ``"resnet_6blocks"`` (CycleGAN), ``"unet_256"`` or
            ``"unet_128"`` (pix2pix): what the checkpoint holds.
        state_dict: the authors' names -> arrays: what ``torch.load`` returns for their ``.pth``
            files (torch tensors; torch itself is not imported here) or NumPy arrays. Widths and
            channels are read from the weights, so narrower networks of the same layout work too.
        image_size: the side of the images the ResNet will take (default 256; it is fully
            convolutional, any multiple of 4 from 16 works). A U-Net takes the size its name says.

    Returns:
        A ``keras.Model`` from :func:`models.resnet_generator` or :func:`models.unet_generator` with
        ``convention="pytorch"``. Run it with :func:`course_utils.core.inference.translate`.

    Raises:
        ValueError: an unknown architecture, or a state dict whose names or shapes are not the
            architecture's (the message names the first mismatch: expected name and shape, and what
            was found).
    """
    from course_utils.core import models

    _check_architecture(architecture)
    arrays = _arrays(state_dict)
    filters, cin, cout = _widths(architecture, arrays)
    slots, ignored = _slots(architecture, filters, cin, cout)
    _check_entries(architecture, slots, ignored, arrays)
    if architecture.startswith("resnet_"):
        if cin != cout:
            raise ValueError(f"This {architecture} maps {cin} channels to {cout}; the course's ResNet generator keeps "
                             "the channel count.")
        model = models.resnet_generator(image_size or 256, n_blocks=_n_blocks(architecture), filters=filters,
                                        channels=cin, convention="pytorch")
    else:
        size = _unet_size(architecture)
        if image_size not in (None, size):
            raise ValueError(f"{architecture} takes {size}x{size} images (its name says so), not {image_size}: resize "
                             "the images instead.")
        depth = int(np.log2(size))
        # The authors' pix2pix U-Net: dropout 0.5 in the depth - 5 decoder blocks after the innermost.
        model = models.unet_generator(size, cin, cout, filters=filters, dropout=0.5, dropout_blocks=depth - 5,
                                      convention="pytorch")
    for slot in slots:
        model.get_layer(slot.layer).set_weights(_keras_weights(slot, arrays))
    return model


# ===========================================================================
# 3. Downloading and reading
# ===========================================================================
#: Where the authors publish their trained generators (``scripts/download_cyclegan_model.sh`` and
#: ``scripts/download_pix2pix_model.sh`` of their repository). ``make check-full`` points these at
#: local stand-ins (``scripts/full_stand_ins.py``).
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/{name}.pth"


@dataclass(frozen=True)
class Checkpoint:
    """One published generator: ``family`` (``"cyclegan"`` or ``"pix2pix"``), what it holds, its
    pinned SHA-256 (``None``: none published) and a line about it."""

    family: str
    architecture: str
    sha256: str | None
    about: str

    def url(self, name: str) -> str:
        """The address of ``name``'s file (read from the module's URL templates when called)."""
        template = {"cyclegan": CYCLEGAN_URL, "pix2pix": PIX2PIX_URL}[self.family]
        return template.format(name=name.split("/", 1)[1])


def _cyclegan(about: str) -> Checkpoint:
    return Checkpoint("cyclegan", "resnet_9blocks", None, about)


def _pix2pix(about: str) -> Checkpoint:
    return Checkpoint("pix2pix", "unet_256", None, about)


#: The authors' published generators, by ``<family>/<their file name>``. CycleGAN's are
#: ``resnet_9blocks`` with instance norm (each file one direction), pix2pix's ``unet_256`` with
#: batch norm. We found no published SHA-256 for any of them, so none is pinned: a download
#: prints the hash it got, for you to pin (``load(..., sha256=...)``), as the dataset downloads do.
CHECKPOINTS: dict[str, Checkpoint] = {
    **{f"cyclegan/{n}": _cyclegan(a) for n, a in (
        ("apple2orange", "apples -> oranges (ImageNet)"), ("orange2apple", "oranges -> apples"),
        ("summer2winter_yosemite", "Yosemite in summer -> winter (Flickr)"),
        ("winter2summer_yosemite", "Yosemite in winter -> summer"),
        ("horse2zebra", "horses -> zebras (ImageNet)"), ("zebra2horse", "zebras -> horses"),
        ("monet2photo", "Monet paintings -> photos"), ("style_monet", "photos -> Monet"),
        ("style_cezanne", "photos -> Cezanne"), ("style_ukiyoe", "photos -> Ukiyo-e"),
        ("style_vangogh", "photos -> Van Gogh"), ("sat2map", "aerial photos -> maps"),
        ("map2sat", "maps -> aerial photos"), ("cityscapes_photo2label", "street photos -> label maps"),
        ("cityscapes_label2photo", "label maps -> street photos"),
        ("facades_photo2label", "facade photos -> labels"), ("facades_label2photo", "facade labels -> photos"),
        ("iphone2dslr_flower", "iPhone flower photos -> shallow depth of field"))},
    **{f"pix2pix/{n}": _pix2pix(a) for n, a in (
        ("edges2shoes", "edge drawings -> shoe photos"), ("sat2map", "aerial photos -> maps"),
        ("map2sat", "maps -> aerial photos"), ("facades_label2photo", "facade labels -> photos"),
        ("day2night", "daytime webcam views -> night"))},
}


def _is_npz(path: Path) -> bool:
    """A NumPy ``.npz`` (a zip of ``.npy`` members), whatever its name; a PyTorch file is not."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    return bool(names) and all(n.endswith(".npy") for n in names)


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The state dict in ``path`` as NumPy arrays: an ``.npz`` of the same names, or the authors' ``.pth``.

    Which one is decided by the content, not the name. An ``.npz`` is read with NumPy alone (no
    pickles); its entries named ``__...__`` (a test fixture's input and outputs) are not weights
    and are left out. A ``.pth`` needs PyTorch and is read with ``weights_only=True``: tensors and
    plain containers only, never code from the file.
    """
    path = Path(path)
    if _is_npz(path):
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files if not (k.startswith("__") and k.endswith("__"))}
    try:
        import torch
    except ImportError:
        raise ImportError(f"torch is needed to read the authors' .pth files ({path.name}): on Colab it is installed; "
                          "elsewhere `pip install torch` (the CPU build is enough), or convert the file once where "
                          "torch is, to an .npz of the same names: np.savez(f, **{k: v.numpy() for k, v in "
                          "torch.load(path, weights_only=True).items()}).") from None
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is not a PyTorch state dict that can be read safely ({type(err).__name__}: {err}). "
                         "Download it again.") from None
    return _arrays(loaded)


def _default_cache_dir() -> Path:
    from course_utils.core.files import download_cache

    return download_cache() / "pretrained"


def download(name: str, cache_dir: str | os.PathLike | None = None, url: str | None = None,
             sha256: str | None = None, progress: bool = True) -> Path:
    """Download checkpoint ``name`` (one of :data:`CHECKPOINTS`) once; returns the file's path.

    A file already in ``cache_dir`` is reused. With a SHA-256 (``sha256``, or the pinned one) the
    file is checked, and a mismatch deletes it and raises; without one, a fresh download prints its
    hash so that you can pin it. ``url`` downloads from another address (``http(s)://`` or
    ``file://``). The download is ``keras.utils.get_file``'s (:func:`course_utils.core.files.download_checked`).
    """
    entry = _entry(name)
    url = url or entry.url(name)
    expected = sha256 or entry.sha256
    cache_dir = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / (name.replace("/", "_") + ".pth")
    fresh = not target.is_file()
    if fresh:
        download_checked(url, target, expected, progress)
    elif expected is not None and file_sha256(target) != expected:   # a cached file checked again
        target.unlink()
        raise ValueError(f"Checksum mismatch for the cached {target}: it was deleted; run again to download it.")
    return target


def _entry(name: str) -> Checkpoint:
    if name not in CHECKPOINTS:
        raise ValueError(f"Unknown checkpoint {name!r}. The authors published: {', '.join(CHECKPOINTS)}.")
    return CHECKPOINTS[name]


def load(name: str, cache_dir: str | os.PathLike | None = None, url: str | None = None, sha256: str | None = None,
         image_size: int | None = None, progress: bool = True):
    """The authors' trained generator ``name`` as the course's Keras network.

    Downloads the checkpoint once (:func:`download`: into ``cache_dir``, default
    ``config.download_cache() / "pretrained"``; the SHA-256 is checked or printed), reads it
    (:func:`read_state_dict`: PyTorch for a ``.pth``, never unpickling code) and converts it
    (:func:`from_state_dict`). ``load("cyclegan/horse2zebra")`` is CycleGAN's horse -> zebra
    generator; run it with ``inference.translate(generator, images)`` on [-1, 1] images.

    Raises:
        ValueError: an unknown name (the message lists the known ones), a checksum mismatch, or a
            file that is not the expected network.
        ImportError: the file is a ``.pth`` and torch is not installed.
        ConnectionError: the address cannot be fetched.
    """
    entry = _entry(name)
    path = download(name, cache_dir, url=url, sha256=sha256, progress=progress)
    return from_state_dict(entry.architecture, read_state_dict(path), image_size=image_size)


# ===========================================================================
# 4. For the lessons
# ===========================================================================
def stand_in_state_dict(architecture: str, filters: int = 64, seed: int = 0,
                        channels: int = 3) -> dict[str, np.ndarray]:
    """A state dict laid out like the authors' ``architecture`` (:func:`layout`), with random weights.

    Drawn as the authors initialise a network (kernels N(0, 0.02^2), batch-norm scales N(1, 0.02^2),
    zero biases, running statistics 0 and 1), so it translates nothing: it stands in for a
    download where none can happen (the smoke profile, ``make check-full``).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in layout(architecture, filters, channels, channels).items():
        if len(shape) == 4:
            out[name] = rng.normal(0.0, 0.02, shape).astype(np.float32)
        elif name.endswith("running_var"):
            out[name] = np.ones(shape, np.float32)
        elif name.endswith(".weight"):                   # batch norm's scale
            out[name] = rng.normal(1.0, 0.02, shape).astype(np.float32)
        else:                                            # biases, offsets, running means
            out[name] = np.zeros(shape, np.float32)
    return out


#: Width of the smoke profile's stand-ins: a 256 px U-Net at 4 filters runs in well under a second.
SMOKE_FILTERS = 4


def lesson_generator(name: str, cfg: Any = None, image_size: int | None = None):
    """What a lesson shows as the authors' trained generator ``name`` (one of :data:`CHECKPOINTS`).

    In the learner and paper profiles, :func:`load` (download once, convert). In the smoke profile (``cfg.is_smoke``,
    or ``COURSE_SMOKE=1`` without a ``cfg``), the same architecture at :data:`SMOKE_FILTERS` filters
    with random weights laid out like the authors' (:func:`stand_in_state_dict`), converted by the
    same :func:`from_state_dict`: the cells run in seconds without a download, and its pictures mean
    nothing (nearly uniform grey: say so where a lesson shows them). ``image_size`` (default ``cfg.image_size``,
    else 256) is the ResNet's; a U-Net always takes the size its name says (256 px for pix2pix's).
    """
    from course_utils.core.model_config import profile_name

    entry = _entry(name)
    smoke = cfg.is_smoke if cfg is not None else profile_name() == "smoke"
    if entry.architecture.startswith("resnet_"):
        image_size = image_size or getattr(cfg, "image_size", None) or 256
    else:
        image_size = None
    if smoke:
        return from_state_dict(entry.architecture, stand_in_state_dict(entry.architecture, SMOKE_FILTERS),
                               image_size=image_size)
    return load(name, image_size=image_size)
