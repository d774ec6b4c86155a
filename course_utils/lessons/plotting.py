"""Pictures of GANs: image grids, training curves, PatchGAN verdicts, mode collapse and diagrams.

Read this module top to bottom as an appendix to the lessons.

1. **Images**: :func:`to_display` turns a [-1, 1] image or tensor into something matplotlib
   shows; :func:`show_images`, :func:`plot_translation_rows` (input / target / prediction) and
   :func:`plot_cycle_rows` (x, G(x), F(G(x)), identity) lay them out;
   :func:`plot_labelled_rows` gives each row its own label (e.g. one row per epoch).
2. **Training**: :func:`load_history` and :func:`plot_loss_history` draw loss curves with
   optional smoothing; :func:`make_training_gif` turns the sample grids saved during training
   into an animation; :func:`plot_step_times` compares measured step times.
3. **Losses**: :func:`generator_loss_curves` and :func:`plot_generator_losses` show how the
   generator's BCE and least-squares losses, and their gradients, depend on the
   discriminator's output, and where BCE saturates.
4. **PatchGAN**: :func:`plot_patchgan_verdict` overlays the verdict map on the image and
   :func:`plot_receptive_field` draws the input patch one cell judges.

The lessons' diagrams of ideas (boxes and arrows) are :mod:`course_utils.lessons.diagrams`; the ring of
Gaussians draws itself (:func:`course_utils.lessons.ring.plot_ring_samples`); which input patch a
PatchGAN cell judges is computed beside the PatchGAN (:func:`course_utils.core.models.patch_receptive_field`).

Every function accepts images in [-1, 1] (NumPy arrays or tensors, channels last) and returns
the matplotlib ``Figure``, so you can save it (``fig.savefig("out.png")``) or inspect it. The
figures are made with pyplot, so a notebook shows them by itself: write ``fig = show_images(...)``
(or end the line with ``;``) to avoid a second copy, and ``plt.close(fig)`` in loops.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_utils.core.images import as_numpy, check_range, to_unit

ArrayLike = Any  # a NumPy array, a tf.Tensor, or anything np.asarray understands
PathLike = str | Path


# ---------------------------------------------------------------------------
# 1. Images.
# ---------------------------------------------------------------------------
def to_display(image: ArrayLike) -> np.ndarray:
    """One image in [-1, 1] as a float array in [0, 1] that ``imshow`` understands.

    Accepts ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or a batch of one ``(1, H, W, C)``; a
    single channel is squeezed away so it can be shown in grey.
    """
    arr = as_numpy(image)
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ValueError(
            f"Expected one image (H, W), (H, W, 1) or (H, W, 3), channels last; got shape {arr.shape}. "
            "For a batch, pass images[i] or use show_images(images)."
        )
    return to_unit(check_range(arr, "the image"))   # course_utils.core.images: one range check, one conversion


def _checked(images: list[np.ndarray]) -> list[np.ndarray]:
    """Convert every image before a figure is made, so bad input raises without leaving one open."""
    return [to_display(im) for im in images]


def _as_image_list(images: ArrayLike | Sequence[ArrayLike]) -> list[np.ndarray]:
    """A batch ``(N, H, W, C)`` or a list of images as a list of single images."""
    if isinstance(images, (list, tuple)):
        return [as_numpy(im) for im in images]
    arr = as_numpy(images)
    if arr.ndim == 4:
        return list(arr)
    if arr.ndim in (2, 3):
        return [arr]
    raise ValueError(f"Expected an image, a batch (N, H, W, C) or a list of images; got shape {arr.shape}.")


def _imshow(ax: Any, shown: np.ndarray, title: str | None = None) -> None:
    """Show one image already converted by :func:`to_display` on ``ax``, without ticks."""
    ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0.0, vmax=1.0)
    ax.set(xticks=[], yticks=[])
    if title:
        ax.set_title(title, fontsize=10)


def _fill(axes: Sequence[Any], shown: Sequence[np.ndarray], titles: Sequence[str] | None = None) -> None:
    """Show one image per axis, with its title; axes left over are switched off."""
    for i, ax in enumerate(axes):
        if i < len(shown):
            _imshow(ax, shown[i], None if titles is None else titles[i])
        else:
            ax.axis("off")


def show_images(images: ArrayLike | Sequence[ArrayLike], titles: Sequence[str] | None = None, *,
                ncols: int | None = None, size: float = 2.5, suptitle: str | None = None) -> Figure:
    """A grid of images with optional titles.

    Args:
        images: a batch ``(N, H, W, C)`` or a list of images, in [-1, 1].
        titles: one title per image (optional).
        ncols: images per row; by default up to 8.
        size: inches per image.
        suptitle: a title over the whole grid.
    """
    ims = _checked(_as_image_list(images))
    if titles is not None and len(titles) != len(ims):
        raise ValueError(f"Got {len(titles)} titles for {len(ims)} images; pass one title per image.")
    cols = min(len(ims), 8) if ncols is None else max(1, int(ncols))
    rows = -(-len(ims) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    _fill(axes.flat, ims, titles)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_image_rows(columns: Mapping[str, ArrayLike | Sequence[ArrayLike]], *, max_rows: int = 4,
                    size: float = 2.5, suptitle: str | None = None) -> Figure:
    """One row per example and one titled column per kind of image.

    ``columns`` maps a column title to a batch, e.g. ``{"Input": x, "Prediction": g}``. All
    batches must hold the same number of examples; at most ``max_rows`` are shown.
    """
    names = list(columns)
    batches = [_checked(_as_image_list(columns[name])) for name in names]
    counts = {len(b) for b in batches}
    if not names or len(counts) != 1:
        raise ValueError("Every column needs the same number of images; got "
                         + ", ".join(f"{n}: {len(b)}" for n, b in zip(names, batches)))
    rows = min(counts.pop(), max_rows)
    fig, axes = plt.subplots(rows, len(names), figsize=(size * len(names), size * rows), squeeze=False)
    for r in range(rows):
        for c, name in enumerate(names):
            _imshow(axes[r, c], batches[c][r], name if r == 0 else None)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_translation_rows(inputs: ArrayLike, targets: ArrayLike | None, predictions: ArrayLike, *,
                          max_rows: int = 4, titles: tuple[str, str, str] = ("Input", "Target", "Prediction")) -> Figure:
    """Pix2Pix results: each row shows an input, its target and the generator's prediction.

    Pass ``targets=None`` when there is no ground truth (the column is left out).
    """
    columns = {titles[0]: inputs}
    if targets is not None:
        columns[titles[1]] = targets
    columns[titles[2]] = predictions
    return plot_image_rows(columns, max_rows=max_rows)


def plot_cycle_rows(x: ArrayLike, translated: ArrayLike, reconstructed: ArrayLike, identity: ArrayLike | None = None,
                    *, max_rows: int = 4,
                    names: tuple[str, str, str, str] = ("x", "G(x)", "F(G(x))", "identity F(x)")) -> Figure:
    """CycleGAN results: each row shows x, its translation G(x), the round trip F(G(x)) and,
    optionally, the identity check (F(x) for x in X, or G(y) for y in Y: both should change
    little). Rename the columns with ``names`` for the backward direction."""
    columns = {names[0]: x, names[1]: translated, names[2]: reconstructed}
    if identity is not None:
        columns[names[3]] = identity
    return plot_image_rows(columns, max_rows=max_rows)


def plot_labelled_rows(rows: Mapping[str, ArrayLike | Sequence[ArrayLike]], *, ncols: int = 8, size: float = 1.1,
                       suptitle: str | None = None) -> Figure:
    """One row of images per entry of ``rows`` (label -> batch), the label written above the row.

    Shows the first ``ncols`` images of each batch (in [-1, 1]), e.g. the same noise vectors
    after each epoch (``{"epoch 0": ..., "epoch 5": ...}``).
    """
    batches = {label: _checked(_as_image_list(images)[:ncols]) for label, images in rows.items()}
    if not batches or any(len(b) == 0 for b in batches.values()):
        raise ValueError("plot_labelled_rows needs at least one row with at least one image.")
    fig, axes = plt.subplots(len(batches), ncols, figsize=(ncols * size, len(batches) * (size + 0.25)),
                             squeeze=False)
    for r, (label, shown) in enumerate(batches.items()):
        _fill(axes[r], shown)
        # Left out of the layout: a label wider than its image must not squeeze the columns.
        axes[r, 0].text(0, 1.08, label, transform=axes[r, 0].transAxes, fontsize=9, va="bottom", in_layout=False)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout(h_pad=1.5)
    return fig


def figure_to_png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure rendered as PNG bytes (what the widgets show)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# 2. Training: loss curves and an animation of the samples.
# ---------------------------------------------------------------------------
def load_history(source: Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]] | PathLike) -> dict[str, np.ndarray]:
    """A loss history as a dict of equal-length float arrays (``{"step": ..., "gen_loss": ...}``).

    Accepts what the trainers save or keep in memory:

    * a dict of lists, ``{"step": [...], "gen_loss": [...]}``;
    * a list of dicts, one per logged step, ``[{"step": 0, "gen_loss": 2.1}, ...]``;
    * the path of a ``.json`` file holding either of those;
    * the path of a ``.csv`` file with a header row.

    Missing values (a key absent from some rows, or an empty CSV cell) become NaN. Columns
    that are not numbers are dropped.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"No history file at {path}. Pass the .csv or .json file the trainer saved.")
        if path.suffix.lower() == ".json":
            source = json.loads(path.read_text())
        elif path.suffix.lower() == ".csv":
            with path.open(newline="") as handle:
                source = list(csv.DictReader(handle))
        else:
            raise ValueError(f"Cannot read a history from {path.name}: expected a .csv or .json file.")
    if isinstance(source, Mapping):
        raw = {str(k): list(v) for k, v in source.items()}
    elif isinstance(source, Sequence) and all(isinstance(row, Mapping) for row in source):
        keys: list[str] = []
        for row in source:
            keys += [str(k) for k in row if str(k) not in keys]
        raw = {k: [row.get(k) for row in source] for k in keys}
    else:
        raise ValueError("A history must be a dict of lists, a list of dicts, or a .csv / .json path.")
    history: dict[str, np.ndarray] = {}
    for key, values in raw.items():
        try:   # a missing value (None, or an empty CSV cell) becomes NaN
            history[key] = np.array([np.nan if v is None or v == "" else v for v in values], dtype=np.float64)
        except (TypeError, ValueError):
            continue  # a text column such as a timestamp
    lengths = {len(v) for v in history.values()}
    if len(lengths) > 1:
        raise ValueError(f"The history's columns have different lengths {sorted(lengths)}; log every key at every step.")
    return history


