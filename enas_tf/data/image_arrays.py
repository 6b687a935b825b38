"""Bringing any image array to the one shape a search uses: channels, size, labels.

Every image source (`enas_tf.data.image_sources`) hands its images here, so grayscale, RGBA
and RGB data of any size reach the models the same way: uint8 `[N, H, W, C]` with C the
channels chosen by `data.color_mode` and `H x W` by `data.image_size`.

* Channels (`data.color_mode`): `auto` keeps what the data has (1, 3 or 4 channels; a
  grayscale array `[N, H, W]` gets its channel axis; 2-channel grayscale+alpha becomes 1);
  `grayscale`, `rgb` and `rgba` convert, as `keras.utils.image_dataset_from_directory`'s
  `color_mode` does (luma weights ITU-R 601 for rgb -> grayscale, alpha dropped or set opaque).
* Size (`data.image_size`): "" keeps the data's size (all images must share it), "32" is 32x32
  and "48x64" is height 48, width 64. `data.resize_mode` says how other shapes get there:
  `stretch` (plain bilinear resize, the Keras default), `crop` (resize the short side, crop the
  centre: keeps the aspect ratio) or `pad` (resize the long side, pad with zeros).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from enas_tf.data.image_options import COLOR_MODES, RESIZE_MODES
from enas_tf.errors import DataError

_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def target_channels(color_mode: str, native: int) -> int:
    """Channels a search uses for data with `native` channels under `color_mode`."""
    if color_mode not in COLOR_MODES:
        raise DataError(f"data.color_mode={color_mode!r}: must be one of {COLOR_MODES}")
    if color_mode != "auto":
        return _CHANNELS[color_mode]
    return {1: 1, 2: 1, 3: 3, 4: 4}[native]


def with_channel_axis(images: np.ndarray, what: str) -> np.ndarray:
    """[N, H, W] -> [N, H, W, 1]; checks the result is [N, H, W, 1..4]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[-1] not in (1, 2, 3, 4) or 0 in images.shape[1:]:
        raise DataError(
            f"The {what} images have shape {images.shape}; expected [N, H, W] (grayscale) or "
            "[N, H, W, C] with C = 1 (grayscale), 3 (RGB) or 4 (RGBA)."
        )
    return images


