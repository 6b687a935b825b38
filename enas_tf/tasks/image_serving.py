"""What an exported image classifier answers: raw pixels or encoded images in, classes out.

Two signatures, one model:

* `serving_default`: `images` float32 [None, H, W, C], pixel values 0..255 at the model's size
  and channels (what `saved_model_cli --input_exprs` and numpy clients send);
* `serve_image_bytes`: `image_bytes` string [None], each a JPEG, PNG, BMP or GIF file's bytes
  (what a web client has). TF Serving's REST API carries bytes as `{"b64": "..."}`; the name
  ends in `_bytes` as Google's serving conventions expect. Decoding, channel conversion and
  resizing (`data.resize_mode`, to the model's size) happen inside the graph, so any image
  size and colour mode is accepted.

Both return `probabilities` [None, classes], `classes` (int64 top class) and `class_names`
(string: the top class's name, the training data's class names travel with the model).
Normalisation is inside the graph: clients send pixels as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from enas_tf.data import image_arrays
from enas_tf.data import images as image_data


def make_serving_fn(child, mean, std, class_names: Sequence[str] | None = None):
    """The pixels signature's function: raw pixels -> probabilities, classes, class names."""
    names = None if class_names is None else tf.constant([str(n) for n in class_names])

    def serve(images):
        logits, _ = child(image_data.standardize(images, mean, std), training=False)
        classes = tf.argmax(logits, axis=-1)
        outputs = {"probabilities": tf.nn.softmax(logits, axis=-1), "classes": classes}
        if names is not None:
            outputs["class_names"] = tf.gather(names, classes)
        return outputs

    return serve


def decode_to_model_input(image_bytes, image_shape, resize_mode: str) -> tf.Tensor:
    """Encoded images string [N] -> float32 [N, H, W, C] in 0..255, as the model was trained.

    Channels follow the training conversion: grayscale models get the decoder's grayscale
    (luma), RGB models drop an alpha channel and repeat a gray one, RGBA models get an opaque
    alpha for images without one.
    """
    height, width, channels = (int(d) for d in image_shape)

    def decode(contents):
        image = image_arrays.decode_encoded(contents, channels)
        return image_arrays.resize_one(image, (height, width), resize_mode)

    return tf.map_fn(
        decode,
        image_bytes,
        fn_output_signature=tf.TensorSpec([height, width, channels], tf.float32),
    )


def add_endpoints(archive, child, splits, image_shape, resize_mode: str) -> None:
    """Adds both signatures of an image classifier to a `keras.export.ExportArchive`."""
    serve = make_serving_fn(child, splits.channel_mean, splits.channel_std, splits.class_names)
    archive.add_endpoint(
        "serve",
        serve,
        input_signature=[tf.TensorSpec([None, *image_shape], tf.float32, name="images")],
    )
    archive.add_endpoint(
        "serve_image_bytes",
        lambda image_bytes: serve(decode_to_model_input(image_bytes, image_shape, resize_mode)),
        input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")],
    )