def ema(values: ArrayLike, smoothing: float = 0.9) -> np.ndarray:
    """Exponential moving average with bias correction (as TensorBoard's smoothing slider).

    ``s_t = smoothing * s_{t-1} + (1 - smoothing) * v_t`` starting from 0, divided by
    ``1 - smoothing**t`` so the first points are not pulled towards zero. NaNs are skipped.
    ``smoothing = 0`` returns the values unchanged.
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1): 0 is no smoothing, 0.99 is heavy; got {smoothing}.")
    v = np.asarray(values, dtype=np.float64)
    out = np.full_like(v, np.nan)
    acc, count = 0.0, 0
    for i, value in enumerate(v):
        if np.isnan(value):
            continue
        acc = smoothing * acc + (1.0 - smoothing) * value
        count += 1
        out[i] = acc / (1.0 - smoothing**count)
    return out


def plot_loss_history(history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]] | PathLike,
                      keys: Sequence[str] | None = None, *, smoothing: float = 0.0, x_key: str = "step",
                      title: str | None = "Losses during training") -> Figure:
    """Loss curves from a saved or in-memory history (see :func:`load_history`).

    With ``smoothing > 0`` each curve is drawn faint as logged and bold after :func:`ema`.
    GAN losses do not go down steadily as in supervised learning: the two players push
    against each other, so read them together with the sample images.

    Args:
        history: a dict of lists, a list of dicts, or a .csv / .json path.
        keys: which losses to draw; by default every column whose name contains "loss".
        smoothing: EMA factor in [0, 1).
        x_key: the column used for the x axis; the row index if it is missing.
    """
    data = load_history(history)
    if keys is None:
        keys = [k for k in data if "loss" in k.lower()] or [k for k in data if k != x_key]
    missing = [k for k in keys if k not in data]
    if missing or not keys:
        raise ValueError(f"No column(s) {missing or list(keys)} in the history; it has {sorted(data)}.")
    n = len(data[keys[0]])
    x = data[x_key] if x_key in data else np.arange(n)
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, key in enumerate(keys):
        colour = f"C{i}"
        if smoothing > 0:
            ax.plot(x, data[key], color=colour, alpha=0.25, linewidth=1)
            ax.plot(x, ema(data[key], smoothing), color=colour, linewidth=2, label=f"{key} (EMA {smoothing:g})")
        else:
            ax.plot(x, data[key], color=colour, linewidth=1.5, label=key)
    ax.set_xlabel(x_key if x_key in data else "logged step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _natural_key(path: Path) -> list[Any]:
    """Sort ``step_9.png`` before ``step_10.png``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def sample_image_paths(paths_or_folder: PathLike | Iterable[PathLike]) -> list[Path]:
    """The PNG sample grids of a run, in training order.

    ``paths_or_folder`` is a folder (its ``*.png`` files are used, sorted by the numbers in their
    names) or a list of paths (kept in the given order).
    """
    if isinstance(paths_or_folder, (str, Path)):
        folder = Path(paths_or_folder)
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder. Pass the folder the trainer saved samples to, or a list of PNG paths.")
        paths = sorted(folder.glob("*.png"), key=_natural_key)
    else:
        paths = [Path(p) for p in paths_or_folder]
    if not paths:
        raise ValueError(f"No PNG sample images found in {paths_or_folder}; has training saved any samples yet?")
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise ValueError(f"These sample images do not exist: {absent[:3]}")
    return paths


