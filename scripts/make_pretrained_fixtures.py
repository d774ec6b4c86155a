"""Make tests/fixtures/pretrained/: small checkpoints laid out like the CycleGAN/pix2pix authors', with PyTorch's outputs.

Needs PyTorch, which neither the package nor its tests depend on: run it once, in a separate
environment, and commit what it writes (each file well under 1 MB)::

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchenv/bin/python scripts/make_pretrained_fixtures.py tests/fixtures/pretrained

The authors (github.com/junyanz/pytorch-CycleGAN-and-pix2pix, ``models/networks.py``) save their
generators as state dicts of a ``ResnetGenerator`` (CycleGAN; ``resnet_9blocks``/``resnet_6blocks``)
or a ``UnetGenerator`` (pix2pix; ``unet_256``/``unet_128``). This script writes two independent
PyTorch implementations of those two networks, in its own words:

* **modules** (:class:`ResnetG`, :class:`UnetG`): ``nn.Module`` trees whose parameter names are the
  authors' (``model.1.weight``, ``model.10.conv_block.1.weight``,
  ``model.model.1.model.3.model.1.weight``...), because the modules sit at the same positions;
* **functional** (:func:`functional_state_dict`, :func:`functional_resnet`, :func:`functional_unet`):
  the names and shapes enumerated by a loop, the forward pass written with ``torch.nn.functional``
  calls that read the dict, no module anywhere.

The script checks that the two agree (the functional state dict loads strictly into the modules and
gives the same outputs), then writes, for each fixture, ``<name>.npz``: every state-dict entry under
its own name, plus ``__input__`` (uint8 images, NHWC; the networks see ``u8 / 127.5 - 1``),
``__output__`` (PyTorch's output, NHWC float32) and, for the U-Nets, ``__output_eval__``
(``.eval()``: batch norm's running statistics) beside ``__output__`` (``.train()`` with dropout
off, each image alone: batch norm with each image's statistics, the paper's test mode). Of a U-Net's
outputs only ``__rows__`` (rows and columns: :func:`stored_rows`, the borders and the centre) are
stored, to keep the files small.
``layouts.json`` lists every name and shape of the full-size ``resnet_9blocks``, ``resnet_6blocks``,
``unet_256`` and ``unet_128`` state dicts (widths 64, as the authors' checkpoints).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

def stored_rows(size: int) -> np.ndarray:
    """Rows (and columns) of a U-Net's output that are stored: 8 at each border and 8 at the centre."""
    return np.r_[0:8, size // 2 - 4:size // 2 + 4, size - 8:size]


def crop(a: np.ndarray) -> np.ndarray:
    rows = stored_rows(a.shape[1])
    return a[:, rows][:, :, rows]


# =====================================================================================
# 1. The modules: the authors' layout, so that state_dict() names come out as theirs
# =====================================================================================
def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":          # non-affine, no running statistics (the authors' current code)
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    return nn.BatchNorm2d(channels)


class ResBlock(nn.Module):
    """x + (pad 1, conv 3x3, norm, ReLU, pad 1, conv 3x3, norm)(x), stored as ``conv_block.<i>``."""

    def __init__(self, width: int, norm: str, bias: bool):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3, bias=bias), _norm(norm, width), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3, bias=bias), _norm(norm, width))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetG(nn.Module):
    """CycleGAN's ResNet generator as one ``nn.Sequential`` called ``model`` (indices as the authors')."""

    def __init__(self, in_ch: int = 3, out_ch: int = 3, ngf: int = 64, n_blocks: int = 9, norm: str = "instance"):
        super().__init__()
        bias = norm == "instance"
        seq: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_ch, ngf, 7, bias=bias), _norm(norm, ngf), nn.ReLU()]
        width = ngf
        for _ in range(2):                                   # model.4 and model.7
            seq += [nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=bias), _norm(norm, 2 * width), nn.ReLU()]
            width *= 2
        seq += [ResBlock(width, norm, bias) for _ in range(n_blocks)]
        for _ in range(2):
            seq += [nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                    _norm(norm, width // 2), nn.ReLU()]
            width //= 2
        seq += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_ch, 7), nn.Tanh()]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


