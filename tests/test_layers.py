"""The package's layers, held by its imports: each subpackage imports only those below it
(docs/ARCHITECTURE.md draws them), and no module imports itself back through others.

Read from the source with `ast`, so every import counts: at the top, inside a function, or
under TYPE_CHECKING."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import hookcatcher

PACKAGE = Path(hookcatcher.__file__).parent

# What each part may import besides itself. The root package (hookcatcher/__init__.py, its
# __main__ and the pytest plugin's old address) may import anything; anything may import
# hookcatcher.__version__ from it.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "check": {"core"},
    "files": {"core", "check"},
    "send": {"core", "check", "files"},
    "remote": {"core", "check", "files", "send"},
    "mock": {"core", "check", "files", "send"},
    "receive": {"core", "check", "files", "send", "mock", "remote"},
    "connect": {"core", "check", "files", "send", "mock", "remote"},
    "tui": {"core", "check", "files", "send", "remote"},
    "testing": {"core", "check", "files", "send", "mock", "remote", "receive"},
    "cli": {"core", "check", "files", "send", "mock", "remote", "receive", "connect", "tui"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The hookcatcher modules (or packages) a file imports, anywhere in it."""
    found = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("hookcatcher"):
                continue
            for alias in node.names:
                if target == "hookcatcher" and alias.name == "__version__":
                    continue
                named = f"{target}.{alias.name}"  # `from pkg import module` names the module
                found.add(named if is_module(named) else target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("hookcatcher.")}
    return found


def is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (PACKAGE / relative).is_dir()


def part(module: str) -> str | None:
    """The layer a module belongs to (None: the root package)."""
    pieces = module.split(".")
    if len(pieces) < 2:
        return None
    return pieces[1] if pieces[1] in ALLOWED else None


@functools.cache
def all_modules() -> dict[str, set[str]]:
    return {module_name(path): imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_subpackage_imports_only_the_layers_below_it() -> None:
    wrong = []
    for module, targets in all_modules().items():
        mine = part(module)
        if mine is None:
            continue
        for target in sorted(targets):
            theirs = part(target)
            if theirs is None and target != "hookcatcher":
                wrong.append(f"{module} imports {target}, which is no layer")
            elif theirs is not None and theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert wrong == []


def test_every_module_is_in_a_layer() -> None:
    loose = [
        m
        for m in all_modules()
        if part(m) is None
        and m.count(".") >= 1
        and m not in ("hookcatcher.__main__", "hookcatcher.pytest_plugin", "hookcatcher.remote")
    ]
    assert loose == []


def test_no_import_cycles() -> None:
    modules = all_modules()
    graph = {module: {t for t in targets if t in modules} for module, targets in modules.items()}

    # A package and its own modules import each other freely (its __init__ gathers them).
    def edges(module: str) -> set[str]:
        return {
            t
            for t in graph.get(module, set())
            if t != module and not t.startswith(module + ".") and not module.startswith(t + ".")
        }

    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges(module)):
            if state.get(target) == 1:
                cycles.append(
                    trail[trail.index(target) :] + [target] if target in trail else [module, target]
                )
            elif target not in state:
                visit(target, trail + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
