"""Tests for enas_tf.layers.stem: large images halved before the stem, small ones untouched."""

import numpy as np
import pytest
import tensorflow as tf

from enas_tf.layers import stem


@pytest.mark.parametrize(
    "height,width,count",
    [(12, 12, 0), (32, 32, 0), (28, 28, 0), (33, 20, 1), (48, 64, 1), (64, 64, 1), (224, 224, 3)],
)
def test_halvings(height, width, count):
    assert stem.halvings(height, width) == count


def test_small_images_pass_through_with_no_weights():
    layer = stem.StemReductions(8, search=True)
    images = tf.random.uniform([2, 32, 32, 3])
    np.testing.assert_array_equal(layer(images, training=True), images)
    assert layer.weights == []


@pytest.mark.parametrize("search", [True, False])
def test_large_images_reach_at_most_32_pixels(search):
    layer = stem.StemReductions(8, search=search)
    out = layer(tf.random.uniform([2, 100, 70, 1]), training=True)
    assert out.shape == (2, 25, 18, 8) and stem.halvings(100, 70) == 2
    assert len(layer.trainable_weights) == 2 + 2 * 2  # two convs, two BN scale/offset pairs


@pytest.mark.slow
def test_a_supernet_and_its_child_share_the_stem_on_64x64_images():
    from configs import tiny
    from enas_tf.spaces import registry

    config = tiny.get_config("space=macro")
    space = registry.of(config)
    supernet = space.build_supernet(num_classes=3, image_shape=(64, 64, 1))

    def stem_kernels(model):
        return [
            w.path.split("/", 1)[1] for w in model.trainable_weights if "stem_reductions" in w.path
        ]

    names = stem_kernels(supernet)
    assert "stem_reductions/reduce0/kernel" in names
    child = space.build_child(
        space.sample_random_arc(np.random.default_rng(0)), num_classes=3, image_shape=(64, 64, 1)
    )
    assert stem_kernels(child) == names  # the same layers, trained again from scratch