class UnetLevel(nn.Module):
    """One level of the U-Net, whose ``model`` holds the level below at index 1 (top) or 3 (others).

    Top: [down conv, inner, ReLU, up conv (bias), tanh], no skip.
    Middle: [LeakyReLU, down conv, norm, inner, ReLU, up conv, norm, (dropout)], output cat(x, that).
    Bottom: [LeakyReLU, down conv, ReLU, up conv, norm], output cat(x, that).
    """

    def __init__(self, outer: int, inner: int, below: nn.Module | None = None, in_ch: int | None = None,
                 top: bool = False, dropout: bool = False):
        super().__init__()
        self.top = top
        down = nn.Conv2d(in_ch or outer, inner, 4, stride=2, padding=1, bias=False)
        if top:
            parts = [down, below, nn.ReLU(), nn.ConvTranspose2d(2 * inner, outer, 4, stride=2, padding=1), nn.Tanh()]
        elif below is None:
            parts = [nn.LeakyReLU(0.2), down, nn.ReLU(),
                     nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(outer)]
        else:
            parts = [nn.LeakyReLU(0.2), down, nn.BatchNorm2d(inner), below, nn.ReLU(),
                     nn.ConvTranspose2d(2 * inner, outer, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(outer)]
            parts += [nn.Dropout(0.5)] if dropout else []
        self.model = nn.Sequential(*parts)

    def forward(self, x):
        return self.model(x) if self.top else torch.cat([x, self.model(x)], 1)


class UnetG(nn.Module):
    """The pix2pix U-Net (batch norm, dropout as pix2pix trains it), built from the bottom level up."""

    def __init__(self, in_ch: int = 3, out_ch: int = 3, downs: int = 8, ngf: int = 64):
        super().__init__()
        level = UnetLevel(8 * ngf, 8 * ngf)                                         # the 1x1 bottleneck
        for _ in range(downs - 5):
            level = UnetLevel(8 * ngf, 8 * ngf, level, dropout=True)
        for mult in (4, 2, 1):
            level = UnetLevel(mult * ngf, 2 * mult * ngf, level)
        self.model = UnetLevel(out_ch, ngf, level, in_ch=in_ch, top=True)

    def forward(self, x):
        return self.model(x)


def build_module(arch: str, ngf: int, in_ch: int = 3, out_ch: int = 3) -> nn.Module:
    if arch.startswith("resnet_"):
        return ResnetG(in_ch, out_ch, ngf, n_blocks=int(arch.split("_")[1][0]))
    return UnetG(in_ch, out_ch, downs=8 if arch == "unet_256" else 7, ngf=ngf)


# =====================================================================================
# 2. The functional implementation: names by a loop, forward by torch.nn.functional
# =====================================================================================
def functional_layout(arch: str, ngf: int, in_ch: int = 3, out_ch: int = 3) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every entry, enumerated without any module."""
    out: list[tuple[str, tuple[int, ...]]] = []
    if arch.startswith("resnet_"):
        blocks = int(arch.split("_")[1][0])
        w = ngf
        out += [("model.1.weight", (ngf, in_ch, 7, 7)), ("model.1.bias", (ngf,))]
        for idx in (4, 7):
            out += [(f"model.{idx}.weight", (2 * w, w, 3, 3)), (f"model.{idx}.bias", (2 * w,))]
            w *= 2
        for b in range(blocks):
            for i in (1, 5):
                out += [(f"model.{10 + b}.conv_block.{i}.weight", (w, w, 3, 3)), (f"model.{10 + b}.conv_block.{i}.bias", (w,))]
        for idx in (10 + blocks, 13 + blocks):
            out += [(f"model.{idx}.weight", (w, w // 2, 3, 3)), (f"model.{idx}.bias", (w // 2,))]
            w //= 2
        out += [(f"model.{17 + blocks}.weight", (out_ch, w, 7, 7)), (f"model.{17 + blocks}.bias", (out_ch,))]
        return out
    downs = 8 if arch == "unet_256" else 7
    widths = [min(ngf * 2**i, 8 * ngf) for i in range(downs)]         # the encoder's outputs, top first

    def bn(prefix: str, c: int) -> list:
        return [(prefix + s, (c,)) for s in ("weight", "bias", "running_mean", "running_var")] + \
               [(prefix + "num_batches_tracked", ())]

    prefix = "model.model."
    for k in range(downs):
        inner = widths[k]
        outer = out_ch if k == 0 else widths[k - 1]
        cin = in_ch if k == 0 else outer
        if k == 0:
            out += [(prefix + "0.weight", (inner, cin, 4, 4)),
                    (prefix + "3.weight", (2 * inner, outer, 4, 4)), (prefix + "3.bias", (outer,))]
            prefix += "1.model."
        elif k == downs - 1:
            out += [(prefix + "1.weight", (inner, cin, 4, 4)), (prefix + "3.weight", (inner, outer, 4, 4))]
            out += bn(prefix + "4.", outer)
        else:
            out += [(prefix + "1.weight", (inner, cin, 4, 4))] + bn(prefix + "2.", inner)
            out += [(prefix + "5.weight", (2 * inner, outer, 4, 4))] + bn(prefix + "6.", outer)
            prefix += "3.model."
    return out


def instance_norms(blocks: int, ngf: int) -> list[tuple[str, int]]:
    """Where the ResNet's instance norms sit, and their widths (old checkpoints kept buffers there)."""
    at = [("model.2", ngf), ("model.5", 2 * ngf), ("model.8", 4 * ngf)]
    at += [(f"model.{10 + b}.conv_block.{i}", 4 * ngf) for b in range(blocks) for i in (2, 6)]
    return at + [(f"model.{11 + blocks}", 2 * ngf), (f"model.{14 + blocks}", ngf)]


def functional_state_dict(arch: str, ngf: int, seed: int) -> dict[str, torch.Tensor]:
    """Random values for every entry of :func:`functional_layout`, drawn differently from :func:`randomise`."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for name, shape in functional_layout(arch, ngf):
        if name.endswith("num_batches_tracked"):
            sd[name] = torch.tensor(1000 + seed)
        elif name.endswith("running_var"):
            sd[name] = 0.3 + 2.5 * torch.rand(shape, generator=g)
        elif name.endswith("running_mean"):
            sd[name] = 0.7 * (torch.rand(shape, generator=g) * 2 - 1)
        elif len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            sd[name] = (torch.rand(shape, generator=g) * 2 - 1) * (2.0 / fan_in) ** 0.5
        elif name.endswith(".weight"):                    # batch norm's scale: both signs
            sd[name] = (0.4 + torch.rand(shape, generator=g)) * torch.where(torch.rand(shape, generator=g) < 0.3, -1.0, 1.0)
        else:                                              # biases and offsets
            sd[name] = 0.4 * (torch.rand(shape, generator=g) * 2 - 1)
    return sd


def functional_resnet(sd: dict, x: torch.Tensor) -> torch.Tensor:
    blocks = sum(1 for n in sd if n.endswith("conv_block.1.weight"))
    def conv(h, idx, **kw):
        return F.conv2d(h, sd[f"{idx}.weight"], sd[f"{idx}.bias"], **kw)
    inorm = lambda h: F.instance_norm(h, eps=1e-5)         # noqa: E731
    h = F.relu(inorm(conv(F.pad(x, (3,) * 4, mode="reflect"), "model.1")))
    h = F.relu(inorm(conv(h, "model.4", stride=2, padding=1)))
    h = F.relu(inorm(conv(h, "model.7", stride=2, padding=1)))
    for b in range(blocks):
        p = f"model.{10 + b}.conv_block"
        r = F.relu(inorm(conv(F.pad(h, (1,) * 4, mode="reflect"), f"{p}.1")))
        h = h + inorm(conv(F.pad(r, (1,) * 4, mode="reflect"), f"{p}.5"))
    for idx in (10 + blocks, 13 + blocks):
        h = F.relu(inorm(F.conv_transpose2d(h, sd[f"model.{idx}.weight"], sd[f"model.{idx}.bias"], stride=2,
                                            padding=1, output_padding=1)))
    return torch.tanh(conv(F.pad(h, (3,) * 4, mode="reflect"), f"model.{17 + blocks}"))


def functional_unet(sd: dict, x: torch.Tensor, running: bool) -> torch.Tensor:
    """``running``: batch norm with the running statistics (``.eval()``); else the batch's (one image)."""
    def bn(h, p):
        if running:
            return F.batch_norm(h, sd[p + "running_mean"], sd[p + "running_var"], sd[p + "weight"], sd[p + "bias"],
                                training=False, eps=1e-5)
        return F.batch_norm(h, None, None, sd[p + "weight"], sd[p + "bias"], training=True, eps=1e-5)

    def level(h, prefix, top):
        if top:
            d = F.conv2d(h, sd[prefix + "0.weight"], stride=2, padding=1)
            u = F.conv_transpose2d(F.relu(level(d, prefix + "1.model.", False)), sd[prefix + "3.weight"],
                                   sd[prefix + "3.bias"], stride=2, padding=1)
            return torch.tanh(u)
        d = F.conv2d(F.leaky_relu(h, 0.2), sd[prefix + "1.weight"], stride=2, padding=1)
        if prefix + "2.weight" not in sd:                    # the bottleneck: no norm below
            u = bn(F.conv_transpose2d(F.relu(d), sd[prefix + "3.weight"], stride=2, padding=1), prefix + "4.")
        else:
            inner = level(bn(d, prefix + "2."), prefix + "3.model.", False)
            u = bn(F.conv_transpose2d(F.relu(inner), sd[prefix + "5.weight"], stride=2, padding=1), prefix + "6.")
        return torch.cat([h, u], 1)                          # dropout off

    return level(x, "model.model.", True)


# =====================================================================================
# 3. Values, inputs, outputs
# =====================================================================================
def randomise(net: nn.Module, seed: int) -> None:
    """Weights that make mistakes visible: He-scaled kernels, biases, batch-norm scales of both signs,
    running statistics away from 0 and 1 (a freshly built network has tiny outputs and trivial statistics)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith("num_batches_tracked"):
                t.fill_(seed + 7)
            elif name.endswith("running_var"):
                t.copy_(torch.empty(t.shape).uniform_(0.5, 2.0, generator=g))
            elif name.endswith("running_mean"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.5)
            elif t.dim() == 4:
                fan_in = t.shape[1] * t.shape[2] * t.shape[3]
                t.copy_(torch.randn(t.shape, generator=g) / fan_in ** 0.5)
            elif name.endswith(".weight"):
                sign = torch.where(torch.arange(t.numel()) % 2 == 0, 1.0, -1.0)
                t.copy_(torch.empty(t.shape).uniform_(0.5, 1.5, generator=g) * sign)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.3)


def images(n: int, size: int, seed: int) -> np.ndarray:
    """``n`` smooth uint8 RGB pictures (they compress) with some noise (every pixel matters)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for _ in range(n):
        f = rng.uniform(1, 6, size=(3, 2))
        ph = rng.uniform(0, 2 * np.pi, size=3)
        img = np.stack([np.sin(2 * np.pi * (f[c, 0] * xx + f[c, 1] * yy) + ph[c]) for c in range(3)], -1)
        img = 127.5 + 110 * img + rng.normal(0, 8, img.shape)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(out)


def as_input(u8: np.ndarray) -> torch.Tensor:
    """NHWC uint8 -> NCHW float32 in [-1, 1], with the same numpy arithmetic the tests use."""
    return torch.from_numpy((u8.astype(np.float32) / np.float32(127.5) - np.float32(1.0)).transpose(0, 3, 1, 2).copy())


def nhwc(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1).astype(np.float32)


def unet_outputs(net: nn.Module, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(``.train()`` with dropout off, each image alone; ``.eval()``). Batch norm's running statistics
    move in a training-mode pass, so the eval pass runs first and the net is restored after."""
    saved = {k: v.clone() for k, v in net.state_dict().items()}
    net.eval()
    with torch.no_grad():
        ev = net(x)
        net.train()
        for m in net.modules():
            if isinstance(m, nn.Dropout):
                m.eval()
        tr = torch.cat([net(x[i:i + 1]) for i in range(len(x))])
    net.load_state_dict(saved)
    net.eval()
    return nhwc(tr), nhwc(ev)


def save(path: Path, sd: dict, u8: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
    entries = {k: v.detach().numpy() for k, v in sd.items()}
    np.savez_compressed(path, **entries, __input__=u8, **arrays)
    print(f"{path}: {path.stat().st_size / 1024:.0f} KB, {len(entries)} entries")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    # --- the layouts of the authors' full-size checkpoints (width 64), names and shapes only
    layouts = {}
    for arch in ("resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128"):
        net = build_module(arch, 64)
        sd = net.state_dict()
        layouts[arch] = {"entries": [[k, list(v.shape)] for k, v in sd.items()],
                         "parameters": sum(p.numel() for p in net.parameters())}
        assert sorted((k, tuple(s)) for k, s in layouts[arch]["entries"]) == sorted(functional_layout(arch, 64)), arch
        print(arch, "parameters:", layouts[arch]["parameters"])
    lines = ["{"]
    for i, (arch, layout) in enumerate(layouts.items()):      # one entry a line: easy to read and diff
        lines.append(f' "{arch}": {{"parameters": {layout["parameters"]}, "entries": [')
        lines += [f"  {json.dumps(e)}," for e in layout["entries"][:-1]] + [f"  {json.dumps(layout['entries'][-1])}"]
        lines.append(" ]}" + ("," if i < len(layouts) - 1 else ""))
    (out / "layouts.json").write_text("\n".join(lines + ["}"]) + "\n")
    assert json.loads((out / "layouts.json").read_text()) == layouts

    # --- module fixtures
    for arch, ngf, size, n, seed in (("resnet_9blocks", 4, 32, 2, 1), ("resnet_6blocks", 4, 32, 2, 2),
                                     ("unet_256", 2, 256, 2, 3)):
        net = build_module(arch, ngf)
        randomise(net, seed)
        net.eval()
        sd = {k: v.clone() for k, v in net.state_dict().items()}
        u8 = images(n, size, seed)
        x = as_input(u8)
        if arch.startswith("resnet"):
            with torch.no_grad():
                arrays = {"__output__": nhwc(net(x))}
            if arch == "resnet_9blocks":           # an old checkpoint: instance norm with running statistics
                g = torch.Generator().manual_seed(99)
                for at, c in instance_norms(9, ngf):
                    sd[at + ".running_mean"] = torch.randn(c, generator=g)
                    sd[at + ".running_var"] = torch.rand(c, generator=g) + 0.5
                    sd[at + ".num_batches_tracked"] = torch.tensor(5)
        else:
            tr, ev = unet_outputs(net, x)
            arrays = {"__output__": crop(tr), "__output_eval__": crop(ev), "__rows__": stored_rows(size)}
        save(out / f"{arch}.npz", sd, u8, arrays)

    # --- the independent fixtures: another implementation, seed, width and image size
    for arch, ngf, size, seed in (("resnet_6blocks", 5, 40, 11), ("unet_128", 3, 128, 12)):
        sd = functional_state_dict(arch, ngf, seed)
        u8 = images(2, size, seed)
        x = as_input(u8)
        with torch.no_grad():
            if arch.startswith("resnet"):
                arrays = {"__output__": nhwc(functional_resnet(sd, x))}
            else:
                tr = torch.cat([functional_unet(sd, x[i:i + 1], running=False) for i in range(len(x))])
                arrays = {"__output__": nhwc(tr), "__output_eval__": nhwc(functional_unet(sd, x, running=True))}
        # The two implementations agree: the dict loads strictly into the modules, same outputs.
        net = build_module(arch, ngf)
        net.load_state_dict(sd, strict=True)
        if arch.startswith("resnet"):
            with torch.no_grad():
                diff = np.abs(nhwc(net.eval()(x)) - arrays["__output__"]).max()
        else:
            tr, ev = unet_outputs(net, x)
            diff = max(np.abs(tr - arrays["__output__"]).max(), np.abs(ev - arrays["__output_eval__"]).max())
        print(f"{arch} functional vs modules: max abs difference {diff:.2e}")
        assert diff < 1e-5
        if "__output_eval__" in arrays:
            arrays = {"__output__": crop(arrays["__output__"]), "__output_eval__": crop(arrays["__output_eval__"]),
                      "__rows__": stored_rows(size)}
        save(out / f"{arch}_functional.npz", sd, u8, arrays)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
