"""course_utils.core.pretrained: the authors' trained generators in the course's networks, checked against PyTorch.

The fixtures in tests/fixtures/pretrained/ were made once by scripts/make_pretrained_fixtures.py with
PyTorch (two implementations of the authors' networks written independently of this package: modules
with their state-dict names, and a functional one); these tests need no torch.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from course_utils import inference, models, pretrained

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pretrained"
#: fixture -> the architecture it holds
RESNETS = {"resnet_9blocks": "resnet_9blocks", "resnet_6blocks": "resnet_6blocks",
           "resnet_6blocks_functional": "resnet_6blocks"}
UNETS = {"unet_256": "unet_256", "unet_128_functional": "unet_128"}
TOLERANCE = 1e-4


def _fixture(name):
    """(state dict, input images in [-1, 1], stored arrays) of fixture ``name``."""
    path = FIXTURES / f"{name}.npz"
    with np.load(path) as npz:
        stored = {k: npz[k] for k in npz.files if k.startswith("__")}
    x = stored["__input__"].astype(np.float32) / np.float32(127.5) - np.float32(1.0)   # as the script
    return pretrained.read_state_dict(path), x, stored


def _rows(y, stored):
    """The rows and columns of an output the fixture stores (all of them for the ResNets)."""
    rows = stored.get("__rows__")
    return y if rows is None else y[:, rows][:, :, rows]


@pytest.mark.parametrize("name", sorted(RESNETS))
def test_converted_resnets_compute_pytorchs_outputs(name):
    sd, x, stored = _fixture(name)
    model = pretrained.from_state_dict(RESNETS[name], sd, image_size=x.shape[1])
    diff = np.abs(inference.translate(model, x) - stored["__output__"]).max()
    assert diff < TOLERANCE, f"{name}: max abs difference {diff:.2e}"


@pytest.mark.parametrize("name", sorted(UNETS))
def test_converted_unets_compute_pytorchs_outputs_in_both_batch_norm_modes(name):
    sd, x, stored = _fixture(name)
    model = pretrained.from_state_dict(UNETS[name], sd)
    # The course's inference path: each image's own statistics, dropout off = PyTorch's .train()
    # one image at a time with the dropout modules in eval.
    per_image = np.abs(_rows(inference.translate(model, x), stored) - stored["__output__"]).max()
    # Keras's inference mode: the running statistics = PyTorch's .eval().
    running = np.abs(_rows(np.asarray(model(x, training=False)), stored) - stored["__output_eval__"]).max()
    assert per_image < TOLERANCE and running < TOLERANCE, f"{name}: {per_image:.2e} / {running:.2e}"


def test_an_exported_converted_unet_still_computes_theirs(tmp_path):
    import keras

    sd, x, stored = _fixture("unet_128_functional")
    path = inference.export_generator(pretrained.from_state_dict("unet_128", sd), tmp_path / "g.keras")
    loaded = keras.models.load_model(path, compile=False)
    assert np.abs(_rows(np.asarray(loaded(x)), stored) - stored["__output__"]).max() < TOLERANCE


def test_the_course_convention_computes_something_else_with_the_same_weights():
    # Why convention="pytorch" exists: the same weights in the course's default layout ("same"
    # padding puts the odd pixel at the bottom/right) give another picture.
    sd, x, stored = _fixture("resnet_6blocks")
    theirs = pretrained.from_state_dict("resnet_6blocks", sd, image_size=32)
    ours = models.resnet_generator(32, n_blocks=6, filters=4)
    for layer in ours.layers:
        if layer.weights:
            layer.set_weights(theirs.get_layer(layer.name).get_weights())
    assert np.abs(np.asarray(ours(x)) - stored["__output__"]).max() > 0.1


# --- the authors' full-size layouts ---------------------------------------------------------------
LAYOUTS = json.loads((FIXTURES / "layouts.json").read_text())


@pytest.mark.parametrize("arch", ["resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128"])
def test_layout_is_the_authors_full_size_state_dict(arch):
    theirs = {name: tuple(shape) for name, shape in LAYOUTS[arch]["entries"]}
    ours = pretrained.layout(arch)
    # Every entry of theirs is ours, except batch norm's step counter, which is accepted and ignored.
    assert {n: s for n, s in theirs.items() if not n.endswith("num_batches_tracked")} == ours
    assert sum(int(np.prod(s)) for n, s in ours.items() if "running" not in n) == LAYOUTS[arch]["parameters"]


@pytest.mark.parametrize("arch, parameters, with_statistics", [
    ("resnet_9blocks", 11_378_179, 11_378_179),    # CycleGAN: the published count, as models.resnet_generator()
    # pix2pix's U-Net: PyTorch counts 54,413,955 parameters; Keras adds batch norm's 9,856 moving
    # statistics. The course's default U-Net (54,424,323) has 512 more: a bias at the bottleneck.
    pytest.param("unet_256", 54_413_955, 54_423_811, marks=pytest.mark.slow),   # 15 s: 54M weights set
])
def test_full_size_checkpoints_convert_with_their_parameter_counts(arch, parameters, with_statistics):
    zeros = {name: np.zeros(shape, np.float32) for name, shape in LAYOUTS[arch]["entries"]}
    model = pretrained.from_state_dict(arch, zeros)
    assert model.input_shape == (None, 256, 256, 3) and model.output_shape == (None, 256, 256, 3)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == parameters == LAYOUTS[arch]["parameters"]
    assert model.count_params() == with_statistics


# --- what is refused, what is ignored ---------------------------------------------------------------
def test_a_wrong_name_is_refused_naming_it():
    sd, _, _ = _fixture("resnet_6blocks")
    sd["model.4.kernel"] = sd.pop("model.4.weight")
    with pytest.raises(ValueError, match=r"expected model\.4\.weight with shape \(8, 4, 3, 3\), found no such entry"):
        pretrained.from_state_dict("resnet_6blocks", sd)


def test_a_wrong_shape_is_refused_naming_it():
    sd, _, _ = _fixture("resnet_6blocks")
    sd["model.11.conv_block.5.weight"] = sd["model.11.conv_block.5.weight"][:, :8]
    with pytest.raises(ValueError, match=r"expected model\.11\.conv_block\.5\.weight with shape \(16, 16, 3, 3\), "
                                         r"found shape \(16, 8, 3, 3\)"):
        pretrained.from_state_dict("resnet_6blocks", sd)


def test_an_entry_without_a_place_is_refused_naming_it():
    sd, _, _ = _fixture("resnet_6blocks")
    sd["model.3.running_mean"] = np.zeros(4, np.float32)       # model.3 is a ReLU: nothing to ignore there
    with pytest.raises(ValueError, match=r"found model\.3\.running_mean with shape \(4,\)"):
        pretrained.from_state_dict("resnet_6blocks", sd)
    with pytest.raises(ValueError, match=r"resnet_9blocks state dict: expected model\.16\.conv_block\.1\.weight"):
        # a 6-block file is no 9-block network: its 7th block is missing
        pretrained.from_state_dict("resnet_9blocks", _fixture("resnet_6blocks")[0])
    with pytest.raises(ValueError, match="architecture='resnet_8blocks'"):
        pretrained.from_state_dict("resnet_8blocks", sd)


def test_old_instance_norm_statistics_are_ignored():
    sd, x, _ = _fixture("resnet_9blocks")
    buffers = [n for n in sd if "running_" in n or "num_batches_tracked" in n]
    assert len(buffers) == 3 * (2 * 9 + 5)                     # every instance norm of the old checkpoint
    with_buffers = pretrained.from_state_dict("resnet_9blocks", sd, image_size=32)
    without = pretrained.from_state_dict("resnet_9blocks", {n: v for n, v in sd.items() if n not in buffers},
                                         image_size=32)
    np.testing.assert_array_equal(np.asarray(with_buffers(x)), np.asarray(without(x)))


class _FakeTensor:
    """What torch.load returns, as far as the converter cares: detach(), cpu(), numpy()."""

    def __init__(self, array):
        self.array = array

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.array


def test_tensors_and_data_parallel_names_are_accepted():
    sd, x, stored = _fixture("resnet_6blocks")
    wrapped = {f"module.{n}": _FakeTensor(v) for n, v in sd.items()}
    model = pretrained.from_state_dict("resnet_6blocks", wrapped, image_size=32)
    assert np.abs(np.asarray(model(x)) - stored["__output__"]).max() < TOLERANCE


def test_unet_image_size_is_the_architectures():
    with pytest.raises(ValueError, match="unet_128 takes 128x128"):
        pretrained.from_state_dict("unet_128", _fixture("unet_128_functional")[0], image_size=64)


def test_builders_refuse_an_unknown_convention():
    with pytest.raises(ValueError, match="convention='torch'"):
        models.resnet_generator(32, filters=4, convention="torch")
    with pytest.raises(ValueError, match="convention='torch'"):
        models.unet_generator(32, filters=4, convention="torch")


# --- downloading and reading ---------------------------------------------------------------------
def test_the_authors_addresses():
    assert pretrained.CHECKPOINTS["cyclegan/horse2zebra"].url("cyclegan/horse2zebra") == \
        "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/horse2zebra.pth"
    assert pretrained.CHECKPOINTS["pix2pix/facades_label2photo"].url("pix2pix/facades_label2photo") == \
        "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/facades_label2photo.pth"
    assert {c.architecture for n, c in pretrained.CHECKPOINTS.items() if n.startswith("cyclegan/")} == {"resnet_9blocks"}
    assert {c.architecture for n, c in pretrained.CHECKPOINTS.items() if n.startswith("pix2pix/")} == {"unet_256"}
    assert all(c.sha256 is None for c in pretrained.CHECKPOINTS.values())   # none published: never invented


def _stand_in_file(folder, name, sd):
    """An .npz written under the authors' file name (``<name>.pth``): the reader goes by content."""
    path = Path(folder) / f"{name}.pth"
    with open(path, "wb") as f:
        np.savez(f, **sd)
    return path


