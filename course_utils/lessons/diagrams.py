"""The lessons' diagrams: pictures of ideas drawn with boxes, arrows and sketches.

Each function draws one picture of a lesson and returns its figure. Boxes are patches
(``ax.patches``) and every word is a text (``ax.texts``). Where a picture shows sizes, shapes or
widths, they come from its arguments (the architecture's real numbers, e.g.
``models.unet_filters(256)``), not from numbers typed into the drawing.

1. **Lesson 01**: discriminative versus generative models
   (:func:`discriminative_vs_generative_diagram`), the GAN loop (:func:`gan_loop_diagram`), the
   DCGAN's tensors (:func:`network_diagram`) and a transposed convolution
   (:func:`transposed_conv_diagram`).
2. **Lesson 02**: the conditional GAN (:func:`conditional_gan_diagram`) and the U-Net
   (:func:`unet_diagram`).
3. **Lesson 03**: CycleGAN's two generators and two discriminators (:func:`cyclegan_diagram`)
   and the ResNet generator (:func:`resnet_generator_diagram`).
4. **Sizes**: :func:`parameter_bars` compares parameter counts.

Images in the sketches are in [-1, 1], as everywhere in the course (:func:`course_utils.lessons.plotting.to_display`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from course_utils.core.images import as_numpy

ArrayLike = Any  # a NumPy array, a tf.Tensor, or anything np.asarray understands


def _box(ax: Axes, xy: tuple[float, float], text: str, colour: str, w: float = 1.8, h: float = 0.7,
         fontsize: float = 10) -> None:
    """A rounded box of ``w`` x ``h`` centred on ``xy``, with ``text`` in it."""
    ax.add_patch(FancyBboxPatch((xy[0] - w / 2, xy[1] - h / 2), w, h, boxstyle="round,pad=0.05",
                                facecolor=colour, edgecolor="black"))
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], text: str = "", *,
           colour: str = "black", rad: float = 0.0, dy: float = 0.15, **props: Any) -> None:
    """An arrow from ``start`` to ``end`` (bent by ``rad``), with ``text`` above its middle."""
    style = {"arrowstyle": "-|>", "color": colour, "lw": 1.5, "connectionstyle": f"arc3,rad={rad}", **props}
    ax.annotate("", xy=end, xytext=start, arrowprops=style)
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + dy, text, ha="center",
                fontsize=9, color=colour)


def _canvas(figsize: tuple[float, float], xlim: tuple[float, float], ylim: tuple[float, float]) -> tuple[Figure, Axes]:
    """A figure with one frameless axes spanning ``xlim`` x ``ylim``, to draw boxes and arrows on."""
    fig, ax = plt.subplots(figsize=figsize)
    ax.set(xlim=xlim, ylim=ylim)
    ax.axis("off")
    return fig, ax


def _shape_text(shape: Sequence[int]) -> str:
    """``(7, 7, 256)`` -> ``"(b, 7, 7, 256)"``: a tensor's shape with its batch axis."""
    return "(b, " + ", ".join(str(int(n)) for n in shape) + ")"


