"""Keras layers of the three spaces, shared (supernet) and fixed (one architecture).

* `ops`: the convolutional building blocks (separable convolutions, pooling, factorized
  reduction).
* `norm`: normalisation and regularisation (e.g. drop-path) in the form ENAS needs.
* `supernet_ops`: micro ops on stacked weights, and row selection (one graph for every arc).
* `shared_functions`: one traced switch function shared by every call site, per context.
* `micro_cells`, `micro_routing`: the micro space's cells and the DAG routing inside one.
* `macro_layers`: the macro space's layers, routed by op token and skip bits.
* `rnn_cells`: the RNN space's recurrent cells.
* `heads`: classifier and auxiliary heads.

How an arc's tokens are laid out is each space's `layout` module (`enas_tf.spaces`), which the
layers read rather than re-derive; the graph rules are in docs/DESIGN.md.
"""
