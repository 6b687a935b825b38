"""Test-wide settings: quiet TensorFlow, make the repo importable from any cwd, and give the
process two logical CPU devices so MirroredStrategy tests have two replicas (docs/DESIGN.md:
the multi-device proxy). The split must happen before TensorFlow initialises its devices,
hence here; a single-device strategy still uses /cpu:0 only.

In-process tests also switch off Grappler, TensorFlow's graph optimiser: the suite is
dominated by building supernet graphs with hundreds of `switch_case` branch functions, which
Grappler then optimises for a few steps' use (the micro mirrored search test: 128 s with it,
91 s without). Grappler changes how a graph runs, not what it computes. The tests that run
`python -m enas_tf.train` in a subprocess (tests/train_test.py, tests/runtime/strategy_test.py) keep
it on, so the production graph path is still exercised end to end."""

import hashlib
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# XLA tests check that the graphs compile and run under XLA (the TPU proxy); the CPU backend's
# LLVM optimisation of the generated code is irrelevant to that and a third of their time.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

NUM_LOGICAL_CPUS = 2
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration()] * NUM_LOGICAL_CPUS
)
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})

import numpy as np  # noqa: E402
import pytest  # noqa: E402


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