def discriminative_vs_generative_diagram(
    grid: tuple[ArrayLike, ArrayLike],
    posterior: ArrayLike,
    densities: tuple[ArrayLike, ArrayLike],
    samples: tuple[ArrayLike, ArrayLike],
    new_samples: ArrayLike,
    *,
    names: tuple[str, str] = ("class 0", "class 1"),
    axis_labels: tuple[str, str] = ("x1", "x2"),
) -> Figure:
    """Lesson 01: the same two classes seen by a discriminative and by a generative model.

    Left, the discriminative view: ``posterior`` = p(class 1 | x) over the ``grid`` (two
    meshgrid arrays), with its 0.5 border. Right, the generative view: each class's density
    p(x | class) (``densities``) as contours, and ``new_samples`` drawn from class 1's. Both show
    the data points ``samples`` (one (n, 2) array per class).
    """
    g1, g2 = (as_numpy(g) for g in grid)
    fig, (ax_d, ax_g) = plt.subplots(1, 2, figsize=(11, 4.5))
    filled = ax_d.contourf(g1, g2, as_numpy(posterior), levels=20, cmap="RdBu_r", alpha=0.7)
    ax_d.contour(g1, g2, as_numpy(posterior), levels=[0.5], colors="black")
    fig.colorbar(filled, ax=ax_d, label=f"p({names[1]} | x)")
    ax_d.set_title("Discriminative: p(y | x), a border between classes")
    for density, colour in zip(densities, ("C0", "C3")):
        ax_g.contour(g1, g2, as_numpy(density), levels=5, colors=colour)
    ax_g.scatter(*as_numpy(new_samples).T, marker="*", s=250, color="gold", edgecolor="black", zorder=3,
                 label=f"new samples drawn from p(x | {names[1]})")
    ax_g.set_title("Generative: p(x | y), what each class looks like")
    for ax in (ax_d, ax_g):
        for points, name, colour in zip(samples, names, ("C0", "C3")):
            ax.scatter(*as_numpy(points).T, s=10, color=colour, label=name)
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
    ax_g.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def gan_loop_diagram(latent_dim: int = 100, image_shape: Sequence[int] = (28, 28, 1)) -> Figure:
    """Lesson 01: the GAN's double feedback loop, with the tensors' shapes in the boxes.

    D learns from the ground truth (real -> 1, fake -> 0); G learns from D's verdict on its fakes
    (fake -> 1), its gradient flowing back through D.
    """
    image = _shape_text(image_shape)
    fig, ax = _canvas((11, 5), (-1.2, 11.6), (0.6, 5.2))
    _box(ax, (0.0, 2.0), f"noise z ~ N(0, I)\n{_shape_text((latent_dim,))}", "#eeeeee")
    _box(ax, (2.6, 2.0), "Generator G", "#cfe2ff")
    _box(ax, (5.2, 2.0), f"fake images G(z)\n{image}", "#eeeeee")
    _box(ax, (5.2, 4.0), f"real images x\n{image}", "#eeeeee")
    _box(ax, (7.8, 3.0), "Discriminator D", "#ffe0cc")
    _box(ax, (10.4, 4.0), "D loss: real -> 1,\nfake -> 0", "#fff3b0")
    _box(ax, (10.4, 2.0), 'G loss: fake -> 1\n("real" label)', "#d9f2d9")
    for start, end in [((0.9, 2.0), (1.7, 2.0)), ((3.5, 2.0), (4.3, 2.0)), ((6.1, 2.1), (6.9, 2.8)),
                       ((6.1, 3.9), (6.9, 3.2)), ((8.7, 3.2), (9.5, 3.9)), ((8.7, 2.8), (9.5, 2.1))]:
        _arrow(ax, start, end)
    ax.text(9.25, 3.0, "logits", fontsize=9, ha="center", va="center")
    _arrow(ax, (10.4, 4.4), (7.8, 3.4), "1: D learns from the ground truth", colour="C1", rad=0.35, dy=0.75)
    _arrow(ax, (10.2, 1.6), (8.0, 2.6), colour="C2", rad=-0.3)
    _arrow(ax, (7.6, 2.6), (2.6, 1.6), colour="C2", rad=-0.3)
    ax.text(6.4, 0.85, "2: G learns from D's verdict: its gradient flows back through D "
            "(D's weights are not changed)", ha="center", fontsize=9, color="C2")
    ax.set_title("The double feedback loop of a GAN")
    return fig


#: One block of :func:`network_diagram`: (the layers that made the tensor, the tensor's shape
#: without the batch axis), e.g. ``("ConvT 5x5, s2", (14, 14, 64))``.
Block = tuple[str, Sequence[int]]


