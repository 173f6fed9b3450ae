"""Entry point: `streamlit run app.py`. Sets the page, the language switch and the navigation.

The pages themselves live in pages/ (home.py is the start page). Navigation titles are
translated; URL paths (/map, /data, ...) stay the same in both languages so links can be shared.
"""
import streamlit as st

from core.i18n import t
from ui import auth, heap
from storage.db import StoreError
from ui.common import language_switch, lang

heap.settle()  # modules a page's first visit imported: out of the per-run collection's sight
st.set_page_config(page_title="甘肃生态屏障与零碳园区 · Gansu barrier & parks", 
                   layout="wide")
language_switch()
lg = lang()
try:
    auth.gate(lg)  # accounts configured: who is signed in; an anonymous visitor gets the login form
except StoreError as e:  # the store cannot be used (a PostgreSQL server down …): say so, keep the app up
    st.error(e.message(lg))
    st.stop()
nav = st.navigation([
    st.Page("pages/home.py", title=t("nav.home", lg), url_path="home", default=True),
    st.Page("pages/map.py", title=t("nav.map", lg), url_path="map"),
    st.Page("pages/parks.py", title=t("nav.parks", lg), url_path="parks"),
    st.Page("pages/targets.py", title=t("nav.targets", lg), url_path="targets"),
    st.Page("pages/siting.py", title=t("nav.siting", lg), url_path="siting"),
    st.Page("pages/checklist.py", title=t("nav.checklist", lg), url_path="checklist"),
    st.Page("pages/data.py", title=t("nav.data", lg), url_path="data"),
])
try:
    nav.run()
except StoreError as e:  # e.g. the database went away during this run: nothing half-saved (one transaction)
    st.error(e.message(lg))