def make_training_gif(paths_or_folder: PathLike | Iterable[PathLike], out_path: PathLike, *,
                      seconds_per_frame: float = 0.5, loop: int = 0, label: bool = True) -> Path:
    """Assemble the sample grids saved during training into an animated GIF.

    Frames are resized to the first image's size and, with ``label=True``, stamped with the
    file name (e.g. ``step_000100``). ``loop=0`` repeats forever. Returns the GIF's path; show
    it in a notebook with ``IPython.display.Image(filename=path)``.
    """
    from PIL import Image, ImageDraw

    paths = sample_image_paths(paths_or_folder)
    frames = []
    for path in paths:
        with Image.open(path) as im:
            frame = im.convert("RGB")
        if frames and frame.size != frames[0].size:
            frame = frame.resize(frames[0].size)
        if label:
            ImageDraw.Draw(frame).text((4, 2), path.stem, fill=(255, 0, 0))
        frames.append(frame)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:],
                   duration=int(round(seconds_per_frame * 1000)), loop=loop)
    return out


def plot_step_times(seconds: Mapping[str, float], title: str, *, slower: Sequence[str] = ("CPU",)) -> Figure:
    """Median time per training step (``name -> seconds``) as bars in milliseconds.

    Each bar is labelled with its speed-up over the first entry (``1.80x``); the entries named in
    ``slower`` (a CPU row beside GPU rows) say how many times slower they are instead.
    """
    if not seconds or min(seconds.values()) <= 0:
        raise ValueError(f"plot_step_times needs at least one positive time per step, got {dict(seconds)}.")
    names, times = list(seconds), [float(s) for s in seconds.values()]
    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.55 * len(names)))
    ax.barh(names, [1e3 * t for t in times], color=[f"C{i % 10}" for i in range(len(names))])
    for i, (name, t) in enumerate(zip(names, times)):
        label = f"  {t / times[0]:.0f}x slower" if name in slower else f"  {times[0] / t:.2f}x"
        ax.text(1e3 * t, i, label, va="center")
    ax.invert_yaxis()
    ax.set(xlabel="median ms per training step (lower is better)", xlim=(0, 1.35e3 * max(times)))
    ax.set_title(title, fontsize=10)

    fig.tight_layout()
    return fig

