"""Running a trained generator on images: one convention for every path.

A generator is trained inside ``train_step`` with ``training=True``. Everything that runs it
afterwards (the trainers' ``evaluate`` and sample grids, TensorBoard pictures, the widgets,
``python -m course_utils translate``, the exported ``.keras`` files and the lessons) goes
through this module, so that a learner sees the same pictures everywhere.

The convention
--------------
* Images are float32 ``(b, h, w, c)`` in [-1, 1], the range the generators were trained on.
* **Batch norm uses the statistics of each image.** Pix2Pix trains its U-Net with batch size 1,
  so every batch-norm layer normalises with the mean and variance of the one image it sees. The
  pix2pix paper (Isola et al. 2017, section 3.3, https://arxiv.org/abs/1611.07004) runs the
  generator the same way at test time: "we apply batch normalization using the statistics of the
  test batch", which with one image is instance normalisation. Keras's usual inference mode
  (``training=False``) uses the moving averages instead; after batch-1 training those averages
  describe no single image, and the measured result is worse than a constant grey picture (see
  ``docs/results.md``). We therefore run each image with its own statistics, the way it was
  trained, whatever the batch size of the call.
* **Dropout is off.** The paper keeps dropout at test time as its only source of noise; we
  measured the difference on the shipped set (``docs/results.md``) and prefer a deterministic
  picture: the same input always gives the same output.
* Generators without batch norm (CycleGAN's ResNet with instance norm) are unaffected: instance
  norm already uses each image's statistics in both modes.

The DCGAN of lesson 01 is not an image-to-image generator: its batch norm acts on noise vectors
and was trained with batches of 64-256, so its moving averages are meaningful and
``generator(noise, training=False)`` is the right way to sample it.

Three entry points:

* :func:`inference_model` wraps a generator in a model that shares its weights and applies the
  convention (used inside the trainers, where the weights keep changing);
* :func:`translate` runs it on a batch of images of any count, in chunks, and
  :func:`translate_image` on one picture file's image of any size and mode (what
  ``python -m course_utils translate`` does);
* :func:`export_generator` writes a ``.keras`` file in which each batch-norm layer has been
  replaced by Keras's own ``GroupNormalization(groups=-1)`` with the same scale and offset. That
  layer *is* per-image normalisation, so the file translates correctly with plain
  ``keras.models.load_model(path)`` and ``model(images)``, with no ``course_utils`` import.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from course_utils.core.images import as_batch, as_numpy, check_range, from_uint8, to_uint8
from course_utils.core.counts import positive_int
from course_utils.core.files import write_atomically


# ---------------------------------------------------------------------------
# 1. Batch norm with each image's own statistics
# ---------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="course_utils")
class PerImageBatchNorm(layers.Layer):
    r"""A trained ``BatchNormalization`` layer run with the statistics of each image.

    .. math::
        y_{nhwc} = \gamma_c \frac{x_{nhwc} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}} + \beta_c

    where :math:`\mu_{nc}, \sigma^2_{nc}` are the mean and variance of image ``n``'s channel ``c``
    over height and width: exactly what the wrapped layer computes in training at batch size 1.
    :math:`\gamma, \beta, \epsilon` are the wrapped layer's own (shared, not copied), so the
    wrapper follows the generator as it trains. The moving averages are never read or updated.
    """

    def __init__(self, batch_norm: layers.BatchNormalization, **kwargs: Any):
        kwargs.setdefault("name", f"{batch_norm.name}_per_image")
        kwargs.setdefault("dtype", batch_norm.dtype_policy)
        super().__init__(**kwargs)
        if not isinstance(batch_norm, layers.BatchNormalization):
            raise ValueError(f"PerImageBatchNorm wraps a keras.layers.BatchNormalization, got {type(batch_norm).__name__}.")
        self.batch_norm = batch_norm

    def call(self, x, training=None, mask=None):   # same signature as BatchNormalization; both ignored
        if len(x.shape) != 4:
            raise ValueError(
                f"{self.batch_norm.name} sees a tensor of shape {tuple(x.shape)}: per-image statistics need "
                "images (b, h, w, c). A generator of noise vectors (the DCGAN) is sampled with "
                "generator(noise, training=False) instead."
            )
        bn = self.batch_norm
        if bn.axis not in (-1, 3):
            raise ValueError(f"{bn.name} normalises axis {bn.axis}; only channels-last generators are supported.")
        x32 = ops.cast(x, "float32")   # statistics in float32, also under mixed precision
        mean, var = ops.moments(x32, axes=(1, 2), keepdims=True)
        y = (x32 - mean) * ops.rsqrt(var + bn.epsilon)
        if bn.scale:
            y = y * ops.cast(bn.gamma, "float32")
        if bn.center:
            y = y + ops.cast(bn.beta, "float32")
        return ops.cast(y, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        # Saved models use export_generator's GroupNormalization instead; this wrapper lives in memory.
        raise NotImplementedError("PerImageBatchNorm is not saved: export with inference.export_generator().")


def is_image_to_image(model: keras.Model) -> bool:
    """Whether ``model`` takes one batch of images ``(b, h, w, c)``, as the translation generators do."""
    shape = model.input_shape
    return not isinstance(shape, list) and len(shape) == 4


def uses_batch_norm(model: keras.Model) -> bool:
    """Whether any layer of ``model`` (nested models included) is a ``BatchNormalization``."""
    return any(isinstance(layer, layers.BatchNormalization) for layer in _all_layers(model))


def _all_layers(model: keras.Model) -> list[layers.Layer]:
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(layer))
    return found


def _check_functional(generator: Any) -> keras.Model:
    if not isinstance(generator, keras.Model):
        raise ValueError(f"Expected a keras.Model generator (e.g. from course_utils.core.models), got {type(generator).__name__}.")
    return generator


def _call_layer(layer: layers.Layer, *args: Any, **kwargs: Any) -> Any:
    # GroupNormalization.call takes no mask or training argument; batch norm's are dropped for it.
    if isinstance(layer, layers.GroupNormalization):
        kwargs = {}
    return layer(*args, **kwargs)


def _clone(generator: keras.Model, clone_function: Any) -> keras.Model:
    try:
        return keras.models.clone_model(generator, clone_function=clone_function, call_function=_call_layer,
                                        recursive=True)
    except ValueError as err:
        raise ValueError(f"{generator.name} cannot be rebuilt layer by layer ({err}). Build generators as "
                         "functional models, keras.Model(inputs, outputs), as course_utils.core.models does.") from err


# ---------------------------------------------------------------------------
# 2. The inference model: same weights, the course's convention
# ---------------------------------------------------------------------------
_CACHE: "weakref.WeakKeyDictionary[keras.Model, keras.Model]" = weakref.WeakKeyDictionary()


def inference_model(generator: keras.Model) -> keras.Model:
    """A model that shares ``generator``'s weights and runs it by the course's convention.

    Generators without batch norm, and generators that do not take images (the DCGAN), are
    returned unchanged. For the others, every
    ``BatchNormalization`` is wrapped in :class:`PerImageBatchNorm`; all other layers are the
    generator's own objects, so training the generator updates this model too. Call it with
    ``training=False`` (dropout off). The result is cached per generator.
    """
    _check_functional(generator)
    if not uses_batch_norm(generator) or not is_image_to_image(generator):
        return generator
    cached = _CACHE.get(generator)
    if cached is not None:
        return cached

    def share_or_wrap(layer: layers.Layer) -> layers.Layer:
        return PerImageBatchNorm(layer) if isinstance(layer, layers.BatchNormalization) else layer

    model = _clone(generator, share_or_wrap)
    model._name = f"{generator.name}_inference"
    _CACHE[generator] = model
    return model


# ---------------------------------------------------------------------------
# 3. translate(): any number of images, in chunks
# ---------------------------------------------------------------------------
def translate(generator: keras.Model, images: Any, batch_size: int = 8, verbose: bool = False) -> np.ndarray:
    """Run a trained image-to-image generator on ``images`` by the course's convention.

    Args:
        generator: a U-Net, ResNet or small CycleGAN generator (or an exported one).
        images: float ``(b, h, w, c)`` or one ``(h, w, c)`` image, in [-1, 1], at the size the
            generator was built for.
        batch_size: images per call (memory only: each image is normalised on its own, so the
            result does not depend on it).
        verbose: show a progress bar over the chunks.

    Returns:
        float32 numpy array of the same leading shape, in [-1, 1].
    """
    positive_int(batch_size, "batch_size")
    x = as_numpy(images, name="images")
    single = x.ndim == 3
    x = check_range(as_batch(x, "images"), "images")
    model = inference_model(generator)
    expected = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if expected and all(e is not None for e in expected) and tuple(x.shape[1:]) != expected:
        raise ValueError(f"{generator.name} takes images of shape {expected}, got {tuple(x.shape[1:])}: "
                         "resize them first (data.resize) or use `python -m course_utils translate`, "
                         "which resizes and restores the size for you.")
    chunks = range(0, len(x), batch_size)
    if verbose:
        from tqdm.auto import tqdm
        chunks = tqdm(chunks, desc=f"translating with {generator.name}", unit="batch")
    out = [as_numpy(model(x[i:i + batch_size], training=False)) for i in chunks]
    result = np.concatenate(out) if out else np.zeros((0,) + x.shape[1:-1] + (model.output_shape[-1],), np.float32)
    return result[0] if single else result


def translate_image(generator: keras.Model, image: Any) -> Any:
    """Translate one PIL image of any size and mode with ``generator``; returns a PIL image.

    What ``python -m course_utils translate`` does to each of your files.

    The image is converted to the model's channels (RGB or grayscale), resized to its input
    size, scaled to [-1, 1], translated, and resized back to the original size. A transparent
    image keeps its alpha channel.
    """
    from PIL import Image

    _, height, width, channels = generator.input_shape
    if height is None or width is None or channels not in (1, 3):
        raise ValueError(f"the generator takes inputs of shape {generator.input_shape}; translate needs a fixed "
                         "(height, width) and 1 or 3 channels, as the course's exported generators have")
    alpha = None
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        alpha = image.convert("RGBA").getchannel("A")
    source = image.convert("L" if channels == 1 else "RGB")
    original_size = source.size
    resized = source.resize((width, height), Image.Resampling.BICUBIC)
    x = from_uint8(np.asarray(resized).reshape(1, height, width, channels))
    y = to_uint8(translate(generator, x)[0])   # the course's inference convention
    out = Image.fromarray(y[..., 0] if y.shape[-1] == 1 else y)
    out = out.resize(original_size, Image.Resampling.BICUBIC)
    if alpha is not None:
        out = out.convert("RGBA" if out.mode == "RGB" else "LA")
        out.putalpha(alpha)
    return out


# ---------------------------------------------------------------------------
# 4. Export: a plain-Keras file that follows the convention by itself
# ---------------------------------------------------------------------------
def exportable_generator(generator: keras.Model) -> keras.Model:
    """A copy of ``generator`` built only from Keras layers, with the course's convention built in.

    Each ``BatchNormalization`` becomes ``GroupNormalization(groups=-1)`` (one group per channel:
    per-image, per-channel statistics) with the same gamma, beta and epsilon; every other layer
    is copied with its weights. Generators without batch norm are copied as they are.
    """
    _check_functional(generator)

    def copy_layer(layer: layers.Layer) -> layers.Layer:
        if isinstance(layer, layers.BatchNormalization):
            return layers.GroupNormalization(groups=-1, axis=-1, epsilon=layer.epsilon, center=layer.center,
                                             scale=layer.scale, dtype=layer.dtype_policy, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    copy = _clone(generator, copy_layer)
    by_name = {layer.name: layer for layer in _all_layers(generator)}
    for new in _all_layers(copy):
        if isinstance(new, keras.Model) or not new.weights:
            continue
        old = by_name[new.name]
        if isinstance(old, layers.BatchNormalization):
            weights = ([old.gamma.numpy()] if old.scale else []) + ([old.beta.numpy()] if old.center else [])
            new.set_weights(weights)
        else:
            new.set_weights(old.get_weights())
    return copy


def export_generator(generator: keras.Model, path: str | os.PathLike) -> Path:
    """Save ``generator`` as a ``.keras`` file that translates correctly when loaded anywhere.

    Load it with ``keras.models.load_model(path, compile=False)`` (add ``import course_utils``
    first only if the generator uses the course's own layers, e.g. CycleGAN's
    ``ReflectionPadding2D``), then ``model(images)`` or ``model.predict(images)`` on [-1, 1]
    images. The file is written to a temporary name and renamed into place, so an interrupted
    export never leaves a broken model.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path} must end in .keras (Keras 3's file format).")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, (exportable_generator(generator) if is_image_to_image(generator) else generator).save)
