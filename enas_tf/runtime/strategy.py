"""The one module that knows which hardware a run uses (TPU, several GPUs, CPU).

Everything else receives a `tf.distribute.Strategy` and writes per-replica code; the same
training step runs under the default strategy on a laptop and under TPUStrategy on a Cloud TPU.
"""

from __future__ import annotations

import json
import os
from typing import Optional

import tensorflow as tf
from absl import logging

from enas_tf.errors import StrategyError
from enas_tf.runtime import interrupts, rendezvous

# Limits of the pre-checks that run before TensorFlow touches the TPU (_check_tpu_reachable).
_METADATA_TIMEOUT_S = 2.0  # the GCE metadata server answers in milliseconds on Google Cloud
_CONNECT_TIMEOUT_S = 5.0
_TPU_WORKER_PORT = 8470  # TensorFlow's port for `grpc://host` without one
_TPU_DEVICE_PATTERNS = ("/dev/accel*", "/dev/vfio/[0-9]*")  # v2-v4 / v5e, v5p, v6e TPU VMs
_TPU_HELP = (
    "Check the name with `gcloud compute tpus tpu-vm list`, use --tpu=local on a TPU VM, or "
    "drop --tpu to run on this machine's CPU/GPUs. See tpu/README.md."
)


def _tpu_error(tpu: str, problem: str) -> StrategyError:
    return StrategyError(f"--tpu={tpu!r}: {problem} {_TPU_HELP}")


def _metadata_endpoint() -> str:
    """The GCE metadata host TensorFlow's TPU client asks (it honours the same variables)."""
    host = os.environ.get("GCE_METADATA_HOST") or os.environ.get(
        "GCE_METADATA_IP", "metadata.google.internal"
    )
    return "http://" + host


def _check_tpu_reachable(tpu: str) -> None:
    """Fails in seconds, with the reason, where TensorFlow would hang or fail obscurely.

    - `local`: a TPU VM exposes its chips as /dev/accel* (v2-v4) or /dev/vfio/<n> (v5e, v5p,
      v6e). Without them there is nothing to initialise; this names the real problem instead of
      TensorFlow's "No OpKernel was registered to support Op 'ConfigureDistributedTPU'".
    - `grpc://host[:port]`: `experimental_connect_to_cluster` waits for the worker without a
      timeout (on a closed local port it was still waiting when killed after 15 minutes), so
      a TCP connection with a short timeout goes first. A port that accepts connections but
      is not a TPU worker can still hang TensorFlow.
    - a name: TensorFlow asks the GCE metadata server for the project and zone (urllib, no
      timeout; a host that accepts and never answers kept it waiting until killed after 150 s)
      before the Cloud TPU API. Off Google Cloud that host does not exist or does not answer,
      so the same request with a short timeout says "not on Google Cloud" in seconds.
    """
    if tpu == "local":
        import glob

        if not any(glob.glob(pattern) for pattern in _TPU_DEVICE_PATTERNS):
            raise _tpu_error(
                tpu,
                "this machine has no TPU device (looked for "
                f"{' and '.join(_TPU_DEVICE_PATTERNS)}, which a Cloud TPU VM has).",
            )
    elif tpu.startswith("grpc://"):
        import socket
        import urllib.parse

        try:
            address = urllib.parse.urlsplit(tpu)
            host, port = address.hostname, address.port or _TPU_WORKER_PORT
        except ValueError as error:
            raise _tpu_error(tpu, f"not a grpc://host:port address ({error}).") from error
        if not host:
            raise _tpu_error(tpu, "not a grpc://host:port address (no host).")
        try:
            socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S).close()
        except OSError as error:
            raise _tpu_error(
                tpu,
                f"nothing accepts connections at {host}:{port} (tried a TCP connection with a "
                f"{_CONNECT_TIMEOUT_S:g} s timeout: {error}).",
            ) from error
    else:
        import urllib.request

        url = _metadata_endpoint() + "/computeMetadata/v1/project/project-id"
        request = urllib.request.Request(url, headers={"Metadata-Flavor": "Google"})
        try:
            with urllib.request.urlopen(request, timeout=_METADATA_TIMEOUT_S) as response:
                if response.headers.get("Metadata-Flavor") != "Google":
                    raise OSError("the answer is not from a GCE metadata server")
        except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts are OSErrors.
            raise _tpu_error(
                tpu,
                "a TPU name is resolved through the Google Cloud metadata server (for the "
                f"project and zone) and the Cloud TPU API, and {url} gave no usable answer within "
                f"{_METADATA_TIMEOUT_S:g} s ({error}): this machine is not a Google Cloud VM, so "
                "it cannot resolve a TPU name.",
            ) from error


def _tpu_strategy(tpu: str) -> tf.distribute.Strategy:
    _check_tpu_reachable(tpu)
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, OSError, ImportError, tf.errors.OpError) as error:
        # TF's messages can run to dozens of lines (registered kernels): keep the first.
        first_line = next((line for line in str(error).splitlines() if line.strip()), "")
        hint = ""
        if "No OpKernel was registered" in str(error):
            hint = (
                " This TensorFlow has no TPU support: on a TPU VM keep the TPU build of "
                "TensorFlow (tpu/setup_vm.sh does; a plain `pip install tensorflow` replaces it)."
            )
        problem = f"TensorFlow could not connect to the TPU ({type(error).__name__}: {first_line})."
        raise _tpu_error(tpu, problem + hint) from error
    return tf.distribute.TPUStrategy(resolver)