# ---------------------------------------------------------------------------
# 3. What the generator's loss looks like.
# ---------------------------------------------------------------------------
def sigmoid(x: ArrayLike) -> np.ndarray:
    """The logistic function, turning a discriminator's logit into a probability of "real"."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


#: Gradients smaller than this (in absolute value) count as "saturated" in the plots.
SATURATION_THRESHOLD = 0.05


def generator_loss_curves(d_output: ArrayLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The generator's loss on one fake, and its gradient, as functions of D's raw output ``a``.

    For BCE, ``a`` is D's logit and ``D = sigmoid(a)`` its probability that the fake is real. For
    least squares (LSGAN, Mao et al. 2017), ``a`` is D's output itself, with no sigmoid.

    * ``"BCE minimax"``: ``log(1 - D)``, the generator's side of the original minimax game;
      gradient ``-D``. When D confidently rejects the fake (``a`` very negative, as early in
      training) the gradient vanishes: the generator learns nothing (Goodfellow et al. 2014).
    * ``"BCE non-saturating"``: ``-log D``, what the course trains with; gradient ``D - 1``,
      strong exactly when D rejects the fake, but it vanishes once D is fooled (``a`` large),
      even if the fake is still far from real data.
    * ``"least squares"``: ``(a - 1)^2``; gradient ``2 (a - 1)`` keeps pulling fakes towards the
      "real" target 1 in proportion to their distance, on both sides.

    Returns:
        ``{name: (loss, gradient with respect to a)}`` arrays shaped like ``d_output``.
    """
    a = np.asarray(d_output, dtype=np.float64)
    d = sigmoid(a)
    softplus = np.logaddexp(0.0, a)  # log(1 + e^a), computed without overflow
    return {
        "BCE minimax log(1 - D)": (-softplus, -d),
        "BCE non-saturating -log D": (softplus - a, d - 1.0),
        "least squares (a - 1)^2": ((a - 1.0) ** 2, 2.0 * (a - 1.0)),
    }


