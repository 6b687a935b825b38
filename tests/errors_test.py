"""Tests of the one error hierarchy the CLI relies on to print user mistakes in one line."""

import inspect
import pathlib
import re

import pytest

from enas_tf import errors

_PACKAGE = pathlib.Path(errors.__file__).parent
_USER_ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if cls is not errors.UserError and cls.__module__ == errors.__name__
]


@pytest.mark.parametrize("cls", _USER_ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_is_a_user_error_and_keeps_its_builtin_base(cls):
    assert issubclass(cls, errors.UserError)
    assert issubclass(cls, (ValueError, RuntimeError))


def test_no_module_defines_its_own_error_class():
    """A new error class elsewhere would escape the CLI's one `except UserError`."""
    defined = {
        f"{path.relative_to(_PACKAGE)}: {match}"
        for path in _PACKAGE.rglob("*.py")
        if path.name != "errors.py"
        for match in re.findall(r"^class (\w+(?:Error|Exception))\b", path.read_text(), re.M)
    }
    assert not defined, f"define user errors in enas_tf/errors.py: {sorted(defined)}"


def test_require_names_the_key_its_value_and_what_is_allowed():
    errors.require(True, "search.epochs", 3, "must be >= 0")
    with pytest.raises(errors.ConfigError, match=r"^config\.search\.epochs=-1: must be >= 0$"):
        errors.require(False, "search.epochs", -1, "must be >= 0")
