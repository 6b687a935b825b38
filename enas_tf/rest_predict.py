r"""Answers a TF Serving REST predict body from an exported SavedModel, without a server.

TF Serving's REST API (`POST /v1/models/NAME:predict`) takes a JSON body and answers JSON;
this runs the same request against `export/<version>/` in this process, so a client's request
can be checked where no model server is installed (TF Serving is not on pip):

    python -m enas_tf.rest_predict --export_dir=runs/flowers/export/1 --request=body.json

with a body like `{"signature_name": "serve_image_bytes", "instances": [{"b64": "<base64
of a JPEG>"}]}`. The parts of TF Serving's documented REST format that are implemented: the
row format (`instances`: a list of values, or of `{input name: value}` objects) and the
columnar format (`inputs`: a value, or `{input name: value}`); `{"b64": "..."}` objects as
binary strings; `signature_name` (default `serving_default`). The answer is printed as TF
Serving's: `{"predictions": [...]}` for rows (one object per instance when the signature has
several outputs), `{"outputs": {...}}` for columns.
"""

from __future__ import annotations

import base64
import json
import sys

import numpy as np
from absl import app, flags

from enas_tf.errors import RequestError

_EXPORT_DIR = flags.DEFINE_string("export_dir", None, "SavedModel directory (export/<version>).")
_REQUEST = flags.DEFINE_string("request", "-", "JSON request body file ('-' = standard input).")


def _decode_b64(value):
    """Replaces every {"b64": s} by the bytes it encodes, recursively."""
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        return {k: _decode_b64(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_b64(v) for v in value]
    return value


def _tensor(value, spec):
    """A JSON value as a tensor of the signature input's dtype."""
    import tensorflow as tf

    try:
        if spec.dtype == tf.string:
            return tf.constant(value, dtype=tf.string)
        return tf.constant(np.asarray(value, dtype=spec.dtype.as_numpy_dtype))
    except (ValueError, TypeError) as e:
        raise RequestError(
            f"input {spec.name!r}: cannot make a {spec.dtype.name} tensor: {e}"
        ) from None


def predict(export_dir: str, body: dict) -> dict:
    """The REST answer of `export_dir` to `body` (a parsed predict request).

    Raises:
      RequestError: the body is not a predict request for this model's signatures.
    """
    import tensorflow as tf

    model = tf.saved_model.load(export_dir)
    name = body.get("signature_name", "serving_default")
    if name not in model.signatures:
        raise RequestError(f"signature_name {name!r}: the model has {sorted(model.signatures)}")
    signature = model.signatures[name]
    specs = signature.structured_input_signature[1]
    body = _decode_b64(body)
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise RequestError("'instances' must be a non-empty list")
        if all(isinstance(i, dict) for i in instances):
            columns = {key: [i.get(key) for i in instances] for key in specs}
        elif len(specs) == 1:
            columns = {next(iter(specs)): instances}
        else:
            raise RequestError(f"the signature has inputs {sorted(specs)}: name them per instance")
    elif "inputs" in body:
        inputs = body["inputs"]
        columns = inputs if isinstance(inputs, dict) else {next(iter(specs)): inputs}
    else:
        raise RequestError("the body needs 'instances' (row format) or 'inputs' (columnar)")
    missing = sorted(set(specs) - set(columns))
    if missing:
        raise RequestError(f"missing input(s) {missing}; the signature takes {sorted(specs)}")
    outputs = signature(**{key: _tensor(columns[key], specs[key]) for key in specs})
    outputs = {key: _jsonable(value.numpy()) for key, value in outputs.items()}
    if "inputs" in body:
        return {"outputs": outputs if len(outputs) > 1 else next(iter(outputs.values()))}
    rows = len(next(iter(outputs.values())))
    if len(outputs) == 1:
        return {"predictions": next(iter(outputs.values()))}
    return {"predictions": [{k: v[r] for k, v in outputs.items()} for r in range(rows)]}


def _jsonable(array: np.ndarray):
    if array.dtype.kind in ("S", "O"):
        return [
            x.decode("utf-8") if isinstance(x, bytes) else _jsonable(np.asarray(x)) for x in array
        ]
    return array.tolist()


def main(argv) -> int:
    del argv
    try:
        text = sys.stdin.read() if _REQUEST.value == "-" else open(_REQUEST.value).read()
        answer = predict(_EXPORT_DIR.value, json.loads(text))
    except (OSError, json.JSONDecodeError, RequestError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    flags.mark_flag_as_required("export_dir")
    app.run(main)
