"""Every user-visible key exists in both languages, and every key the code uses is defined."""
import re
from pathlib import Path

from core.i18n import TEXT, t

REPO = Path(__file__).resolve().parent.parent


def test_every_entry_has_zh_and_en():
    for key, entry in TEXT.items():
        assert entry.get("zh") and entry.get("en"), key
        assert re.search(r"[\u4e00-\u9fff]", entry["zh"]), f"{key}: zh text has no Chinese"


def test_every_key_used_in_code_is_defined():
    used = set()
    for folder in ("pages", "ui", "layers", "storage", "zonal", "indicators", "reports", "cli"):
        for p in (REPO / folder).rglob("*.py"):
            text = p.read_text(encoding="utf-8")
            used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", text))
            for a, b in re.findall(r"""\bpage\(\s*["']([a-z_]+\.[a-z0-9_.]+)["'](?:\s*,\s*["']([a-z_]+\.[a-z0-9_.]+)["'])?""", text):
                used |= {k for k in (a, b) if k}
    used |= set(re.findall(r'"(nav\.[a-z_]+)"', (REPO / "app.py").read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in TEXT)
    assert not missing, missing


def test_status_and_basemap_keys_cover_catalog_and_options():
    from layers import catalog
    from ui import mapview

    for spec in catalog.LAYERS:
        assert f"map.status.{spec.status}" in TEXT
    for b in mapview.BASEMAPS:
        assert f"basemap.{b}" in TEXT


def test_format_and_fallback():
    assert t("data.replace.saved", "en", name="x", n=3) == "Saved: x (3 features). The map and indicators now use it."
    assert t("nav.map", "fr") == t("nav.map", "zh")


# --- keys built with f-strings: t(f"prefix.{x}") -------------------------------------------------
# Every t(f"...{x}...") in the code has the set of values x can take: read from the code itself (a
# literal tuple/list it iterates over or offers as widget options, or a module constant it iterates
# over), else from VARIANTS below (the constants that produce the value). A new f-string key with no
# known values fails the test until its values are named here.
def _variants() -> dict[str, tuple]:
    from indicators import checklist, placesearch, pooltable
    from indicators import targets as tg
    from zonal.pixelarea import PIXEL_AREA_MODES
    from storage import accounts
    from layers import catalog
    from storage import workspace as ws
    from ui import jobs

    statuses = tuple({s.status for s in catalog.LAYERS} | {"user"})  # "user": an uploaded replacement
    return {
        "auth.role.{}": accounts.ROLES,
        "bin.type.{}": ("park", "scenario", "dataset"),  # Store.delete_parks/delete_scenario/workspace.remove
        "check.overall.{}": checklist.OVERALLS,
        "map.status.{}": statuses,
        "mq.kind.{}": placesearch.KINDS,
        "mq.measure.{}": ("line", "polygon", "point"),  # indicators.pointquery.measure kinds
        "mq.lc.{}": ("nodata", "unclassified"),  # pointquery statuses other than ok/outside (handled apart)
        "mv.export.{}": ("view", "gansu"),
        "parks.source.{}": ("illustrative", "upload", "drawn"),
        "pixel_area.{}": PIXEL_AREA_MODES,
        "runlog.col.{}": ("seq", "at_time", "actor", "action", "item_type", "item_id", "inputs_sha256"),
        "targets.lc.source.{}": ("default", "upload", "path"),
        "targets.lc.phase.{}": jobs.PHASES,
        "targets.change.{}": ("base", "alt", "heatmap", "sankey"),
        "targets.status.{}": tg.STATUSES,
        "targets.ref.kind.{}": tg.REFERENCE_KINDS,
        "targets.direction.{}": ("higher", "lower"),
        "data.density.verified.{}": pooltable.VERIFIED,
        "ws.kind.{}": ws.TRANSPORT_KINDS,
        "ws.storage.{}": ("reference", "workspace", "store"),
        "col.{}": ("id", "label", "unit", "description", "direction", "siting_direction", "kind", "layer", "status",
                   "source", "licence", "year"),
        "src.col.{}": ("role", "layer", "file", "sha256", "source", "licence", "status", "year"),
    }


def _fstring_calls():
    """(file, line, template with "{}", values read from the code or None) for every t(f"...")."""
    import ast
    import importlib

    def strings(node):
        if isinstance(node, ast.IfExp):
            a, b = strings(node.body), strings(node.orelse)
            return None if a is None or b is None else a + b
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            return [e.value for e in node.elts]
        return None

    def constant(mod, node):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple", "sorted") \
                and len(node.args) == 1:
            node = node.args[0]  # list(LEVELS)
        if isinstance(node, (ast.Name, ast.Attribute)):
            try:
                v = eval(ast.unparse(node), vars(importlib.import_module(mod)))  # a module constant
            except Exception:
                return None
            if isinstance(v, (tuple, list, frozenset, set, dict)) and v and all(isinstance(x, str) for x in v):
                return list(v)
        return None

    for folder in ("app.py", "pages", "ui", "layers", "storage", "zonal", "reports", "indicators", "core", "geodata", "cli"):
        root = REPO / folder
        for p in sorted([root] if root.is_file() else root.rglob("*.py")):
            mod = ".".join(p.relative_to(REPO).with_suffix("").parts)
            tree = ast.parse(p.read_text(encoding="utf-8"))
            parents = {ch: n for n in ast.walk(tree) for ch in ast.iter_child_nodes(n)}
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"
                        and node.args and isinstance(node.args[0], ast.JoinedStr)):
                    continue
                parts = node.args[0].values
                fv = [v for v in parts if isinstance(v, ast.FormattedValue)]
                template = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in parts)
                values = None
                var = fv[0].value.id if len(fv) == 1 and isinstance(fv[0].value, ast.Name) else None
                cur = node
                while var and values is None and cur in parents:
                    cur = parents[cur]
                    if isinstance(cur, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                        for g in cur.generators:
                            if isinstance(g.target, ast.Name) and g.target.id == var:
                                values = strings(g.iter) or constant(mod, g.iter)
                    elif isinstance(cur, ast.For) and isinstance(cur.target, ast.Name) and cur.target.id == var:
                        values = strings(cur.iter) or constant(mod, cur.iter)
                    elif isinstance(cur, ast.Lambda) and [a.arg for a in cur.args.args] == [var]:
                        call = parents.get(parents.get(cur))  # lambda → keyword → widget call
                        if isinstance(call, ast.Call) and len(call.args) > 1:
                            opts = call.args[1]
                            values = strings(opts) or constant(mod, opts)
                            if values is None and isinstance(opts, ast.Name):  # options = [...] earlier in the function
                                fn = next((a for a in _ancestors(cur, parents) if isinstance(a, ast.FunctionDef)), None)
                                for a in ast.walk(fn) if fn else ():
                                    if isinstance(a, ast.Assign) and any(isinstance(x, ast.Name) and x.id == opts.id
                                                                         for x in a.targets):
                                        values = strings(a.value)
                        break
                yield str(p.relative_to(REPO)), node.lineno, template, values


def _ancestors(node, parents):
    while node in parents:
        node = parents[node]
        yield node


def test_keys_built_with_fstrings_exist_for_every_value():
    variants = _variants()
    calls = list(_fstring_calls())
    assert len(calls) >= 30  # the scan sees them (e.g. basemap.{b}, map.status.{...}, targets.tab.{k})
    unknown, missing = [], []
    for where, line, template, values in calls:
        vals = values if values is not None else variants.get(template)
        if not vals:
            unknown.append(f"{where}:{line} {template}")
            continue
        missing += [f"{where}:{line} {template.format(v)}" for v in vals if template.format(v) not in TEXT]
    assert not unknown, f"f-string keys whose values are unknown (name them in _variants): {unknown}"
    assert not missing, missing


def test_fstring_scan_would_catch_a_missing_variant():
    """The check itself: a value without a key is reported."""
    from storage import accounts

    assert all(f"auth.role.{r}" in TEXT for r in accounts.ROLES)
    assert "auth.role.superuser" not in TEXT
    resolved = {t_: v for _, _, t_, v in _fstring_calls() if v}
    assert resolved.get("targets.tab.{}") == ["progress", "stats", "landcover", "change", "landchange", "targets"]
    assert resolved.get("basemap.{}") and set(resolved["basemap.{}"]) == set(__import__("ui.mapview").mapview.BASEMAPS)


# --- one definition per key ------------------------------------------------------------------------
# A dict literal hides a repeated key (the later one silently wins), and so does a later
# ``TEXT.update({...})``. Parse the file and list every key given more than once.
def duplicate_keys(source: str) -> dict[str, list[int]]:
    """key -> the lines defining it, for every key defined more than once in ``TEXT = {...}`` and
    all ``TEXT.update({...})`` blocks of ``source``."""
    import ast

    lines: dict[str, list[int]] = {}

    def collect(d):
        if isinstance(d, ast.Dict):
            for k in d.keys:
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    lines.setdefault(k.value, []).append(k.lineno)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(x, ast.Name) and x.id == "TEXT" for x in targets):
                collect(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "TEXT":
            for a in node.args:
                collect(a)
    return {k: v for k, v in lines.items() if len(v) > 1}


def test_no_key_is_defined_twice():
    dups = duplicate_keys((REPO / "core" / "i18n.py").read_text(encoding="utf-8"))
    assert not dups, "keys defined more than once in core/i18n.py (the last one wins): " + \
        ", ".join(f"{k} (lines {', '.join(map(str, v))})" for k, v in sorted(dups.items()))


def test_duplicate_check_sees_literal_and_update_blocks():
    src = 'TEXT: dict = {"a": {}, "b": {}, "a": {}}\nTEXT.update({"b": {}, "c": {}})\nTEXT.update({"c": {}})\n'
    assert duplicate_keys(src) == {"a": [1, 1], "b": [1, 2], "c": [2, 3]}
    assert duplicate_keys('TEXT = {"a": {}}\nOTHER.update({"a": {}})\n') == {}
