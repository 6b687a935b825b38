"""The CLI as a new user meets it when things go wrong: bad input, busy or finished workdirs,
signals, damaged checkpoints, and two runs of one seed.

Every bad input must end with exit code 1, one `error:` line on stderr naming the key or file,
no traceback, and the workdir byte for byte as it was. The tiny pipeline (the 3-layer tiny
macro search, the quickest to trace) runs twice per module: once as a new process (its log and
a quiet rerun are checked) and once inside the test process (`run_cli`: the workdir the bad
inputs must leave alone); the two are the reproducibility check's pair. The signal tests start
their own searches in new processes. Cases whose outcome, not whose process, is tested run
inside the test process (issue #27: a new process spends ~5 s importing TensorFlow).
"""

import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# One worker runs the whole module, so the finished run is built once.
pytestmark = pytest.mark.xdist_group("cli_errors")

_TINY = ["--config=configs/tiny.py:space=macro", "--config.search.model.num_layers=3"]
# As a user runs it: without the test process's TF_CPP_MIN_LOG_LEVEL (tests/conftest.py).
_ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def _cli(*args, timeout=300, env=None):
    return subprocess.run(
        [sys.executable, "-m", "enas_tf.train", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**_ENV, **(env or {})},
    )


def _one_error_line(result) -> str:
    """The one `error:` line of a command that failed as a user mistake should (exit 1)."""
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    return errors[0]


@pytest.fixture(scope="module")
def finished_cli_run(tmp_path_factory):
    """A whole tiny pipeline run by the CLI: (workdir, its stderr: the user's log).

    With Grappler on, as on GPUs and TPU hosts: the in-process runs have it off, as on CPUs.
    """
    workdir = str(tmp_path_factory.mktemp("cli") / "run")
    result = _cli(*_TINY, f"--workdir={workdir}", "--config.graph_optimizer=on")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, result.stderr


