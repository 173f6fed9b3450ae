"""Load and injection check run by tests/test_load_hardening.py (inside a network namespace when
possible): one ``python -m ui.serve`` on 127.0.0.1, one Chromium, SESSIONS browser contexts at once.

Each session, concurrently: opens the Parks page (indicators computed), uploads its own park and
saves it, uploads a second park and leaves it unsaved; after a barrier it checks that its page
shows only its own upload, reopens the page and downloads the CSV export (every saved park of
every session present, no unsaved one). The store is pre-seeded with a park and a replacement
protection layer whose names are ``<img src=x onerror=...>`` payloads: the Map page's tooltips are
opened and no script may run anywhere. Prints ``REPORT {json}``: errors, timings (page times =
navigation or rerun until the app is idle), throughput.
"""
import asyncio
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, SETTLED_JS, external, streamlit_server  # noqa: E402

SESSIONS = int(os.environ.get("GANSU_LOAD_SESSIONS", "10"))
DEADLINE_S = float(os.environ.get("GANSU_LOAD_DEADLINE_S", "600"))
PICK_TRIES = 3
ART = REPO / "tests" / "_artifacts"
XSS = '<img src=x onerror="window.__xss=1;alert(1)">'
report = {"sessions": SESSIONS, "errors": [], "times": [], "dialogs": [], "re_picks": []}


def park_geojson(name: str, k: int) -> bytes:
    import geopandas as gpd
    import shapely

    x, y = 103.5 + 0.05 * k, 36.2
    return gpd.GeoDataFrame({"名称": [name]}, geometry=[shapely.box(x, y, x + 0.03, y + 0.02)],
                            crs=4326).to_json().encode()


def seed_store(path: Path) -> None:
    import geopandas as gpd
    import shapely

    from storage.store import Store

    s = Store(path)
    g = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.box(100.0, 38.0, 100.05, 38.04)], crs=4326)
    s.add_parks(g, names=[XSS], source="upload")
    red = gpd.GeoDataFrame({"name": [XSS], "note": ["<script>window.__xss=1</script>"]},
                           geometry=[shapely.box(100.5, 38.5, 101.5, 39.5)], crs=4326)
    s.save_user_layer(red, replaces="protection_proxy", name=XSS, original_filename="x.geojson", source_crs="EPSG:4326")
    s.close()


async def idle(page, timeout=600):
    """Wait until the script run finished (tests/browser/harness.settled: the app's script state is
    "notRunning", nothing stale, no spinner or progress bar); ``timeout`` bounds a failure only."""
    await page.wait_for_function(SETTLED_JS, arg=[], timeout=timeout * 1000, polling=100)


async def problems(page) -> list[str]:
    out = []
    for sel in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        for el in await page.locator(sel).all():
            out.append((await el.inner_text())[:300])
    return out


T0 = time.perf_counter()


def log(msg):
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


STEP: dict[int, str] = {}
PAGES: dict[int, object] = {}


async def timed(label, coro, times, i=None):
    if i is not None:
        STEP[i] = label
    t0 = time.perf_counter()
    await coro
    times.append((label, time.perf_counter() - t0))
    log(f"{label} {times[-1][1]:.1f}s")