def test_load_downloads_checks_and_converts_offline(tmp_path, monkeypatch, capsys):
    sd = pretrained.stand_in_state_dict("resnet_9blocks", filters=2, seed=3)
    server = tmp_path / "server"
    server.mkdir()
    source = _stand_in_file(server, "horse2zebra", sd)
    monkeypatch.setattr(pretrained, "CYCLEGAN_URL", server.as_uri() + "/{name}.pth")
    cache = tmp_path / "cache"

    with pytest.warns(UserWarning) as warned:
        model = pretrained.load("cyclegan/horse2zebra", cache, image_size=32, progress=False)
    sha = pretrained.file_sha256(source)
    assert any(f"sha256 {sha}; pass sha256='{sha}' to pin it" in str(w.message) for w in warned)   # unknown hash: warned, to pin
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    direct = pretrained.from_state_dict("resnet_9blocks", sd, image_size=32)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(direct(x)))

    # Cached: no second download, nothing printed or warned; the right hash passes.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pretrained.load("cyclegan/horse2zebra", cache, sha256=sha, image_size=32, progress=False)
    assert capsys.readouterr().out == ""
    # A wrong hash is refused and the file deleted.
    with pytest.raises(ValueError, match="Checksum mismatch"):
        pretrained.load("cyclegan/horse2zebra", cache, sha256="0" * 64, image_size=32, progress=False)
    assert not (cache / "cyclegan_horse2zebra.pth").exists()


