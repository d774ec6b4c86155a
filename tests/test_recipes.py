"""course_utils.recipes: one meaning per model name, used by the CLI, the benchmark and the scripts."""

import keras
import pytest

from course_utils import bench, cli, data, models, recipes, train

#: Tiny sizes (the DCGAN's is fixed at 28).
SIZE = {"gan": 28, "pix2pix": 16, "cyclegan": 16}


@pytest.fixture(scope="module")
def tiny_networks():
    """Each model's networks at a tiny size and width, built once for the module."""
    keras.utils.set_random_seed(0)
    return {name: recipes.build_networks(name, SIZE[name], filters=2) for name in recipes.MODELS}


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------
def test_an_unknown_name_is_refused_with_the_three_models():
    with pytest.raises(ValueError, match=r"Unknown model 'pix2px'.*'gan': DCGAN.*'pix2pix': Pix2Pix.*'cyclegan'"):
        recipes.recipe("pix2px")


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------
def test_networks_are_keyed_as_the_trainer_takes_them(tiny_networks):
    for name, networks in tiny_networks.items():
        assert tuple(networks) == recipes.recipe(name).networks
    assert tiny_networks["gan"]["generator"].output_shape == (None, 28, 28, 1)
    assert tiny_networks["pix2pix"]["discriminator"].input_shape == [(None, 16, 16, 3), (None, 16, 16, 3)]
    assert tiny_networks["cyclegan"]["discriminator_x"].input_shape == (None, 16, 16, 3)   # one image, no condition


def test_networks_have_the_papers_architectures():
    # DCGAN: the generator 4x as wide as the discriminator (the tutorial's 256 and 64 at filters=64).
    gan = recipes.build_networks("gan", filters=8)
    assert gan["generator"].count_params() == models.dcgan_generator(base_filters=32).count_params()
    assert gan["discriminator"].count_params() == models.dcgan_discriminator(base_filters=8).count_params()
    # CycleGAN: the residual blocks asked for (the paper's 6 below 256 when left out).
    def blocks(net):
        return len({layer.name.split("_")[0] for layer in net.layers if layer.name.startswith("res")})

    assert blocks(recipes.build_networks("cyclegan", 16, 2, n_blocks=2)["generator_g"]) == 2
    assert blocks(recipes.build_networks("cyclegan", 16, 2)["generator_f"]) == 6


def test_networks_refuse_settings_the_model_does_not_have():
    with pytest.raises(ValueError, match="28x28 digits; got image_size=64"):
        recipes.build_networks("gan", 64)
    with pytest.raises(ValueError, match="pix2pix has none"):
        recipes.build_networks("pix2pix", 16, 2, n_blocks=3)


# ---------------------------------------------------------------------------
# Trainers
# ---------------------------------------------------------------------------
def _adam_settings(trainer):
    """Each network's optimizer: (learning rate, beta_1), the float32 rate rounded to 10 decimals."""
    return {name: (round(float(keras.ops.convert_to_numpy(opt.learning_rate)), 10), float(opt.beta_1))
            for name, opt in trainer.optimizers.items()}


@pytest.mark.parametrize("name", recipes.MODELS)
def test_the_trainer_has_the_recipes_optimizers_and_loss_form(name, tiny_networks):
    r = recipes.recipe(name)
    trainer = recipes.build_trainer(name, tiny_networks[name], seed=3)
    assert type(trainer) is getattr(train, r.trainer) and trainer.loss_form == r.loss_form
    assert getattr(trainer, "seed", None) == (3 if trainer.takes_seed else None)   # Pix2Pix takes none
    assert _adam_settings(trainer) == {net: (r.learning_rate, r.beta_1) for net in r.networks}
    other_form = "lsgan" if r.loss_form == "bce" else "bce"
    changed = recipes.build_trainer(name, tiny_networks[name], learning_rate=1e-3, beta_1=0.9, loss_form=other_form)
    assert changed.loss_form == other_form
    assert set(_adam_settings(changed).values()) == {(1e-3, 0.9)}


def test_the_recipes_defaults_are_the_trainers_own(tiny_networks):
    # train.GAN and train.Pix2Pix compiled with no optimizers pick the same Adam the recipe gives them.
    for name in ("gan", "pix2pix"):
        r = recipes.recipe(name)
        trainer = getattr(train, r.trainer)(**tiny_networks[name])
        trainer.compile()
        assert set(_adam_settings(trainer).values()) == {(r.learning_rate, r.beta_1)}, name
        assert trainer.loss_form == r.loss_form


def test_trainer_options_reach_the_constructor_and_wrong_networks_are_refused(tiny_networks):
    trainer = recipes.build_trainer("cyclegan", tiny_networks["cyclegan"], pool_size=0, cycle_weight=3.0)
    assert trainer.pool_x.pool_size == 0 and trainer.cycle_weight == 3.0 and trainer.identity_weight == 5.0
    with pytest.raises(ValueError, match=r"takes the networks \['generator_g', 'generator_f'"):
        recipes.build_trainer("cyclegan", tiny_networks["pix2pix"])


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def test_shipped_data_roots():
    assert recipes.dataset_root("pix2pix", "shipped") == data.shipped_paired_path()
    assert recipes.dataset_root("cyclegan", "shipped") == data.shipped_unpaired_path()
    assert recipes.dataset_root("pix2pix", data.shipped_paired_path()) == data.shipped_paired_path()
    with pytest.raises(ValueError, match="gan does not read a dataset folder"):
        recipes.dataset_root("gan", "shipped")


@pytest.mark.parametrize("name, shapes", [("gan", (2, 28, 28, 1)), ("pix2pix", [(2, 16, 16, 3)] * 2),
                                          ("cyclegan", [(2, 16, 16, 3)] * 2)])
def test_training_batches_from_the_shipped_data(name, shapes):
    ds = recipes.training_dataset(name, "shipped", image_size=SIZE[name], batch_size=2, seed=0)
    batch = next(iter(ds))
    got = tuple(batch.shape) if name == "gan" else [tuple(t.shape) for t in batch]
    assert got == shapes
    assert all(float(keras.ops.min(t)) >= -1 and float(keras.ops.max(t)) <= 1 for t in ([batch] if name == "gan"
                                                                                          else batch))


# ---------------------------------------------------------------------------
# The command line and the benchmark read their defaults from here
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", recipes.MODELS)
def test_the_command_lines_defaults_are_the_recipes(name):
    args = cli.build_parser().parse_args(["train", name, "--data", "shipped", "--out", "x", "--steps", "4"])
    settings = cli._settings(args)
    r = recipes.recipe(name)
    assert (settings["image_size"], settings["batch_size"], settings["filters"], settings["learning_rate"]) == (
        r.image_size, r.batch_size, r.filters, r.learning_rate)
    assert settings["precision"] == "float32"


def test_the_benchmarks_defaults_are_the_recipes():
    for name in recipes.MODELS:
        r = recipes.recipe(name)
        (images, *_) = bench.fixed_batch(name, None, 1)
        assert images.shape[1] == r.bench_image_size