def plot_generator_losses(d_output: float | None = None, *, span: tuple[float, float] = (-6.0, 6.0),
                          num: int = 241) -> Figure:
    """Curves of the generator's losses (left) and their gradients (right) against D's output.

    Regions where a BCE gradient is below :data:`SATURATION_THRESHOLD` in size are shaded: there
    the generator gets (almost) no signal. With ``d_output`` the chosen point is marked on every
    curve and its values are written in the legend (the loss explorer widget draws this figure).
    """
    a = np.linspace(span[0], span[1], num)
    curves = generator_loss_curves(a)
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 4))
    point = None if d_output is None else generator_loss_curves(d_output)
    for i, (name, (loss, grad)) in enumerate(curves.items()):
        colour = f"C{i}"
        loss_label, grad_label = name, name
        if point is not None:
            lv, gv = float(point[name][0]), float(point[name][1])
            ax_loss.plot([d_output], [lv], "o", color=colour)
            ax_grad.plot([d_output], [gv], "o", color=colour)
            loss_label, grad_label = f"{name} = {lv:.3f}", f"dL/da = {gv:+.3f}"
        ax_loss.plot(a, loss, color=colour, label=loss_label)
        ax_grad.plot(a, grad, color=colour, label=grad_label)
        if name.startswith("BCE"):
            # Shade the whole height of the panel where this gradient has (almost) vanished.
            flat = np.abs(grad) < SATURATION_THRESHOLD
            ax_grad.fill_between(a, 0.0, 1.0, where=flat, color=colour, alpha=0.12, linewidth=0,
                                 transform=ax_grad.get_xaxis_transform())
    # One axis, two readings of a: for BCE a logit (D = sigmoid(a); "fooled" means a -> +inf),
    # for least squares the score itself (targets 0 = fake, 1 = real). Mark the least-squares target
    # so the curves are compared by shape, not value for value at the same a.
    ls_colour = f"C{list(curves).index('least squares (a - 1)^2')}"
    for ax in (ax_loss, ax_grad):
        ax.axvline(1.0, color=ls_colour, linestyle=":", linewidth=1.2)
        ax.text(1.05, 0.02, "least-squares\ntarget a = 1", color=ls_colour, fontsize=7,
                transform=ax.get_xaxis_transform(), va="bottom")
        ax.axhline(0.0, color="black", linewidth=0.5)
        ax.grid(alpha=0.3)
        ax.set_xlabel("D's raw output on a fake, a\n(BCE: a logit, D = sigmoid(a); least squares: the score itself)",
                      fontsize=9)
        if d_output is not None:
            ax.axvline(d_output, color="grey", linestyle="--", linewidth=1)
    ax_loss.set_ylim(-7, 10)
    ax_grad.set_ylim(-4, 4)
    ax_loss.set_ylabel("generator loss")
    ax_grad.set_ylabel("gradient dL/da")
    ax_loss.legend(fontsize=8, loc="upper right")
    ax_grad.legend(fontsize=8, loc="lower right")
    title = "Generator losses: shaded where a BCE gradient saturates (|dL/da| < %.2g)" % SATURATION_THRESHOLD
    if d_output is not None:
        title += (f"\na = {d_output:+.2f}: for BCE a logit, D = sigmoid(a) = {float(sigmoid(d_output)):.3f}; "
                  f"for least squares a score, {1 - d_output:.2f} below its 'real' target 1")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# 4. PatchGAN: which input patch does an output cell judge?