def test_an_unreachable_address_is_a_connection_error(tmp_path):
    with pytest.raises(ConnectionError, match="Could not download"):
        pretrained.download("pix2pix/edges2shoes", tmp_path, url=(tmp_path / "nothing.pth").as_uri(), progress=False)
    assert not list(tmp_path.glob("*.pth"))


def test_an_unknown_name_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown checkpoint 'horse2zebra'.*cyclegan/horse2zebra.*pix2pix/edges2shoes"):
        pretrained.load("horse2zebra", tmp_path)


def test_a_pth_without_torch_says_how_to_get_it(tmp_path, monkeypatch):
    path = tmp_path / "style_monet.pth"
    path.write_bytes(b"\x80\x02\x8a\x0alZ\xa7\x91\x00\x00")   # the start of a legacy (pickle) PyTorch file
    monkeypatch.setitem(sys.modules, "torch", None)           # import torch fails, whether installed or not
    with pytest.raises(ImportError, match=r"torch is needed to read the authors' \.pth files.*pip install torch"):
        pretrained.read_state_dict(path)


# --- for the lessons ------------------------------------------------------------------------------
class _Cfg:
    def __init__(self, smoke, image_size=32):
        self.is_smoke, self.image_size = smoke, image_size


def test_lesson_generator_in_the_smoke_profile_is_a_narrow_stand_in(monkeypatch):
    monkeypatch.setattr(pretrained, "load", lambda *a, **k: pytest.fail("the smoke profile must not download"))
    g = pretrained.lesson_generator("cyclegan/horse2zebra", _Cfg(smoke=True))
    assert g.input_shape == (None, 32, 32, 3) and g.count_params() < 50_000
    u = pretrained.lesson_generator("pix2pix/facades_label2photo", _Cfg(smoke=True))
    assert u.input_shape == (None, 256, 256, 3) and u.count_params() < 300_000
    assert inference.translate(u, np.zeros((1, 256, 256, 3), np.float32)).shape == (1, 256, 256, 3)


def test_lesson_generator_in_the_full_profile_loads(monkeypatch):
    calls = []
    monkeypatch.setattr(pretrained, "load", lambda name, image_size=None: calls.append((name, image_size)) or "G")
    assert pretrained.lesson_generator("cyclegan/style_monet", _Cfg(smoke=False, image_size=256)) == "G"
    assert pretrained.lesson_generator("pix2pix/day2night", _Cfg(smoke=False)) == "G"
    assert calls == [("cyclegan/style_monet", 256), ("pix2pix/day2night", None)]


def test_stand_ins_have_the_authors_layout():
    sd = pretrained.stand_in_state_dict("unet_128", filters=2)
    assert {n: v.shape for n, v in sd.items()} == pretrained.layout("unet_128", filters=2)
    assert all(v.dtype == np.float32 for v in sd.values())
