"""Targets 2025/2030: progress from official statistics, land-cover proxies per province, zone,
prefecture and county, change between two land-cover years, exports. Render only: the work is
in indicators/ (targets, zonestats, change) and ui/targets.py (store, cache, background jobs)."""
import pandas as pd
import streamlit as st

from core import paths
from core.errors import InputError
from indicators.legends import BUILTIN
from core.i18n import t
from ui import common
from ui import targets as ui

lg = common.lang()
st.title(t("targets.title", lg))
st.caption(t("targets.intro", lg))
ui.show_flash()


def definitions():
    with st.popover(t("targets.defs.button", lg), icon=":material/menu_book:"):
        st.markdown(t("targets.defs.forest", lg))
        st.markdown(t("targets.defs.grass", lg))
        st.markdown(t("targets.defs.proxy", lg))


if common.require_data(lg):
    store = ui.store()
    tdf = ui.targets()
    stats = ui.official(store)
    tab_p, tab_s, tab_l, tab_c, tab_t = st.tabs([t("targets.tab.progress", lg), t("targets.tab.stats", lg),
                                                 t("targets.tab.landcover", lg), t("targets.tab.change", lg),
                                                 t("targets.tab.targets", lg)])

    # --- progress --------------------------------------------------------------------------
    with tab_p:
        st.subheader(t("targets.progress.title", lg))
        st.caption(t("targets.progress.official_only", lg))
        definitions()
        view = ui.progress_view(tdf, stats, lg)
        st.dataframe(ui.styled_progress(view, lg), hide_index=True, width="stretch", key="targets_progress_table")
        with st.expander(t("targets.rule.title", lg)):
            st.write(ui.tg.STATUS_RULE[lg])
        inds = list(dict.fromkeys(tdf["indicator"]))
        with_data = [i for i in inds if i in set(stats["indicator"])] or inds
        ind = st.selectbox(t("targets.progress.pick", lg), inds, index=inds.index(with_data[0]),
                           format_func=lambda i: ui.indicator_label(i, lg, tdf), key="targets_pick_indicator")
        regions = list(dict.fromkeys(tdf.loc[tdf["indicator"] == ind, "region"]))
        fig = ui.trajectory_figure(tdf, stats, ind, regions[0], lg)
        st.plotly_chart(fig, width="stretch", key="targets_trajectory")
        if stats[stats["indicator"] == ind].empty:
            st.info(t("targets.progress.no_data", lg))
        c1, c2 = st.columns(2)
        c1.download_button(t("targets.dl.progress_xlsx", lg),
                           lambda v=view: ui.excel_bytes({t("targets.sheet.progress", lg): v,
                                                          t("targets.sheet.targets", lg): tdf,
                                                          t("targets.sheet.official", lg): stats}),
                           "targets_progress.xlsx", key="targets_dl_progress")
        c2.download_button(t("targets.dl.chart_html", lg), lambda f=fig: ui.figure_html(f), f"trajectory_{ind}.html",
                           "text/html", key="targets_dl_chart")
        if not ui.png_export_available():
            st.caption(t("targets.dl.png_note", lg))

    # --- official statistics -------------------------------------------------------------
    with tab_s:
        st.subheader(t("targets.stats.title", lg))
        st.caption(t("targets.stats.help", lg))
        edited = st.data_editor(stats, num_rows="dynamic", width="stretch", key="targets_stats_editor",
                                column_config={"year": st.column_config.NumberColumn(format="%d"),
                                               "indicator": st.column_config.SelectboxColumn(
                                                   options=list(dict.fromkeys(tdf["indicator"])))})
        if st.button(t("targets.stats.save", lg), key="targets_stats_save"):
            try:
                n = ui.save_edited(store, edited)
            except InputError as e:
                st.error(t("targets.stats.invalid", lg) + e.message(lg))
            else:
                ui.flash(t("targets.stats.saved", lg, n=n))
                st.rerun()
        st.markdown(f"**{t('targets.stats.upload', lg)}**")
        up = st.file_uploader(t("targets.stats.file", lg), type=["csv"], key="targets_stats_file")
        pasted = st.text_area(t("targets.stats.paste", lg), key="targets_stats_paste", height=110,
                              placeholder="indicator,region,year,value,unit,source")
        mode = st.radio(t("targets.stats.mode", lg), ["merge", "replace"], horizontal=True,
                        format_func=lambda m: t(f"targets.stats.mode.{m}", lg), key="targets_stats_mode")
        if st.button(t("targets.stats.apply", lg), key="targets_stats_apply"):
            data = up.getvalue() if up is not None else pasted.encode("utf-8")
            try:
                if not data.strip():
                    raise InputError("没有可导入的内容：请选择 CSV 文件或粘贴表格",
                                     "nothing to import: choose a CSV file or paste a table")
                n = ui.apply_stats(store, data, mode)
            except InputError as e:
                st.error(t("targets.stats.invalid", lg) + e.message(lg))
            else:
                ui.flash(t("targets.stats.saved", lg, n=n))
                st.rerun()
        st.download_button(t("targets.stats.template", lg), stats.to_csv(index=False).encode("utf-8-sig"),
                           "official_stats.csv", "text/csv", key="targets_stats_template")
        with st.expander(t("targets.stats.indicators", lg)):
            ind_tab = ui.tg.indicator_table(tdf)
            st.dataframe(ind_tab, hide_index=True, width="stretch")

    # --- land-cover proxies --------------------------------------------------------------
    with tab_l:
        st.subheader(t("targets.lc.title", lg))
        st.warning(t("targets.lc.proxy_note", lg))
        definitions()
        src = st.radio(t("targets.lc.source", lg), ["default", "upload", "path"], horizontal=True,
                       format_func=lambda s: t(f"targets.lc.source.{s}", lg), key="targets_lc_source")
        raster, legend = paths.landcover_path(), "igbp"
        if src != "default":
            legend = st.selectbox(t("targets.lc.legend", lg), ui.legend_choices(), key="targets_lc_legend",
                                  format_func=lambda k: BUILTIN[k].name)
            raster = None
            try:
                if src == "upload":
                    f = st.file_uploader(t("targets.lc.file", lg), type=["tif", "tiff"], key="targets_lc_file")
                    if f is not None:
                        raster = ui.save_uploaded_raster(f.name, f.getvalue())
                else:
                    p = st.text_input(t("targets.lc.path", lg), key="targets_lc_path")
                    if p.strip():
                        raster = ui.check_raster_path(p)
            except InputError as e:
                st.error(e.message(lg))
        if raster is None:
            st.info(t("targets.lc.choose", lg))
        else:
            res = ui.zone_stats(store, raster, legend)
            if res.state == "running":
                @st.fragment(run_every=1.0)
                def _poll():
                    r = ui.zone_stats(store, raster, legend)
                    if r.state != "running":
                        st.rerun()
                    j = r.job
                    st.progress(j.fraction, text=t(f"targets.lc.phase.{j.phase}", lg, done=j.done, total=j.total))
                    st.caption(t("targets.lc.background", lg))
                _poll()
            elif res.state == "error":
                st.error(res.error.message(lg))
            else:
                df = res.df
                if res.from_cache:
                    st.caption(t("targets.lc.from_cache", lg, seconds=df.attrs.get("seconds", 0.0)))
                prov = df[df["level"] == "province"].iloc[0]
                fc = stats[(stats["indicator"] == "forest_coverage_pct")].sort_values("year")
                m1, m2 = st.columns(2)
                m1.metric(t("targets.lc.official_forest", lg), f"{fc['value'].iloc[-1]:.2f}%" if len(fc) else "—",
                          help=f"{int(fc['year'].iloc[-1])} · {fc['source'].iloc[-1]}" if len(fc) else None)
                m2.metric(t("targets.lc.proxy_forest", lg), f"{prov['lc_forest_pct']:.2f}%",
                          help=t("targets.defs.proxy", lg))
                m3, m4 = st.columns(2)
                m3.metric(t("targets.lc.carbon", lg), f"{prov['carbon_stock_tc'] / 1e6:,.1f}")
                m4.metric(t("targets.lc.sink", lg), f"{prov['carbon_sink_tco2_yr'] / 1e6:,.2f}")
                st.caption(t("targets.lc.grass_note", lg))
                levels = ["zone", "prefecture", "county", "province"]
                level = st.radio(t("targets.lc.level", lg), levels, horizontal=True, key="targets_lc_level",
                                 format_func=lambda v: t(f"targets.level.{v}", lg))
                opts = ui.metric_options(lg)
                metric = st.selectbox(t("targets.lc.metric", lg), list(opts), format_func=opts.get,
                                      key="targets_lc_metric")
                st.plotly_chart(ui.choropleth(df, level, metric, lg), width="stretch", key="targets_choropleth")
                table = ui.proxy_table(df, level, lg)
                st.dataframe(table, hide_index=True, width="stretch", key="targets_lc_table")
                st.download_button(t("targets.dl.proxy_xlsx", lg),
                                   lambda d=df: ui.excel_bytes({t(f"targets.level.{v}", lg): ui.proxy_table(d, v, lg)
                                                                for v in levels}),
                                   "landcover_proxies.xlsx", key="targets_dl_proxy")

    # --- change between two land-cover years ---------------------------------------------
    with tab_c:
        st.subheader(t("targets.change.title", lg))
        st.caption(t("targets.change.help", lg))
        legend_c = st.selectbox(t("targets.lc.legend", lg), ui.legend_choices(), key="targets_change_legend",
                                format_func=lambda k: BUILTIN[k].name)
        cols = st.columns(2)
        chosen = []
        for col, which in zip(cols, ("base", "alt")):
            with col:
                st.markdown(f"**{t(f'targets.change.{which}', lg)}**")
                f = st.file_uploader(t("targets.lc.file", lg), type=["tif", "tiff"], key=f"targets_change_{which}_file")
                p = st.text_input(t("targets.lc.path", lg), key=f"targets_change_{which}_path")
                try:
                    chosen.append(ui.save_uploaded_raster(f.name, f.getvalue()) if f is not None
                                  else ui.check_raster_path(p) if p.strip() else None)
                except InputError as e:
                    st.error(e.message(lg))
                    chosen.append(None)
        if all(chosen):
            try:
                with st.spinner(t("targets.change.computing", lg)):
                    cres = ui.transitions(chosen[0], chosen[1], legend_c)
            except InputError as e:
                st.error(e.message(lg))
            else:
                s = cres.summary
                summary = pd.DataFrame({
                    t("targets.col.zone", lg): [ui.zone_label(z, lg) for z in s["zone"]],
                    t("targets.change.net_forest", lg): s["forest_net_km2"],
                    t("targets.change.net_grass", lg): s["grassland_net_km2"],
                    t("targets.change.changed", lg): s["changed_km2"],
                    t("targets.change.carbon_change", lg): s["carbon_change_tc"],
                    t("targets.change.carbon_change_co2", lg): s["carbon_change_tco2e"],
                })
                st.dataframe(summary, hide_index=True, width="stretch", key="targets_change_summary")
                zones_list = list(cres.matrices)
                z = st.selectbox(t("targets.col.zone", lg), zones_list, index=len(zones_list) - 1,
                                 format_func=lambda v: ui.zone_label(v, lg), key="targets_change_zone")
                kind = st.radio(t("targets.change.chart", lg), ["heatmap", "sankey"], horizontal=True,
                                format_func=lambda k: t(f"targets.change.{k}", lg), key="targets_change_kind")
                m = cres.matrices[z]
                st.plotly_chart(ui.heatmap(m, lg) if kind == "heatmap" else ui.sankey(m, lg), width="stretch",
                                key="targets_change_chart")
                st.dataframe(ui.matrix_labelled(m, lg), width="stretch", key="targets_change_matrix")
                sheets = {t("targets.sheet.summary", lg): summary}
                sheets.update({ui.zone_label(k, lg): ui.matrix_labelled(v, lg) for k, v in cres.matrices.items()})
                st.download_button(t("targets.dl.matrix_xlsx", lg), lambda sh=sheets: ui.excel_bytes(sh), "transitions.xlsx",
                                   key="targets_dl_matrix")
        else:
            st.info(t("targets.change.choose", lg))

    # --- targets table -------------------------------------------------------------------
    with tab_t:
        st.subheader(t("targets.table.title", lg))
        st.caption(t("targets.table.help", lg))
        st.dataframe(tdf, hide_index=True, width="stretch", key="targets_table")
