"""The house has one direction: core ← layers ← storage ← zonal ← indicators ← reports ← cli/ui ← pages ← app
(geodata, the data build, beside zonal).

Every module is parsed (ast, nothing imported) and each ``import``/``from … import`` of one of
our top-level packages is checked against the rooms it may use. There is no exemption: the command
line is its own room (``cli/``) above ``reports``, and entry points count like any module.
``streamlit`` is imported only by ``ui/``, ``pages/`` and ``app.py``. A test of the test builds a
small tree with an upward import, a cycle and a stray streamlit import and expects each to fail.

Inside a room the files have a direction too: the graph of imports between our own modules (every
``import``, at module level or inside a function or ``if TYPE_CHECKING:``; ``from a import b`` counts
as an import of the module ``a.b`` when there is one, else of ``a``; relative imports resolved) has no
cycle. A package's ``__init__`` is a module like the others: a submodule that imports its own package
depends on it. (Importing ``a.b`` also runs ``a/__init__``; that implied edge is not counted, else
every package importing its own submodules would be a cycle.) A shared piece two files need goes
down into one of them or into a small module both import; a function-level import of our own module
is only for start-up time, and says so in a comment.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# room -> rooms it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "layers": {"core"},
    "storage": {"core", "layers"},
    "zonal": {"core", "layers"},
    "geodata": {"core", "layers", "storage"},
    "indicators": {"core", "layers", "storage", "zonal"},
    "reports": {"core", "layers", "storage", "zonal", "indicators"},
    "cli": {"core", "layers", "storage", "zonal", "geodata", "indicators", "reports"},
    "ui": {"core", "layers", "storage", "zonal", "geodata", "indicators", "reports"},
    "pages": {"core", "layers", "storage", "zonal", "geodata", "indicators", "reports", "ui"},
    "app": {"core", "layers", "storage", "zonal", "geodata", "indicators", "reports", "ui"},
}
STREAMLIT_ROOMS = {"ui", "pages", "app"}


def room_of(path: Path, root: Path) -> str | None:
    rel = path.relative_to(root)
    if rel.parts in (("app.py",), ("asgi.py",)):  # the Streamlit script and the server around it
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
    found += file_cycles(root)
    return found


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# --- cycles between files ----------------------------------------------------------------------
def our_modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file of every module in the rooms (``pkg/__init__.py`` is ``pkg``)."""
    mods = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or room_of(path, root) is None:
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def module_imports(name: str, path: Path, mods: dict[str, Path]) -> dict[str, int]:
    """Our modules that module ``name`` imports (anywhere in the file) -> the line of the first import."""
    def resolve(dotted: str) -> str | None:  # the longest prefix that is one of our modules
        while dotted and dotted not in mods:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [resolve(a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)] if package else []
                base = ".".join(up + ([node.module] if node.module else []))
            for a in node.names:
                sub = f"{base}.{a.name}" if base else a.name
                targets.append(sub if sub in mods else resolve(base))
        for t in targets:
            if t is not None and t != name:
                out.setdefault(t, node.lineno)
    return out


def strongly_connected(edges: dict[str, set[str] | dict[str, int]]) -> list[set[str]]:
    """The strongly connected components with more than one node (Tarjan, iterative: no recursion
    limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comps: list[set[str]] = []
    nodes = sorted(set(edges) | {b for t in edges.values() for b in t})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    comps.append(comp)
    return comps


def find_cycles(edges: dict[str, set[str] | dict[str, int]]) -> list[list[str]]:
    """One cycle (``[a, b, …, a]``, starting at its smallest node) per strongly connected component
    with more than one node, sorted."""
    cycles = []
    for comp in strongly_connected(edges):  # the shortest way from the smallest node back to itself, inside the component
        first = min(comp)
        prev: dict[str, str] = {}
        todo = [first]
        while todo and first not in prev:
            nxt = []
            for v in todo:
                for w in sorted(edges.get(v, ())):
                    if w in comp and w not in prev:
                        prev[w] = v
                        nxt.append(w)
            todo = nxt
        path = [first]
        while len(path) == 1 or path[-1] != first:
            path.append(prev[path[-1]])
        cycles.append(path[::-1])
    return sorted(cycles)


def file_cycles(root: Path) -> list[str]:
    mods = our_modules(root)
    edges = {m: module_imports(m, p, mods) for m, p in mods.items()}

    def where(m: str) -> str:
        return str(mods[m].relative_to(root))

    knots = {min(c): c for c in strongly_connected(edges)}
    out = []
    for cyc in find_cycles(edges):
        text = " -> ".join(f"{where(a)}:{edges[a][b]}" for a, b in zip(cyc, cyc[1:])) + f" -> {where(cyc[-1])}"
        rest = sorted(knots[cyc[0]] - set(cyc))
        if rest:  # the other files tied into the same knot
            text += " (same knot: " + ", ".join(where(m) for m in rest) + ")"
        out.append(f"import cycle between files: {text}")
    return out


# --- private names and function-level imports ------------------------------------------------
def private_uses(root: Path) -> list[str]:
    """``from our.module import _name`` and ``module._name`` (``module`` one of ours, imported by
    name) in every module of the rooms: a name another module needs is public."""
    mods = our_modules(root)
    roots = {m.split(".")[0] for m in mods}
    found = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.split(".")[0] in roots:
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        found.append(f"{path.relative_to(root)}:{node.lineno}: from {node.module} import {a.name}")
                    if f"{node.module}.{a.name}" in mods:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in mods and a.asname:
                        aliases[a.asname] = a.name
        plain = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names if not a.asname}  # import core.a: core.a._x is reached by its dotted name
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
                continue
            dotted = _dotted(node.value)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            target = aliases.get(head, head if head in plain else None)
            if target is not None and (f"{target}.{rest}" if rest else target) in mods:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {dotted}.{node.attr}")
    return sorted(set(found))


def _dotted(node) -> str | None:
    """``a.b.c`` of a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def unexplained_function_imports(root: Path) -> list[str]:
    """Imports of our own modules inside a function without a comment naming start-up time (on the
    import's lines or the two lines above it): the house imports at module level unless a slow
    module is loaded on first use, and then says so."""
    mods = our_modules(root)
    roots = {m.split(".")[0] for m in mods}
    found = []
    for name, path in mods.items():
        src = path.read_text(encoding="utf-8")
        lines = src.splitlines()
        for fn in ast.walk(ast.parse(src)):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                if not any(n.split(".")[0] in roots for n in names):
                    continue
                first = node.lineno - 1  # the block of imports and comments this one belongs to
                while first > 0 and lines[first - 1].strip().startswith(("from ", "import ", "#")):
                    first -= 1
                comments = [ln.partition("#")[2] for ln in lines[first:node.end_lineno] if "#" in ln]
                if not any("start-up time" in c.lower() for c in comments):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return sorted(set(found))