def to_uint8(images: np.ndarray, what: str) -> np.ndarray:
    """Pixels as uint8 0..255; floats in 0..1 are scaled, other ranges refused by name."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    if images.dtype == np.bool_ or images.size == 0:
        return images.astype(np.uint8)
    low, high = float(images.min()), float(images.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise DataError(f"The {what} images contain NaN or infinite pixels.")
    if np.issubdtype(images.dtype, np.floating) and low >= 0.0 and high <= 1.0:
        return np.round(images * 255.0).astype(np.uint8)
    if low < 0 or high > 255:
        raise DataError(
            f"The {what} images have pixel values in [{low:g}, {high:g}]; expected 0..255 "
            "(or floats in 0..1). Undo any standardisation: the search computes its own."
        )
    return np.round(images).astype(np.uint8)


def convert_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """uint8 [N, H, W, c] -> [N, H, W, channels] (gray <-> rgb, alpha dropped or added)."""
    have = images.shape[-1]
    if have == channels:
        return images
    if have == 2:  # grayscale + alpha: the alpha goes first, then as grayscale.
        images, have = images[..., :1], 1
    if have == 4 and channels in (1, 3):
        images, have = images[..., :3], 3
    if have == channels:
        return images
    if have == 1:
        rgb = np.repeat(images, 3, axis=-1)
        if channels == 3:
            return rgb
        return np.concatenate([rgb, np.full_like(images, 255)], axis=-1)
    if have == 3 and channels == 1:
        luma = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return np.round(luma)[..., np.newaxis].astype(np.uint8)
    # have == 3, channels == 4: opaque alpha.
    return np.concatenate([images, np.full_like(images[..., :1], 255)], axis=-1)


def decode_encoded(contents, channels: int) -> tf.Tensor:
    """Encoded JPEG/PNG/BMP/GIF bytes -> uint8 [H, W, channels], converted as in training.

    The decoder converts: RGB to grayscale by luma, gray to RGB by repetition, alpha dropped;
    for 4 channels a JPEG (which has no alpha) gets an opaque one. Used by the streamed input
    pipelines and inside exported models, so both see the same pixels.
    """
    if channels == 4:
        image = tf.cond(
            tf.io.is_jpeg(contents),
            lambda: _with_opaque_alpha(tf.io.decode_jpeg(contents, channels=3)),
            lambda: tf.io.decode_image(contents, channels=4, expand_animations=False),
        )
    else:
        image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    return image


def _with_opaque_alpha(image):
    alpha = tf.fill([*tf.unstack(tf.shape(image)[:2]), 1], tf.constant(255, tf.uint8))
    return tf.concat([image, alpha], -1)


def resize_one(image, size: tuple[int, int], mode: str) -> tf.Tensor:
    """One image [H, W, C] (any dtype) to `size` by `mode`, as float32 0..255."""
    image = tf.cast(image, tf.float32)
    if tuple(image.shape[:2]) == tuple(size):
        return image
    if mode == "stretch":
        resized = tf.image.resize(image, size, antialias=True)
    elif mode == "crop":
        resized = _resize_and_crop_centre(image, size)
    elif mode == "pad":
        resized = tf.image.resize_with_pad(image, size[0], size[1], antialias=True)
    else:
        raise DataError(f"data.resize_mode={mode!r}: must be one of {RESIZE_MODES}")
    return tf.clip_by_value(resized, 0.0, 255.0)


def _resize_and_crop_centre(image: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """Scales so the image covers `size`, then keeps the centre (aspect ratio kept)."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.reduce_max(tf.constant(size, tf.float32) / shape)
    scaled = tf.cast(tf.math.ceil(shape * scale), tf.int32)
    scaled = tf.maximum(scaled, tf.constant(size, tf.int32))
    resized = tf.image.resize(image, scaled, antialias=True)
    top = (scaled[0] - size[0]) // 2
    left = (scaled[1] - size[1]) // 2
    return resized[top : top + size[0], left : left + size[1], :]


def resize_all(images: np.ndarray, size: tuple[int, int] | None, mode: str) -> np.ndarray:
    """uint8 [N, H, W, C] at `size` (None = unchanged), in chunks to bound the float copy."""
    if size is None or tuple(images.shape[1:3]) == tuple(size):
        return images
    if mode not in RESIZE_MODES:
        raise DataError(f"data.resize_mode={mode!r}: must be one of {RESIZE_MODES}")
    out = np.empty((len(images), *size, images.shape[-1]), np.uint8)
    for start in range(0, len(images), 1024):
        chunk = tf.convert_to_tensor(images[start : start + 1024])
        resized = tf.map_fn(
            lambda image: resize_one(image, size, mode),
            chunk,
            fn_output_signature=tf.TensorSpec([*size, images.shape[-1]], tf.float32),
        )
        out[start : start + len(chunk)] = np.round(resized.numpy()).astype(np.uint8)
    return out


def check_labels(labels, count: int, num_classes: int, what: str) -> np.ndarray:
    """int32 [count] labels in 0..num_classes-1, or a DataError naming the first bad one."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]  # Keras datasets ship [N, 1] labels.
    if labels.shape != (count,):
        raise DataError(f"The {what} has {count} images but labels of shape {labels.shape}.")
    if count and not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.equal(np.mod(labels, 1), 0)):
            raise DataError(f"The {what} labels are not whole numbers (dtype {labels.dtype}).")
    labels = labels.astype(np.int64)
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        raise DataError(
            f"The {what} has label {labels[bad[0]]} at index {bad[0]} ({bad.size} out of range "
            f"in all); labels must be 0..{num_classes - 1} for {num_classes} classes."
        )
    return labels.astype(np.int32)


def standardize_arrays(
    images, labels, num_classes: int, *, color_mode: str, size, resize_mode: str, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """One split's arrays as uint8 [N, H', W', C'] / int32 [N] under the data config."""
    images = to_uint8(with_channel_axis(images, what), what)
    labels = check_labels(labels, len(images), num_classes, what)
    images = convert_channels(images, target_channels(color_mode, images.shape[-1]))
    return resize_all(images, size, resize_mode), labels
