#!/usr/bin/env python
"""Regenerate the course's shipped mini datasets, deterministically.

    python data/make_data.py              # everything, into data/ (what `make data` runs)
    python data/make_data.py --out DIR    # somewhere else (the tests use a temporary folder)

Three sets, all drawn by the code below (no outside images, so no outside licence):

* ``label2scene/``  paired, pix2pix layout ``{train,val,test}/*.jpg``: each file is a
  procedural label map (A, left) next to the shaded "photo" of the same scene (B, right).
* ``day2dusk/``     unpaired, CycleGAN layout ``{trainA,trainB,testA,testB}/*.jpg``: A are
  daylight scenes, B are dusk scenes. A dusk image is ``dusk(day image)`` for a known,
  invertible per-pixel colour map (:func:`dusk`), but every B file comes from a *different*
  scene than every A file, so the two folders share no pairs.
* ``digits/digits.npz``  handwritten-looking 28x28 digits ``images`` (uint8) and ``labels``.

Every image depends only on (set, split, index) through its own NumPy seed, so the first
``n`` files are the same whatever count you ask for. Pixels are reproducible everywhere;
the JPEG bytes can differ slightly between Pillow/libjpeg versions.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

#: Base of every seed: change it and every image changes.
SEED = 20240611

#: Images are drawn at CANVAS x CANVAS, then shrunk to the stored size (anti-aliasing).
CANVAS = 128
SIZE = 64

#: Files per split.
PAIRED_COUNTS = {"train": 300, "val": 40, "test": 40}
UNPAIRED_COUNTS = {"trainA": 200, "trainB": 200, "testA": 40, "testB": 40}
DIGITS_COUNT = 3000

JPEG_OPTIONS = dict(quality=92, subsampling=0, optimize=True)

# ---------------------------------------------------------------------------
# Label colours of the paired set (flat, saturated, one per class), like a facade label map.
# ---------------------------------------------------------------------------
LABELS: dict[str, tuple[int, int, int]] = {
    "sky": (0, 0, 170),
    "sun": (255, 255, 0),
    "cloud": (85, 255, 255),
    "ground": (0, 150, 0),
    "trunk": (128, 64, 0),
    "foliage": (0, 255, 170),
    "wall": (255, 85, 0),
    "roof": (170, 0, 0),
    "window": (0, 85, 255),
    "door": (255, 170, 0),
}
LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}
PALETTE = np.array(list(LABELS.values()), dtype=np.uint8)

# Per-house colour choices of the rendered scene (RGB in [0, 1]).
WALL_COLOURS = [(0.72, 0.33, 0.25), (0.88, 0.8, 0.62), (0.93, 0.93, 0.9), (0.55, 0.7, 0.82),
                (0.9, 0.75, 0.4)]
ROOF_COLOURS = [(0.5, 0.15, 0.12), (0.3, 0.3, 0.34), (0.45, 0.3, 0.2)]


def rng_for(*keys: int | str) -> np.random.Generator:
    """An independent generator for one image, from the set/split/index keys."""
    words = [SEED] + [k if isinstance(k, int) else int.from_bytes(k.encode(), "little") for k in keys]
    return np.random.default_rng(words)


# ---------------------------------------------------------------------------
# Scenes: a few shapes with a label and a way to paint them.
# ---------------------------------------------------------------------------
@dataclass
class Shape:
    label: str
    kind: str                      # "polygon", "ellipse" or "rect"
    coords: list                   # PIL coordinates at CANVAS scale
    colour: tuple = (0.0, 0.0, 0.0)
    box: tuple = (0, 0, 0, 0)      # x0, y0, x1, y1 (for shading inside the shape)


@dataclass
class Scene:
    sun: tuple[float, float, float] | None  # x, y, radius
    horizon: np.ndarray                     # ground height per canvas column
    grass: tuple
    shapes: list[Shape] = field(default_factory=list)


def random_scene(rng: np.random.Generator, size: int = CANVAS) -> Scene:
    """Draw the parameters of one scene: sky, sun, clouds, hills, trees, houses."""
    s = size
    xs = np.arange(s)
    horizon = np.full(s, rng.uniform(0.55, 0.7) * s)
    for _ in range(2):
        amp, freq, phase = rng.uniform(0.02, 0.06) * s, rng.uniform(0.5, 2.0), rng.uniform(0, 2 * np.pi)
        horizon = horizon + amp * np.sin(2 * np.pi * freq * xs / s + phase)
    sun = None
    if rng.random() < 0.8:
        sun = (rng.uniform(0.1, 0.9) * s, rng.uniform(0.08, 0.3) * s, rng.uniform(0.05, 0.08) * s)
    grass = tuple(np.clip(np.array([0.25, 0.55, 0.2]) + rng.normal(0, 0.05, 3), 0, 1))
    scene = Scene(sun=sun, horizon=horizon, grass=grass)

    if sun is not None:
        x, y, r = sun
        scene.shapes.append(Shape("sun", "ellipse", [x - r, y - r, x + r, y + r], (1.0, 0.9, 0.45),
                                  (x - r, y - r, x + r, y + r)))
    for _ in range(rng.integers(0, 3)):
        cx, cy, w = rng.uniform(0, s), rng.uniform(0.08, 0.35) * s, rng.uniform(0.12, 0.25) * s
        for dx, dy, f in ((-0.3, 0.05, 0.5), (0.0, -0.1, 0.65), (0.3, 0.05, 0.5)):
            x0, y0 = cx + dx * w - f * w / 2, cy + dy * w - f * w / 3
            box = (x0, y0, x0 + f * w, y0 + f * w / 1.5)
            scene.shapes.append(Shape("cloud", "ellipse", list(box), (0.96, 0.96, 0.98), box))
    ground = [(0, s)] + [(x, horizon[x]) for x in range(0, s, 4)] + [(s - 1, horizon[-1]), (s, s)]
    scene.shapes.append(Shape("ground", "polygon", ground, grass, (0, int(horizon.min()), s, s)))

    # Houses on the ground, side by side without overlapping; trees in the gaps.
    occupied: list[tuple[float, float]] = []
    for _ in range(rng.integers(1, 4)):
        w = rng.uniform(0.2, 0.34) * s
        x0 = rng.uniform(0.02 * s, s - w - 0.02 * s)
        if any(x0 < b + 3 and x0 + w > a - 3 for a, b in occupied):
            continue
        occupied.append((x0, x0 + w))
        x1 = x0 + w
        bottom = float(horizon[int(x0):int(x1)].max()) + rng.uniform(2, 0.06 * s)
        top = bottom - rng.uniform(0.17, 0.3) * s
        roof_top = top - rng.uniform(0.08, 0.16) * s
        wall = WALL_COLOURS[rng.integers(len(WALL_COLOURS))]
        roof = ROOF_COLOURS[rng.integers(len(ROOF_COLOURS))]
        scene.shapes.append(Shape("wall", "rect", [x0, top, x1, bottom], wall, (x0, top, x1, bottom)))
        eave = 0.03 * s
        scene.shapes.append(Shape("roof", "polygon", [(x0 - eave, top), (x1 + eave, top), ((x0 + x1) / 2, roof_top)],
                                  roof, (x0 - eave, roof_top, x1 + eave, top)))
        door_w, door_h = 0.07 * s, min(0.13 * s, 0.6 * (bottom - top))
        door_x = rng.uniform(x0 + 0.1 * w, x1 - 0.1 * w - door_w)
        scene.shapes.append(Shape("door", "rect", [door_x, bottom - door_h, door_x + door_w, bottom],
                                  (0.42, 0.25, 0.13), (door_x, bottom - door_h, door_x + door_w, bottom)))
        cols = max(1, int(w // (0.11 * s)))
        win = 0.06 * s
        gap = (w - cols * win) / (cols + 1)
        for c in range(cols):
            wx = x0 + gap + c * (win + gap)
            wy = top + 0.05 * s
            if wx + win > door_x - 1 and wx < door_x + door_w + 1 and wy + win > bottom - door_h - 1:
                continue
            scene.shapes.append(Shape("window", "rect", [wx, wy, wx + win, wy + win], (0.8, 0.9, 1.0),
                                      (wx, wy, wx + win, wy + win)))
    for _ in range(rng.integers(0, 4)):
        x = rng.uniform(0.05, 0.95) * s
        if any(a - 4 < x < b + 4 for a, b in occupied):
            continue
        ground_y = float(horizon[int(x)]) + rng.uniform(1, 4)
        trunk_h, r = rng.uniform(0.07, 0.12) * s, rng.uniform(0.05, 0.09) * s
        tw = 0.025 * s
        scene.shapes.insert(len([sh for sh in scene.shapes if sh.label in ("sun", "cloud", "ground")]),
                            Shape("trunk", "rect", [x - tw / 2, ground_y - trunk_h, x + tw / 2, ground_y],
                                  (0.38, 0.25, 0.14), (x - tw / 2, ground_y - trunk_h, x + tw / 2, ground_y)))
        cy = ground_y - trunk_h - 0.7 * r
        leaf = tuple(np.clip(np.array([0.12, 0.4, 0.14]) + rng.normal(0, 0.04, 3), 0, 1))
        box = (x - r, cy - r, x + r, cy + r)
        scene.shapes.insert(len([sh for sh in scene.shapes if sh.label in ("sun", "cloud", "ground", "trunk")]),
                            Shape("foliage", "ellipse", list(box), leaf, box))
    return scene


def _mask(shape: Shape, size: int) -> np.ndarray:
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    getattr(draw, shape.kind if shape.kind != "rect" else "rectangle")(shape.coords, fill=255)
    return np.asarray(canvas) > 127


def render(scene: Scene, rng: np.random.Generator, size: int = CANVAS) -> tuple[np.ndarray, np.ndarray]:
    """Paint a scene: returns (label index map (size, size) uint8, photo (size, size, 3) float in [0, 1])."""
    s = size
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    light_x = scene.sun[0] if scene.sun is not None else s / 2

    # Sky: dark blue at the top, pale at the horizon, a glow around the sun.
    t = np.clip(yy / (0.7 * s), 0, 1)[..., None]
    photo = (1 - t) * np.array([0.22, 0.42, 0.82]) + t * np.array([0.72, 0.84, 0.96])
    if scene.sun is not None:
        x, y, r = scene.sun
        glow = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * (2.5 * r) ** 2))[..., None]
        photo = photo + 0.3 * glow * np.array([1.0, 0.9, 0.6])
    labels = np.full((s, s), LABEL_INDEX["sky"], np.uint8)
    noise = rng.normal(0, 1, (s, s)).astype(np.float32)

    for shape in scene.shapes:
        m = _mask(shape, s)
        labels[m] = LABEL_INDEX[shape.label]
        x0, y0, x1, y1 = shape.box
        u = np.clip((xx - x0) / max(x1 - x0, 1), 0, 1)   # 0..1 across the shape
        v = np.clip((yy - y0) / max(y1 - y0, 1), 0, 1)   # 0..1 down the shape
        c = np.array(shape.colour)
        if shape.label == "ground":
            shade = 0.85 + 0.35 * np.clip((yy - y0) / max(s - y0, 1), 0, 1)
            paint = c * (shade * (1 + 0.08 * noise))[..., None]
        elif shape.label == "wall":
            lit = 1.0 - 0.3 * np.abs((x0 + x1) / 2 - light_x) / s - 0.25 * (u if light_x < (x0 + x1) / 2 else 1 - u)
            paint = c * (lit * (1 + 0.03 * noise) * (1 - 0.06 * ((yy // 3) % 2)))[..., None]
        elif shape.label == "roof":
            paint = c * (0.75 + 0.45 * (1 - v))[..., None]
        elif shape.label == "window":
            paint = (1 - v)[..., None] * np.array([0.85, 0.93, 1.0]) + v[..., None] * np.array([0.3, 0.45, 0.65])
        elif shape.label == "door":
            paint = c * (0.8 + 0.3 * (1 - u))[..., None]
        elif shape.label == "foliage":
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            toward = ((xx - cx) * np.sign(light_x - cx + 1e-3) - (yy - cy)) / max(x1 - x0, 1)
            paint = c * (0.9 + 0.6 * toward + 0.12 * noise)[..., None]
        elif shape.label == "cloud":
            paint = c * (1.0 - 0.2 * v)[..., None]
        else:  # sun, trunk
            paint = np.broadcast_to(c, (s, s, 3))
        photo = np.where(m[..., None], paint, photo)
    return labels, np.clip(photo, 0, 1)


def shrink(photo: np.ndarray, labels: np.ndarray, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Canvas -> stored size: the photo with a box filter (anti-aliased), labels by nearest pixel."""
    img = Image.fromarray((photo * 255 + 0.5).astype(np.uint8)).resize((size, size), Image.Resampling.BOX)
    lab = Image.fromarray(labels).resize((size, size), Image.Resampling.NEAREST)
    return np.asarray(img), PALETTE[np.asarray(lab)]


