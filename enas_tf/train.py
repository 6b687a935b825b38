"""Command-line entry point: `python -m enas_tf.train [--config=...] [--workdir=...]`.

Installed with `pip install .`, the same CLI is the `enas-train` command.

With no arguments it runs the quickstart (configs/quickstart.py) on the embedded dataset into
runs/quickstart. Rerunning a command on the same workdir resumes it.

Examples:
  python -m enas_tf.train --config=configs/cifar10_micro.py:runlocal \
      --config.data.source=/data/cifar-10-batches-py --workdir=runs/micro_local
  python -m enas_tf.train --config=configs/cifar10_micro.py:phase=final --tpu=local \
      --workdir=runs/micro_final --config.data.source=tfds    # on a TPU VM: tpu/README.md
"""

from __future__ import annotations

import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def default_config_path() -> str:
    """configs/quickstart.py of a source checkout, or the copy an installed wheel ships.

    `pip install .` puts the repository's configs/ inside the package as `run_configs/`
    (pyproject.toml), so `enas-train` with no arguments runs the quickstart either way.
    """
    checkout = os.path.join(os.path.dirname(_PACKAGE), "configs", "quickstart.py")
    if os.path.exists(checkout):
        return checkout
    return os.path.join(_PACKAGE, "run_configs", "quickstart.py")


def _bad_override_message(error: Exception, argv) -> str:
    """Names the `--config.KEY=V` override whose key does not exist, with ml_collections' hint.

    ml_collections reports an unknown key as a chained KeyError/AttributeError whose text is
    escaped, and absl would print it as a traceback.
    """
    causes = []
    while error is not None:
        causes.append(error)
        error = error.__context__
    key = str(causes[-1].args[0]) if causes[-1].args else "?"
    hint = next(
        (str(c.args[0]).split("\n", 1)[1] for c in causes if c.args and "\n" in str(c.args[0])),
        "",
    )
    overrides = [a for a in argv if a.startswith("--config.") and f".{key}" in a.split("=")[0]]
    flag = overrides[0].split("=")[0] if overrides else f"--config...{key}"
    return (
        f"error: {flag}: the config has no key {key!r}. {hint} Overrides may only change "
        "keys the config file defines (unknown keys are refused so that a typo is not "
        "silently ignored); see the config file or configs/ for the keys."
    ).replace("  ", " ")


_CONFIG = config_flags.DEFINE_config_file(
    "config",
    default_config_path(),
    "Config file (configs/*.py[:args]); override with --config.KEY=V.",
    lock_config=True,
)
_WORKDIR = flags.DEFINE_string(
    "workdir",
    None,
    "Directory for checkpoints, TensorBoard events, arc.json and export/. "
    "Default: runs/<config file name>. Rerunning on the same workdir resumes.",
)
_TPU = flags.DEFINE_string("tpu", "", "TPU name, grpc://address, or 'local' on a TPU VM.")
_MODE = flags.DEFINE_enum(
    "mode",
    "all",
    ["all", "search", "derive", "retrain", "export"],
    "Stages to run; 'all' runs search -> derive -> retrain -> export (skipping finished ones).",
)


def default_workdir(config_path: str) -> str:
    """runs/<config name>[_<args>], e.g. runs/quickstart or runs/cifar10_micro_runlocal."""
    path, _, arg = config_path.partition(":")
    name = os.path.splitext(os.path.basename(path))[0]
    if arg:
        name += "_" + arg.replace("=", "-").replace(",", "_")
    return os.path.join("runs", name)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # TensorFlow's C++ INFO/WARNING lines (CUDA probing; a harmless type-inference dump on the
    # lowered switch_case merges) would bury the progress lines. Errors still print; set
    # TF_CPP_MIN_LOG_LEVEL=0 to see everything.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # These import TensorFlow: after flag parsing, so --help is fast.
    from enas_tf import pipeline
    from enas_tf.errors import UserError

    workdir = _WORKDIR.value or default_workdir(flags.FLAGS["config"].config_filename)
    logging.info("workdir: %s", workdir)
    try:
        outputs = pipeline.run(_CONFIG.value, workdir, tpu=_TPU.value, mode=_MODE.value)
    except UserError as error:  # Bad input: say what and how to fix, no traceback.
        logging.error("%s", error)
        print(f"error: {error}", file=sys.stderr)
        return 1
    if "export" in outputs:
        print(f"exported SavedModel: {outputs['export']}")
    if "retrain" in outputs:
        result = outputs["retrain"]
        if "test_perplexity" in result:
            print(f"test perplexity: {result['test_perplexity']:.2f}")
        else:
            print(f"test accuracy: {result['test_accuracy']:.4f}")
    if "arc" in outputs:
        print(f"derived arc: {os.path.join(workdir, 'arc.json')}")
    if _MODE.value in ("all", "search", "derive") and not _CONFIG.value.arc:
        from enas_tf.search import reports as search_reports

        for line in search_reports.final_evidence(workdir):
            print(line)
    return 0


def _parse_flags(argv):
    try:
        return app.parse_flags_with_usage(argv)
    except (KeyError, AttributeError) as error:  # An unknown key in a --config.KEY=V override.
        sys.exit(_bad_override_message(error, argv))


def run():
    """The CLI, as `python -m enas_tf.train` or the installed `enas-train` console script."""
    if __name__ != "__main__":
        # absl's --help shows the main module's docstring and the flags it defines; a console
        # script's main module is pip's wrapper, so lend it ours.
        sys.modules["__main__"].__doc__ = __doc__
        for name in ("config", "workdir", "tpu", "mode"):
            flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[name])
    logging.set_verbosity(logging.INFO)
    app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
    run()
