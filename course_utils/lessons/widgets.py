"""Interactive explorers for the lessons (ipywidgets 7.7, as on Colab, and 8).

Read this module top to bottom as an appendix to the lessons.

* :func:`loss_explorer`: slide the discriminator's output on a fake and watch the generator's
  BCE and least-squares losses and gradients, and where BCE saturates.
* :func:`sample_browser`: a slider (and a play button) over the sample grids saved in training.
* :func:`patchgan_explorer`: choose a PatchGAN output cell and see the input patch it judges.
* :func:`translation_explorer`: pick a test image and see its translation, cycle and identity.

Every explorer is an :class:`Explorer`, a ``VBox`` that shows itself when it is the last line
of a cell. It takes the data it shows as arguments and never trains anything. Its parts are
attributes, so code (and the tests) can drive it without a browser::

    ex = loss_explorer()
    ex.controls["d_output"].value = 2.0   # the picture and the text update
    ex.image.value                         # PNG bytes of the current figure
    ex.info.value                          # the numbers, as HTML

Pictures are PNG bytes in an ``Image`` widget rather than figures printed into an ``Output``
widget: this works the same in ipywidgets 7 and 8, in Colab and Jupyter, and can be checked
without a running kernel. Only APIs present in both versions are used.
"""

from __future__ import annotations

import html
from typing import Any, Callable, Iterable, Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from course_utils.core import models
from course_utils.lessons import plotting
from course_utils.core.images import as_batch, as_numpy

ArrayLike = Any


# ---------------------------------------------------------------------------
# The common frame: controls, a picture and a line of numbers.
# ---------------------------------------------------------------------------
class Explorer(widgets.VBox):
    """A ``VBox`` of controls, a picture and an HTML read-out, redrawn when a control changes.

    Attributes:
        controls: the controls by name, e.g. ``controls["row"]`` (set ``.value`` to drive them).
        image: the ``Image`` widget showing the current picture as PNG bytes.
        info: the ``HTML`` widget with the numbers behind the picture.
        last_error: the exception raised by the last redraw, or ``None`` (it is also shown in
            ``info``, so a failing model does not break the notebook silently).
    """

    def __init__(self, controls: Mapping[str, widgets.Widget], draw: Callable[[], tuple[bytes, str]], *,
                 extra: Sequence[widgets.Widget] = (), image_width: str | None = None) -> None:
        self.image, self.info = widgets.Image(format="png"), widgets.HTML()
        if image_width:
            self.image.layout.width = image_width
        super().__init__(children=[widgets.HBox(list(controls.values()) + list(extra)), self.image, self.info])
        self.controls = dict(controls)
        self.last_error: Exception | None = None
        self._draw = draw
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def _on_change(self, change: Mapping[str, Any]) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw the picture and the read-out from the controls' current values."""
        try:
            png, text = self._draw()
        except Exception as err:  # show the learner what went wrong instead of a silent widget
            self.last_error = err
            self.info.value = f"<b style='color:#b00'>Error:</b> {html.escape(f'{type(err).__name__}: {err}')}"
            return
        self.last_error = None
        self.image.value = png
        self.info.value = text


def _render(fig: Any, dpi: int = 80) -> bytes:
    """PNG bytes of ``fig``; the figure is closed so notebooks do not show it a second time."""
    try:
        return plotting.figure_to_png(fig, dpi=dpi)
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------
# 1. The loss explorer.
# ---------------------------------------------------------------------------
def loss_explorer(d_output: float = -3.0, *, span: tuple[float, float] = (-6.0, 6.0)) -> Explorer:
    """Slide D's raw output ``a`` on a fake and compare the generator's losses and gradients.

    The picture is :func:`course_utils.lessons.plotting.plot_generator_losses`; the read-out gives
    ``D = sigmoid(a)`` and each loss and gradient at ``a``, and flags the saturated ones. Try
    ``a = -5`` (D confidently rejects the fake, as early in training): the minimax BCE gradient
    is about 0, while the non-saturating BCE and least squares still push the generator.

    Controls: ``controls["d_output"]`` (a ``FloatSlider``).
    """
    if not span[0] <= d_output <= span[1]:
        raise ValueError(f"d_output must lie within span {span}; got {d_output}.")
    slider = widgets.FloatSlider(value=d_output, min=span[0], max=span[1], step=0.1, description="D's logit a",
                                 continuous_update=False)

    def draw() -> tuple[bytes, str]:
        a = float(slider.value)
        rows = []
        for name, (loss, grad) in plotting.generator_loss_curves(a).items():
            flag = " <b>(saturated)</b>" if abs(float(grad)) < plotting.SATURATION_THRESHOLD else ""
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{float(loss):.3f}</td><td>{float(grad):+.3f}{flag}</td></tr>")
        text = (f"a = {a:+.2f}, D(G(z)) = sigmoid(a) = {float(plotting.sigmoid(a)):.3f}"
                "<table><tr><th>generator loss</th><th>value</th><th>dL/da</th></tr>" + "".join(rows) + "</table>")
        return _render(plotting.plot_generator_losses(a, span=span)), text

    return Explorer({"d_output": slider}, draw)