async def session(ctx, url, i, barrier_uploaded, barrier_checked, state):
    lang = "zh" if i % 2 == 0 else "en"
    page = await ctx.new_page()
    PAGES[i] = page
    page.set_default_timeout(240_000)
    page.on("dialog", lambda d: (report["dialogs"].append(d.message), asyncio.ensure_future(d.dismiss())))
    times = report["times"]
    saved, unsaved = f"LOAD-{i}-saved", f"LOAD-{i}-unsaved"

    async def open_parks():
        await page.goto(f"{url}/parks?lang={lang}")
        await page.locator(".st-key-parks_upload_box input[type=file]").wait_for(state="attached")
        await idle(page)

    async def upload(name, k):
        """Pick the file as a user would, into the one empty uploader; if the pick still does not
        take, pick again (at most PICK_TRIES times). Every re-pick is reported, never hidden."""
        from playwright.async_api import TimeoutError as PwTimeout

        fname = f"s{i}{'p' if 'unsaved' in name else 'k'}.geojson"  # short: the chip shows it whole
        chip = page.locator('[data-testid="stFileChipName"]', has_text=fname)
        for attempt in range(1, PICK_TRIES + 1):
            # after a save the page swaps in a fresh, empty uploader; until the rerun settles the
            # old one can still be in the page, and a file picked there is dropped with it
            STEP[i] = f"{name}: one empty uploader (try {attempt})"
            await page.wait_for_function(
                """(first) => document.querySelectorAll('.st-key-parks_upload_box input[type=file]').length === 1
                     && (!first || !document.querySelector('.st-key-parks_upload_box [data-testid="stFileChipName"]'))""",
                arg=attempt == 1, timeout=120_000, polling=200)
            await idle(page)
            STEP[i] = f"{name}: set file (try {attempt})"
            await page.locator(".st-key-parks_upload_box input[type=file]").set_input_files(
                files=[{"name": fname, "mimeType": "application/geo+json", "buffer": park_geojson(name, k)}])
            try:
                STEP[i] = f"{name}: chip (try {attempt})"
                await chip.wait_for(state="visible", timeout=60_000)
                STEP[i] = f"{name}: idle (try {attempt})"
                await idle(page, timeout=150)
                STEP[i] = f"{name}: save button (try {attempt})"
                await page.locator(".st-key-parks_upload_save button").wait_for(state="visible", timeout=30_000)
                if await chip.count() == 1:
                    return
            except PwTimeout:
                pass
            report["re_picks"].append(f"s{i} {name}: {STEP[i]}")
            log(f"s{i} re-pick after {STEP[i]}")
        raise RuntimeError(f"{name}: the picked file never reached the app after {PICK_TRIES} tries")

    async def save():
        await page.locator(".st-key-parks_upload_save button").click()
        await idle(page)

    log(f"s{i} start")
    await timed("open", open_parks(), times, i)
    await timed("upload", upload(saved, 2 * i), times, i)
    await timed("save", save(), times, i)
    state["saved"].append(saved)
    try:  # the saved file leaves the uploader (once the rerun has settled): no double save
        await page.wait_for_function(
            """() => !document.querySelector('.st-key-parks_upload_box [data-testid="stFileChipName"]')""",
            timeout=60_000, polling=200)
    except Exception:
        state["chips_after_save"] += await page.locator('[data-testid="stFileChipName"]').all_inner_texts()
    report["errors"] += [f"s{i} after save: {p}" for p in await problems(page)]
    await timed("upload", upload(unsaved, 2 * i + 1), times, i)
    STEP[i] = "barrier 1"
    log(f"s{i} at barrier 1")
    await barrier_uploaded.wait_for_all()
    # isolation: this session's page shows its own pending upload and nobody else's
    names = [n.strip() for n in await page.locator('[data-testid="stFileChipName"]').all_inner_texts()]
    body = await page.locator("body").inner_text()
    others = [f"LOAD-{j}-unsaved" for j in range(SESSIONS) if j != i] + [f"s{j}p.geojson" for j in range(SESSIONS) if j != i]
    state["isolation"].append({"session": i, "uploader": names, "own": f"s{i}p.geojson",
                               "sees_others": [o for o in others if o in body or any(o in n for n in names)]})
    report["errors"] += [f"s{i} end: {p}" for p in await problems(page)]
    await barrier_checked.wait_for_all()
    await page.close()


