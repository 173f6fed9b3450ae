"""Siting: compare two or more parks with weighted criteria (those present in the park
indicators on the data in use), value functions and a rule for unknown values, red-line
exclusion; the score decomposition; SMAA rank acceptability as the robustness figure, the ±10%
sensitivity and the Monte Carlo as detail; save named scenarios; export the ranking and a
printable report. The view is in the URL. Render only: ui/siting_page.py and ui/siting_*.py."""
import streamlit as st

from ui import common, parks, siting_robustness
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
    choice = page.weight_controls(selected, criteria, lg)  # weights and the model settings
with right:
    sub, ranked = page.ranking(df, choice, criteria, lg)  # table, score decomposition, radar
page.directions(criteria, lg)
acc = siting_robustness.section(sub, ranked, lg)  # SMAA: the headline robustness figure
sens = page.sensitivity(sub, choice, criteria, lg)  # detail: one weight at a time ±10%
page.rank_stability(sub, choice, criteria, lg)  # detail: Monte Carlo of weights and carbon densities
page.save_and_export(sub, ranked, sens, choice, criteria, lg, acc)
