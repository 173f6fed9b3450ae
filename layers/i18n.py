"""The one translation table: every user-visible string, Chinese (default) and English.

Code holds keys; ``t(key, lang, **fmt)`` returns the text. Layer titles live in the layer
catalog and indicator labels in indicators/table.py, each with zh and en side by side.
"""
from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

TEXT: dict[str, dict[str, str]] = {
    # --- app and navigation
    "app.title": {"zh": "甘肃生态屏障与零碳园区选址", "en": "Gansu ecological barrier & zero-carbon park siting"},
    "app.subtitle": {"zh": "“四屏一廊”生态安全格局、生态保护与零碳产业园区选址的交互式仪表盘（离线可用）",
                     "en": "Interactive dashboard for the “four barriers and one corridor”, ecological protection and zero-carbon industrial-park siting (works offline)"},
    "nav.home": {"zh": "首页", "en": "Home"},
    "nav.map": {"zh": "地图", "en": "Map"},
    "nav.parks": {"zh": "园区指标", "en": "Parks"},
    "nav.data": {"zh": "数据与来源", "en": "Data & sources"},
    "lang.label": {"zh": "语言 / Language", "en": "Language / 语言"},
    "err.data_missing": {"zh": "尚未构建默认数据集：请运行 `make run` 或 `python -m geodata.build`。",
                         "en": "The default dataset has not been built: run `make run` or `python -m geodata.build`."},
    # --- home
    "home.headline": {"zh": "主要数据", "en": "Headline figures"},
    "home.province_area": {"zh": "全省面积（等积投影，km²）", "en": "Province area (equal-area, km²)"},
    "home.n_prefectures": {"zh": "市州数", "en": "Prefectures"},
    "home.n_counties": {"zh": "县区数", "en": "Counties"},
    "home.n_parks": {"zh": "园区数（示意+用户）", "en": "Parks (illustrative + yours)"},
    "home.zone_areas": {"zh": "“四屏一廊”分区面积（示意）", "en": "Zone areas (schematic)"},
    "home.lc_shares": {"zh": "土地覆被构成（MODIS 2019，代理指标）", "en": "Land-cover shares (MODIS 2019, proxy)"},
    "home.lc_note": {"zh": "按像元测地面积计算；“森林占比”是土地覆被代理，不等于官方森林覆盖率（11.33%）。",
                     "en": "From geodesic pixel areas; the land-cover forest share is a proxy, not the official forest coverage (11.33%)."},
    "home.where_next": {"zh": "下一步", "en": "Where to go next"},
    "home.go_map": {"zh": "地图：浏览分区、生态保护代理图层、园区、机场与土地覆被。",
                    "en": "Map: browse zones, the protection proxy, parks, airports and land cover."},
    "home.go_parks": {"zh": "园区指标：每个园区的碳储量、碳汇、绿化覆盖率、交通距离和冲突。",
                      "en": "Parks: carbon stock, sink, green coverage, transport distances and conflicts per park."},
    "home.go_data": {"zh": "数据与来源：每个图层的来源、年份、分辨率和许可，以及上传官方图层。",
                     "en": "Data & sources: source, year, resolution and licence of every layer; upload official layers."},
    "col.zone": {"zh": "分区", "en": "Zone"},
    "col.area_km2": {"zh": "面积 (km²)", "en": "Area (km²)"},
    "col.share_pct": {"zh": "占比 (%)", "en": "Share (%)"},
    "col.class": {"zh": "类别", "en": "Class"},
    "col.n_counties": {"zh": "县区数", "en": "Counties"},
    # --- map
    "map.title": {"zh": "地图", "en": "Map"},
    "map.layers": {"zh": "图层", "en": "Layers"},
    "map.basemap": {"zh": "底图", "en": "Basemap"},
    "basemap.none": {"zh": "无底图（离线）", "en": "None (offline)"},
    "basemap.osm": {"zh": "OpenStreetMap（需联网）", "en": "OpenStreetMap (online)"},
    "basemap.tianditu_vec": {"zh": "天地图 矢量（需联网和密钥）", "en": "Tianditu vector (online, key)"},
    "basemap.tianditu_img": {"zh": "天地图 影像（需联网和密钥）", "en": "Tianditu imagery (online, key)"},
    "basemap.gaode": {"zh": "高德（GCJ-02，需联网）", "en": "Gaode (GCJ-02, online)"},
    "map.no_tianditu_key": {"zh": "未配置天地图密钥（环境变量 TIANDITU_KEY 或 Streamlit secrets 中的 tianditu_key），已改为无底图。",
                            "en": "No Tianditu key configured (TIANDITU_KEY environment variable or `tianditu_key` in Streamlit secrets): showing no basemap."},
    "map.online_warning": {"zh": "所选底图从互联网加载瓦片；内网环境请选择“无底图”。",
                           "en": "This basemap loads tiles from the internet; on an intranet choose “None”."},
    "map.gcj_note": {"zh": "高德底图为 GCJ-02 坐标：所有叠加图层已偏移到 GCJ-02 以对齐。",
                     "en": "Gaode tiles are in GCJ-02: all overlays are shifted into GCJ-02 so they line up."},
    "map.legend": {"zh": "图例", "en": "Legend"},
    "map.status.real": {"zh": "真实数据", "en": "real data"},
    "map.status.schematic": {"zh": "示意", "en": "schematic"},
    "map.status.proxy": {"zh": "代理——非官方红线", "en": "proxy — not the official red line"},
    "map.status.illustrative": {"zh": "示意位置与面积", "en": "illustrative location and size"},
    "map.status.user": {"zh": "用户上传", "en": "uploaded by user"},
    "map.lc_opacity": {"zh": "土地覆被透明度", "en": "Land-cover opacity"},
    "map.fit": {"zh": "地图已缩放至甘肃全省。", "en": "Map fitted to Gansu."},
    # --- parks page
    "parks.title": {"zh": "园区指标", "en": "Park indicators"},
    "parks.intro": {"zh": "每个园区的碳储量与碳汇、绿化覆盖率（≥15% 准入门槛）、到交通设施的距离和与生态保护图层的冲突；与命令行 `python -m indicators parks` 使用同一计算引擎。",
                    "en": "Carbon stock and sink, green coverage (≥ 15% admission floor), distance to transport and conflicts with protected land for every park — the same engine as the CLI `python -m indicators parks`."},
    "parks.demo_note": {"zh": "默认园区为示意位置与面积；默认土地覆被为 MODIS 5 km，园区仅覆盖少量像元，数值仅供演示。请加载园区边界和 30 m/10 m 土地覆被以获得可靠结果。",
                        "en": "Default parks have illustrative locations and sizes; the default land cover is 5 km MODIS, so each park spans few pixels and the numbers are a demonstration. Load real park boundaries and 30 m/10 m land cover for reliable results."},
    "parks.reliability_note": {"zh": "{n} 个园区覆盖的土地覆被像元少于约 100 个：结果可靠性低。", "en": "{n} park(s) span fewer than about 100 land-cover pixels: low reliability."},
    "parks.select": {"zh": "选择园区查看详情", "en": "Select a park for details"},
    "parks.pass": {"zh": "达标（≥15%）", "en": "pass (≥ 15%)"},
    "parks.fail": {"zh": "未达标（<15%）", "en": "fail (< 15%)"},
    "parks.composition": {"zh": "土地覆被构成（km²）", "en": "Land-cover composition (km²)"},
    "parks.pools": {"zh": "碳库（t C）", "en": "Carbon by pool (t C)"},
    "parks.definitions": {"zh": "指标定义与单位", "en": "Indicator definitions and units"},
    "parks.col.source": {"zh": "来源", "en": "Source"},
    "parks.col.name": {"zh": "名称", "en": "Name"},
    "parks.col.delete": {"zh": "删除", "en": "Delete"},
    "parks.source.illustrative": {"zh": "示意（默认）", "en": "illustrative (default)"},
    "parks.source.upload": {"zh": "上传", "en": "uploaded"},
    "parks.source.drawn": {"zh": "手绘", "en": "drawn"},
    "parks.export": {"zh": "导出园区指标", "en": "Export park indicators"},
    "parks.add": {"zh": "添加候选园区", "en": "Add candidate parks"},
    "parks.add.upload": {"zh": "上传文件", "en": "Upload a file"},
    "parks.add.draw": {"zh": "在地图上绘制", "en": "Draw on the map"},
    "parks.upload.help": {"zh": "GeoJSON、压缩的 Shapefile（.zip，可为 GBK 编码）、GeoPackage、KML/KMZ，或含 WKT 列、或经纬度加面积（km²）的 CSV。支持 CGCS2000 及其高斯-克吕格分带坐标。",
                          "en": "GeoJSON, zipped Shapefile (.zip, GBK attributes fine), GeoPackage, KML/KMZ, or CSV with a WKT column or lon/lat plus an area (km²). CGCS2000 and its Gauss–Krüger zones are understood."},
    "parks.upload.file": {"zh": "园区文件", "en": "Park file"},
    "parks.crs": {"zh": "坐标系", "en": "Coordinate reference system"},
    "parks.crs.auto": {"zh": "自动（使用文件中的坐标系）", "en": "Automatic (use the file's CRS)"},
    "parks.crs.pick": {"zh": "可选坐标系：{codes}。请在上方“坐标系”中选择后重试。", "en": "Candidates: {codes}. Choose one under “Coordinate reference system” above."},
    "parks.gcj": {"zh": "坐标为 GCJ-02（高德/腾讯地图拾取）", "en": "Coordinates are GCJ-02 (picked on Gaode/Tencent maps)"},
    "parks.gcj.help": {"zh": "勾选后将 GCJ-02 偏移坐标转换为 WGS84（偏移约 100–550 米）。", "en": "Converts GCJ-02 coordinates back to WGS84 (offset ~100–550 m in Gansu)."},
    "parks.layer": {"zh": "图层", "en": "Layer"},
    "parks.name_field": {"zh": "名称字段", "en": "Name field"},
    "parks.upload.preview": {"zh": "读取到 {n} 个园区（原坐标系 {crs}）。", "en": "{n} park(s) read (source CRS {crs})."},
    "parks.upload.save": {"zh": "保存这些园区", "en": "Save these parks"},
    "parks.saved": {"zh": "已保存 {n} 个园区。", "en": "Saved {n} park(s)."},
    "parks.draw.help": {"zh": "用左上角的多边形或矩形工具绘制候选园区，输入名称后保存（离线可用）。", "en": "Draw a candidate park with the polygon or rectangle tool (top left), name it and save (works offline)."},
    "parks.draw.name": {"zh": "新园区名称", "en": "Name of the new park"},
    "parks.draw.ready": {"zh": "已绘制一个多边形。", "en": "A polygon has been drawn."},
    "parks.draw.save": {"zh": "保存绘制的园区", "en": "Save the drawn park"},
    "parks.draw.invalid": {"zh": "绘制的图形不是有效的多边形（自相交？），请重画。", "en": "The drawing is not a valid polygon (self-intersecting?): draw it again."},
    "parks.manage": {"zh": "管理我的园区", "en": "Manage my parks"},
    "parks.manage.apply": {"zh": "应用修改", "en": "Apply changes"},
    "parks.manage.done": {"zh": "已重命名 {renamed} 个，删除 {deleted} 个。", "en": "Renamed {renamed}, deleted {deleted}."},
    "parks.attrs": {"zh": "编辑属性", "en": "Edit attributes"},
    "parks.attrs.park": {"zh": "园区", "en": "Park"},
    "parks.attrs.save": {"zh": "保存属性", "en": "Save attributes"},
    # --- data page
    "data.title": {"zh": "数据与来源", "en": "Data & sources"},
    "data.intro": {"zh": "默认数据集由已安装的数据包和 Natural Earth 离线构建。每个图层的来源、许可、年份、分辨率、坐标系与派生方法如下。",
                   "en": "The default dataset is built offline from installed data packages and Natural Earth. Source, licence, year, resolution, CRS and derivation of every layer:"},
    "data.build": {"zh": "构建编号", "en": "Build"},
    "data.folder": {"zh": "数据目录（可在 QGIS 中打开 gansu.gpkg）", "en": "Data folder (open gansu.gpkg in QGIS)"},
    "data.col.layer": {"zh": "图层", "en": "Layer"},
    "data.col.status": {"zh": "性质", "en": "Status"},
    "data.col.source": {"zh": "来源", "en": "Source"},
    "data.col.licence": {"zh": "许可", "en": "Licence"},
    "data.col.year": {"zh": "年份", "en": "Year"},
    "data.col.resolution": {"zh": "分辨率", "en": "Resolution"},
    "data.col.crs": {"zh": "坐标系", "en": "CRS"},
    "data.col.source_crs": {"zh": "原始坐标系", "en": "Source CRS"},
    "data.col.derivation": {"zh": "派生方法", "en": "Derivation"},
    "data.col.features": {"zh": "要素数", "en": "Features"},
    "data.replace.title": {"zh": "用官方文件替换示意/代理图层", "en": "Replace a schematic or proxy layer with an official file"},
    "data.replace.help": {"zh": "支持 GeoJSON、GeoPackage、KML/KMZ、压缩的 Shapefile（.zip）。上传的图层保存在本地存储中，重启后仍然有效。",
                          "en": "GeoJSON, GeoPackage, KML/KMZ or a zipped Shapefile (.zip). The uploaded layer is kept in the local store and survives restarts."},
    "data.replace.target": {"zh": "要替换的图层", "en": "Layer to replace"},
    "data.replace.file": {"zh": "选择文件", "en": "Choose a file"},
    "data.replace.zone_field": {"zh": "分区名称字段", "en": "Zone name field"},
    "data.replace.save": {"zh": "保存并使用", "en": "Save and use"},
    "data.replace.saved": {"zh": "已保存：{name}（{n} 个要素）。地图和指标现在使用该图层。",
                           "en": "Saved: {name} ({n} features). The map and indicators now use it."},
    "data.replace.active": {"zh": "当前使用上传图层：{name}（{when} 上传）", "en": "Using uploaded layer: {name} (uploaded {when})"},
    "data.replace.revert": {"zh": "恢复默认图层", "en": "Revert to the default layer"},
    "data.replace.reverted": {"zh": "已恢复默认图层。", "en": "Reverted to the default layer."},
    "data.store": {"zh": "本地存储（DuckDB）", "en": "Local store (DuckDB)"},
    # --- errors shown for bad uploads (layers.readers)
    "err.upload.prefix": {"zh": "无法读取文件“{name}”：", "en": "Cannot read “{name}”: "},
}


def t(key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    entry = TEXT.get(key)
    if entry is None:
        return key  # a missing key is visible, and tests/test_i18n.py catches it
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


def pick(zh: str | None, en: str | None, lang: str) -> str:
    """Choose between two parallel fields (e.g. name_zh/name_en) for the UI language."""
    if lang == "en" and en:
        return en
    return zh or en or ""
