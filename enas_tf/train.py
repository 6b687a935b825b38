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

import contextlib
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
_VERBOSE = flags.DEFINE_bool(
    "verbose",
    False,
    "Show every log line: TensorFlow's C++ start-up and runtime lines (hidden by default; "
    "TF_CPP_MIN_LOG_LEVEL, if set, decides instead), the INFO lines of TensorFlow's Python "
    "code and other libraries, absl's full prefixes, and a line every log_every_steps steps "
    "(by default: one or two lines per epoch).",
)
_MODE = flags.DEFINE_enum(
    "mode",
    "all",
    ["all", "search", "derive", "retrain", "export", "audit"],
    "Stages to run; 'all' runs search -> derive -> retrain -> export (skipping finished ones). "
    "'audit' (after a search; not part of 'all') retrains the derived arc, other derive "
    "candidates and random arcs at a short budget and says whether the search beat random.",
)


def default_workdir(config_path: str) -> str:
    """runs/<config name>[_<args>], e.g. runs/quickstart or runs/cifar10_micro_runlocal."""
    path, _, arg = config_path.partition(":")
    name = os.path.splitext(os.path.basename(path))[0]
    if arg:
        name += "_" + arg.replace("=", "-").replace(",", "_")
    return os.path.join("runs", name)


def _config_load_error(error: BaseException, path: str) -> str:
    """One line for a config file that could not be loaded (missing, syntax error, raised)."""
    causes, seen = [], error
    while seen is not None and seen not in causes:
        causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    syntax = next((c for c in causes if isinstance(c, SyntaxError)), None)
    if syntax is not None:
        return f"--config={path}: syntax error at line {syntax.lineno}: {syntax.msg}"
    if not os.path.exists(path.partition(":")[0]):
        return (
            f"--config={path}: no such file; pass a config file such as configs/tiny.py "
            "(the configs are in configs/)"
        )
    raised = next((c for c in reversed(causes) if not isinstance(c, OSError)), causes[-1])
    return (
        f"--config={path}: loading it failed with {type(raised).__name__}: {raised}; it must "
        "define get_config() returning an ml_collections.ConfigDict (see configs/tiny.py)"
    )


def _load_config():
    """The parsed config, or `ConfigError` for a file that could not be loaded.

    ml_collections defers a failed load until the config is first used, as a chained OSError;
    this asks once, here, so the user gets one line instead of a traceback.
    """
    from enas_tf.errors import ConfigError

    config = _CONFIG.value
    try:
        config.get("space")
    except Exception as error:  # whatever the config file raised, chained by ml_collections
        path = flags.FLAGS["config"].config_filename
        raise ConfigError(_config_load_error(error, path)) from None
    return config


_HIDE_NATIVE_LOGS = False  # set by `run` from --verbose and TF_CPP_MIN_LOG_LEVEL


@contextlib.contextmanager
def _native_stderr_hidden(hide: bool):
    """Sends file descriptor 2 to /dev/null for the block (C++ lines that ignore log levels).

    Importing TensorFlow prints CUDA-probing lines through absl's C++ logging before it reads
    TF_CPP_MIN_LOG_LEVEL; only the file descriptor can hide them. Exceptions still print:
    the descriptor is restored before they reach the top level.
    """
    if not hide:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _print_outputs(outputs: dict, workdir: str) -> None:
    if outputs.get("nothing_to_do"):
        what = "its audit (audit.json)" if "audit" in outputs else "every stage"
        print(f"nothing to do: {workdir} has finished {what}")
    if "audit" in outputs:
        audit = outputs["audit"]
        print("\n".join(audit["table"]))
        print(audit["verdict"])
        written = "results in" if outputs.get("nothing_to_do") else "wrote"
        print(
            f"{written} {os.path.join(workdir, 'audit.json')}, {os.path.join(workdir, 'audit.png')}"
        )
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


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from enas_tf import config as config_lib
    from enas_tf.errors import UserError
    from enas_tf.runtime import console, files, interrupts

    console.configure(_VERBOSE.value)

    # Ctrl-C and SIGTERM from here on: a checkpoint at the next step boundary, then one line.
    interrupts.install()
    workdir = _WORKDIR.value or default_workdir(flags.FLAGS["config"].config_filename)
    try:
        config = _load_config()
        config_lib.validate(config)  # before TensorFlow is imported: bad values fail at once
        with _native_stderr_hidden(_HIDE_NATIVE_LOGS):
            import tensorflow  # noqa: F401  (its start-up lines: see _native_stderr_hidden)
        from enas_tf import pipeline

        outputs = pipeline.run(config, workdir, tpu=_TPU.value, mode=_MODE.value)
    except UserError as error:  # Bad input: say what and how to fix in one line, no traceback.
        print(f"error: {error}", file=sys.stderr)
        return 1
    except interrupts.Interrupted as stop:
        print(stop, file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:  # a second Ctrl-C
        print(
            "stopped at once (second Ctrl-C); the last checkpoint is kept: rerun the same "
            "command to resume from it",
            file=sys.stderr,
        )
        return 130
    except Exception as error:  # a full disk or a refused write that no stage reported itself
        problem = files.storage_problem(error)
        if problem is None:
            raise
        path = getattr(error, "filename", None) or workdir
        message = files.storage_error_message(problem, path, "writing the run's files")
        print(f"error: {message}", file=sys.stderr)
        return 1
    _print_outputs(outputs, workdir)
    if _MODE.value in ("all", "search", "derive") and not config.arc:
        from enas_tf.search import reports as search_reports

        for line in search_reports.final_evidence(workdir):
            print(line)
    return 0


def _config_argument(argv) -> str:
    """The --config value of a command line (the default when it has none)."""
    values = [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]
    return values[-1] if values else default_config_path()


def _parse_flags(argv):
    try:
        return app.parse_flags_with_usage(argv)
    except (KeyError, AttributeError) as error:  # An unknown key in a --config.KEY=V override.
        sys.exit(_bad_override_message(error, argv))
    except Exception as error:  # The config file itself failed while the flags were parsed.
        sys.exit("error: " + _config_load_error(error, _config_argument(argv)))


def run():
    """The CLI, as `python -m enas_tf.train` or the installed `enas-train` console script."""
    if __name__ != "__main__":
        # absl's --help shows the main module's docstring and the flags it defines; a console
        # script's main module is pip's wrapper, so lend it ours.
        sys.modules["__main__"].__doc__ = __doc__
        for name in ("config", "workdir", "tpu", "mode", "verbose"):
            flags.FLAGS.register_key_flag_for_module(sys.argv[0], flags.FLAGS[name])
    # TensorFlow's C++ lines (CUDA probing on machines without a GPU, which reads like a
    # failure; a harmless type-inference dump on the lowered switch_case merges) would come
    # before the CLI's own first line and bury the progress lines. Decided before flags are
    # parsed, since TensorFlow reads it when first imported.
    global _HIDE_NATIVE_LOGS
    verbose = any(arg in ("--verbose", "--verbose=true", "--verbose=1") for arg in sys.argv)
    _HIDE_NATIVE_LOGS = not verbose and "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    if _HIDE_NATIVE_LOGS:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    logging.set_verbosity(logging.INFO)
    app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
    run()
