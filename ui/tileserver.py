"""The map's tile service: ``GET /tiles/{token}/{z}/{x}/{y}.png`` on the dashboard's own server
(``asgi.py`` mounts ``routes()`` beside Streamlit's: same address, same port, started by the same
launcher, network off).

A tile URL carries a **grant**, never a file path: the Map page asks ``grant(dataset, who)`` for
each raster layer it shows and puts the returned URL template in its TileLayer. A grant is an
unguessable token (``secrets.token_urlsafe``) kept in this process, naming the dataset, the account
it was given to and how to colour it; it expires after the session's idle time unless the page
renews it. On a request the service re-checks, at most every ``RECHECK_S`` seconds per grant,
that the account may still see the dataset (an account disabled or removed, a dataset deleted, an
anonymous visitor when the server does not allow anonymous viewing: refused, 403, and the grant
dropped). So a tile of a dataset its viewer may not see is refused on the server side, like every
change to the store.

Rendering: ``layers.tiles.render_tile`` (rio-tiler on the dataset's COG, ``layers.cog``); a tile
the raster does not reach is one transparent PNG.
"""
from __future__ import annotations

import io
import secrets
import threading
import time
from dataclasses import dataclass, field

from rasterio.errors import RasterioError

from layers import tiles
from ui import exposure

RECHECK_S = 30.0  # how stale a grant's access check may be (tests set 0)
MAX_ZOOM = 22


@dataclass
class Grant:
    token: str
    dataset_id: str | tuple  # a dataset, or the datasets a derived raster comes from (all must stay)
    path: str
    who: object  # the principal (storage.accounts.Principal), a single-user name, or None (anonymous)
    colors: dict | None = None  # classes: {code: "#rrggbb"}; None: a continuous ramp
    ramp: str = "viridis"
    stretch: tuple | None = None
    expires: float = 0.0
    checked: float = field(default_factory=time.time)


_GRANTS: dict[str, Grant] = {}
_BY_KEY: dict[tuple, str] = {}
_LOCK = threading.Lock()


def grant(dataset_id: str | tuple, path: str, who, *, colors: dict | None = None, ramp: str = "viridis",
          stretch: tuple | None = None, gcj: bool = False, minutes: float = 30.0) -> str:
    """The tile URL template (``/tiles/<token>/{z}/{x}/{y}.png``) of a raster for ``who``. The same
    viewer, dataset and colours get the same token while it lives (the map's layer URL stays the
    same between reruns, so Leaflet keeps its tiles); each call renews it. ``dataset_id``: a tuple for
    a raster derived from several datasets (a land-degradation verdict of two years): seen while all
    of them are."""
    key = _key(who, dataset_id, path, colors, ramp, stretch)
    now = time.time()
    with _LOCK:
        for t in [t for t, g in _GRANTS.items() if g.expires < now]:  # expired grants go
            g = _GRANTS.pop(t)
            _BY_KEY.pop(_key_of(g), None)
        tok = _BY_KEY.get(key)
        g = _GRANTS.get(tok) if tok else None
        if g is None:
            tok = secrets.token_urlsafe(24)
            g = Grant(tok, dataset_id, path, who, dict(colors) if colors else None, ramp, stretch)
            _GRANTS[tok], _BY_KEY[key] = g, tok
        g.expires = now + minutes * 60
    return f"/tiles/{tok}/{{z}}/{{x}}/{{y}}.png" + ("?gcj=1" if gcj else "")


def _key(who, dataset_id, path: str, colors: dict | None, ramp: str, stretch) -> tuple:
    """One grant per viewer (name and kind of account), dataset(s), file and colouring."""
    return (str(who), getattr(who, "source", None), dataset_id, path, tuple(sorted((colors or {}).items())), ramp, stretch)


def _key_of(g: Grant) -> tuple:
    return _key(g.who, g.dataset_id, g.path, g.colors, g.ramp, g.stretch)


