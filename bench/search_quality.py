"""ENAS against random architectures at equal budget: a thin wrapper around `--mode=audit`.

For one config: run the search and derive in --workdir unless its arc.json exists, then the
audit (`enas_tf/audit.py`): the derived arc, the next-best derive candidates and R uniformly
random arcs of the same space, each retrained alone at the audit's budget, and their
shared-weight scores on the same validation minibatches. It prints the audit's table and
verdict (the derived arc's rank, the random arcs it beats, Kendall's tau between shared-weight
and retrained valid scores) and leaves `audit.json` and `audit.png` in --workdir. The same as

    python -m enas_tf.train --config=... --workdir=W --mode=search   # then --mode=derive
    python -m enas_tf.train --config=... --workdir=W --mode=audit \\
        --config.audit.num_random=R --config.audit.score_batches=S

Usage (any --config.KEY=VALUE override works, as in enas_tf.train):
    python bench/search_quality.py --config=configs/cifar10_micro.py:runlocal \\
        --config.data.source=/path/to/cifar-10-batches-py --workdir=/tmp/sq_micro
    python bench/search_quality.py --config=configs/ptb_rnn.py:runlocal \\
        --config.data.source=/path/to/ptb --workdir=/tmp/sq_ptb --random_arcs=8

Flags kept from the bench's first version: --random_arcs (audit.num_random) and --score_batches
(audit.score_batches); --candidates sets audit.num_candidates. The retrain budget is the
audit's (`--config.audit.epochs`, `--config.audit.model.*`), no longer `retrain.epochs`; the
random arcs come from the run's seed (the old --arc_seed is gone) and each arc is retrained in
--workdir/audit/<name>/ (a rerun reuses finished retrains; the first version used arcs/<name>/
and wrote search_quality.json / .png). Results are in BUILD_NOTES.md.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from enas_tf import pipeline  # noqa: E402
from enas_tf.errors import UserError  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", None, "Run config (as for enas_tf.train).")
flags.DEFINE_string("workdir", None, "Where the search, the retrains and the results go.")
flags.DEFINE_integer("random_arcs", None, "Uniformly random arcs to retrain (audit.num_random).")
flags.DEFINE_integer(
    "score_batches", None, "Validation minibatches of the shared-weight scores (audit)."
)
flags.DEFINE_integer("candidates", None, "Next-best derive candidates (audit.num_candidates).")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def main(argv):
    del argv
    config, workdir = _CONFIG.value, FLAGS.workdir
    overrides = {
        "num_random": FLAGS.random_arcs,
        "score_batches": FLAGS.score_batches,
        "num_candidates": FLAGS.candidates,
    }
    with config.unlocked():
        config.audit.update({k: v for k, v in overrides.items() if v is not None})
    try:
        if not os.path.exists(os.path.join(workdir, "arc.json")):
            pipeline.run(config, workdir, mode="search")
            pipeline.run(config, workdir, mode="derive")
        outputs = pipeline.run(config, workdir, mode="audit")
    except UserError as error:
        sys.exit(f"error: {error}")
    if outputs.get("nothing_to_do"):
        print(f"nothing to do: {workdir} has finished its audit (audit.json)")
    print("\n".join(outputs["audit"]["table"]))
    print(outputs["audit"]["verdict"])
    print(f"see {os.path.join(workdir, 'audit.json')}, {os.path.join(workdir, 'audit.png')}")


if __name__ == "__main__":
    app.run(main)
