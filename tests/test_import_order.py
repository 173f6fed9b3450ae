"""The house has one direction: core ← layers ← geodata/indicators ← reports ← cli/ui ← pages ← app.

Every module is parsed (ast, nothing imported) and each ``import``/``from … import`` of one of
our top-level packages is checked against the rooms it may use. There is no exemption: the command
line is its own room (``cli/``) above ``reports``, and entry points count like any module.
``streamlit`` is imported only by ``ui/``, ``pages/`` and ``app.py``. A test of the test builds a
small tree with an upward import, a cycle and a stray streamlit import and expects each to fail.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# room -> rooms it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "layers": {"core"},
    "geodata": {"core", "layers"},
    "indicators": {"core", "layers"},
    "reports": {"core", "layers", "indicators"},
    "cli": {"core", "layers", "geodata", "indicators", "reports"},
    "ui": {"core", "layers", "geodata", "indicators", "reports"},
    "pages": {"core", "layers", "geodata", "indicators", "reports", "ui"},
    "app": {"core", "layers", "geodata", "indicators", "reports", "ui"},
}
STREAMLIT_ROOMS = {"ui", "pages", "app"}


def room_of(path: Path, root: Path) -> str | None:
    rel = path.relative_to(root)
    if rel.parts == ("app.py",):
        return "app"
    return rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in ALLOWED else None


def imported_roots(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level name) of every absolute import in a module, lazy imports included."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.ImportFrom) and node.level:
            out.append((node.lineno, "<relative>"))
    return out


def violations(root: Path) -> list[str]:
    found = []
    edges: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue  # .venv and other hidden folders
        room = room_of(path, root)
        if room is None:
            continue
        allowed = ALLOWED[room] | ({room} if room != "app" else set())
        for line, name in imported_roots(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(root)}:{line}"
            if name == "<relative>":
                found.append(f"{where}: relative import (use the absolute room name)")
            elif name == "streamlit" and room not in STREAMLIT_ROOMS:
                found.append(f"{where}: streamlit imported outside ui/, pages/, app.py")
            elif name in ALLOWED and name not in allowed:
                found.append(f"{where}: {room} may not import {name} (upward or sideways)")
            if name in ALLOWED and name != room:
                edges.setdefault(room, set()).add(name)
    # cycles between rooms (also catches a pair of rooms that the table would both allow)
    for a, targets in edges.items():
        for b in targets:
            if a in _reach(b, edges):
                found.append(f"import cycle between rooms: {a} -> {b} -> … -> {a}")
    return found


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_house_has_one_direction():
    assert violations(REPO) == []


def test_every_room_says_what_it_may_import():
    for room in ALLOWED:
        if room in ("app", "pages"):
            continue  # pages/ holds Streamlit page scripts, not a package; core/__init__ states its rule
        doc = ast.get_docstring(ast.parse((REPO / room / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{room}/__init__.py needs a docstring naming what it may import"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checker_catches_upward_imports_cycles_and_streamlit(tmp_path):
    clean = {"core/__init__.py": "", "core/crs.py": "import numpy\n",
             "layers/__init__.py": "", "layers/store.py": "from core import crs\n",
             "indicators/__init__.py": "", "reports/__init__.py": "from indicators import x\n",
             "cli/__main__.py": "import reports\nfrom indicators import x\n",
             "app.py": "import streamlit\nfrom ui import common\n"}
    assert violations(_tree(tmp_path / "ok", clean)) == []
    # an entry point is a module like any other: indicators/__main__.py may not use reports
    entry = violations(_tree(tmp_path / "entry", {**clean, "indicators/__main__.py": "import reports\n"}))
    assert entry[0] == "indicators/__main__.py:1: indicators may not import reports (upward or sideways)"
    assert any(v.startswith("import cycle between rooms: indicators -> reports") for v in entry)
    cli_ui = violations(_tree(tmp_path / "cliui", {**clean, "cli/x.py": "from ui import common\n"}))
    assert cli_ui == ["cli/x.py:1: cli may not import ui (upward or sideways)"]
    upward = violations(_tree(tmp_path / "up", {**clean, "layers/rasters.py": "def f():\n    from indicators import landcover\n"}))
    assert upward == ["layers/rasters.py:2: layers may not import indicators (upward or sideways)"]
    st = violations(_tree(tmp_path / "st", {**clean, "indicators/plot.py": "import streamlit as st\n"}))
    assert st == ["indicators/plot.py:1: streamlit imported outside ui/, pages/, app.py"]
    rel = violations(_tree(tmp_path / "rel", {**clean, "core/geom.py": "from . import crs\n"}))
    assert rel == ["core/geom.py:1: relative import (use the absolute room name)"]
    # a cycle the table would not catch on its own: pretend two rooms may import each other
    ALLOWED["core"].add("layers")
    try:
        cyc = violations(_tree(tmp_path / "cyc", {**clean, "core/paths.py": "import layers.store\n"}))
    finally:
        ALLOWED["core"].discard("layers")
    assert any(v.startswith("import cycle between rooms: core -> layers") for v in cyc)
