"""Where and how a run executes, independent of what it trains.

* `strategy`: the `tf.distribute` strategy for a TPU, GPUs or the CPU (the only module that
  knows which).
* `replicas`: global batches split among replicas, chief-only writing, the checkpoint manager.
* `precision`: float32 or mixed bfloat16 compute.
* `checkpoints`: checkpoints keyed by variable path, with a clear error for a mismatch.
* `files`: atomic JSON writes.
* `summaries`: TensorBoard writers and progress-line formatting.
"""
