"""The paper's training augmentation, on whole standardised batches with stateless seeds.

Zero-pad 4, random crop back to the image size, random horizontal flip, optional CutOut: as
in the paper and the original code, but drawn per image from a stateless seed per batch (so a
seed reproduces the stream and a resumed run sees the same augmentations) and computed as
batched gathers rather than per image, which keeps the input pipeline ahead of a CPU child.
Used by the in-memory pipelines (`enas_tf.data.images`) and the streamed ones
(`enas_tf.data.image_stream`).
"""

from __future__ import annotations

import tensorflow as tf

_PAD = 4  # pixels of zero padding before the random crop (paper and original code).


def augment_batch(images: tf.Tensor, seed: tf.Tensor, cutout_size: int = 0) -> tf.Tensor:
    """The paper's augmentation on a standardised float batch, one random draw per image.

    Zero-pads by 4 (zero = the mean pixel, since padding follows standardisation), crops a
    random HxW window, flips horizontally with probability 1/2, then optionally zeroes a
    `cutout_size` square whose centre is uniform over the image (clipped at the borders).

    Args:
      images: float32 [B, H, W, C].
      seed: int64 [2] stateless seed; the same seed gives the same augmentation.
      cutout_size: CutOut square side (0 = none).

    Returns:
      float32 [B, H, W, C].
    """
    crop_seed, flip_seed, cut_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=3))
    images = random_crop_flip(images, crop_seed, flip_seed)
    if cutout_size > 0:
        images = cutout(images, cut_seed, cutout_size)
    return images


def random_crop_flip(images: tf.Tensor, crop_seed: tf.Tensor, flip_seed: tf.Tensor) -> tf.Tensor:
    """Pad-4 random crop and horizontal flip as two batched gathers (rows, then columns)."""
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [_PAD, _PAD], [_PAD, _PAD], [0, 0]])
    offsets = tf.random.stateless_uniform(
        [batch, 2], seed=crop_seed, minval=0, maxval=2 * _PAD + 1, dtype=tf.int32
    )
    flip = tf.random.stateless_uniform([batch], seed=flip_seed) < 0.5
    rows = offsets[:, :1] + tf.range(height)[tf.newaxis, :]
    col_steps = tf.where(
        flip[:, tf.newaxis], tf.range(width - 1, -1, -1)[tf.newaxis, :], tf.range(width)
    )
    cols = offsets[:, 1:] + col_steps
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    out = tf.gather(out, cols, axis=2, batch_dims=1)
    return tf.ensure_shape(out, images.shape)


def cutout(images: tf.Tensor, seed: tf.Tensor, size: int) -> tf.Tensor:
    """Zeroes a size x size square per image, centre uniform over the image, clipped at borders."""
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    y_seed, x_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    cy = tf.random.stateless_uniform([batch], seed=y_seed, minval=0, maxval=height, dtype=tf.int32)
    cx = tf.random.stateless_uniform([batch], seed=x_seed, minval=0, maxval=width, dtype=tf.int32)
    top = cy - size // 2
    left = cx - size // 2
    ys = tf.range(height)[tf.newaxis, :]
    xs = tf.range(width)[tf.newaxis, :]
    in_rows = (ys >= top[:, None]) & (ys < top[:, None] + size)  # [B, H]
    in_cols = (xs >= left[:, None]) & (xs < left[:, None] + size)  # [B, W]
    hole = in_rows[:, :, None] & in_cols[:, None, :]  # [B, H, W]
    return tf.where(hole[..., tf.newaxis], tf.zeros_like(images), images)
