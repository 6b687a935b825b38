"""An embedded synthetic 10-class image task: ENAS end to end without downloading anything.

The quickstart and the tests need a dataset that exists on every machine, generates in ~2 s
(6000 32x32 images), and on which architecture choices matter. Random noise or colour-coded
classes would not do: a linear model would solve colour codes and nothing learns noise. Here
every class is a *spatial* cue (orientation, frequency, shape) painted in random colours at a
random position, so colour and mean intensity carry no information and a linear model on raw
pixels is close to chance, while a small conv net learns it. The cues live at different spatial
scales (3-4 px stripe periods vs. 10+ px stripes, dots vs. blobs, rings vs. squares), so ops
with small and large receptive fields (3x3 vs 5x5 / dilated convs, pooling) are not
interchangeable.

Classes (sizes are for 32x32 and scale with `image_size`, except the fine texture periods,
which are in pixels so they stay fine at 16x16):

  0 horizontal_stripes  fine stripes (period 3-4 px), near-horizontal, in a disc-shaped patch.
  1 vertical_stripes    the same, near-vertical.
  2 diagonal_stripes    the same, near +-45 degrees.
  3 coarse_stripes      stripes of period ~0.3-0.42 x size at any orientation in a large patch
                        (needs a large receptive field to tell from a plain region).
  4 checkerboard        axis-aligned checkerboard, cells 2.5-4 px, in a patch.
  5 dots                a lattice of small dots (spacing 4.5-6 px), in a patch.
  6 blob                a filled disc (radius 0.12-0.25 x size).
  7 ring                an annulus (radius 0.2-0.35 x size, 1.2-2.2 px thick).
  8 square_outline      a hollow square of similar size and thickness, slightly rotated.
  9 cross               a plus or an x-shaped cross of similar size and thickness.

Every image also gets: random background and foreground colours (each channel of the
foreground differs from the background by 80..176 levels, times a random contrast 0.45..1), a
random linear illumination gradient, Gaussian pixel noise (sigma 4..16 levels), and 2-4 small
squares of random colour as distractors. Texture phases, positions, sizes and orientations are
random within the ranges above.

Measured on 2 CPU cores (seed 0, 1000 test images; chance is 10%):
  16x16, 3000 train: nearest-class-mean on pixels 9.6%, ridge least-squares on pixels 13.4%,
    a 3-layer 3x3 conv net (32-32-64 filters, max pooling, 8 epochs, ~7 s) 82.4%
    (tests/embedded_test.py); the same net with 1x1 kernels (no spatial context) 10.2%.
  32x32, 6000 train: nearest-class-mean 9.2%, least-squares 13.6%; with 3000 train the 3x3
    conv net reaches 90.6% after 5 epochs and 96.0% after 8, 5x5 kernels 89.2%, 1x1 17.6%.
"""

from __future__ import annotations

import numpy as np

CLASS_NAMES = (
    "horizontal_stripes",
    "vertical_stripes",
    "diagonal_stripes",
    "coarse_stripes",
    "checkerboard",
    "dots",
    "blob",
    "ring",
    "square_outline",
    "cross",
)
NUM_CLASSES = len(CLASS_NAMES)
MIN_IMAGE_SIZE = 12  # Below this the fine textures and the shapes stop being distinguishable.


def make_embedded_dataset(num_train: int, num_test: int, image_size: int, seed: int):
    """Generates the synthetic task deterministically with numpy.

    Train and test come from independent streams of `seed`, so the test set does not change
    when `num_train` does.

    Args:
      num_train: number of training images (classes balanced up to one image).
      num_test: number of test images.
      image_size: height and width (e.g. 16 or 32).
      seed: same seed, identical arrays.

    Returns:
      (train_x uint8 [num_train, S, S, 3], train_y int32 [num_train], test_x, test_y,
      class_names).

    Raises:
      DataError: a size is out of range.
    """
    from enas_tf.data.images import DataError  # Local: images.py imports this module lazily.

    if num_train <= 0 or num_test <= 0:
        raise DataError(
            f"data.embedded.num_train={num_train} and data.embedded.num_test={num_test} must "
            "both be > 0."
        )
    if image_size < MIN_IMAGE_SIZE:
        raise DataError(
            f"data.embedded.image_size={image_size} is too small for the embedded task's "
            f"textures and shapes: use >= {MIN_IMAGE_SIZE} (16 or 32)."
        )
    train_seq, test_seq = np.random.SeedSequence(int(seed)).spawn(2)
    train_x, train_y = _make_split(np.random.default_rng(train_seq), num_train, image_size)
    test_x, test_y = _make_split(np.random.default_rng(test_seq), num_test, image_size)
    return train_x, train_y, test_x, test_y, CLASS_NAMES


