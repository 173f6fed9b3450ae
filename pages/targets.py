"""Targets 2025/2030: progress from official statistics, land-cover proxies per province, zone,
prefecture and county, change between two land-cover years, land change over a land-cover series
(trajectories, trends, land degradation, the red line's change), exports. Render only: the work is
in indicators/ (targets, zonestats, change, landchange) and ui/targets.py (one function per tab; the
land-change tab in ui/targets_landchange.py)."""
from ui import common
from ui import targets as ui
from ui import targets_landchange

lg = common.page("targets.title", "targets.intro")
ui.show_flash()
store = ui.store()
tdf = ui.targets()
stats = ui.official(store)
tab_progress, tab_stats, tab_landcover, tab_change, tab_landchange, tab_targets = ui.tabs(lg)
with tab_progress:
    ui.progress_tab(tdf, stats, lg)
with tab_stats:
    ui.stats_tab(store, tdf, stats, lg)
with tab_landcover:
    ui.landcover_tab(store, stats, lg)
with tab_change:
    ui.change_tab(lg)
with tab_landchange:
    targets_landchange.landchange_tab(store, stats, lg)
with tab_targets:
    ui.targets_tab(tdf, lg)
