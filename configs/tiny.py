"""The smallest complete pipeline: what the tests run, and a one-minute install check.

Commands:

    python -m enas_tf.train --config=configs/tiny.py --workdir=runs/tiny
    python -m enas_tf.train --config=configs/tiny.py:space=macro --workdir=runs/tiny_macro
    python -m enas_tf.train --config=configs/tiny.py:space=rnn --workdir=runs/tiny_rnn

Expected: search -> derive -> retrain -> export in about 1-2 minutes on 2 CPU cores, almost all
of it tracing the supernet step; the accuracy is meaningless (a few steps on 12x12 synthetic
images). Use it to check an installation or a code change end to end, not to get a model.
`--mode=audit` on the same workdir retrains 4 arcs for one epoch each (every code path of the
audit, no evidence: 4 arcs cannot show a ranking).
"""

from enas_tf import config as config_lib


def get_config(arg=None):
    args = config_lib.parse_arg(arg, space="micro")
    if args.space not in config_lib.SPACES:
        raise config_lib.ConfigError(f"space={args.space!r}: must be one of {config_lib.SPACES}")
    if args.space == "rnn":
        return _tiny_rnn()
    c = config_lib.base_config() if args.space == "micro" else config_lib.macro_base_config()
    c.data.source = "embedded"
    c.data.num_valid = 32
    c.data.embedded.num_train = 96
    c.data.embedded.num_test = 32
    c.data.embedded.image_size = 12
    c.log_every_steps = 2

    if args.space == "micro":
        c.search.model.num_layers = 3
        c.search.model.filters = 4
        # One computed node per cell: every op, input and reduction path of the supernet is
        # present, at half the trace and compile time of two (multi-node cells: the
        # micro_cells tests and the quickstart).
        c.search.model.num_nodes = 1
        c.search.model.use_aux_head = True
        c.retrain.model.num_layers = 3
        c.retrain.model.use_aux_head = True
        c.retrain.drop_path_keep_prob = 0.8
    else:
        c.search.model.num_layers = 4  # pooling after layers 1 and 2: every code path
        c.search.model.filters = 4
        c.search.model.ops = "all"
    c.search.batch_size = 16
    c.search.eval_batch_size = 16
    c.search.epochs = 2
    c.search.optimizer.t0 = 1
    c.search.controller.lstm_size = 16
    c.search.controller.train_steps = 2
    c.search.controller.num_aggregate = 2

    c.derive.num_candidates = 3
    # --mode=audit at its smallest: the derived arc, one other candidate, two random arcs.
    c.audit.update(dict(num_candidates=1, num_random=2, epochs=1, score_batches=1))

    c.retrain.model.filters = 4
    c.retrain.batch_size = 16
    c.retrain.eval_batch_size = 16
    c.retrain.epochs = 1
    c.retrain.optimizer.t0 = 1
    c.retrain.cutout_size = 2
    c.lock()
    return c


def _tiny_rnn():
    c = config_lib.rnn_base_config()
    c.data.embedded.num_train_tokens = 1500
    c.data.embedded.num_valid_tokens = 400
    c.data.embedded.num_test_tokens = 400
    c.log_every_steps = 2
    c.search.model.num_nodes = 4
    c.search.model.hidden_size = 16
    c.search.batch_size = 8
    c.search.eval_batch_size = 8
    c.search.bptt = 10
    c.search.epochs = 2
    c.search.controller.lstm_size = 16
    c.search.controller.train_steps = 2
    c.search.controller.num_aggregate = 2
    c.derive.num_candidates = 3
    c.audit.update(dict(num_candidates=1, num_random=2, epochs=1, score_batches=1))
    c.retrain.model.hidden_size = 16
    c.retrain.batch_size = 8
    c.retrain.eval_batch_size = 8
    c.retrain.bptt = 10
    c.retrain.epochs = 1
    c.lock()
    return c
