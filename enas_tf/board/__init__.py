"""What TensorBoard shows of a run, decided in one place.

`tags` names every series a run writes (one tree: `search/child/*`, `search/controller/*`,
`search/check/*`, `retrain/*`, `summary/*`) and the custom-scalars layout that puts the
series a researcher compares on one chart; `hparams` writes the run's HParams session and its
final results (`summary/*`), so that `tensorboard --logdir runs/` compares ENAS with the random
baseline, or seed with seed, in the HParams dashboard.
"""
