"""Browser check run by tests/test_browser_missing_values.py (inside a network namespace when possible).

A small 30 m CLCD land cover far from every park (near Dunhuang, made in code) is registered and put
in use with ``python -m cli workspace add … --use`` before the server starts: every park lies
outside it, so every land-cover figure is unknown. Every page (Home, Map, Parks, Targets, Siting,
Checklist, Data) is opened in Chinese and in English: four browsers at once (one server), one per
language and half of the pages (GROUPS), each opening its pages in turn; a walk mostly waits on the
app (its script runs, the grids' accessible tables following a scroll), so the four overlap. On
each page, once the app has settled (script run over, nothing stale, no progress bar), every
expander is opened and every tab shown, then the page's visible text, the text of its iframes (the
maps) and every cell and header of every dataframe (read through the accessible table the canvas
grid keeps in the DOM; a dataframe in a tab is read with its tab) are recorded. Every wait is on
the app's state. Prints a JSON report.
"""
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import (browser_page, external, frame_texts, grid_cells, map_frame,  # noqa: E402
                                   registered_landcover, rerun, settled, streamlit_server)
from tests import workspace_fixtures as wf  # noqa: E402

ART = REPO / "tests" / "_artifacts" / f"missing-{int(time.time())}-{os.getpid()}"
ART.mkdir(parents=True, exist_ok=True)
FAR_BOX = (95.40, 40.30, 95.50, 40.38)  # lon/lat near Dunhuang: > 150 km from the nearest park (P14 玉门)
PAGES = {"home": "/", "map": "/map", "parks": "/parks", "targets": "/targets", "siting": "/siting",
         "checklist": "/checklist", "data": "/data"}
# the pages of one walk (one browser); each group about as long as the other
GROUPS = (("targets", "map", "checklist"), ("home", "parks", "siting", "data"))
assert sorted(sum(GROUPS, ())) == sorted(PAGES)  # every page in exactly one group
# what each page shows last (its script has drawn the part that depends on the park indicators)
DF = "[data-testid='stDataFrame']"
READY = {"parks": (DF, ".st-key-parks_selected"), "siting": (DF,), "checklist": (DF,), "data": (DF,)}
report: dict = {"pages": {}}

lc = wf.clcd_landcover(ART / "far_lc.tif", box=FAR_BOX)
env, report["register_rc"], report["register_err"] = registered_landcover(ART, lc)


def open_everything(page) -> None:
    """Open every collapsed expander, those in hidden tabs too (client-side: no rerun)."""
    page.evaluate("() => document.querySelectorAll(\"[data-testid='stExpander'] details:not([open]) > summary\")"
                  ".forEach(s => s.click())")
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stExpander'] details:not([open])\")")


def tabs(page) -> list[dict]:
    """Each tab opened in turn: the text and the dataframes of its panel. A keyed ``st.tabs``
    (``st-key-…``) reruns the page when a tab is picked (its panel is drawn by that run): the
    click then waits for the run; other tabs switch in the browser alone."""
    out = []
    groups = page.locator("[data-testid='stTabs']")
    for g in range(groups.count()):
        group = groups.nth(g)
        reruns = "st-key-" in (group.get_attribute("class") or "")
        buttons = group.locator("[role='tab']")
        for i in range(buttons.count()):
            tab = buttons.nth(i)
            selected = tab.get_attribute("aria-selected") == "true"
            if reruns and not selected:
                with rerun(page):
                    tab.click()
            else:
                tab.click()
            page.wait_for_function("(el) => el.getAttribute('aria-selected') === 'true'", arg=tab.element_handle())
            settled(page, timeout_ms=300_000)
            panel = group.locator("[data-testid='stTabPanel'] >> visible=true").first
            out.append({"text": panel.inner_text(), "grids": grid_cells(panel)})
    return out


# what a widget shows inside its <input> (a selectbox's choice, a number, a typed text): not part of
# the page's innerText
INPUTS_JS = """() => [...document.querySelectorAll('input, textarea')]
    .filter(e => !['file', 'hidden', 'password', 'checkbox', 'radio', 'range'].includes(e.type)).map(e => e.value)"""


TAB_PANEL = "[data-testid='stTabPanel']"


def read_page(page, url: str, name: str) -> dict:
    page.goto(url)
    settled(page, *READY.get(name, ()), timeout_ms=300_000)
    if name == "map":
        map_frame(page, 300_000)  # Leaflet has drawn the layers
    open_everything(page)
    settled(page, timeout_ms=300_000)
    return {"main": page.locator("[data-testid='stMain']").inner_text(),
            "sidebar": page.locator("[data-testid='stSidebar']").inner_text(),
            "inputs": page.evaluate(INPUTS_JS), "frames": frame_texts(page),
            # the dataframes outside the tabs; those in a tab (the open one too) with their tab below
            "grids": grid_cells(page, outside=TAB_PANEL), "tabs": tabs(page),
            "h1": page.locator("h1").first.inner_text(),
            "exceptions": page.locator("[data-testid='stException']").all_inner_texts()}


def walk(url: str, lang: str, names: tuple[str, ...]) -> tuple[dict, list[str]]:
    """The pages ``names`` in ``lang``, in a browser of its own (Playwright: one instance per thread)."""
    pages = {}
    with browser_page(block_external=len(sys.argv) > 1 and sys.argv[1] == "--block") as (page, reqs):
        page.set_default_timeout(300_000)  # bounds a failure only: every wait below is on state
        page.set_viewport_size({"width": 1600, "height": 1200})
        for name in names:
            path = PAGES[name]
            try:
                pages[f"{name}.{lang}"] = read_page(page, f"{url}{path}?lang={lang}", name)
            except Exception as e:  # say which page and how, then go on with the others
                pages[f"{name}.{lang}"] = {"error": f"{type(e).__name__}: {str(e)[:1500]}"}
            page.screenshot(path=str(ART / f"{name}-{lang}.png"), full_page=True)
        return pages, list(reqs)


if report["register_rc"] == 0:
    with streamlit_server(env) as url:
        with ThreadPoolExecutor(2 * len(GROUPS)) as pool:
            walks = [pool.submit(walk, url, lang, names) for lang in ("zh", "en") for names in GROUPS]
            reqs = []
            for w in walks:  # a walk that could not run (no browser) ends the check: no report
                pages, r = w.result()
                report["pages"].update(pages)
                reqs += r
        report["external"] = external(reqs)
        report["requests"] = len(reqs)
print("REPORT " + json.dumps(report, ensure_ascii=False))
