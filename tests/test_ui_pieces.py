"""The pieces the pages call, without a page: the job queue, the legend sections and the park
detail map built from the catalog, the default legend of the land cover, and statistics CSV
parsing (now in indicators.targets, no Streamlit)."""
from __future__ import annotations

import threading

import geopandas as gpd
import pytest
import shapely

from core.errors import InputError


def _wait(job, timeout=600.0):
    """The job once its thread has ended (the timeout bounds a failure only)."""
    job.thread.join(timeout)
    assert job.phase in ("done", "error")
    return job


def test_job_queue_runs_once_per_key_reports_progress_and_wraps_errors():
    from ui import jobs

    jobs.clear()
    gate, reported, calls = threading.Event(), threading.Event(), []

    def work(job, x):
        calls.append(x)
        job.phase = "computing"
        job.progress(1, 4)
        reported.set()
        gate.wait(600)  # held until the test has read the progress
        return x * 2

    a = jobs.submit(("k", 1), work, 21)
    b = jobs.submit(("k", 1), work, 21)  # a rerun polls the same job
    assert a is b
    assert reported.wait(600)  # the timeout bounds a failure only
    assert a.fraction == 0.25 and a.phase == "computing"
    gate.set()
    assert _wait(a).result == 42 and calls == [21]

    def boom(job):
        raise ValueError("bad pixel")

    e = _wait(jobs.submit(("k", 2), boom))
    assert e.phase == "error" and isinstance(e.error, InputError)
    assert "计算失败" in e.error.message("zh") and "bad pixel" in e.error.message("en")
    assert jobs.submit(("k", 2), boom, retry_after=60) is e  # not retried at once
    assert jobs.submit(("k", 2), boom, retry_after=0) is not e  # retried later
    jobs.clear()
    assert jobs.get(("k", 1)) is None


def test_legend_sections_come_from_the_catalog():
    from layers import catalog
    from layers.legends import CLASS_BY_ID, get_legend
    from ui import map_legends, map_vectors

    lc = catalog.BY_ID["landcover"]
    sec = map_legends.legend_section(lc, "zh", lc.title("zh"))
    used = set(get_legend(lc.legend).codes.values())
    assert [i["label"] for i in sec["items"]] == [c.label_zh for c in CLASS_BY_ID.values() if c.id in used]
    assert dict(map_legends.landcover_colors(lc.legend)) == {code: CLASS_BY_ID[c].color
                                                            for code, c in get_legend(lc.legend).codes.items()}
    zones = catalog.BY_ID["zones"]
    g = gpd.GeoDataFrame({"name_zh": ["河西走廊"], "name_en": ["Hexi Corridor"], "color": ["#aabbcc"],
                          "function_zh": [""], "n_counties": [1], "area_km2": [1.0]},
                         geometry=[shapely.box(100, 36, 101, 37)], crs=4326)
    fc = map_vectors.geojson_for(g, zones, gcj=False, simplify_deg=0)
    assert map_legends.legend_section(zones, "en", "t", fc)["items"] == [
        {"label": "Hexi Corridor", "fill": "#aabbcc", "stroke": zones.style["color"]}]
    assert map_legends.legend_section(zones, "zh", "t", fc)["items"][0]["label"] == "河西走廊"
    red = catalog.BY_ID["protection_proxy"]
    item = map_legends.legend_section(red, "en", "t")["items"][0]
    assert item == {"label": red.title("en"), "fill": red.style["fill_color"], "stroke": red.style["color"],
                    "dash": True}


def test_park_detail_map_uses_catalog_styles():
    from layers import catalog
    from ui import mapview

    park = shapely.box(104.0, 36.0, 104.05, 36.03)
    red = gpd.GeoDataFrame({"basis": ["x"]}, geometry=[shapely.box(104.02, 36.0, 104.2, 36.2)], crs=4326)
    html = mapview.park_detail_map(park, "zh", redline=red).get_root().render()
    assert catalog.BY_ID["parks_demo"].style["fill_color"] in html
    assert catalog.BY_ID["protection_proxy"].style["color"] in html
    assert "/app/static/" in html and "unpkg" not in html  # still the offline map


def test_default_legend_is_the_catalog_declaration():
    from layers import catalog
    from ui import raster_sources

    assert raster_sources.default_legend() == catalog.BY_ID["landcover"].legend
    assert raster_sources.legend_choices()[0] == catalog.BY_ID["landcover"].legend


def test_read_stats_bytes_decodes_utf8_bom_and_gb18030():
    from indicators import targets as tg

    text = "indicator,region,year,value,unit,source\n森林覆盖率,甘肃省,2020,11.5,%,年鉴\n"
    for data in (text.encode("utf-8-sig"), text.encode("gb18030")):
        df = tg.read_stats_bytes(data)
        assert list(df.columns) == list(tg.STAT_COLUMNS) and df.iloc[0]["indicator"] == "森林覆盖率"
        assert df.iloc[0]["value"] == "11.5"  # strings: validate_stats converts
    with pytest.raises(InputError, match="not UTF-8 or GB18030"):
        tg.read_stats_bytes(b"\xff\xfe\x00\x81\x30")
    with pytest.raises(InputError):
        tg.read_stats_bytes(b"")
