"""Parameter count of a config's fixed network at its retrain size (vs. the paper's figure).

Usage:
    python bench/param_count.py --config=configs/cifar10_macro.py:phase=final   # paper: 21.3M
    python bench/param_count.py --config=configs/cifar10_micro.py:phase=final   # paper: 4.6M
    python bench/param_count.py --config=configs/ptb_rnn.py:phase=final         # paper: 24M
    python bench/param_count.py --config=configs/cifar10_micro.py --config.arc=runs/x/arc.json

Prints trainable parameters in total and per top-level part (stem, layers or cells, pooling /
reductions, heads), on 32x32x3 inputs and 10 classes. Not a test.
"""

from __future__ import annotations

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from absl import app  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from enas_tf.spaces import (
    arc_io,  # noqa: E402
    registry,  # noqa: E402
)

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CONFIG = config_flags.DEFINE_config_file(
    "config", os.path.join(_REPO, "configs", "cifar10_macro.py:phase=final"), "run config"
)


def main(argv):
    del argv
    config = _CONFIG.value
    if not config.arc:
        raise app.UsageError("the config has no arc: pass --config.arc=NAME_OR_PATH")
    arc = arc_io.load_arc(config.arc)
    if config.space == "rnn":  # PTB's 10,000-word vocabulary, tied embedding and softmax
        data = {"vocab_size": 10_000}
    else:
        data = {"num_classes": 10, "image_shape": (32, 32, 3)}
    child = registry.of(config).build_child(arc, **data)
    parts = collections.Counter()
    for variable in child.trainable_variables:
        part = variable.path.split("/")[1] if "/" in variable.path else variable.path
        part = part.rstrip("0123456789") or part  # layer12 -> layer, cell3 -> cell
        parts[part] += int(np.prod(variable.shape))
    total = sum(parts.values())
    print(f"{config.space} arc {config.arc!r}, retrain model {config.retrain.model.to_dict()}")
    print("| part | parameters |")
    print("|---|---|")
    for part, count in parts.most_common():
        print(f"| {part} | {count:,} |")
    print(f"| total | {total:,} ({total / 1e6:.2f}M) |")


if __name__ == "__main__":
    app.run(main)
