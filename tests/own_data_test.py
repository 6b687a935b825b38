"""End to end on users' own image data: search -> derive -> retrain -> export, then serve.

Each test writes a small data set itself (an image folder, an .npz), runs the whole tiny
pipeline on it, and asks the exported SavedModel, loaded from disk, as TF Serving's REST API
would be asked (`enas_tf.rest_predict`), for the classes of raw pixels and of the same images
as encoded files: both must agree with each other and carry the class names.
"""

import base64
import json
import os

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from configs import tiny
from enas_tf import pipeline, rest_predict
from enas_tf.tasks.image import ImageTask


def _tiny(space, source, **data):
    config = ml_collections.ConfigDict(tiny.get_config(f"space={space}").to_dict())
    config.data.source = str(source)
    config.data.update(data)
    config.search.epochs = 1
    if space == "macro":
        config.search.model.num_layers = 3
    return config


def _rest(export_dir, body):
    """The REST answer to `body`, computed from the export alone (loaded from disk, as a
    server would: nothing of the run's models in memory is used), through its JSON text.

    `python -m enas_tf.rest_predict` answers the same way in a new process
    (tests/rest_predict_test.py runs the command); here that process's 5 s TensorFlow import
    per request bought nothing more (issue #27).
    """
    return json.loads(json.dumps(rest_predict.predict(export_dir, body)))


def _check_served(export_dir, images, class_names):
    """Pixels and the same pixels as PNG files get the same answer, with class names."""
    pixels = _rest(export_dir, {"instances": images.astype(float).tolist()})
    encoded = [base64.b64encode(tf.io.encode_png(i).numpy()).decode() for i in images]
    body = {"signature_name": "serve_image_bytes", "instances": [{"b64": e} for e in encoded]}
    from_bytes = _rest(export_dir, body)
    assert len(pixels["predictions"]) == len(images)
    for a, b in zip(pixels["predictions"], from_bytes["predictions"], strict=True):
        assert a["classes"] == b["classes"]
        assert a["class_names"] == class_names[a["classes"]]
        np.testing.assert_allclose(a["probabilities"], b["probabilities"], atol=1e-5)
    with open(os.path.join(export_dir, "class_names.txt")) as f:
        assert f.read().split("\n")[:-1] == list(class_names)


@pytest.mark.slow
def test_a_grayscale_28x28_folder_of_three_classes_searched_at_20x20(tmp_path, write_image_folder):
    names = ["circle", "square", "triangle"]
    root = write_image_folder(
        tmp_path / "shapes", names, height=28, width=28, channels=1, per_class=30
    )
    # The search at 20x20, the retraining and export at the folder's 28x28.
    config = _tiny("micro", root, valid_fraction=0.25, test_fraction=0.2, image_size="20")
    config.retrain.image_size = "28"
    task = ImageTask.load(config)
    assert task.image_shape == (20, 20, 1) and task.retrain_image_shape == (28, 28, 1)
    outputs = pipeline.run(config, str(tmp_path / "run"))
    assert 0.0 <= outputs["retrain"]["test_accuracy"] <= 1.0
    served = tf.saved_model.load(outputs["export"]).signatures["serving_default"]
    assert served.structured_input_signature[1]["images"].shape.as_list() == [None, 28, 28, 1]
    images = tf.io.decode_png(open(os.path.join(root, "square", "000.png"), "rb").read())
    _check_served(outputs["export"], images.numpy()[np.newaxis], names)


@pytest.mark.slow
def test_an_rgb_48x64_folder_of_37_classes_answers_any_image_size(tmp_path, write_image_folder):
    names = [f"breed_{i:02d}" for i in range(37)]
    root = write_image_folder(tmp_path / "pets", names, height=48, width=64, per_class=4, fmt="jpg")
    config = _tiny("macro", root, valid_fraction=0.15, test_fraction=0.15)
    outputs = pipeline.run(config, str(tmp_path / "run"))
    assert 0.0 <= outputs["retrain"]["test_accuracy"] <= 1.0
    rng = np.random.default_rng(0)
    _check_served(outputs["export"], rng.integers(0, 256, (2, 48, 64, 3), dtype=np.uint8), names)
    # A photo of another size and a grayscale PNG are decoded and resized inside the graph.
    photo = tf.io.encode_jpeg(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)).numpy()
    gray = tf.io.encode_png(rng.integers(0, 256, (30, 30, 1), dtype=np.uint8)).numpy()
    body = {
        "signature_name": "serve_image_bytes",
        "instances": [{"b64": base64.b64encode(b).decode()} for b in (photo, gray)],
    }
    answers = _rest(outputs["export"], body)["predictions"]
    assert [len(a["probabilities"]) for a in answers] == [37, 37]
    assert all(a["class_names"] in names for a in answers)


@pytest.mark.slow
def test_an_npz_of_grayscale_arrays(tmp_path, class_images):
    x, y = class_images(120, 4, 20, 20, channels=1)
    tx, ty = class_images(32, 4, 20, 20, channels=1, seed=1)
    path = tmp_path / "arrays.npz"
    names = np.array(["north", "east", "south", "west"])
    np.savez(path, x_train=x[..., 0], y_train=y, x_test=tx, y_test=ty, class_names=names)
    outputs = pipeline.run(_tiny("macro", path, num_valid=24), str(tmp_path / "run"))
    assert 0.0 <= outputs["retrain"]["test_accuracy"] <= 1.0
    _check_served(outputs["export"], tx[:3], list(names))


@pytest.mark.slow
def test_tfrecord_shards_stream_on_two_replicas(
    tmp_path, tfds_shards, monkeypatch, two_replica_strategy
):
    """MirroredStrategy over 2 logical CPUs, every batch streamed from the 4 shards.

    Also the image spaces' whole pipeline on two replicas (tests/pipeline_test.py runs the
    rnn space's).
    """
    from enas_tf.runtime import strategy as strategy_lib

    monkeypatch.setattr(
        strategy_lib, "create_strategy", lambda tpu, cluster_wait_seconds: two_replica_strategy
    )
    config = _tiny("macro", tfds_shards, streaming="on", num_valid=32)
    workdir = str(tmp_path / "run")
    outputs = pipeline.run(config, workdir)
    assert 0.0 <= outputs["retrain"]["test_accuracy"] <= 1.0
    assert os.path.exists(os.path.join(workdir, "arc.json"))
    assert "serving_default" in tf.saved_model.load(outputs["export"]).signatures
    import tensorflow_datasets as tfds

    test = tfds.builder_from_directory(tfds_shards).as_dataset(split="test[:3]")
    images = np.stack([example["image"] for example in test.as_numpy_iterator()])
    _check_served(outputs["export"], images, ["left", "middle", "right"])


@pytest.mark.parametrize("override,message", [("empty", "has no class subfolders")])
def test_bad_data_stops_before_the_workdir_is_written(tmp_path, override, message, run_cli):
    (tmp_path / "empty").mkdir()
    result = run_cli(
        "--config=configs/tiny.py",
        f"--workdir={tmp_path / 'run'}",
        f"--config.data.source={tmp_path / override}",
        "--config.data.test_fraction=0.2",
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert not (tmp_path / "run").exists()
