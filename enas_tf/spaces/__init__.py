"""Search spaces: what an architecture is, how it is encoded, and how the controller samples it.

* `decisions`: the controller's view of a space, an ordered program of decision steps.
* `micro`: the paper's convolutional-cell space (Section 2.4): `MicroArc` and its encodings.
* `macro`: the paper's whole-network space (Section 2.3): `MacroArc` and its encodings.
* `rnn`: the paper's recurrent-cell space (Section 2.1): `RnnArc` and its encodings.
* `arc_io`: arc.json reading/writing and the published architectures, for every space.
* `registry`: which task each space searches on (the one map from a space name to code).

`enas_tf.errors.ArcError` is raised for anything that is not an architecture of its space.
"""