def _make_split(rng: np.random.Generator, n: int, size: int):
    """Balanced, shuffled labels; one vectorised pattern draw per class; then colours/noise."""
    labels = rng.permutation(np.arange(n) % NUM_CLASSES).astype(np.int32)
    masks = np.zeros((n, size, size), np.float32)
    for k, pattern in enumerate(_PATTERNS):
        idx = np.flatnonzero(labels == k)
        if len(idx):
            masks[idx] = pattern(rng, len(idx), size)
    return _render(rng, masks), labels


# --------------------------------------------------------------------------------------------
# Geometry helpers. Per-image parameters are [n, 1, 1] arrays broadcast against the pixel grid.


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates, [1, S, S] each."""
    coords = np.arange(size, dtype=np.float32) + 0.5
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    return yy[None], xx[None]


def _u(rng, n, low, high) -> np.ndarray:
    return rng.uniform(low, high, size=(n, 1, 1)).astype(np.float32)


def _frame(rng, n, size, centre_lo=0.3, centre_hi=0.7, angle=None):
    """Coordinates (u, v) rotated by `angle` about a random centre; returns (u, v)."""
    yy, xx = _grid(size)
    cy = _u(rng, n, centre_lo * size, centre_hi * size)
    cx = _u(rng, n, centre_lo * size, centre_hi * size)
    if angle is None:
        angle = np.zeros((n, 1, 1), np.float32)
    dy, dx = yy - cy, xx - cx
    cos, sin = np.cos(angle), np.sin(angle)
    return dx * cos + dy * sin, -dx * sin + dy * cos


def _coverage(signed_distance: np.ndarray) -> np.ndarray:
    """Anti-aliased inside-ness from a signed distance in pixels (negative = inside)."""
    return np.clip(0.5 - signed_distance, 0.0, 1.0)


def _patch(rng, n, size, radius_lo, radius_hi):
    """A disc-shaped region at a random centre, for textures; returns (mask, y, x)."""
    yy, xx = _grid(size)
    cy = _u(rng, n, 0.3 * size, 0.7 * size)
    cx = _u(rng, n, 0.3 * size, 0.7 * size)
    radius = _u(rng, n, radius_lo * size, radius_hi * size)
    mask = _coverage(np.hypot(yy - cy, xx - cx) - radius)
    return mask, yy, xx


def _square_wave(phase: np.ndarray) -> np.ndarray:
    """Soft square wave in [0, 1]: crisp but not aliased like a hard threshold."""
    return 0.5 + 0.5 * np.tanh(2.5 * np.sin(phase))


def _stripes(rng, n, size, angle, period_lo, period_hi, patch=(0.28, 0.42)):
    mask, yy, xx = _patch(rng, n, size, *patch)
    period = _u(rng, n, period_lo, period_hi)
    phase = _u(rng, n, 0.0, 2 * np.pi)
    # Stripes run along `angle`; the intensity varies across it.
    across = -xx * np.sin(angle) + yy * np.cos(angle)
    return mask * _square_wave(2 * np.pi * across / period + phase)


def _jitter(rng, n, base, degrees):
    return (base + _u(rng, n, -degrees, degrees) * np.pi / 180).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Class patterns: (rng, n, size) -> float32 [n, S, S] in [0, 1].

_FINE = (3.0, 4.0)  # Fine stripe period, pixels.


def _horizontal_stripes(rng, n, size):
    return _stripes(rng, n, size, _jitter(rng, n, 0.0, 12), *_FINE)


def _vertical_stripes(rng, n, size):
    return _stripes(rng, n, size, _jitter(rng, n, np.pi / 2, 12), *_FINE)


def _diagonal_stripes(rng, n, size):
    sign = rng.choice([-1.0, 1.0], size=(n, 1, 1)).astype(np.float32)
    return _stripes(rng, n, size, _jitter(rng, n, sign * np.pi / 4, 10), *_FINE)


def _coarse_stripes(rng, n, size):
    angle = _u(rng, n, 0.0, np.pi)
    return _stripes(rng, n, size, angle, 0.3 * size, 0.42 * size, patch=(0.45, 0.6))


def _checkerboard(rng, n, size):
    mask, yy, xx = _patch(rng, n, size, 0.28, 0.42)
    cell = _u(rng, n, 2.5, 4.0)
    py, px = _u(rng, n, 0.0, 2 * np.pi), _u(rng, n, 0.0, 2 * np.pi)
    product = np.sin(np.pi * yy / cell + py) * np.sin(np.pi * xx / cell + px)
    return mask * (0.5 + 0.5 * np.tanh(4.0 * product))


def _dots(rng, n, size):
    mask, yy, xx = _patch(rng, n, size, 0.28, 0.42)
    spacing = _u(rng, n, 4.5, 6.0)
    oy, ox = _u(rng, n, 0.0, 6.0), _u(rng, n, 0.0, 6.0)
    fy = np.mod((yy - oy) / spacing, 1.0) - 0.5
    fx = np.mod((xx - ox) / spacing, 1.0) - 0.5
    radius = _u(rng, n, 0.9, 1.3)
    return mask * _coverage(spacing * np.hypot(fy, fx) - radius)


def _blob(rng, n, size):
    u, v = _frame(rng, n, size)
    return _coverage(np.hypot(u, v) - _u(rng, n, 0.12 * size, 0.25 * size))


def _thickness(rng, n):
    return _u(rng, n, 1.2, 2.2)


def _ring(rng, n, size):
    u, v = _frame(rng, n, size)
    radius = _u(rng, n, 0.2 * size, 0.35 * size)
    return _coverage(np.abs(np.hypot(u, v) - radius) - _thickness(rng, n) / 2)


def _square_outline(rng, n, size):
    u, v = _frame(rng, n, size, angle=_jitter(rng, n, 0.0, 15))
    half = _u(rng, n, 0.18 * size, 0.32 * size)
    chebyshev = np.maximum(np.abs(u), np.abs(v))
    return _coverage(np.abs(chebyshev - half) - _thickness(rng, n) / 2)


def _cross(rng, n, size):
    base = rng.choice([0.0, np.pi / 4], size=(n, 1, 1)).astype(np.float32)
    u, v = _frame(rng, n, size, angle=_jitter(rng, n, base, 10))
    arm = _u(rng, n, 0.2 * size, 0.35 * size)
    half_t = _thickness(rng, n) / 2
    bar_1 = np.maximum(np.abs(v) - half_t, np.abs(u) - arm)
    bar_2 = np.maximum(np.abs(u) - half_t, np.abs(v) - arm)
    return _coverage(np.minimum(bar_1, bar_2))


_PATTERNS = (
    _horizontal_stripes,
    _vertical_stripes,
    _diagonal_stripes,
    _coarse_stripes,
    _checkerboard,
    _dots,
    _blob,
    _ring,
    _square_outline,
    _cross,
)


# --------------------------------------------------------------------------------------------
# Rendering: masks -> uint8 RGB with nuisance colour, illumination, noise and distractors.


def _render(rng: np.random.Generator, masks: np.ndarray) -> np.ndarray:
    n, size, _ = masks.shape
    background = rng.uniform(0, 255, size=(n, 1, 1, 3)).astype(np.float32)
    offset = rng.uniform(80, 176, size=(n, 1, 1, 3)).astype(np.float32)
    foreground = np.mod(background + offset, 256.0)  # Each channel >= 80 levels away.
    contrast = _u(rng, n, 0.45, 1.0)[..., None]
    image = background + contrast * (foreground - background) * masks[..., None]
    image += _illumination(rng, n, size)
    _add_distractors(rng, image)
    image += (
        rng.normal(0.0, 1.0, size=image.shape).astype(np.float32) * _u(rng, n, 4, 16)[..., None]
    )
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _illumination(rng, n, size) -> np.ndarray:
    """A random linear brightness gradient, up to +-25 levels at the borders: [n, S, S, 1]."""
    yy, xx = _grid(size)
    gy, gx = _u(rng, n, -1, 1), _u(rng, n, -1, 1)
    ramp = (gy * (yy - size / 2) + gx * (xx - size / 2)) * (25.0 / size)
    return ramp[..., None]


def _add_distractors(rng, image: np.ndarray) -> None:
    """Paints 2-4 small squares (1-2 px at 16x16, 1-3 px at 32x32) of random colour in place."""
    n, size = image.shape[0], image.shape[1]
    max_side = max(2, size // 12)
    for slot in range(4):
        present = rng.random(n) < (1.0 if slot < 2 else 0.5)
        side = rng.integers(1, max_side + 1, size=n)
        top = rng.integers(0, size - 1, size=n)
        left = rng.integers(0, size - 1, size=n)
        colour = rng.uniform(0, 255, size=(n, 3)).astype(np.float32)
        for i in np.flatnonzero(present):
            image[i, top[i] : top[i] + side[i], left[i] : left[i] + side[i]] = colour[i]