def test_no_private_name_is_used_across_modules():
    assert private_uses(REPO) == []


def test_a_function_level_import_of_our_modules_says_why():
    assert unexplained_function_imports(REPO) == []


def test_the_private_and_lazy_import_checks_catch_offenders(tmp_path):
    root = _tree(tmp_path / "p", {"core/__init__.py": "", "core/a.py": "_x = 1\ndef f():\n    pass\n",
                                   "layers/__init__.py": "",
                                   "layers/b.py": "from core.a import _x\nfrom core import a\n"
                                                  "import core.a as ca\nprint(ca._x)\nimport core.a\n"
                                                  "print(core.a._x)\n",
                                   "layers/c.py": "def g():\n    from core import a\n    return a\n\n"
                                                  "def h():\n    # start-up time: a is slow to load\n"
                                                  "    from core import a\n    return a\n\n"
                                                  "def k():\n    # start-up\n    from core import a\n"
                                                  "    return a\n"})
    assert private_uses(root) == ["layers/b.py:1: from core.a import _x", "layers/b.py:4: ca._x",
                                  "layers/b.py:6: core.a._x"]
    assert unexplained_function_imports(root) == ["layers/c.py:12: from core import a",
                                                  "layers/c.py:2: from core import a"]  # sorted as text


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
             "layers/__init__.py": "", "layers/catalog.py": "from core import crs\n",
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
        cyc = violations(_tree(tmp_path / "cyc", {**clean, "core/paths.py": "import layers.catalog\n"}))
    finally:
        ALLOWED["core"].discard("layers")
    assert any(v.startswith("import cycle between rooms: core -> layers") for v in cyc)


def test_the_cycle_finder_finds_a_three_cycle_and_passes_a_dag():
    assert find_cycles({"b": {"c"}, "c": {"a"}, "a": {"b"}}) == [["a", "b", "c", "a"]]
    dag = {"a": {"b", "c"}, "b": {"c", "d"}, "c": {"d"}, "d": set()}
    assert find_cycles(dag) == []
    # two components, a 2-cycle hanging off a DAG, and the shortest way round a bigger component
    two = {"x": {"y"}, "y": {"x", "z"}, "z": set(), "p": {"q"}, "q": {"r", "p"}, "r": {"p"}}
    assert find_cycles(two) == [["p", "q", "p"], ["x", "y", "x"]]
    deep = {str(i): {str(i + 1)} for i in range(5000)}  # no recursion limit
    deep["5000"] = {"0"}
    assert len(find_cycles(deep)[0]) == 5002


def test_the_checker_catches_cycles_between_files(tmp_path):
    files = {"core/__init__.py": "", "core/crs.py": "def f():\n    from core.geom import g\n",
             "core/geom.py": "from core import crs\n",
             "layers/__init__.py": "", "layers/readers/__init__.py": "from layers.readers import reg\n",
             "layers/readers/reg.py": "def limit():\n    import layers.readers as pkg\n",
             "layers/readers/csv.py": "from layers.readers import reg\nimport layers.readers.reg\n"}
    found = violations(_tree(tmp_path / "cyc", files))
    assert found == ["import cycle between files: core/crs.py:2 -> core/geom.py:1 -> core/crs.py",
                     "import cycle between files: layers/readers/__init__.py:1 -> layers/readers/reg.py:2 "
                     "-> layers/readers/__init__.py"]
    # relative imports are resolved (and reported as relative imports too)
    rel = violations(_tree(tmp_path / "rel", {"core/__init__.py": "", "core/a.py": "from .b import x\n",
                                               "core/b.py": "from . import a\n"}))
    assert "import cycle between files: core/a.py:1 -> core/b.py:1 -> core/a.py" in rel
    # a submodule using its package's other submodules, the package importing them: no cycle
    ok = {"layers/__init__.py": "", "layers/readers/__init__.py": "from layers.readers import csv, reg\n",
          "layers/readers/reg.py": "import core\n", "layers/readers/csv.py": "from layers.readers.reg import limit\n",
          "core/__init__.py": ""}
    assert violations(_tree(tmp_path / "ok", ok)) == []