# ---------------------------------------------------------------------------
def verdict_map(logits: ArrayLike) -> np.ndarray:
    """PatchGAN logits ``(n, n)``, ``(n, n, 1)`` or ``(1, n, n, 1)`` as P(real) = sigmoid, ``(n, n)``."""
    arr = np.squeeze(as_numpy(logits))
    if arr.ndim != 2:
        raise ValueError(f"Expected the discriminator's logits for one image, shape (n, n) or (1, n, n, 1); "
                         f"got {np.shape(logits)}.")
    return sigmoid(arr)


def plot_patchgan_verdict(image: ArrayLike, logits: ArrayLike, *, alpha: float = 0.5) -> Figure:
    """The PatchGAN's verdicts: the image, the map of sigmoid(logits), and the map over the image.

    Each cell is the discriminator's probability that its patch is real (green real, red fake).
    """
    shown = to_display(image)
    verdict = verdict_map(logits)
    h, w = shown.shape[:2]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    _imshow(axes[0], shown, "image")
    mappable = axes[1].imshow(verdict, cmap="RdYlGn", vmin=0.0, vmax=1.0)
    axes[1].set_title(f"verdict map {verdict.shape[0]}x{verdict.shape[1]}: P(real)", fontsize=10)
    fig.colorbar(mappable, ax=axes[1], fraction=0.046, pad=0.04)
    _imshow(axes[2], shown, f"overlay (mean P(real) = {verdict.mean():.2f})")
    axes[2].imshow(verdict, cmap="RdYlGn", vmin=0.0, vmax=1.0, alpha=alpha, extent=(-0.5, w - 0.5, h - 0.5, -0.5),
                   interpolation="nearest")
    fig.tight_layout()
    return fig


def plot_receptive_field(image: ArrayLike, row: int, col: int, *, layers: Sequence[tuple[int, int, int]] | None = None,
                         logits: ArrayLike | None = None) -> Figure:
    """Draw on the input the patch that output cell ``(row, col)`` judges.

    The left panel shows the image with the patch (clipped to the image) outlined; the right one
    the output grid with the chosen cell, coloured by the verdict map when ``logits`` are given.
    The image must be square, as the PatchGAN's input is. ``layers=None`` infers the layers
    from the logits' grid, or uses those of ``course_utils.core.models`` at this image size.
    """
    shown = to_display(image)
    size = shown.shape[0]
    if shown.shape[1] != size:
        raise ValueError(f"The PatchGAN takes square images; got {shown.shape[0]}x{shown.shape[1]}.")
    from course_utils.core import models# the receptive-field arithmetic lives beside the PatchGAN

    verdict = None if logits is None else verdict_map(logits)
    if layers is None:
        layers = (models.course_patchgan_layers(size) if verdict is None
                  else models.infer_patchgan_layers(size, verdict.shape[0]))
    top, left, bottom, right = models.patch_receptive_field(row, col, layers, size)
    n = models.patchgan_output_size(size, layers)
    field = models.receptive_field_size(layers)

    if verdict is not None and verdict.shape != (n, n):
        raise ValueError(f"logits have a {verdict.shape} grid but these layers give {n}x{n} at {size}x{size}.")
    fig, (ax_img, ax_grid) = plt.subplots(1, 2, figsize=(9, 4.5))
    _imshow(ax_img, shown, f"input: rows {top}..{bottom - 1}, cols {left}..{right - 1} ({field}x{field} field)")
    ax_img.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False,
                               edgecolor="yellow", linewidth=2))
    if verdict is not None:
        ax_grid.imshow(verdict, cmap="RdYlGn", vmin=0.0, vmax=1.0)
        grid_title = f"cell ({row}, {col}) of {n}x{n}: P(real) = {verdict[row, col]:.2f}"
    else:
        ax_grid.imshow(np.zeros((n, n)), cmap="Greys", vmin=0.0, vmax=1.0)
        grid_title = f"cell ({row}, {col}) of the {n}x{n} output"
    ax_grid.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="blue", linewidth=2))
    ax_grid.set_title(grid_title, fontsize=10)
    ax_grid.set(xticks=[], yticks=[])
    fig.tight_layout()
    return fig

