"""Tests of enas_tf/strategy.py: a bad --tpu fails fast with a useful message, jit and defaults.

No TPU is needed. The --tpu checks run in a subprocess with a timeout: without the pre-checks in
strategy.py, TensorFlow waits without a timeout on a silent metadata server or a closed
grpc:// port, and a regression must fail the test, not hang it.
"""

import glob
import json
import os
import socket
import subprocess
import sys

import pytest
import tensorflow as tf

from enas_tf.errors import StrategyError
from enas_tf.runtime import strategy as strategy_lib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT_S = 120  # generous: importing TensorFlow takes a few seconds on a loaded 2-core CPU

_CREATE = """
import json, sys
from enas_tf.runtime import strategy
if sys.argv[2] == "skip-precheck":
    strategy._check_tpu_reachable = lambda tpu: None
try:
    strategy.create_strategy(sys.argv[1])
    print(json.dumps({"error": None}))
except strategy.StrategyError as error:
    print(json.dumps({"error": str(error)}))
"""


def _create_in_subprocess(tpu, env=None, precheck=True):
    """The StrategyError message of create_strategy(tpu) in a fresh process (None: no error)."""
    result = subprocess.run(
        [sys.executable, "-c", _CREATE, tpu, "precheck" if precheck else "skip-precheck"],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])["error"]


@pytest.fixture
def silent_server():
    """host:port of a socket that accepts connections (backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield "127.0.0.1:%d" % server.getsockname()[1]


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


def _assert_says_how_to_fix(message):
    assert "gcloud compute tpus tpu-vm list" in message
    assert "--tpu=local on a TPU VM" in message
    assert "drop --tpu" in message


@pytest.mark.slow
def test_tpu_name_without_a_metadata_server_fails_fast(silent_server):
    # A metadata host that accepts connections and never answers: TensorFlow's own request has
    # no timeout. Pointing TensorFlow's variable at it makes the test the same on Google Cloud.
    message = _create_in_subprocess("no-such-tpu", env={"GCE_METADATA_HOST": silent_server})
    assert message.startswith("--tpu='no-such-tpu': ")
    assert f"http://{silent_server}/computeMetadata/v1/project/project-id" in message
    assert "timed out" in message
    assert "not a Google Cloud VM" in message
    _assert_says_how_to_fix(message)


@pytest.mark.slow
def test_grpc_address_with_nothing_listening_fails_fast():
    port = _closed_port()
    message = _create_in_subprocess(f"grpc://127.0.0.1:{port}")
    assert message.startswith(f"--tpu='grpc://127.0.0.1:{port}': ")
    assert f"nothing accepts connections at 127.0.0.1:{port}" in message
    assert "TCP connection" in message
    _assert_says_how_to_fix(message)


@pytest.mark.parametrize("address", ["grpc://", "grpc://:8470", "grpc://host:notaport"])
def test_malformed_grpc_address_is_refused_before_any_connection(address):
    with pytest.raises(strategy_lib.StrategyError, match="not a grpc://host:port address"):
        strategy_lib.create_strategy(address)


def _has_tpu_device():
    return any(glob.glob(pattern) for pattern in strategy_lib._TPU_DEVICE_PATTERNS)


@pytest.fixture
def graph_optimizer_restored():
    """Puts back the process's Grappler option (tests/conftest.py switches it off)."""
    saved = tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer")
    yield
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": saved})


def test_graph_optimizer_auto_is_off_on_cpus_and_on_with_gpus_or_a_tpu(monkeypatch):
    default = tf.distribute.get_strategy()
    assert strategy_lib.use_graph_optimizer("auto", default) is False  # this machine: CPUs
    assert strategy_lib.use_graph_optimizer("on", default) is True
    monkeypatch.setattr(strategy_lib, "is_tpu", lambda strategy: True)
    assert strategy_lib.use_graph_optimizer("auto", default) is True
    assert strategy_lib.use_graph_optimizer("off", default) is False
    monkeypatch.setattr(strategy_lib, "is_tpu", lambda strategy: False)
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: ["/gpu:0"])
    assert strategy_lib.use_graph_optimizer("auto", default) is True


