"""Siting: compare two or more parks with weighted criteria (those present in the park
indicators on the data in use), red-line exclusion, sensitivity; save named scenarios; export the
ranking and a printable report. The view is in the URL. Render only: ui/siting_page.py."""
import streamlit as st

from ui import common, parks
from ui import siting_page as page

lg = common.page("siting.title", "siting.intro")
df = parks.indicators(lg)
names = dict(zip(df["park_id"], df["name"]))
criteria = page.criteria(df)
page.init_state(names, criteria)
page.scenario_sidebar(names, criteria, lg)
selected = page.park_choice(names, lg)
left, right = st.columns([1, 2])
with left:
    choice = page.weight_controls(selected, criteria, lg)
with right:
    sub, ranked = page.ranking(df, choice, criteria, lg)
page.directions(criteria, lg)
sens = page.sensitivity(sub, choice, criteria, lg)
page.rank_stability(sub, choice, criteria, lg)  # Monte Carlo of weights and carbon densities
page.save_and_export(sub, ranked, sens, choice, criteria, lg)
