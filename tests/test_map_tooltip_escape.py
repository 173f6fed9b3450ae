"""folium writes a Tooltip's text into a JavaScript template literal (`…`): a saved park named
``${…}`` would run code in every browser that opens the Map page unless the backtick, ``$`` and
the backslash are escaped with the HTML (found by the map-tools review)."""
import geopandas as gpd
import shapely

from tests.apptest_helpers import map_script, run_page

HOSTILE = "${globalThis.pwned=1}`\\x"


def test_a_hostile_park_name_never_reaches_the_map_script_as_code(dataset):
    from core import paths
    from storage.store import Store
    from ui import map_vectors

    assert map_vectors.escape_text(HOSTILE) == "&#36;{globalThis.pwned=1}&#96;&#92;x"
    s = Store(paths.store_path())
    ids = s.add_parks(gpd.GeoDataFrame(geometry=[shapely.box(103.60, 36.00, 103.62, 36.02)], crs=4326),
                      names=[HOSTILE], source="drawn")
    try:
        at = run_page("map.py", "zh")
        script = map_script(at.get("component_instance")[0])
        assert "&#36;{globalThis.pwned=1}&#96;" in script  # the name is there, escaped
        assert "globalThis.pwned" in script and "${globalThis" not in script and "pwned=1}`" not in script
    finally:
        s.delete_parks(ids)


def test_a_script_payload_cannot_end_its_script_element_even_with_unescaped_text():
    """``map_vectors.script_json``: the payloads of the drawing scripts (points, fetched GeoJSON) are
    safe inside <script> even if a caller forgot to escape a label; the text reaches JS unchanged."""
    import json

    from ui.map_vectors import PointMarkers, script_json

    raw = "</script><script>window.__xss=1</script><!--"
    payload = PointMarkers([[36.0, 104.0, raw]], {"radius": 5}).payload
    assert "<" not in payload and json.loads(payload)["points"][0][2] == raw
    assert json.loads(script_json({"x": raw})) == {"x": raw}
