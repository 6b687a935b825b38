"""Tests for enas_tf.data.image_arrays and image_options: channels, sizes, labels, decoding."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.data import image_arrays, image_options
from enas_tf.errors import DataError


@pytest.mark.parametrize(
    "value,size", [("", None), ("0", None), ("32", (32, 32)), ("48x64", (48, 64)), (" 7 ", (7, 7))]
)
def test_image_size_forms(value, size):
    assert image_options.parse_image_size(value) == size


@pytest.mark.parametrize("value", ["x", "32x", "0x5", "-3", "9000", "3x4x5"])
def test_bad_image_sizes_are_named(value):
    with pytest.raises(DataError, match="data.image_size"):
        image_options.parse_image_size(value)


def test_channel_conversions():
    gray = np.full((1, 2, 2, 1), 100, np.uint8)
    rgb = image_arrays.convert_channels(gray, 3)
    assert rgb.shape == (1, 2, 2, 3) and (rgb == 100).all()
    rgba = image_arrays.convert_channels(gray, 4)
    assert (rgba[..., 3] == 255).all() and (rgba[..., :3] == 100).all()
    colour = np.zeros((1, 1, 1, 4), np.uint8)
    colour[..., :] = (255, 0, 0, 7)
    assert image_arrays.convert_channels(colour, 1)[0, 0, 0, 0] == 76  # luma of pure red
    assert image_arrays.convert_channels(colour, 3)[0, 0, 0].tolist() == [255, 0, 0]
    gray_alpha = np.zeros((1, 1, 1, 2), np.uint8)
    assert image_arrays.convert_channels(gray_alpha, 3).shape[-1] == 3


def test_pixels_are_uint8_floats_in_0_1_scaled_and_other_ranges_refused():
    assert image_arrays.to_uint8(np.array([[0.0, 1.0]]), "x").tolist() == [[0, 255]]
    assert image_arrays.to_uint8(np.array([[0.0, 200.0]]), "x").tolist() == [[0, 200]]
    with pytest.raises(DataError, match=r"pixel values in \[-1, 1\]"):
        image_arrays.to_uint8(np.array([-1.0, 1.0]), "x")
    with pytest.raises(DataError, match="NaN"):
        image_arrays.to_uint8(np.array([np.nan]), "x")


def test_labels_are_checked_and_flattened():
    assert image_arrays.check_labels(np.array([[1], [0]]), 2, 2, "x").tolist() == [1, 0]
    with pytest.raises(DataError, match="label -1 at index 1"):
        image_arrays.check_labels([0, -1], 2, 2, "x")
    with pytest.raises(DataError, match="not whole numbers"):
        image_arrays.check_labels([0.5, 1.0], 2, 2, "x")


@pytest.mark.parametrize("mode", ["stretch", "crop", "pad"])
def test_resize_modes_keep_a_uniform_image_uniform(mode):
    image = np.full((30, 40, 3), 90, np.uint8)
    out = image_arrays.resize_one(image, (12, 16), mode).numpy()
    assert out.shape == (12, 16, 3)
    if mode != "pad":
        np.testing.assert_allclose(out, 90, atol=0.5)


def test_crop_keeps_the_centre():
    image = np.zeros((10, 30, 1), np.uint8)
    image[:, 10:20] = 255  # the middle third is white
    out = image_arrays.resize_one(image, (10, 10), "crop").numpy()
    assert out.min() > 250  # only the centre square is kept


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_decoding_png_and_jpeg_to_any_channel_count(channels):
    rgb = np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    for encoded in (tf.io.encode_png(rgb), tf.io.encode_jpeg(rgb)):
        image = image_arrays.decode_encoded(encoded, channels)
        assert image.shape == (5, 6, channels) and image.dtype == tf.uint8
