"""Quickstart: the whole ENAS micro pipeline on the embedded synthetic dataset, on a laptop CPU.

Command (what `python -m enas_tf.train` runs with no arguments):

    python -m enas_tf.train --config=configs/quickstart.py --workdir=runs/quickstart

Expected: search -> derive -> retrain -> export finishes in about 6-7 minutes on 2 CPU cores
(6 min 28 s measured at the scale-out rework, 5 min 51 s just before it, 3 min 29 s to
3 min 57 s at an earlier commit; about 2.5 minutes of it is tracing the supernet step,
BUILD_NOTES.md) and writes runs/quickstart/export/1/, a SavedModel whose serving_default
takes raw pixel values (0..255). The retrained cell reaches 24-69% test accuracy on the
synthetic task (chance 10%; enas_tf/data/embedded.py; five runs, five different derived
cells). At this budget the shared weights stay near chance under random arcs, so the search
itself is not informative yet (BUILD_NOTES.md, gap 1): this run demonstrates the pipeline, it
is not a benchmark. Rerunning the command resumes from the last checkpoint.
"""

from enas_tf import configs as config_lib


def get_config(arg=None):
    del arg
    c = config_lib.base_config()
    c.data.source = "embedded"
    c.data.num_valid = 500
    c.data.embedded.num_train = 3000
    c.data.embedded.num_test = 500
    c.data.embedded.image_size = 16
    c.log_every_steps = 20

    c.search.model.num_layers = 3
    c.search.model.filters = 8
    c.search.model.num_nodes = 3
    c.search.model.use_aux_head = False
    c.search.batch_size = 32
    c.search.eval_batch_size = 100
    c.search.epochs = 6
    c.search.optimizer.t0 = 2
    c.search.controller.train_steps = 10
    c.search.controller.num_aggregate = 5

    c.derive.num_candidates = 8

    c.retrain.model.num_layers = 3
    c.retrain.model.filters = 12
    c.retrain.model.use_aux_head = True
    c.retrain.batch_size = 32
    c.retrain.eval_batch_size = 100
    c.retrain.epochs = 6
    c.retrain.optimizer.t0 = 6
    c.retrain.drop_path_keep_prob = 0.9
    c.retrain.cutout_size = 4
    c.lock()
    return c
