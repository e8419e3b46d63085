"""Imports point downward: a codec imports other codec modules and small shared modules
(errors, paths, profile, …), never a module that imports the codecs again (`midi_input`,
`sources`, the CLI). Read from the source, so nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import rnnmusic

ROOT = Path(rnnmusic.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = ("rnnmusic", *path.relative_to(ROOT).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(module: str) -> set[str]:
    """rnnmusic modules `module` imports anywhere in its body (lazy imports too)."""
    names = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name in MODULES and name != "rnnmusic"}


def _is_codec(module: str) -> bool:
    return module == "rnnmusic.codecs" or module.startswith("rnnmusic.codecs.")


def test_no_codec_module_imports_a_module_that_imports_the_codecs():
    shared = {dep for m in MODULES if _is_codec(m) for dep in _imports(m) if not _is_codec(dep)}
    upward = []
    for start in sorted(shared):
        seen, todo = set(), [start]
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            seen.add(module)
            for dep in _imports(module):
                if _is_codec(dep):
                    upward.append(f"{start} (through {module} → {dep})")
                else:
                    todo.append(dep)
    assert shared and not upward