async def check_fresh_session(ctx, url, state):
    """A new visitor sees every saved park in the export, none of the unsaved uploads, and the
    map's tooltips (with the uploaded layer's payload names) run no script."""
    page = await ctx.new_page()
    page.set_default_timeout(240_000)
    page.on("dialog", lambda d: (report["dialogs"].append(d.message), asyncio.ensure_future(d.dismiss())))
    await page.goto(f"{url}/parks?lang=en")
    await page.locator(".st-key-dl_csv button").wait_for(state="visible")
    await idle(page)
    async with page.expect_download(timeout=240_000) as dl:
        await page.locator(".st-key-dl_csv button").click()
    d = await dl.value
    path = ART / "load-final.csv"
    await d.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    state["csv"] = {"saved_present": sorted(n for n in state["all_saved"] if n in text),
                    "unsaved_present": sorted(f"LOAD-{j}-unsaved" for j in range(SESSIONS) if f"LOAD-{j}-unsaved" in text),
                    "xss_name_present": "onerror=" in text}
    await page.goto(f"{url}/map?lang=zh")
    await idle(page)
    # the map has drawn its layers (the parks' and the protection layer's paths carry the tooltips)
    await page.wait_for_function(
        """() => [...document.querySelectorAll("iframe[title*='st_folium']")].some(f => {
               try { return f.contentDocument.querySelectorAll('path.leaflet-interactive').length > 10; }
               catch (e) { return false; } })""", timeout=600_000, polling=250)
    n_tooltips = 0
    for fr in page.frames:
        try:
            n_tooltips += await fr.evaluate("""() => { let n = 0; for (const k in window) { const m = window[k];
                if (m && m.eachLayer && m.getCenter) { m.eachLayer(l => { if (l.openTooltip && l.getTooltip && l.getTooltip()) {
                  try { l.openTooltip(); n++; } catch (e) {} } }); } } return n; }""")
        except Exception:
            pass
    # the opened tooltips are in the DOM (an injected <img> would be there too: counted below)
    await page.wait_for_function(
        """(n) => [...document.querySelectorAll("iframe[title*='st_folium']")].reduce((k, f) => {
               try { return k + f.contentDocument.querySelectorAll('.leaflet-tooltip').length; }
               catch (e) { return k; } }, 0) >= Math.min(n, 1)""", arg=n_tooltips, timeout=600_000)
    xss, imgs, texts = False, 0, []
    for fr in page.frames:
        try:
            xss = xss or bool(await fr.evaluate("() => window.__xss === 1"))
            imgs += await fr.locator("img[src='x']").count()
            texts += await fr.locator(".leaflet-tooltip").all_text_contents()
        except Exception:
            pass
    state["xss"] = {"tooltips_opened": n_tooltips, "flag": xss, "img_x": imgs,
                    "payload_shown_as_text": any("onerror" in t for t in texts)}
    report["errors"] += [f"fresh: {p}" for p in await problems(page)]
    await page.close()


class Barrier:
    """All sessions meet here; a failed session breaks it so the others do not wait forever."""

    def __init__(self, n):
        self.n, self.count, self.event, self.broken = n, 0, asyncio.Event(), False

    async def wait_for_all(self):
        self.count += 1
        if self.count >= self.n:
            self.event.set()
        await asyncio.wait_for(self.event.wait(), timeout=DEADLINE_S)
        if self.broken:
            raise RuntimeError("another session failed")

    def abort(self):
        self.broken = True
        self.event.set()


async def guarded(ctx, url, i, b1, b2, state):
    try:
        await session(ctx, url, i, b1, b2, state)
    except BaseException as e:
        report["errors"].append(f"session {i}: {type(e).__name__}: {str(e)[:500]}")
        b1.abort()
        b2.abort()