def revoke(who) -> int:
    """Drop every grant of ``who`` (sign-out); returns how many went."""
    with _LOCK:
        gone = [t for t, g in _GRANTS.items() if str(g.who) == str(who)]
        for t in gone:
            _BY_KEY.pop(_key_of(_GRANTS.pop(t)), None)
    return len(gone)


def may_see(store, g: Grant, anonymous_view: bool) -> bool:
    """Whether the grant's viewer may still see its dataset: the dataset is registered (not
    deleted), and the store is single-user, or the viewer's account is enabled (re-read), or the
    viewer is anonymous on a server that allows anonymous viewing."""
    ids = g.dataset_id if isinstance(g.dataset_id, tuple) else (g.dataset_id,)
    if not ids or any(store.dataset_record(i) is None for i in ids):
        return False
    if store.single_user():
        return True
    if g.who is None or isinstance(g.who, str) and not hasattr(g.who, "source"):
        return anonymous_view
    return store.principal(g.who) is not None


_BLANK: bytes | None = None


def blank_png() -> bytes:
    global _BLANK
    if _BLANK is None:
        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGBA", (tiles.TILE, tiles.TILE), (0, 0, 0, 0)).save(buf, "PNG", optimize=True)
        _BLANK = buf.getvalue()
    return _BLANK


_STORE: list = []  # the dashboard's one Store object, handed over by ``ui.common.cached_store``


def use_store(store) -> None:
    """The store the service checks grants against (the dashboard's own; tests give theirs)."""
    _STORE[:] = [store]


def tile_response(token: str, z, x, y, gcj: bool):
    """(status, body, content type) of one tile request (z, x, y as given: ints or the URL's text)."""
    refused = "瓦片无权访问或已过期（请刷新地图页）/ tile refused or expired (reload the map page)".encode()
    try:  # at most 8 digits each: a 5,000-digit number is a client's error, not a parse in the server
        z, x, y = (int(v) if isinstance(v, int) or (str(v).isdigit() and len(str(v)) <= 8) else -1 for v in (z, x, y))
    except ValueError:
        z = -1
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2 ** z and 0 <= y < 2 ** z):
        return 400, "无效的瓦片编号 / invalid tile number".encode(), "text/plain; charset=utf-8"
    now = time.time()
    with _LOCK:
        g = _GRANTS.get(token)
    if g is None or g.expires < now:
        return 403, refused, "text/plain; charset=utf-8"
    if now - g.checked >= RECHECK_S:
        if not _STORE or not may_see(_STORE[0], g, exposure.anonymous_view()):
            with _LOCK:
                _GRANTS.pop(token, None)
                _BY_KEY.pop(_key_of(g), None)
            return 403, refused, "text/plain; charset=utf-8"
        g.checked = now
    try:
        png = tiles.render_tile(g.path, z, x, y, colors=g.colors, ramp=g.ramp, stretch=g.stretch, gcj=gcj)
    except (OSError, RasterioError):  # the file went (the dataset removed to the bin, its COG rebuilt)
        with _LOCK:
            _GRANTS.pop(token, None)
            _BY_KEY.pop(_key_of(g), None)
        return 404, "瓦片的数据已不存在（请刷新地图页）/ the tile's data is gone (reload the map page)".encode(), \
            "text/plain; charset=utf-8"
    return 200, png if png is not None else blank_png(), "image/png"


def routes() -> list:
    """The Starlette routes of the tile service (``asgi.py``)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from starlette.routing import Route

    async def tile(request):
        p = request.path_params
        status, body, kind = await run_in_threadpool(tile_response, p["token"], p["z"], p["x"], p["y"],
                                                     request.query_params.get("gcj") == "1")
        headers = {"Cache-Control": "private, max-age=600"} if status == 200 else {"Cache-Control": "no-store"}
        return Response(body, status_code=status, media_type=kind, headers=headers)

    return [Route("/tiles/{token}/{z}/{x}/{y}.png", tile, methods=["GET"])]