@pytest.mark.parametrize("setting, disabled", [("on", False), ("off", True), ("auto", True)])
def test_configure_graph_optimizer_sets_it_for_the_process(
    graph_optimizer_restored, setting, disabled
):
    on = strategy_lib.configure_graph_optimizer(setting, tf.distribute.get_strategy())
    assert on is not disabled
    options = tf.config.optimizer.get_experimental_options()
    assert options.get("disable_meta_optimizer", False) is disabled


@pytest.mark.slow
@pytest.mark.skipif(_has_tpu_device(), reason="this machine has a TPU device")
def test_local_without_a_tpu_device_fails_fast():
    message = _create_in_subprocess("local")
    assert message.startswith("--tpu='local': this machine has no TPU device")
    assert "/dev/accel*" in message
    _assert_says_how_to_fix(message)


@pytest.mark.slow
@pytest.mark.skipif(_has_tpu_device(), reason="this machine has a TPU device")
def test_tensorflow_errors_become_strategy_errors():
    # Past the pre-check, TensorFlow without TPU support raises NotFoundError (an OpError).
    message = _create_in_subprocess("local", precheck=False)
    assert message.startswith("--tpu='local': TensorFlow could not connect to the TPU (")
    assert "NotFoundError" in message
    assert "This TensorFlow has no TPU support" in message
    assert "\n" not in message  # TF's multi-line kernel listing is cut to its first line
    _assert_says_how_to_fix(message)


@pytest.mark.slow
def test_cli_with_an_unreachable_tpu_exits_with_the_error_and_writes_nothing(
    tmp_path, silent_server
):
    workdir = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "enas_tf.train",
            "--tpu=no-such-tpu",
            "--config=configs/tiny.py",
            f"--workdir={workdir}",
        ],
        cwd=REPO,
        env={**os.environ, "GCE_METADATA_HOST": silent_server},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 1
    assert "error: --tpu='no-such-tpu': " in result.stderr
    assert "not a Google Cloud VM" in result.stderr
    assert "Traceback" not in result.stderr
    assert not workdir.exists()  # the strategy is created before the workdir is written


def test_use_jit_auto_is_on_only_for_tpu(monkeypatch):
    default = tf.distribute.get_strategy()
    assert not strategy_lib.is_tpu(default)
    assert strategy_lib.use_jit("auto", default) is False
    monkeypatch.setattr(strategy_lib, "is_tpu", lambda strategy: True)
    assert strategy_lib.use_jit("auto", default) is True


@pytest.mark.parametrize(
    "setting, expected", [("true", True), ("True", True), ("false", False), ("FALSE", False)]
)
def test_use_jit_true_and_false_ignore_the_strategy(monkeypatch, setting, expected):
    default = tf.distribute.get_strategy()
    assert strategy_lib.use_jit(setting, default) is expected
    monkeypatch.setattr(strategy_lib, "is_tpu", lambda strategy: True)
    assert strategy_lib.use_jit(setting, default) is expected


@pytest.mark.skipif(
    len(tf.config.list_logical_devices("GPU")) > 1, reason="several GPUs: MirroredStrategy"
)
def test_no_tpu_and_no_tf_config_gives_the_default_strategy(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    strategy = strategy_lib.create_strategy("")
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1


@pytest.mark.parametrize(
    "value, problem",
    [
        ('{"cluster": {"worker": ["a:1"]}', r"is not valid JSON \(Expecting"),
        ('["a:1"]', r"must be a JSON object, not list"),
        ('{"cluster": {"worker": "a:1"}}', r'has a "cluster" that does not map task types'),
        ('{"cluster": {"worker": ["a:1", "b:1"]}}', r'has a "task" \(\{\}\) that does not name'),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
            r'has a "task" .* an "index" into',
        ),
    ],
    ids=["not-json", "not-object", "cluster", "no-task", "index"],
)
def test_a_malformed_tf_config_is_one_error_naming_it(monkeypatch, value, problem):
    monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(StrategyError, match=r"^the TF_CONFIG environment variable " + problem):
        strategy_lib.create_strategy("")


def test_a_tf_config_without_a_cluster_is_no_cluster(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"task": {"type": "worker", "index": 0}}')
    assert strategy_lib.tf_config_cluster() == {}
    monkeypatch.setenv("TF_CONFIG", "  ")
    assert strategy_lib.tf_config_cluster() == {}
    cluster = {"worker": ["a:1", "b:1"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})
    )
    assert strategy_lib.tf_config_cluster() == cluster