def create_strategy(tpu: str = "", cluster_wait_seconds: float = 600) -> tf.distribute.Strategy:
    """Chooses the distribution strategy.

    Args:
      tpu: a TPU name, `grpc://host:port`, or `local` (on a TPU VM); empty for none.
      cluster_wait_seconds: under TF_CONFIG, how long to wait for the cluster's other tasks
        before stopping with an error (`enas_tf.runtime.rendezvous`).

    Returns:
      TPUStrategy when `tpu` is set; MultiWorkerMirroredStrategy when TF_CONFIG describes a
      cluster; MirroredStrategy for several GPUs; otherwise the default strategy.
    """
    if tpu:
        return _tpu_strategy(tpu)
    cluster, task_type, task_index = _checked_tf_config()
    if cluster:
        logging.info(
            "TF_CONFIG has a cluster: using MultiWorkerMirroredStrategy; waiting up to %g s "
            "for its other tasks",
            cluster_wait_seconds,
        )
        with interrupts.waiting_for("the cluster's other tasks"):
            rendezvous.wait_for_peers(
                cluster, task_type, task_index, cluster_wait_seconds, _interrupted_wait
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        logging.info("%d GPUs: using MirroredStrategy", len(gpus))
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _interrupted_wait() -> Optional[interrupts.Interrupted]:
    signum = interrupts.received()
    if signum is None:
        return None
    return interrupts.Interrupted("the start, waiting for the cluster's other tasks", signum)


def tf_config_cluster() -> dict:
    """The cluster of the `TF_CONFIG` environment variable ({} without one), checked.

    TF_CONFIG is typed by hand or templated per host; a typo would otherwise surface as a
    JSONDecodeError traceback that does not name the variable, or deep inside TensorFlow's
    cluster resolver.

    Raises:
      StrategyError: TF_CONFIG is not JSON, or its cluster or task is malformed.
    """
    return _checked_tf_config()[0]


def _checked_tf_config() -> tuple[dict, str, int]:
    """(cluster, this task's type, its index) of TF_CONFIG, checked; ({}, "", 0) without one."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return {}, "", 0
    try:
        tf_config = json.loads(text)
    except json.JSONDecodeError as error:
        raise _tf_config_error(f"is not valid JSON ({error})") from None
    if not isinstance(tf_config, dict):
        raise _tf_config_error(f"must be a JSON object, not {type(tf_config).__name__}")
    cluster = tf_config.get("cluster") or {}
    if not isinstance(cluster, dict) or not all(
        isinstance(hosts, list) and hosts for hosts in cluster.values()
    ):
        raise _tf_config_error(
            'has a "cluster" that does not map task types to lists of "host:port" addresses '
            '(e.g. {"worker": ["host1:12345", "host2:12345"]})'
        )
    task = tf_config.get("task") or {}
    task = task if isinstance(task, dict) else {}
    task_type, index = task.get("type"), str(task.get("index"))  # an int, or its digits
    if cluster and not (
        isinstance(task_type, str)
        and task_type in cluster
        and index.isdigit()
        and int(index) < len(cluster[task_type])
    ):
        raise _tf_config_error(
            f'has a "task" ({json.dumps(task)}) that does not name this host\'s place in the '
            f'cluster: a "type" among {sorted(cluster)} and an "index" into its addresses'
        )
    return cluster, task_type, int(index) if cluster else 0


def _tf_config_error(problem: str) -> StrategyError:
    return StrategyError(
        f"the TF_CONFIG environment variable {problem}; see "
        "https://www.tensorflow.org/guide/distributed_training#TF_CONFIG, or unset it to "
        "run on this machine alone"
    )


def is_tpu(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.TPUStrategy)


def use_jit(setting: str, strategy: tf.distribute.Strategy) -> bool:
    """Resolves the config's `jit_compile` ('auto' means: only on TPU, where it is required)."""
    setting = str(setting).lower()
    if setting == "auto":
        return is_tpu(strategy)
    return setting == "true"


def use_graph_optimizer(setting: str, strategy: tf.distribute.Strategy) -> bool:
    """Resolves the config's `graph_optimizer` ('auto': on with GPUs or a TPU, off on CPUs).

    On CPU, Grappler made the paper micro supernet's step slower (1.06-1.07x of its fixed
    child without it, 1.09-1.12x with), its first step ~4 s longer and its peak memory ~350
    MiB higher, and the fixed child no faster (BUILD_NOTES.md, issue #27): the supernet's
    hundreds of small switch-branch functions are each optimised on their own for little
    gain. GPUs rely on its layout rewrites, so 'auto' keeps it there and on TPU hosts.
    """
    setting = str(setting).lower()
    if setting != "auto":
        return setting == "on"
    return is_tpu(strategy) or bool(tf.config.list_logical_devices("GPU"))


def configure_graph_optimizer(setting: str, strategy: tf.distribute.Strategy) -> bool:
    """Switches Grappler on or off for the functions traced after this call (process-wide).

    Returns:
      Whether it is on.
    """
    use = use_graph_optimizer(setting, strategy)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": not use})
    return use
