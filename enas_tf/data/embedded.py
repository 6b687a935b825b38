"""An embedded synthetic 10-class image task: ENAS end to end without downloading anything.

The quickstart and the tests need a dataset that exists on every machine, generates in ~2 s,
and on which (issue #2) the shared weights leave chance under uniformly random arcs within a
few hundred steps and architecture choices matter. The previous version (random colours per
channel, low contrast, noise, illumination, distractors, subtle shapes) had a plateau that a
fixed arc sat on for ~90 steps and random arcs never left (BUILD_NOTES.md gap 1). Here:

* Few nuisances, so the plateau is short: one bright (fixed polarity) greyscale pattern with a
  random tint, contrast 90-140 levels, Gaussian noise of 2-8 levels, nothing else.
* No cue a linear model can use: each image's mean is subtracted from its pattern (mean colour
  carries nothing) and patterns sit at a uniformly random position on a torus (they wrap
  around the borders), so every class's mean image is flat. With centres near the middle a
  ridge regression on pixels reached 39-63%.
* Classes at three spatial scales, so receptive field matters:
    local (a 3x3 stem feature decides): 0 horizontal_stripes, 1 vertical_stripes (period
      3-4 px), 2 checkerboard (cells 2.5-3.2 px), each in a square patch of 0.5-1 x size;
    elongated shapes (orientation and length of a line): 3 horizontal_bar, 4 vertical_bar
      (0.5-0.8 x size long, 2-3 px thick), 8 square_outline and 9 cross (0.5-0.76 x size);
    relations between two identical blobs (2.6-4 px squares) 0.36-0.6 x size apart:
      5 horizontal_pair, 6 vertical_pair, 7 diagonal_pair. Locally the three are the same
      two squares; only a receptive field spanning the gap (stacked/5x5 convs, pooling, the
      deeper cells) tells them apart.
  Shape sizes scale with `image_size`; texture periods and line widths are in pixels.
  Horizontal flips (the training augmentation) map every class to itself.

Measured (data seed 0, one CPU core; chance 10%; baselines with tests/embedded_test.py's
helpers, the supernet with bench/supernet_learning.py):
  16x16, 3000 train / 1000 test: nearest-class-mean on pixels 10.9%, ridge least squares
    16.4%, a 3-layer 3x3 conv net (32-32-64, max pooling, Adam, 8 epochs, ~7 s) 99.8%, the
    same net with 1x1 kernels (context only from its 2x2 max pooling) 24.7%.
  Generation: 6000 + 1000 images at 32x32 in ~2 s, 3000 + 1000 at 16x16 in 0.1 s.
  The quickstart's search supernet under uniformly random arcs (`taskset -c 1 python
    bench/supernet_learning.py --arcs=random --schedule=quickstart --valid_arcs=5
    --eval_arcs=30 --seed=S`; 3 normal cells x 8 filters, 3 nodes, batch 32, 78 steps an
    epoch): training accuracy at steps 78/156/234/312/390/468 for seed 0: 14/19/22/25/27/28%,
    random arcs' validation accuracy 15% -> 28-32%; seed 1: 12/19/22/23/25/25%, validation
    16% -> 28%; the previous task stayed at 10-11%. One fixed arc (`--arcs=fixed`) has no
    plateau: 35% in the first epoch, 89% by step 468, 99.0% validation. After
    468 steps 30 random arcs scored on the 500 validation images: mean 32.7%, sd 6.8%, range
    18.8-44.2%, against an sd of 3.8% for one arc over the five 100-image minibatches.
    Parameter-free ops are ahead at this budget (every arc trains the stem and projections
    they rely on, a separable conv only in the arcs that pick it): one op everywhere gives
    identity 41%, avg/max pool 31%, sep conv 3x3 23%, 5x5 20%. Per class over those arcs:
    horizontal stripes 69%, vertical bar 56%, square outline 44%, the pairs 2-17%. Seed 1:
    mean 29.8%, sd 4.5% (range 19.4-38.0%) against 4.0% minibatch noise; a v2 of this file
    with thinner lines gave mean 37.8%, sd 9.9% against 3.8% at seed 1. So the shared
    weights now learn under random arcs, but slowly (25-28% train at step 468, not the 30%
    hoped for), and the spread over arcs is only 1.1-1.8x one minibatch's noise at this budget.
"""

from __future__ import annotations

import numpy as np

from enas_tf.errors import DataError

CLASS_NAMES = (
    "horizontal_stripes",
    "vertical_stripes",
    "checkerboard",
    "horizontal_bar",
    "vertical_bar",
    "horizontal_pair",
    "vertical_pair",
    "diagonal_pair",
    "square_outline",
    "cross",
)
NUM_CLASSES = len(CLASS_NAMES)
MIN_IMAGE_SIZE = 12  # Below this the pairs' separations and the textures' patches collide.


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
    """Balanced, shuffled labels; one vectorised pattern draw per class; then rendering."""
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


def _centre(rng, n, size):
    """Offsets (dy, dx) of every pixel from a uniformly random centre, on a torus.

    Patterns wrap around the borders, so every pixel is equally likely to be covered by
    every class: the class-mean images are flat and a linear model on the pixels has no
    template to learn (with centres only near the middle it learned 30-60%). The conv
    nets' zero padding sees a wrapped pattern as pieces at the borders, a nuisance that the
    random-crop augmentation adds anyway.
    """
    yy, xx = _grid(size)
    cy, cx = _u(rng, n, 0, size), _u(rng, n, 0, size)
    half = size / 2
    return np.mod(yy - cy + half, size) - half, np.mod(xx - cx + half, size) - half


