"""Tests that `pip install .` gives a user the package, its run configs and the `enas-train` CLI.

The wheel is built from this checkout with the build backend pyproject.toml names (hatchling,
installed by requirements-dev.txt), without network: `--no-build-isolation`.
"""

import pathlib
import re
import site
import subprocess
import sys
import tomllib
import venv
import zipfile

import pytest

_REPO = pathlib.Path(__file__).resolve().parent.parent


def _pins(lines):
    return sorted(re.split(r"\s*#", line)[0].strip() for line in lines if re.match(r"^\w", line))


def test_pyproject_dependencies_are_the_requirements_pins():
    project = tomllib.loads((_REPO / "pyproject.toml").read_text())["project"]
    requirements = (_REPO / "requirements.txt").read_text().splitlines()
    assert sorted(project["dependencies"]) == _pins(requirements)


def _site_packages() -> list[str]:
    """The running interpreter's site-packages directories (a virtualenv's, if in one)."""
    paths = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        paths.append(site.getusersitepackages())
    return [p for p in paths if pathlib.Path(p).is_dir()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(_REPO),
        ],
        check=True,
    )
    (path,) = out.glob("enas_tf-*.whl")
    return path


@pytest.mark.slow
def test_the_wheel_holds_the_package_its_run_configs_and_the_console_script(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packaged = {name for name in names if name.startswith("enas_tf/")}
    in_repo = {str(path.relative_to(_REPO)) for path in (_REPO / "enas_tf").rglob("*.py")}
    assert in_repo <= packaged
    configs = {f"enas_tf/run_configs/{p.name}" for p in (_REPO / "configs").glob("*.py")}
    assert "enas_tf/run_configs/quickstart.py" in configs <= packaged
    assert not {name for name in names if name.split("/")[0] in ("tests", "bench", "configs")}
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "enas-train = enas_tf.train:run" in text


@pytest.mark.slow
def test_installed_console_script_runs_the_cli_with_the_shipped_quickstart(wheel, tmp_path):
    # A fresh venv that sees the TensorFlow of the interpreter running the tests (no downloads)
    # but not this checkout. `system_site_packages=True` would see the *base* interpreter's
    # packages, which inside a user's virtualenv do not include TensorFlow (issue #28): a .pth
    # file appends the running interpreter's site-packages after the venv's own instead.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    (venv_site,) = (env_dir / "lib").glob("python*/site-packages")
    (venv_site / "_outer_site_packages.pth").write_text("\n".join(_site_packages()) + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    result = subprocess.run(
        [env_dir / "bin" / "enas-train", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )  # absl's --help exits 1 after printing, as `python -m enas_tf.train --help` does
    assert "Command-line entry point" in result.stdout, result.stderr
    assert "--workdir" in result.stdout
    # The default config is the copy inside the installed package, not this checkout's.
    squashed = re.sub(r"\s+", "", result.stdout)
    assert "site-packages/enas_tf/run_configs/quickstart.py" in squashed
    assert str(_REPO / "configs") not in squashed
