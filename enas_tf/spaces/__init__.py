"""Search spaces: what an architecture is, how it is encoded, and how the controller samples it.

* `registry`: one `SearchSpace` per space, the only map from a space name to code; everything
  outside this package asks `registry.of(config)`.
* `micro`, `macro`, `rnn`: one package per space of the paper (Sections 2.4, 2.3, 2.1), each
  with `layout` (the token layout, in one place), its parts (`cells`, `layers`, `nodes`),
  `arc` (the arc class and its encodings), `program` (decision program, sampling, counting)
  and `graph` (the arc as a plain graph for pictures).
* `decisions`: the controller's view of a space, an ordered program of decision steps, and
  the `ChoicePanel`s that group decisions in the policy pictures.
* `encoding`: parsing shared by every space's arc class (integers, token lists, one JSON reader).
* `arc_graph`: the plain graph type of the arc pictures.
* `arc_io`: arc.json reading/writing and the published architectures, for every space.
* `arc_text`: arcs as markdown tables with op and input names (the Text dashboard).
* `config_checks`: each space's config checks (the registry calls them).

`enas_tf.errors.ArcError` is raised for anything that is not an architecture of its space.
"""
