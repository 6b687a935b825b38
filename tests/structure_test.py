"""The package's shape, as docs/DESIGN.md's module map states it, checked from the source.

Three rules that keep one structure for three spaces and that no other test would notice
breaking: only `enas_tf/spaces/` knows which space is running (everything else asks the
registry), the package imports without cycles, and the package root holds only what the
module map puts there. All three read the source with `ast`; nothing is imported.
"""

import ast
import pathlib
import re

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "enas_tf"
DESIGN = PACKAGE.parent / "docs" / "DESIGN.md"
SPACE_NAMES = {"micro", "macro", "rnn"}
# The configs of each space say which space they are: assigning the name is not branching on it.
ALLOWED_TO_NAME_SPACES = {"config/defaults.py"}


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _relative(path: pathlib.Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _module_name(path: pathlib.Path) -> str:
    parts = ["enas_tf", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _space_name_uses(tree: ast.AST) -> list[int]:
    """Lines that compare with, switch on or key by a space name."""
    lines = []
    for node in ast.walk(tree):
        constants = []
        if isinstance(node, ast.Compare):
            constants = [node.left, *node.comparators]
            constants += [
                e
                for c in node.comparators
                if isinstance(c, (ast.Tuple, ast.Set, ast.List))
                for e in c.elts
            ]
        elif isinstance(node, ast.Dict):
            constants = [k for k in node.keys if k is not None]
        elif isinstance(node, ast.Subscript):
            constants = [node.slice]
        elif isinstance(node, ast.match_case):
            constants = [getattr(node.pattern, "value", None)]
        if any(isinstance(c, ast.Constant) and c.value in SPACE_NAMES for c in constants):
            lines.append(node.lineno if hasattr(node, "lineno") else node.pattern.lineno)
    return lines


def test_only_the_spaces_package_branches_on_the_space_name():
    offenders = []
    for path in _modules():
        rel = _relative(path)
        if rel.startswith("spaces/") or rel in ALLOWED_TO_NAME_SPACES:
            continue
        for line in _space_name_uses(ast.parse(path.read_text())):
            offenders.append(f"enas_tf/{rel}:{line}")
    assert not offenders, (
        "outside enas_tf/spaces, ask registry.of(config) instead of branching on the space "
        f"name: {offenders}"
    )


def test_the_check_sees_a_branch_on_the_space_name():
    """The rule above can fail: each form of branching it looks for is caught."""
    for source in (
        'if config.space == "rnn": pass',
        'x = space in ("micro", "macro")',
        'build = {"micro": 1, "macro": 2}[space]',
        'y = table["rnn"]',
        'match space:\n    case "macro":\n        pass',
    ):
        assert _space_name_uses(ast.parse(source)), source
    assert not _space_name_uses(ast.parse('c.space = "micro"'))


def _imports(path: pathlib.Path, modules: set[str]) -> set[str]:
    """The package modules `path` imports at module level (function-level imports are lazy)."""
    out = set()
    package = (
        _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    )
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1]
                    + ([base] if base else [])
                )
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    out.add(submodule)  # `from pkg import module`: the module, not the package
                elif base in modules:
                    out.add(base)
    out.discard(_module_name(path))
    return out


def test_the_package_has_no_import_cycles():
    paths = {_module_name(p): p for p in _modules()}
    graph = {name: _imports(path, set(paths)) for name, path in paths.items()}
    done, on_path, cycles = set(), [], []

    def visit(name):
        if name in on_path:
            cycles.append(on_path[on_path.index(name) :] + [name])
            return
        if name in done:
            return
        on_path.append(name)
        for other in sorted(graph[name]):
            visit(other)
        on_path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
    assert not cycles, f"import cycles: {[' -> '.join(c) for c in cycles]}"


def _module_map() -> str:
    text = DESIGN.read_text()
    match = re.search(r"## Module map.*?```\n(.*?)```", text, re.S)
    assert match, "docs/DESIGN.md has no module map"
    return match.group(1)


def test_the_package_root_holds_only_what_the_module_map_puts_there():
    mapped = _module_map()
    root = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    missing = [name for name in root if not re.search(rf"\b{re.escape(name)}\b", mapped)]
    assert not missing, f"root modules missing from docs/DESIGN.md's module map: {missing}"
    subpackages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    missing = [name for name in subpackages if f"{name}/" not in mapped]
    assert not missing, f"subpackages missing from docs/DESIGN.md's module map: {missing}"


@pytest.mark.parametrize("path", _modules(), ids=_relative)
def test_every_module_says_why_it_exists(path):
    assert ast.get_docstring(ast.parse(path.read_text())), f"{_relative(path)} has no docstring"