@pytest.fixture(scope="module")
def finished(tmp_path_factory, run_cli):
    """The same tiny pipeline run inside this process (`run_cli`): the workdir that the bad
    inputs must leave as it was, and the second run of the seed for the reproducibility test."""
    workdir = str(tmp_path_factory.mktemp("cli_in_process") / "run")
    result = run_cli(*_TINY, f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


@pytest.mark.slow
def test_the_log_holds_the_pipelines_lines_only_one_per_epoch(finished_cli_run):
    """No TensorFlow Python INFO lines (savers, signatures); an epoch reads as one line."""
    _, log = finished_cli_run
    lines = log.splitlines()
    assert lines and all(re.match(r"\d\d:\d\d:\d\d \S", line) for line in lines), log[:3000]
    for noise in ("functional_saver", "signature_serialization", "builder_impl", "fingerprint"):
        assert noise not in log
    import configs.tiny as tiny

    epochs = tiny.get_config("space=macro").search.epochs
    for epoch in range(1, epochs + 1):
        assert len(re.findall(rf"search epoch {epoch}/{epochs}: ", log)) == 1, log
        assert len(re.findall(rf"search epoch {epoch}/{epochs} check: ", log)) == 1, log
    assert "child step" not in log  # step lines are --verbose's (and a minute apart otherwise)
    assert re.search(r"run: workdir .*, precision float32, graph optimizer on\n", log), log


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    (root / "syntax.py").write_text("def get_config(:\n    pass\n")
    (root / "raises.py").write_text("def get_config():\n    return undefined_name\n")
    (root / "arc.json").write_text('{"space": "macro", "version": 1, "layers": "not layers"}')
    return root


# (what, extra flags, a pattern the one error line must contain)
_CASES = [
    ("config file missing", ["--config=configs/no_such.py"], r"configs/no_such\.py: no such file"),
    ("config syntax error", ["--config={bad}/syntax.py"], r"syntax\.py: syntax error at line 1"),
    (
        "config raises",
        ["--config={bad}/raises.py"],
        r"raises\.py: loading it failed with NameError",
    ),
    ("nan", ["--config.search.optimizer.lr_max=nan"], r"search\.optimizer\.lr_max=nan: .*finite"),
    ("inf", ["--config.retrain.optimizer.l2=inf"], r"retrain\.optimizer\.l2=inf: .*finite"),
    ("huge int", ["--config.search.epochs=99999999999999999999"], r"search\.epochs="),
    ("absurd epochs", ["--config.search.epochs=5000000"], r"search\.epochs=5000000: more epochs"),
    ("unknown space", ["--config.space=cnn"], r"space='cnn'|space=cnn"),
    ("unknown key", ["--config.search.nope=1"], r"--config\.search\.nope: the config has no key"),
    ("zero layers", ["--config.search.model.num_layers=0"], r"search\.model\.num_layers"),
    ("data path", ["--config.data.source=/no/such/cifar"], r"/no/such/cifar"),
    ("arc path", ["--config.arc=/no/such/arc.json"], r"/no/such/arc\.json"),
    ("arc malformed", ["--config.arc={bad}/arc.json"], r"arc\.json"),
    ("arc of another space", ["--config.arc=enas_micro_final"], r"'micro' architecture"),
    ("other seed", ["--config.seed=7"], r"different config\.seed"),
    (
        "seed beyond 64-bit seeds",
        ["--config.seed=9007199254740991"],
        r"config\.seed=9007199254740991: must be in \[0, 9,223,344,366,820\]",
    ),
    ("audit count", ["--config.audit.num_random=0"], r"audit\.num_random=0: must be >= 1"),
]


@pytest.mark.parametrize("what, flags, pattern", _CASES, ids=[c[0] for c in _CASES])
def test_bad_input_is_one_line_and_leaves_the_workdir_as_it_was(
    finished, bad_files, what, flags, pattern, workdir_digest, run_cli
):
    before = workdir_digest(finished)
    flags = [flag.format(bad=bad_files) for flag in flags]
    config = [f for f in flags if f.startswith("--config=")] or _TINY[:1]
    overrides = [f for f in flags if not f.startswith("--config=")]
    if config == _TINY[:1]:
        overrides = _TINY[1:] + overrides
    result = run_cli(*config, *overrides, f"--workdir={finished}")
    assert result.returncode == 1, (what, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    assert re.search(pattern, errors[0]), errors[0]
    assert workdir_digest(finished) == before, what


def test_a_malformed_tf_config_is_one_line_naming_it(finished, workdir_digest, run_cli):
    before = workdir_digest(finished)
    result = run_cli(*_TINY, f"--workdir={finished}", env={"TF_CONFIG": '{"cluster": {"worker": '})
    line = _one_error_line(result)
    assert line.startswith("error: the TF_CONFIG environment variable is not valid JSON ("), line
    assert workdir_digest(finished) == before


def test_a_workdir_that_is_a_regular_file_is_one_line(tmp_path, run_cli):
    regular = tmp_path / "notes.txt"
    regular.write_text("mine")
    line = _one_error_line(run_cli(*_TINY, f"--workdir={regular}"))
    assert line.startswith(f"error: --workdir={regular} is a file, not a directory; "), line
    assert regular.read_text() == "mine"


def test_an_audit_without_a_search_says_what_to_run_first_and_writes_nothing(tmp_path, run_cli):
    workdir = str(tmp_path / "new")
    result = run_cli(*_TINY, "--mode=audit", f"--workdir={workdir}")
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: --mode=audit: no finished search and derive in {workdir} "
        f"({os.path.join(workdir, 'arc.json')} does not exist); run them first: the same "
        "command with --mode=search, then --mode=derive (or without --mode, the whole pipeline)"
    ]
    assert not os.path.exists(workdir)


@pytest.mark.slow
def test_a_finished_run_rerun_does_nothing_rewrites_nothing_and_starts_quietly(
    finished, workdir_digest
):
    before = workdir_digest(finished)
    result = _cli(*_TINY, f"--workdir={finished}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"nothing to do: {finished} has finished every stage" in result.stdout
    after = workdir_digest(finished)
    before.pop(".lock"), after.pop(".lock")  # the lock file names the last run's process
    assert after == before
    # The first output is the CLI's own: no TensorFlow C++ start-up lines.
    assert "cuda" not in result.stderr.lower(), result.stderr[:2000]
    assert "absl::InitializeLog" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert re.match(r"\d\d:\d\d:\d\d nothing to do: ", first), first


@pytest.mark.slow
def test_two_runs_of_one_seed_derive_and_retrain_the_same(finished_cli_run, finished):
    """One run in a new process, one in this one: what a seed fixes must not depend on the
    process (hash seeds, the order things were built in, the state earlier runs left)."""
    again, _ = finished_cli_run
    for name in ("arc.json", "candidates.json", os.path.join("retrain", "result.json")):
        with open(os.path.join(finished, name)) as a, open(os.path.join(again, name)) as b:
            assert _same(json.load(a), json.load(b)), name


def _same(a, b) -> bool:
    """Equal JSON values, floats to 1e-6 relative: without `deterministic`, CPU kernels may add
    in another order between processes (seen: a candidate's log-probability differing in its
    last float32 bit in the quickstart; the arcs, scores and results were identical)."""
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# A search that runs long enough to be signalled mid-phase: 3 epochs of the 3-layer tiny macro
# search with a checkpoint only at phase ends, so a stop that saved nothing would lose steps.
_SEARCH = [*_TINY, "--mode=search", "--config.search.epochs=3", "--config.checkpoint_every_steps=0"]


def _start_and_wait_for(args, pattern, log_path):
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "enas_tf.train", *args], cwd=REPO, stderr=log, text=True, env=_ENV
    )
    deadline = time.time() + 240
    while not re.search(pattern, open(log_path).read()):
        assert process.poll() is None, open(log_path).read()[-3000:]
        assert time.time() < deadline, f"no {pattern!r} within 240 s"
        time.sleep(0.05)
    return process


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_search_saves_and_a_rerun_resumes_with_no_step_lost(
    tmp_path, signum, search_counters, run_cli
):
    workdir = str(tmp_path / "run")
    args = [*_SEARCH, f"--workdir={workdir}"]
    log_path = str(tmp_path / "first.log")
    process = _start_and_wait_for(args, r"search epoch 1/3: ", log_path)  # epoch 1 is over
    try:
        if signum == signal.SIGTERM:  # while it runs, a second run on its workdir is refused
            process.send_signal(signal.SIGSTOP)  # held mid-search, however fast it is
            second = run_cli(*args)
            assert second.returncode == 1, second.stderr[-2000:]
            assert f"is in use by another run (pid {process.pid} on " in second.stderr
        process.send_signal(signum)
        process.send_signal(signal.SIGCONT)
        process.wait(timeout=120)
    finally:
        process.kill()
    stderr = open(log_path).read()
    assert process.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[signum], stderr[-2000:]
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    match = re.fullmatch(
        r"interrupted at search epoch (\d+) (child|controller) step (\d+); rerun the same "
        r"command to resume",
        last,
    )
    assert match, last
    child, controller, _ = search_counters(workdir)
    assert int(match.group(3)) == (child if match.group(2) == "child" else controller)
    if signum == signal.SIGINT:
        return  # the stop is the same code path; SIGTERM's case goes on to resume

    rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"child step {child}, controller step {controller})" in rerun.stderr
    import configs.tiny as tiny

    config = tiny.get_config("space=macro")
    child_steps = (config.data.embedded.num_train - config.data.num_valid) // (
        config.search.batch_size
    )
    assert search_counters(workdir) == (
        3 * child_steps,
        3 * config.search.controller.train_steps,
        3,
    )
    # ... and it searched exactly as a run that was never stopped.
    straight = str(tmp_path / "straight")
    assert run_cli(*_SEARCH, f"--workdir={straight}").returncode == 0
    with open(os.path.join(workdir, "search", "checks.json")) as a:
        with open(os.path.join(straight, "search", "checks.json")) as b:
            assert _same(json.load(a), json.load(b))