# ---------------------------------------------------------------------------
# 2. The sample browser.
# ---------------------------------------------------------------------------
def sample_browser(paths_or_folder: plotting.PathLike | Iterable[plotting.PathLike], *,
                   image_width: str | None = "600px") -> Explorer:
    """A slider over the PNG sample grids saved during training, with a play button.

    ``paths_or_folder`` is the samples folder (e.g. ``runs/pix2pix/samples``; files are ordered
    by the step number in their names) or a list of PNG paths. The files are shown as they are.

    Controls: ``controls["index"]`` (an ``IntSlider``); ``play`` is the linked ``Play`` button.
    """
    paths = plotting.sample_image_paths(paths_or_folder)
    slider = widgets.IntSlider(value=0, min=0, max=len(paths) - 1, description="sample")
    play = widgets.Play(value=0, min=0, max=len(paths) - 1, interval=500, description="play")
    widgets.jslink((play, "value"), (slider, "value"))

    def draw() -> tuple[bytes, str]:
        path = paths[slider.value]
        return path.read_bytes(), f"{html.escape(path.name)} ({slider.value + 1} of {len(paths)})"

    explorer = Explorer({"index": slider}, draw, extra=[play], image_width=image_width)
    explorer.play = play
    explorer.paths = paths
    return explorer


