"""Home: what the dashboard is, headline figures from the data, where to go next."""
import streamlit as st

from ui import common, figures

lg = common.page("app.title", "app.subtitle")
h = figures.current_headline()
figures.metrics(h, lg)
left, right = st.columns(2)
with left:
    figures.zone_areas(h, lg)
with right:
    figures.landcover_shares(h, lg)
figures.where_next(lg)