@pytest.mark.slow
def test_damaged_search_checkpoints_fall_back_or_say_what_to_delete(
    tmp_path, workdir_digest, run_cli
):
    workdir = str(tmp_path / "run")
    args = [*_TINY, "--mode=search", "--config.search.epochs=2", f"--workdir={workdir}"]
    assert run_cli(*args).returncode == 0
    ckpt = os.path.join(workdir, "search", "ckpt")
    datas = sorted(
        (name for name in os.listdir(ckpt) if ".data-" in name),
        key=lambda name: int(name.split("-")[1].split(".")[0]),
    )
    assert len(datas) == 2  # the newest and one to fall back to
    with open(os.path.join(ckpt, datas[-1]), "r+b") as f:
        f.truncate(100)
    derive = run_cli(*args[:-2], "--mode=derive", f"--workdir={workdir}")
    assert derive.returncode == 0, derive.stderr[-3000:]
    newest, older = (name.split(".")[0] for name in (datas[-1], datas[0]))
    assert f"{newest} is damaged" in derive.stderr
    assert f"restored {os.path.join(ckpt, older)}, the newest intact checkpoint" in derive.stderr

    with open(os.path.join(ckpt, datas[0]), "r+b") as f:
        f.truncate(100)
    before = workdir_digest(workdir)
    again = run_cli(*args[:-2], "--mode=derive", f"--workdir={workdir}")
    assert again.returncode == 1 and "Traceback" not in again.stderr
    errors = [line for line in again.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: every search checkpoint in {ckpt} is damaged ({newest}, {older}); delete "
        f"{os.path.join(workdir, 'search')} to redo the search from its start, or use another "
        "--workdir"
    ]
    after = workdir_digest(workdir)
    before.pop(".lock"), after.pop(".lock")
    assert after == before