# ---------------------------------------------------------------------------
# 3. The PatchGAN explorer.
# ---------------------------------------------------------------------------
def patchgan_explorer(image: ArrayLike, logits: ArrayLike | None = None, *,
                      layers: Sequence[tuple[int, int, int]] | None = None) -> Explorer:
    """Choose an output cell of the PatchGAN and see which input patch it judges.

    Args:
        image: the (square) image the discriminator looked at, in [-1, 1].
        logits: the discriminator's output for it, ``(n, n)`` or ``(1, n, n, 1)`` (optional);
            with it the grid is coloured by P(real) and the cell's verdict is shown.
        layers: the (kernel, stride, padding) list; by default inferred from the logits' grid,
            or the course's PatchGAN at this image size.

    Controls: ``controls["row"]`` and ``controls["col"]`` (``IntSlider`` s).
    """
    shown = plotting.to_display(image)
    size = shown.shape[0]
    verdict = None if logits is None else plotting.verdict_map(logits)
    if layers is None:
        layers = (models.course_patchgan_layers(size) if verdict is None
                  else models.infer_patchgan_layers(size, verdict.shape[0]))
    n = models.patchgan_output_size(size, layers)
    row = widgets.IntSlider(value=n // 2, min=0, max=n - 1, description="row", continuous_update=False)
    col = widgets.IntSlider(value=n // 2, min=0, max=n - 1, description="col", continuous_update=False)
    field = models.receptive_field_size(layers)

    def draw() -> tuple[bytes, str]:
        r, c = int(row.value), int(col.value)
        top, left, bottom, right = models.patch_receptive_field(r, c, layers, size)
        fig = plotting.plot_receptive_field(image, r, c, layers=layers, logits=logits)
        text = (f"Output cell ({r}, {c}) of {n}x{n} judges input rows {top}..{bottom - 1} and columns "
                f"{left}..{right - 1}: a {field}x{field} field"
                + (" (cut by the image border)" if (bottom - top, right - left) != (field, field) else ""))
        if verdict is not None:
            text += f"; verdict P(real) = {verdict[r, c]:.3f}"
        return _render(fig), text

    return Explorer({"row": row, "col": col}, draw)


# ---------------------------------------------------------------------------
# 4. The translation explorer.
# ---------------------------------------------------------------------------
def _translate(fn: Callable[..., Any], x: np.ndarray, name: str) -> np.ndarray:
    """Apply a model or function to one image; Keras generators run by :mod:`course_utils.core.inference`."""
    import keras

    from course_utils.core import inference

    batch = x[None]
    if isinstance(fn, keras.Model) and inference.is_image_to_image(fn):
        out = inference.translate(fn, batch)
    else:
        out = fn(batch, training=False) if hasattr(fn, "trainable_weights") else fn(batch)
    out = as_numpy(out, name=name)
    if out.ndim == 4 and out.shape[0] == 1:
        out = out[0]
    if out.ndim != 3:
        raise ValueError(f"{name} must map a batch (1, H, W, C) to a batch of images; it returned shape {out.shape}.")
    return out


def translation_explorer(images: ArrayLike, forward: Callable[..., Any] | ArrayLike,
                         backward: Callable[..., Any] | None = None, *, targets: ArrayLike | None = None,
                         names: tuple[str, str] = ("G", "F")) -> Explorer:
    """Pick a test image and see what the generators make of it.

    Shows ``x``, its translation ``G(x)``, the true target if you have one, the round trip
    ``F(G(x))`` and the identity check ``F(x)`` (F maps to x's own domain, so it should change
    ``x`` little). The read-out gives the mean absolute error of each against what it should
    match. Results are computed once per image and cached.

    Args:
        images: test images ``(N, H, W, C)`` from domain X, in [-1, 1].
        forward: the generator G (a Keras model, called with ``training=False``, or any
            function on batches), or an array of precomputed translations ``G(x)``.
        backward: the generator F from Y back to X (optional; needed for cycle and identity).
        targets: the true translations of ``images`` (e.g. a paired validation set, or the
            shipped unpaired set's known correspondence), optional.
        names: what to call the two generators in titles (e.g. ``("G_AB", "G_BA")``).

    Controls: ``controls["index"]`` (a ``Dropdown`` of the test images).
    """
    from course_utils.core import metrics

    x_all = as_batch(images, "images")
    precomputed = None if callable(forward) else as_batch(forward, "forward")
    if precomputed is not None and len(precomputed) != len(x_all):
        raise ValueError(f"forward holds {len(precomputed)} precomputed translations for {len(x_all)} images; "
                         "pass one per image, or pass the generator itself.")
    truth = None if targets is None else as_batch(targets, "targets")
    if truth is not None and len(truth) != len(x_all):
        raise ValueError(f"Got {len(truth)} targets for {len(x_all)} images; pass one target per image.")
    if backward is not None and not callable(backward):
        raise ValueError("backward must be the generator F (a model or function), not an array.")
    g, f = names
    chooser = widgets.Dropdown(options=[(f"test image {i}", i) for i in range(len(x_all))], value=0,
                               description="image")
    cache: dict[int, dict[str, np.ndarray]] = {}

    def results(i: int) -> dict[str, np.ndarray]:
        if i not in cache:
            x = x_all[i]
            out = {"x": x, f"{g}(x)": precomputed[i] if precomputed is not None else _translate(forward, x, "forward")}

            if truth is not None:
                out["true target"] = truth[i]
            if backward is not None:
                out[f"{f}({g}(x)) cycle"] = _translate(backward, out[f"{g}(x)"], "backward")
                out[f"{f}(x) identity"] = _translate(backward, x, "backward")
            cache[i] = out
        return cache[i]

    def draw() -> tuple[bytes, str]:
        i = int(chooser.value)
        shown = results(i)
        fig = plotting.plot_image_rows({k: v[None] for k, v in shown.items()}, max_rows=1)
        parts = []
        if truth is not None:
            parts.append(f"|{g}(x) - true target| = {metrics.mean_l1(shown[f'{g}(x)'], truth[i]):.4f}")
        if backward is not None:
            parts.append(f"cycle |{f}({g}(x)) - x| = {metrics.mean_l1(shown['x'], shown[f'{f}({g}(x)) cycle']):.4f}")
            parts.append(f"identity |{f}(x) - x| = {metrics.mean_l1(shown[f'{f}(x) identity'], shown['x']):.4f}")
        text = f"test image {i}: " + ("; ".join(parts) if parts else "no target or backward generator given")
        return _render(fig), text

    explorer = Explorer({"index": chooser}, draw)
    explorer.results = results
    return explorer

