"""The one module that knows which hardware a run uses (TPU, several GPUs, CPU).

Everything else receives a `tf.distribute.Strategy` and writes per-replica code; the same
training step runs under the default strategy on a laptop and under TPUStrategy on a Cloud TPU.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf
from absl import logging


class StrategyError(RuntimeError):
    """The requested hardware cannot be used; the message says why and what to do."""


def _tpu_strategy(tpu: str) -> tf.distribute.Strategy:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError, RuntimeError) as error:
        raise StrategyError(
            f"--tpu={tpu!r}: cannot reach the TPU ({error}). Check the name with "
            "`gcloud compute tpus tpu-vm list`, use --tpu=local on a TPU VM, or drop --tpu to run "
            "on this machine's CPU/GPUs. See tpu/README.md."
        ) from error
    return tf.distribute.TPUStrategy(resolver)


def create_strategy(tpu: str = "") -> tf.distribute.Strategy:
    """Chooses the distribution strategy.

    Args:
      tpu: a TPU name, `grpc://host:port`, or `local` (on a TPU VM); empty for none.

    Returns:
      TPUStrategy when `tpu` is set; MultiWorkerMirroredStrategy when TF_CONFIG describes a
      cluster; MirroredStrategy for several GPUs; otherwise the default strategy.
    """
    if tpu:
        return _tpu_strategy(tpu)
    if json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster"):
        logging.info("TF_CONFIG has a cluster: using MultiWorkerMirroredStrategy")
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        logging.info("%d GPUs: using MirroredStrategy", len(gpus))
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_tpu(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.TPUStrategy)


def use_jit(setting: str, strategy: tf.distribute.Strategy) -> bool:
    """Resolves the config's `jit_compile` ('auto' means: only on TPU, where it is required)."""
    setting = str(setting).lower()
    if setting == "auto":
        return is_tpu(strategy)
    return setting == "true"
