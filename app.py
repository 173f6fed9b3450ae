"""Entry point: `streamlit run app.py`. Sets the page, the language switch and the navigation.

The pages themselves live in pages/ (home.py is the start page). Navigation titles are
translated; URL paths (/map, /data, ...) stay the same in both languages so links can be shared.
"""
import streamlit as st

from core.i18n import t
from ui import auth
from ui.common import language_switch, lang

st.set_page_config(page_title="甘肃生态屏障与零碳园区 · Gansu barrier & parks", 
                   layout="wide")
language_switch()
lg = lang()
auth.gate(lg)  # accounts configured: who is signed in; an anonymous visitor gets the login form
nav = st.navigation([
    st.Page("pages/home.py", title=t("nav.home", lg), url_path="home", default=True),
    st.Page("pages/map.py", title=t("nav.map", lg), url_path="map"),
    st.Page("pages/parks.py", title=t("nav.parks", lg), url_path="parks"),
    st.Page("pages/targets.py", title=t("nav.targets", lg), url_path="targets"),
    st.Page("pages/siting.py", title=t("nav.siting", lg), url_path="siting"),
    st.Page("pages/checklist.py", title=t("nav.checklist", lg), url_path="checklist"),
    st.Page("pages/data.py", title=t("nav.data", lg), url_path="data"),
])
nav.run()