async def main(url, block_external):
    from playwright.async_api import async_playwright

    state = {"saved": [], "isolation": [], "csv": [], "chips_after_save": [], "all_saved": [f"LOAD-{i}-saved" for i in range(SESSIONS)]}
    requests = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctxs = []
        for i in range(SESSIONS):
            ctx = await browser.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True,
                                            locale="zh-CN" if i % 2 == 0 else "en-US")
            ctx.on("request", lambda r: requests.append(r.url))
            if block_external:
                async def _route(route):
                    u = route.request.url
                    host = u.split("/")[2].split(":")[0] if "://" in u else ""
                    if u.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost"):
                        return await route.continue_()
                    return await route.abort()
                await ctx.route("**/*", _route)
            ctxs.append(ctx)
        # warm-up (not timed): one page load computes the shared caches, as on a running server
        warm = await ctxs[0].new_page()
        t0 = time.perf_counter()
        await warm.goto(f"{url}/parks")
        await warm.locator(".st-key-parks_upload_box input[type=file]").wait_for(state="attached", timeout=180_000)
        await idle(warm)
        report["warmup_s"] = time.perf_counter() - t0
        await warm.close()
        b1, b2 = Barrier(SESSIONS), Barrier(SESSIONS)
        t0 = time.perf_counter()
        tasks = [asyncio.ensure_future(guarded(c, url, i, b1, b2, state)) for i, c in enumerate(ctxs)]
        done, pending = await asyncio.wait(tasks, timeout=DEADLINE_S)
        for i, tk in enumerate(tasks):
            if tk in pending:  # say where it is stuck and what its page shows, then stop it
                pg = PAGES.get(i)
                info = ""
                if pg is not None:
                    try:
                        await pg.screenshot(path=str(ART / f"load-stuck-{i}.png"), full_page=True)
                        info = await pg.evaluate("""() => ({stale: document.querySelectorAll('[data-stale="true"]').length,
                            spinners: document.querySelectorAll('[data-testid="stSpinner"]').length,
                            chips: [...document.querySelectorAll('[data-testid="stFileChipName"]')].map(e => e.innerText),
                            save: !!document.querySelector('.st-key-parks_upload_save button'),
                            status: document.querySelector('[data-testid="stStatusWidget"]')?.innerText || ''})""")
                        t1 = time.perf_counter()
                        await idle(pg, timeout=20)
                        info["idle_now_s"] = round(time.perf_counter() - t1, 1)
                    except Exception as e:
                        info = f"{info} (then: {type(e).__name__} {str(e)[:200]})"
                report["errors"].append(f"session {i}: not done after {DEADLINE_S:.0f} s, at step {STEP.get(i)!r}: {info}")
                tk.cancel()
        b1.abort()
        b2.abort()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        report["wall_s"] = time.perf_counter() - t0
        await check_fresh_session(ctxs[0], url, state)
        for i, r in enumerate(results):
            if isinstance(r, BaseException):
                report["errors"].append(f"session {i}: {type(r).__name__}: {str(r)[:400]}")
        for c in ctxs:
            await c.close()
        await browser.close()
    report.update({k: state[k] for k in ("saved", "isolation", "csv", "chips_after_save")})
    report["xss"] = state.get("xss")
    report["external"] = external(requests)


if __name__ == "__main__":
    store = ART / f"load-store-{os.getpid()}.duckdb"
    for p in ART.glob(f"load-store-{os.getpid()}.duckdb*"):
        p.unlink()
    seed_store(store)
    with streamlit_server({"GANSU_STORE": str(store)}) as url:
        asyncio.run(main(url, block_external="--block" in sys.argv))
        log = ART / f"streamlit-{url.rsplit(':', 1)[1]}.log"
    report["server_tracebacks"] = log.read_text(errors="replace").count("Traceback") if log.exists() else None
    from storage.store import Store

    s = Store(store)
    names = list(s.parks()["name"])
    s.close()
    report["store_names"] = names
    for p in ART.glob(f"load-store-{os.getpid()}.duckdb*"):
        p.unlink()
    ts = sorted(t for _, t in report["times"])
    report["page_times_n"] = len(ts)
    report["p50_s"] = ts[len(ts) // 2] if ts else None
    report["p95_s"] = ts[min(len(ts) - 1, int(round(0.95 * (len(ts) - 1))))] if ts else None
    report["throughput_pages_per_s"] = len(ts) / report["wall_s"] if report.get("wall_s") else None
    print("REPORT " + json.dumps(report, ensure_ascii=False))
