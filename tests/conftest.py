"""Test-wide settings: quiet TensorFlow, make the repo importable from any cwd, and give the
process two logical CPU devices so MirroredStrategy tests have two replicas (docs/DESIGN.md:
the multi-device proxy). The split must happen before TensorFlow initialises its devices,
hence here; a single-device strategy still uses /cpu:0 only.

In-process tests also switch off Grappler, TensorFlow's graph optimiser, as a run on CPUs does
(`config.graph_optimizer='auto'`, issue #27): the suite is dominated by building supernet
graphs with hundreds of `switch_case` branch functions, which Grappler then optimises for a
few steps' use (the micro mirrored search test: 128 s with it, 91 s without). Grappler changes
how a graph runs, not what it computes. The path with it on (GPUs, TPU hosts) is exercised end
to end by the CLI run of tests/cli_errors_test.py (`--config.graph_optimizer=on`)."""

import contextlib
import hashlib
import io
import json
import logging as std_logging
import os
import signal
import sys
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# XLA tests check that the graphs compile and run under XLA (the TPU proxy); the CPU backend's
# LLVM optimisation of the generated code is irrelevant to that and a third of their time.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import tensorflow as tf  # noqa: E402

NUM_LOGICAL_CPUS = 2
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration()] * NUM_LOGICAL_CPUS
)
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
# Under pytest-xdist each worker process gets its share of the cores for TensorFlow's intra-op
# pool: with one pool per core in every worker, two workers on 2 cores oversubscribed them (a
# subset of in-process slow tests ran in 0.87x the wall time with one thread each, issue #27).
# The processes the tests start (CLIs, cluster workers) keep TensorFlow's default.
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
tf.config.threading.set_intra_op_parallelism_threads(max(1, (os.cpu_count() or 1) // _workers))

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Hands out the modules with the most slow tests first, each module's tests kept together
    and in pytest's order (module-scoped fixtures are built once per worker).

    pytest-xdist gives tests to its workers in this order, so the minute-long end-to-end tests
    start early and the thousand quick ones fill in behind them, instead of a long test handed
    out last keeping one core busy while the other has nothing left to run (issue #27).
    """
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)

    def slow_count(module_items):
        return sum(item.get_closest_marker("slow") is not None for item in module_items)

    ordered = sorted(modules.values(), key=slow_count, reverse=True)  # stable: ties keep order
    items[:] = [item for module_items in ordered for item in module_items]


@pytest.fixture(scope="session")
def two_replica_strategy():
    """One MirroredStrategy over the two logical CPUs for the whole session.

    One per process, as in a real run: a second strategy over the same devices reuses the
    first one's collective group and instance keys, and TensorFlow's collective executor
    then refuses the same key with another shape ("Shape mismatch in the collective").
    """
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(NUM_LOGICAL_CPUS)])


@pytest.fixture
def free_ports():
    """`ports(count)` -> that many TCP ports of localhost free at the time of the call.

    For the tests that start multi-worker clusters on localhost (TF_CONFIG addresses).
    """
    import socket

    def ports(count):
        sockets = [socket.socket() for _ in range(count)]
        for s in sockets:
            s.bind(("localhost", 0))
        numbers = [s.getsockname()[1] for s in sockets]
        for s in sockets:
            s.close()
        return numbers

    return ports


@pytest.fixture
def search_counters():
    """`read(workdir)` -> (child_step, controller_step, epoch) of its latest search checkpoint.

    For tests that stop and resume searches through the CLI and count the steps done.
    """

    def read(workdir):
        path = tf.train.latest_checkpoint(os.path.join(workdir, "search", "ckpt"))
        reader = tf.train.load_checkpoint(path)
        return tuple(
            int(reader.get_tensor(f"{name}/.ATTRIBUTES/VARIABLE_VALUE"))
            for name in ("child_step", "controller_step", "epoch")
        )

    return read


class CliResult(NamedTuple):
    """What a run of the CLI left: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def _forget_flags():
    from absl import flags

    flags.FLAGS.unparse_flags()
    for name in [name for name in flags.FLAGS if name.startswith("config.")]:
        delattr(flags.FLAGS, name)  # the overrides ml_collections defined for one config


def cli_in_process(*args, env=None) -> CliResult:
    """Runs `python -m enas_tf.train ARGS` inside this process (with `env` set meanwhile).

    For the CLI's user-error cases and runs whose outcome, not whose process, is tested: the
    same flag parsing, `main` and exit code as the command (absl's `app.run` with enas_tf's
    flags parser), at a fraction of a second instead of the 5 s a new process spends importing
    TensorFlow (issue #27). What only a process shows (its first stderr lines, signals,
    several processes, Grappler on, which the tests switch off) stays in subprocess tests. The
    process's flags, signal handlers and log settings are restored afterwards.
    """
    from absl import logging as absl_logging

    from enas_tf import train
    from enas_tf.runtime import interrupts

    handler = absl_logging.get_absl_handler()
    tf_logger = std_logging.getLogger("tensorflow")
    saved = (list(handler.filters), handler.formatter, absl_logging.get_verbosity())
    saved_tf_level = tf_logger.level
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        for key, value in (env or {}).items():
            patch.setenv(key, value)
        # ml_collections reads the overrides from sys.argv, as in a process.
        patch.setattr(sys, "argv", ["enas_tf.train", *args])
        patch.setattr(interrupts, "_installed", False)
        # As `app.run` does: absl's handler on the root logger (pytest's own handlers keep
        # their copies), writing to this run's stderr instead of the stream it was made with.
        patch.setattr(handler.python_handler, "stream", stderr)
        attached = handler not in std_logging.root.handlers
        std_logging.root.addHandler(handler)
        _forget_flags()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = train.main(train._parse_flags(list(sys.argv)))
            except SystemExit as exit_:  # the flags parser's own exits, as the process has them
                code = exit_.code
                if isinstance(code, str):
                    print(code, file=sys.stderr)
                    code = 1
            finally:
                if attached:
                    std_logging.root.removeHandler(handler)
                _forget_flags()
                interrupts.reset()
                for signum, previous in handlers.items():
                    signal.signal(signum, previous)
                handler.filters[:] = saved[0]
                handler.setFormatter(saved[1])
                absl_logging.set_verbosity(saved[2])
                tf_logger.setLevel(saved_tf_level)
    return CliResult(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(scope="session")
def run_cli():
    """`run_cli(*args, env=None)`: the CLI inside this process (`cli_in_process`)."""
    return cli_in_process


@pytest.fixture
def workdir_digest():
    """`digest(workdir)` -> {relative path: sha256} of every file under `workdir`.

    For tests that check a command left a workdir exactly as it was. Runs that get as far as
    taking the workdir's lock rewrite `.lock` (it names the last run's process): such tests
    drop that key from both digests.
    """

    def digest(workdir):
        out = {}
        for root, _, names in os.walk(workdir):
            for name in names:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    out[os.path.relpath(path, workdir)] = hashlib.sha256(f.read()).hexdigest()
        return out

    return digest


def _class_image(rng, label: int, num_classes: int, height: int, width: int, channels: int):
    """A learnable synthetic image: class k is a bright band whose width grows with k."""
    image = rng.integers(0, 60, (height, width, channels), dtype=np.uint8)
    band = max(1, (label + 1) * width // num_classes)
    rows = height // 2 if label % 2 else height
    image[:rows, :band] += 150
    return image


@pytest.fixture
def write_image_folder():
    """`write(root, classes, height=, width=, channels=, per_class=, fmt=)` -> root.

    Writes one subfolder per class name with `per_class` encoded images each (PNG keeps the
    pixels exactly; JPEG as a camera would), as `keras.utils.image_dataset_from_directory`
    reads them.
    """

    def write(root, classes, *, height, width, channels=3, per_class=4, fmt="png", seed=0):
        rng = np.random.default_rng(seed)
        for label, name in enumerate(classes):
            directory = os.path.join(str(root), name)
            os.makedirs(directory, exist_ok=True)
            for i in range(per_class):
                image = _class_image(rng, label, len(classes), height, width, channels)
                encoded = tf.io.encode_png(image) if fmt == "png" else tf.io.encode_jpeg(image)
                with open(os.path.join(directory, f"{i:03d}.{fmt}"), "wb") as f:
                    f.write(encoded.numpy())
        return str(root)

    return write


@pytest.fixture
def class_images():
    """`make(n, num_classes, height, width, channels, seed)` -> (uint8 images, int labels)."""

    def make(n, num_classes, height, width, channels=3, seed=0):
        rng = np.random.default_rng(seed)
        labels = np.arange(n) % num_classes
        images = np.stack(
            [_class_image(rng, int(k), num_classes, height, width, channels) for k in labels]
        )
        return images, labels

    return make


def _write_tfds_dataset(
    data_dir, name, class_names, *, height, width, channels, num_train, num_test, num_shards=1
):
    """A prepared TFDS dataset of synthetic class images; returns its version directory.

    Written with `tfds.dataset_builders.store_as_tfds_dataset`, as a user would prepare their
    own; `data_dir` is what `data.tfds_data_dir` takes with `data.source=tfds:NAME`.
    """
    import tensorflow_datasets as tfds

    rng = np.random.default_rng(0)
    count = len(class_names)

    def split(n):
        labels = np.arange(n) % count
        pixels = np.stack(
            [_class_image(rng, int(k), count, height, width, channels) for k in labels]
        )
        return tf.data.Dataset.from_tensor_slices({"image": pixels, "label": labels})

    features = tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(shape=(height, width, channels)),
            "label": tfds.features.ClassLabel(names=list(class_names)),
        }
    )
    builder = tfds.dataset_builders.store_as_tfds_dataset(
        name=name,
        version="1.0.0",
        features=features,
        split_datasets={"train": split(num_train), "test": split(num_test)},
        data_dir=str(data_dir),
        description="enas_tf test data",
        download_config=tfds.download.DownloadConfig(num_shards=num_shards),
    )
    return str(builder.data_dir)


@pytest.fixture(scope="session")
def write_tfds_dataset():
    """`write(data_dir, name, class_names, height=, width=, channels=, num_train=, num_test=,
    num_shards=)` -> the prepared dataset's version directory."""
    return _write_tfds_dataset


@pytest.fixture(scope="session")
def tfds_shards(tmp_path_factory):
    """A TFDS dataset of 160 train / 40 test RGB 16x16 images, 3 classes, in 4 TFRecord shards.

    Returns the dataset's version directory (what `data.source` takes); its data_dir is the
    grandparent (`tfds:enas_test_shards` with `data.tfds_data_dir`).
    """
    return _write_tfds_dataset(
        tmp_path_factory.mktemp("tfds_shards"),
        "enas_test_shards",
        ["left", "middle", "right"],
        height=16,
        width=16,
        channels=3,
        num_train=160,
        num_test=40,
        num_shards=4,
    )


class TensorBoardViews:
    """What TensorBoard's own loaders and plugins make of a logdir (no server).

    Event files are read by TensorBoard's `EventMultiplexer` and its data provider, and the
    HParams and custom-scalars dashboards' data come from the plugins' own request handlers,
    so a test sees the runs, tags, sessions and layout that the dashboards would show.
    """

    def __init__(self, logdir: str):
        from tensorboard import context
        from tensorboard.backend.event_processing import data_provider
        from tensorboard.backend.event_processing import plugin_event_multiplexer as multiplexer
        from tensorboard.plugins import base_plugin
        from tensorboard.plugins.hparams import backend_context

        self.multiplexer = multiplexer.EventMultiplexer(
            tensor_size_guidance={"images": 0, "text": 0, "scalars": 0}
        )
        self.multiplexer.AddRunsFromDirectory(logdir)
        self.multiplexer.Reload()
        provider = data_provider.MultiplexerDataProvider(self.multiplexer, logdir)
        self.tb_context = base_plugin.TBContext(
            data_provider=provider, logdir=logdir, multiplexer=self.multiplexer
        )
        self.request = context.RequestContext()
        self.hparams_context = backend_context.Context(self.tb_context)

    def tags(self, run: str, plugin: str) -> set:
        """The tags of `run` filed under `plugin` ("scalars", "images", "text", ...)."""
        try:
            return set(self.multiplexer.GetAccumulator(run).PluginTagToContent(plugin))
        except KeyError:  # the run has no summary of that plugin
            return set()

    def runs(self) -> set:
        return set(self.multiplexer.Runs())

    def scalars(self, run: str, tag: str) -> list:
        """(step, value) of a scalar series."""
        import tensorflow as tf

        events = self.multiplexer.Tensors(run, tag)
        return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in events]

    def experiment(self):
        """The HParams dashboard's experiment: hparam and metric columns."""
        from tensorboard.plugins.hparams import api_pb2, get_experiment

        request = api_pb2.GetExperimentRequest()
        return get_experiment.Handler(self.request, self.hparams_context, "", request).run()

    def session_groups(self):
        """The HParams dashboard's table rows: sessions with their hparams and metrics."""
        from tensorboard.plugins.hparams import api_pb2, list_session_groups

        experiment = self.experiment()
        request = api_pb2.ListSessionGroupsRequest(
            start_index=0,
            slice_size=100,
            allowed_statuses=[
                api_pb2.STATUS_UNKNOWN,
                api_pb2.STATUS_SUCCESS,
                api_pb2.STATUS_FAILURE,
                api_pb2.STATUS_RUNNING,
            ],
            col_params=[api_pb2.ColParams(hparam=h.name) for h in experiment.hparam_infos]
            + [api_pb2.ColParams(metric=m.name) for m in experiment.metric_infos],
        )
        handler = list_session_groups.Handler(self.request, self.hparams_context, "", request)
        return handler.run().session_groups

    def layout(self):
        """The custom-scalars dashboard's layout, merged over every run as TensorBoard does."""
        from tensorboard.plugins.custom_scalar import custom_scalars_plugin

        plugin = custom_scalars_plugin.CustomScalarsPlugin(self.tb_context)
        return json.loads(plugin.layout_impl(self.request, "") or "{}")


@pytest.fixture
def tensorboard_views():
    """`TensorBoardViews(logdir)`: a logdir as TensorBoard's loaders and dashboards see it."""
    return TensorBoardViews
