"""Whole networks: each space's supernet and fixed child, and the one builder per model.

* `micro`, `micro_layout`: stacked micro cells (the stacking: where cells reduce, where the
  auxiliary head sits).
* `macro`: the macro network (layers, pooling steps).
* `rnn_lm`: the language model around an RNN cell.
* `builders`: one builder per (space, model) from a run config, used by the space registry
  (`enas_tf.spaces.registry`), the only caller that knows which space runs.
"""
