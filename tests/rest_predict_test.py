"""Tests for enas_tf.rest_predict: TF Serving's REST predict body answered from a SavedModel."""

import base64
import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from enas_tf import rest_predict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    """A SavedModel with a numeric two-output signature and a bytes one-output signature."""

    class Model(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def numbers(self, x):
            return {"double": 2 * x, "total": tf.reduce_sum(x, axis=-1)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def lengths(self, image_bytes):
            return {"length": tf.strings.length(image_bytes)}

    model = Model()
    path = str(tmp_path_factory.mktemp("model") / "1")
    tf.saved_model.save(
        model,
        path,
        signatures={"serving_default": model.numbers, "serve_image_bytes": model.lengths},
    )
    return path


def test_row_format_gives_one_object_per_instance(export_dir):
    answer = rest_predict.predict(export_dir, {"instances": [[1.0, 2.0], [3.0, 4.0]]})
    assert answer == {
        "predictions": [{"double": [2.0, 4.0], "total": 3.0}, {"double": [6.0, 8.0], "total": 7.0}]
    }


def test_named_instances_and_the_columnar_format(export_dir):
    rows = rest_predict.predict(export_dir, {"instances": [{"x": [1.0, 1.0]}]})
    assert rows["predictions"][0]["total"] == 2.0
    columns = rest_predict.predict(export_dir, {"inputs": {"x": [[1.0, 5.0]]}})
    assert columns == {"outputs": {"double": [[2.0, 10.0]], "total": [6.0]}}


def test_b64_objects_are_binary_strings(export_dir):
    payload = bytes(range(256)) * 3
    body = {
        "signature_name": "serve_image_bytes",
        "instances": [{"b64": base64.b64encode(payload).decode()}, {"b64": ""}],
    }
    assert rest_predict.predict(export_dir, body) == {"predictions": [768, 0]}


@pytest.mark.parametrize(
    "body,message",
    [
        ({"signature_name": "nope", "instances": [[1, 2]]}, "signature_name 'nope'"),
        ({"instances": []}, "non-empty list"),
        ({"rows": [1]}, "needs 'instances'"),
        ({"inputs": {"y": [[1, 2]]}}, r"missing input\(s\) \['x'\]"),
        ({"instances": [["a", "b"]]}, "cannot make a float32 tensor"),
    ],
)
def test_bodies_tf_serving_would_refuse_are_named(export_dir, body, message):
    with pytest.raises(rest_predict.RequestError, match=message):
        rest_predict.predict(export_dir, body)


@pytest.mark.slow
def test_the_command_prints_the_answer_or_one_error_line(export_dir, tmp_path):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"instances": [[0.5, 0.5]]}))
    command = [sys.executable, "-m", "enas_tf.rest_predict", f"--export_dir={export_dir}"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    ok = subprocess.run(
        [*command, f"--request={body}"], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout) == {"predictions": [{"double": [1.0, 1.0], "total": 1.0}]}
    body.write_text("{not json")
    bad = subprocess.run(
        [*command, f"--request={body}"], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert bad.returncode == 1 and bad.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in bad.stderr