def _box(dy, dx, half_h, half_w) -> np.ndarray:
    """Anti-aliased coverage of an axis-aligned rectangle centred at offset 0."""
    return np.clip(np.minimum(half_h - np.abs(dy), half_w - np.abs(dx)) + 0.5, 0.0, 1.0)


def _square_wave(phase: np.ndarray) -> np.ndarray:
    """Soft square wave in [0, 1]: crisp but not aliased like a hard threshold."""
    return 0.5 + 0.5 * np.tanh(3.0 * np.sin(phase))


# --------------------------------------------------------------------------------------------
# Class patterns: (rng, n, size) -> float32 [n, S, S] in [0, 1].


def _texture_patch(rng, n, size):
    half = _u(rng, n, 0.25 * size, 0.5 * size)
    dy, dx = _centre(rng, n, size)
    return _box(dy, dx, half, half), dy, dx


def _stripes(rng, n, size, vertical: bool):
    mask, dy, dx = _texture_patch(rng, n, size)
    period = _u(rng, n, 3.0, 4.0)
    across = dx if vertical else dy
    return mask * _square_wave(2 * np.pi * across / period + _u(rng, n, 0, 2 * np.pi))


def _horizontal_stripes(rng, n, size):
    return _stripes(rng, n, size, vertical=False)


def _vertical_stripes(rng, n, size):
    return _stripes(rng, n, size, vertical=True)


def _checkerboard(rng, n, size):
    mask, dy, dx = _texture_patch(rng, n, size)
    cell = _u(rng, n, 2.5, 3.2)
    product = np.sin(np.pi * dy / cell + _u(rng, n, 0, 6.3)) * np.sin(
        np.pi * dx / cell + _u(rng, n, 0, 6.3)
    )
    return mask * (0.5 + 0.5 * np.tanh(4.0 * product))


def _bar(rng, n, size, vertical: bool):
    half_len = _u(rng, n, 0.25 * size, 0.4 * size)
    half_t = _u(rng, n, 1.0, 1.6)
    dy, dx = _centre(rng, n, size)
    if vertical:
        return _box(dy, dx, half_len, half_t)
    return _box(dy, dx, half_t, half_len)


def _horizontal_bar(rng, n, size):
    return _bar(rng, n, size, vertical=False)


def _vertical_bar(rng, n, size):
    return _bar(rng, n, size, vertical=True)


def _pair(rng, n, size, direction):
    """Two small squares `direction * distance` apart ([n, 1, 1] unit components)."""
    uy, ux = direction
    half_side = _u(rng, n, 1.3, 2.0)
    half_gap = _u(rng, n, 0.18 * size, 0.3 * size)
    oy, ox = uy * half_gap, ux * half_gap
    dy, dx = _centre(rng, n, size)
    first = _box(dy - oy, dx - ox, half_side, half_side)
    second = _box(dy + oy, dx + ox, half_side, half_side)
    return np.maximum(first, second)


def _horizontal_pair(rng, n, size):
    return _pair(rng, n, size, (0.0, 1.0))


def _vertical_pair(rng, n, size):
    return _pair(rng, n, size, (1.0, 0.0))


def _diagonal_pair(rng, n, size):
    sign = rng.choice([-1.0, 1.0], size=(n, 1, 1)).astype(np.float32)
    return _pair(rng, n, size, (np.float32(np.sqrt(0.5)), sign * np.sqrt(0.5)))


def _square_outline(rng, n, size):
    half = _u(rng, n, 0.25 * size, 0.38 * size)
    half_t = _u(rng, n, 0.8, 1.2)
    dy, dx = _centre(rng, n, size)
    outer = _box(dy, dx, half + half_t, half + half_t)
    return np.clip(outer - _box(dy, dx, half - half_t, half - half_t), 0.0, 1.0)


def _cross(rng, n, size):
    arm = _u(rng, n, 0.25 * size, 0.38 * size)
    half_t = _u(rng, n, 0.8, 1.2)
    dy, dx = _centre(rng, n, size)
    return np.maximum(_box(dy, dx, arm, half_t), _box(dy, dx, half_t, arm))


_PATTERNS = (
    _horizontal_stripes,
    _vertical_stripes,
    _checkerboard,
    _horizontal_bar,
    _vertical_bar,
    _horizontal_pair,
    _vertical_pair,
    _diagonal_pair,
    _square_outline,
    _cross,
)


# --------------------------------------------------------------------------------------------
# Rendering: masks -> uint8 RGB.


def _render(rng: np.random.Generator, masks: np.ndarray) -> np.ndarray:
    n = masks.shape[0]
    grey = rng.uniform(60, 150, size=(n, 1, 1, 1)).astype(np.float32)
    tint = rng.uniform(-20, 20, size=(n, 1, 1, 3)).astype(np.float32)
    amplitude = _u(rng, n, 90, 140)[..., None] * rng.uniform(0.8, 1.0, size=(n, 1, 1, 3))
    centred = masks - masks.mean(axis=(1, 2), keepdims=True)
    image = grey + tint + amplitude.astype(np.float32) * centred[..., None]
    image += rng.normal(0.0, 1.0, size=image.shape).astype(np.float32) * _u(rng, n, 2, 8)[..., None]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