def network_diagram(networks: Mapping[str, Sequence[Block]]) -> Figure:
    """Lesson 01: each network as a row of boxes, one per tensor, left to right.

    ``networks`` maps a title to its blocks (:data:`Block`). Above each box the layers that made
    the tensor, below it its shape; the box's height grows with the image size (a flat vector
    counts as size 0) and its width with the log of the number of channels.
    """
    if not networks or any(len(blocks) == 0 for blocks in networks.values()):
        raise ValueError("network_diagram needs at least one network with at least one block.")
    fig, axes = plt.subplots(len(networks), 1, figsize=(11, 2.8 * len(networks)), squeeze=False)
    for ax, (title, blocks) in zip(axes[:, 0], networks.items()):
        x = 0.0
        for i, (label, shape) in enumerate(blocks):
            size = int(shape[0]) if len(shape) == 3 else 0
            height = 0.6 + 0.11 * size                                # taller = larger image
            width = 0.35 + 0.12 * np.log2(int(shape[-1]) + 1)          # wider = more channels
            ax.add_patch(Rectangle((x, -height / 2), width, height, edgecolor="black",
                                   facecolor=plt.cm.Blues(0.25 + 0.05 * i)))
            ax.text(x + width / 2, height / 2 + 0.15, label, ha="center", va="bottom", fontsize=8)
            ax.text(x + width / 2, -height / 2 - 0.15, _shape_text(shape), ha="center", va="top",
                    fontsize=8, family="monospace")
            if i < len(blocks) - 1:
                _arrow(ax, (x + width + 0.05, 0), (x + width + 0.85, 0))
            x += width + 0.9
        ax.set(xlim=(-0.2, x - 0.6), ylim=(-2.9, 2.9))
        ax.axis("off")
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def transposed_conv_diagram(x: ArrayLike, output: ArrayLike, kernel_size: int, stride: int) -> Figure:
    """Lesson 01: where each input cell's stamp lands in a transposed convolution's output.

    ``x`` (h, w) is the input, ``output`` the result of the convolution (no padding), written in
    its cells. Each input cell gets a colour, and its ``kernel_size`` square block of the output is
    outlined in it; the shading counts how many stamps reach each output cell.
    """
    x, output = as_numpy(x), as_numpy(output)
    (h, w), k = x.shape, int(kernel_size)
    expected = ((h - 1) * stride + k, (w - 1) * stride + k)
    if output.shape != expected:
        raise ValueError(f"An input of shape {x.shape} with kernel {k} and stride {stride} gives an output "
                         f"of shape {expected}, not {output.shape}.")
    touches = np.zeros(expected, dtype=np.float32)                # stamps per output cell
    for i in range(h):
        for j in range(w):
            touches[i * stride:i * stride + k, j * stride:j * stride + k] += 1
    colours = [f"C{n % 10}" for n in range(h * w)]
    fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(8, 3.8), gridspec_kw={"width_ratios": [2, 5]})
    for n, (i, j) in enumerate(np.ndindex(h, w)):
        ax_in.add_patch(Rectangle((j, i), 1, 1, facecolor=colours[n], alpha=0.5, edgecolor="black"))
        ax_in.text(j + 0.5, i + 0.5, f"{x[i, j]:g}", ha="center", va="center", fontsize=14)
        inset = 0.06 + 0.06 * n                                   # shift the outlines apart a little
        ax_out.add_patch(Rectangle((stride * j + inset, stride * i + inset), k - 2 * inset, k - 2 * inset,
                                   fill=False, edgecolor=colours[n], linewidth=2.5))
    ax_out.imshow(touches, cmap="Greys", vmin=0, vmax=1.5 * touches.max(), extent=(0, expected[1], expected[0], 0))
    for i, j in np.ndindex(*expected):
        ax_out.text(j + 0.5, i + 0.5, f"{output[i, j]:g}", ha="center", va="center", fontsize=12)
    ax_in.set(xlim=(0, w), ylim=(h, 0), title=f"input ({h}, {w})")
    counts = ", ".join(str(int(c)) for c in np.unique(touches))
    ax_out.set_title(f"output {expected}: kernel {k}, stride {stride}\n"
                     f"shading = stamps that reach the cell ({counts})")
    for ax in (ax_in, ax_out):
        ax.set(aspect="equal", xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def conditional_gan_diagram() -> Figure:
    """Lesson 02: Pix2Pix as a conditional GAN; G maps x to G(x), D judges (x, y) and (x, G(x))."""
    fig, ax = _canvas((10, 3.6), (0, 10), (0, 4))
    _box(ax, (1.0, 3.0), "input x\n(label map)", "#dde8f7", w=1.6, h=0.8)
    _box(ax, (1.0, 1.0), "target y\n(photo)", "#dff2df", w=1.6, h=0.8)
    _box(ax, (3.4, 3.0), "generator G\n(U-Net)", "#f7e3c6", w=1.6, h=0.8)
    _box(ax, (5.8, 3.0), "G(x)\n(fake photo)", "#f4d3d3", w=1.6, h=0.8)
    _box(ax, (5.8, 1.0), "pair (x, y)\nor (x, G(x))", "#eeeeee", w=2.0, h=0.8)
    _box(ax, (8.3, 1.0), "discriminator D\n(PatchGAN)", "#f7e3c6", w=1.9, h=0.8)
    _arrow(ax, (1.8, 3.0), (2.6, 3.0))
    _arrow(ax, (4.2, 3.0), (5.0, 3.0))
    _arrow(ax, (1.8, 1.0), (4.8, 1.0), "real pair")
    _arrow(ax, (5.8, 2.6), (5.8, 1.4), "fake pair")
    _arrow(ax, (1.3, 2.6), (4.9, 1.35))
    _arrow(ax, (6.8, 1.0), (7.35, 1.0))
    ax.text(8.3, 0.2, "a grid of real/fake verdicts", ha="center", fontsize=9)
    ax.set_title("Pix2Pix: a conditional GAN (both players see the input x)")
    fig.tight_layout()
    return fig


def unet_diagram(widths: Sequence[int], image_size: int, *, dropout_blocks: int = 3) -> Figure:
    """Lesson 02: the encoder-decoder (top) and the U-Net (bottom) as boxes of size x channels.

    ``widths`` are the encoder blocks' channels (``models.unet_filters(image_size)``), one block
    per halving of the image. The decoder mirrors the encoder; in the U-Net each decoder block's
    output is joined (concatenated) with its mirror's, which doubles its channels; the first
    ``dropout_blocks`` decoder blocks use dropout.
    """
    n = len(widths)
    if image_size != 2**n:
        raise ValueError(f"{n} encoder blocks halve {2**n}x{2**n} down to 1x1, not {image_size}x{image_size}: "
                         "pass widths=models.unet_filters(image_size).")
    fig, axes = plt.subplots(2, 1, figsize=(12, 9))
    for ax, skips in zip(axes, (False, True)):
        ax.axis("off")
        ax.set(xlim=(-1.8, 2 * n - 0.2), ylim=(-n - 0.2, 1.8))

        def block(x: float, y: float, text: str, colour: str) -> None:
            ax.add_patch(Rectangle((x - 0.45, y - 0.3), 0.9, 0.6, facecolor=colour, edgecolor="black"))
            ax.text(x, y, text, ha="center", va="center", fontsize=7)

        def link(p: tuple[float, float], q: tuple[float, float], **kw: Any) -> None:
            ax.annotate("", xy=q, xytext=p, arrowprops=dict(arrowstyle="->", lw=1, **kw))

        block(-1, 1, f"input\n{image_size}²x3", "#eeeeee")
        previous = (-1, 1)
        for i, f in enumerate(widths):                       # encoder, going down
            size = image_size // 2 ** (i + 1)
            block(i, -i, f"{size}²x{f}" + ("\nno BN" if i == 0 else ""), "#cfe0f5" if i else "#eef4fb")
            link((previous[0] + 0.3, previous[1] - 0.3), (i - 0.3, -i + 0.3))
            previous = (i, -i)
        for j in range(n - 1):                               # decoder, going up
            i = n - 2 - j                                    # the encoder block it mirrors
            size = image_size // 2 ** (i + 1)
            x = 2 * (n - 1) - i
            channels = widths[i] * (2 if skips else 1)
            dropout = j < dropout_blocks
            block(x, -i, f"{size}²x{channels}" + ("\ndrop 0.5" if dropout else ""),
                  "#f7d9b5" if dropout else "#fbead5")
            link((previous[0] + 0.3, previous[1] + 0.3), (x - 0.3, -i - 0.3))
            if skips:
                link((i + 0.45, -i), (x - 0.45, -i), color="tab:green", linestyle="--")
            previous = (x, -i)
        block(2 * n - 1, 1, f"tanh\n{image_size}²x3", "#eeeeee")
        link((previous[0] + 0.3, previous[1] + 0.3), (2 * n - 1.3, 0.7))
        ax.text(-1.7, -n + 0.4, "blue: encoder blocks (conv 4x4 stride 2, BN, LeakyReLU)\n"
                "orange: decoder blocks (transposed conv 4x4 stride 2, BN, dropout, ReLU)\n"
                "box text: height x width x channels after the block", fontsize=8, va="bottom")
        ax.set_title("U-Net: skip connections (dashed) join mirrored blocks; channels double at each join"
                     if skips else "encoder-decoder: everything must pass the 1x1 bottleneck", fontsize=10)
    fig.tight_layout()
    return fig


def cyclegan_diagram() -> Figure:
    """Lesson 03: the two domains, the two mappings G: X -> Y and F: Y -> X, and one judge per domain."""
    fig, ax = _canvas((9, 4.2), (0, 10), (0, 4.6))
    ax.set_aspect("equal")
    for cx, name, colour in ((2.3, "X\nday / horse", "#cfe3ff"), (7.7, "Y\ndusk / zebra", "#ffd9c2")):
        ax.add_patch(plt.Circle((cx, 2.2), 1.1, fc=colour, ec="black"))
        ax.text(cx, 2.2, name, ha="center", va="center", fontsize=12)
    mapping = dict(arrowstyle="-|>", lw=2, mutation_scale=18, connectionstyle="arc3,rad=-0.3")
    ax.annotate("", xy=(6.75, 2.85), xytext=(3.25, 2.85), arrowprops={**mapping, "color": "C0"})
    ax.annotate("", xy=(3.25, 1.55), xytext=(6.75, 1.55), arrowprops={**mapping, "color": "C1"})
    ax.text(5, 3.65, "G: X → Y", ha="center", fontsize=13, color="C0")
    ax.text(5, 0.5, "F: Y → X", ha="center", fontsize=13, color="C1")
    judge = dict(boxstyle="round", fc="#eeeeee", ec="gray")
    ax.text(0.55, 4.3, "$D_X$: a real x,\nor an F(y)?", ha="center", va="top", fontsize=10, bbox=judge)
    ax.text(9.45, 4.3, "$D_Y$: a real y,\nor a G(x)?", ha="center", va="top", fontsize=10, bbox=judge)
    ax.annotate("", xy=(0.9, 3.55), xytext=(1.5, 2.95), arrowprops=dict(arrowstyle="-|>", color="gray"))
    ax.annotate("", xy=(9.1, 3.55), xytext=(8.5, 2.95), arrowprops=dict(arrowstyle="-|>", color="gray"))
    ax.set_title("CycleGAN: two mappings, and one judge per domain")
    return fig


def resnet_generator_diagram(image_size: int = 256, n_blocks: int = 9, filters: int = 64) -> Figure:
    """Lesson 03: the ResNet generator's feature maps, left to right (height: size, width: channels).

    Down to 1/4 of the size with two stride-2 convolutions, ``n_blocks`` residual blocks there,
    back up with two transposed convolutions; no long skip connections.
    """
    if image_size % 4:
        raise ValueError(f"The ResNet generator halves the image twice: image_size must be a multiple of 4, "
                         f"got {image_size}.")
    s, f = image_size, filters
    stages = [  # (label above the box, size, channels)
        ("input", s, 3), ("pad 3, 7x7 conv\nIN, ReLU", s, f), ("3x3 conv /2\nIN, ReLU", s // 2, 2 * f),
        ("3x3 conv /2\nIN, ReLU", s // 4, 4 * f), (f"{n_blocks} residual\nblocks", s // 4, 4 * f),
        ("3x3 transp. x2\nIN, ReLU", s // 2, 2 * f), ("3x3 transp. x2\nIN, ReLU", s, f),
        ("pad 3, 7x7 conv\ntanh", s, 3),
    ]
    fig, ax = _canvas((11, 3.3), (-0.2, 2.0 * len(stages) - 0.4), (-0.85, 2.75))
    for i, (label, size, channels) in enumerate(stages):
        height, width = 2.0 * size / s, 0.25 + 0.9 * channels / (4 * f)
        cx = 2.0 * i + 0.7
        colour = "#ffd9c2" if "residual" in label else "#cfe3ff" if channels > 3 else "#e8e8e8"
        ax.add_patch(Rectangle((cx - width / 2, 1.0 - height / 2), width, height, fc=colour, ec="black"))
        ax.text(cx, 2.08, label, ha="center", va="bottom", fontsize=8.5)
        ax.text(cx, -0.15, f"{size}x{size}\nx{channels}", ha="center", va="top", fontsize=9)
        if i:
            _arrow(ax, (cx - 2.0 + 0.55, 1.0), (cx - width / 2 - 0.05, 1.0), colour="gray", lw=1.0)
    res_x = 2.0 * 4 + 0.7   # the residual stage: each block adds its input back (x + F(x))
    _arrow(ax, (res_x - 0.35, 0.55), (res_x + 0.35, 0.55), colour="C1", rad=0.9, lw=1.0)
    ax.text(res_x, 0.2, "x + F(x)", ha="center", fontsize=8, color="C1")
    ax.set_title(f"ResNet generator at {s}x{s}: down to 1/4, {n_blocks} residual blocks, back up (no long skips)")
    return fig


def parameter_bars(counts: Mapping[str, int], title: str) -> Figure:
    """Horizontal bars of parameter counts (in millions), the exact count written at each bar's end."""
    names, values = list(counts), [int(v) for v in counts.values()]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.4 * len(names)))
    ax.barh(names, [v / 1e6 for v in values], color="C0")
    for i, v in enumerate(values):
        ax.text(v / 1e6, i, f" {v:,}", va="center")
    ax.invert_yaxis()
    ax.set(xlabel="parameters (millions)", xlim=(0, 1.2 * max(values) / 1e6 if max(values) else 1), title=title)

    fig.tight_layout()
    return fig