# ---------------------------------------------------------------------------
# The known day -> dusk map of the unpaired set. Keep in sync with
# course_utils.core.data.true_translation (a test checks they agree).
# ---------------------------------------------------------------------------
DUSK_GAMMA = 1.5


def dusk(rgb01: np.ndarray) -> np.ndarray:
    """Day -> dusk for colours in [0, 1]: swap red and blue, then darken with gamma 1.5.

    Both steps are invertible, so the inverse (dusk -> day) is exact up to rounding.
    """
    return np.clip(rgb01[..., ::-1], 0, 1) ** DUSK_GAMMA


# ---------------------------------------------------------------------------
# Digits: strokes of each numeral in a unit box, jittered, drawn with a round pen.
# ---------------------------------------------------------------------------
def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 24) -> list:
    t = np.radians(np.linspace(start, stop, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def digit_strokes(d: int, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """Polylines (x right, y down, unit box) for digit ``d`` with a little random style."""
    j = lambda a=0.04: rng.uniform(-a, a)  # noqa: E731  (a small random offset)
    if d == 0:
        return [_arc(0.5, 0.5, 0.28 + j(), 0.42 + j(), -90 + j(20), 275 + j(10), 40)]
    if d == 1:
        top = (0.52 + j(), 0.08)
        strokes = [[top, (0.5 + j(), 0.92)]]
        if rng.random() < 0.5:
            strokes.append([(0.33 + j(), 0.25 + j()), top])
        return strokes
    if d == 2:
        return [_arc(0.5, 0.3 + j(), 0.27, 0.22, 180 + j(15), 390) + [(0.2 + j(), 0.9), (0.82 + j(), 0.9 + j(0.03))]]
    if d == 3:
        return [_arc(0.5, 0.29, 0.23 + j(), 0.2, 200 + j(15), 450) + _arc(0.5, 0.7, 0.26 + j(), 0.22, -90, 155 + j(15))]
    if d == 4:
        x = 0.62 + j()
        return [[(x, 0.92), (x, 0.08), (0.15 + j(), 0.64 + j()), (0.86 + j(), 0.64)]]
    if d == 5:
        return [[(0.76 + j(), 0.1), (0.33, 0.1), (0.3 + j(), 0.46)] + _arc(0.5, 0.66, 0.27, 0.24, -140, 150 + j(15))]
    if d == 6:
        return [[(0.7 + j(), 0.08), (0.45, 0.25), (0.3, 0.5)] + _arc(0.5, 0.68, 0.22 + j(), 0.22, 180, 540)]
    if d == 7:
        top_y = 0.1 + j()
        return [[(0.18 + j(), top_y), (0.82 + j(), top_y), (0.42 + j(0.08), 0.92)]]
    if d == 8:
        return [_arc(0.5, 0.29, 0.19 + j(), 0.19, -90, 270), _arc(0.5 + j(0.02), 0.7, 0.24 + j(), 0.22, -90, 270)]
    if d == 9:
        return [_arc(0.48, 0.32, 0.22 + j(), 0.21, 0, 360) + [(0.7, 0.32), (0.62 + j(0.08), 0.92)]]
    raise ValueError(f"no strokes for digit {d}")


def draw_digit(d: int, rng: np.random.Generator) -> np.ndarray:
    """One 28x28 uint8 digit, white on black and centred like MNIST (20x20 box, centre of mass)."""
    big = 112
    angle, shear = math.radians(rng.normal(0, 8)), rng.normal(0, 0.15)
    sx, sy = rng.uniform(0.75, 1.05), rng.uniform(0.9, 1.05)
    ca, sa = math.cos(angle), math.sin(angle)
    img = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(img)
    width = int(rng.integers(7, 14))
    wobble = rng.uniform(0, 2 * np.pi, 2)
    for stroke in digit_strokes(d, rng):
        pts = []
        for x, y in stroke:
            x, y = x - 0.5, y - 0.5
            x, y = sx * (x + shear * y), sy * y                     # shear and scale
            x, y = ca * x - sa * y, sa * x + ca * y                 # rotate
            x += 0.015 * math.sin(5 * y + wobble[0])                # a shaky hand
            y += 0.015 * math.sin(5 * x + wobble[1])
            pts.append((56 + 72 * x, 56 + 72 * y))
        draw.line(pts, fill=255, width=width, joint="curve")
        r = width / 2
        for px, py in (pts[0], pts[-1]):
            draw.ellipse([px - r, py - r, px + r, py + r], fill=255)
    arr = np.asarray(img)
    ys, xs = np.nonzero(arr)
    crop = Image.fromarray(arr[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1])
    scale = 20 / max(crop.size)
    crop = crop.resize((max(1, round(crop.size[0] * scale)), max(1, round(crop.size[1] * scale))),
                       Image.Resampling.LANCZOS)
    out = np.zeros((28, 28), np.float32)
    c = np.asarray(crop, np.float32)
    h, w = c.shape
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = (yy * c).sum() / c.sum(), (xx * c).sum() / c.sum()
    oy, ox = int(round(14 - cy)), int(round(14 - cx))
    oy, ox = min(max(oy, 0), 28 - h), min(max(ox, 0), 28 - w)
    out[oy:oy + h, ox:ox + w] = c
    return np.clip(out, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------
def scene_images(set_name: str, split: str, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(label colour image, photo) of scene ``i`` of a split, both (SIZE, SIZE, 3) uint8."""
    rng = rng_for(set_name, split, i)
    labels, photo = render(random_scene(rng), rng)
    photo_small, labels_small = shrink(photo, labels)
    return labels_small, photo_small


def write_paired(out: Path, counts: dict[str, int] = PAIRED_COUNTS) -> None:
    for split, n in counts.items():
        folder = out / "label2scene" / split
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a, b = scene_images("label2scene", split, i)
            Image.fromarray(np.concatenate([a, b], axis=1)).save(folder / f"{i:04d}.jpg", **JPEG_OPTIONS)


def write_unpaired(out: Path, counts: dict[str, int] = UNPAIRED_COUNTS) -> None:
    # Every folder draws from its own seeds, so trainA and trainB never show the same scene.
    for split, n in counts.items():
        folder = out / "day2dusk" / split
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            _, photo = scene_images("day2dusk", split, i)
            if split.endswith("B"):
                photo = (dusk(photo / 255.0) * 255 + 0.5).astype(np.uint8)
            Image.fromarray(photo).save(folder / f"{i:04d}.jpg", **JPEG_OPTIONS)


def make_digits(n: int = DIGITS_COUNT) -> tuple[np.ndarray, np.ndarray]:
    labels = np.arange(n, dtype=np.uint8) % 10
    images = np.stack([draw_digit(int(d), rng_for("digits", i)) for i, d in enumerate(labels)])
    return images, labels


def write_digits(out: Path, n: int = DIGITS_COUNT) -> None:
    images, labels = make_digits(n)
    (out / "digits").mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "digits" / "digits.npz", images=images, labels=labels)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    write_paired(args.out)
    write_unpaired(args.out)
    write_digits(args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote the shipped datasets to {args.out} ({total / 1e6:.2f} MB in total)")


if __name__ == "__main__":
    main()
