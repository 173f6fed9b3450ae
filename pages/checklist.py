"""Zero-carbon park admission checklist (Anhui plan, annex 1): per park, the inputs a map
cannot measure, green coverage filled in from the map (the park indicators on the data in use),
pass/fail per criterion and overall, and the carbon-credit check (credits ≤ 5% of emissions).
Inputs are saved per park."""
from ui import checklist_form, common, parks

lg = common.page("check.title", "check.intro")
df = parks.indicators(lg)
pid = parks.park_picker(df, lg, key="check_park")
row = df[df["park_id"] == pid].iloc[0]
inputs, emissions, credits, submitted = checklist_form.form(pid, row, lg)
checklist_form.results(pid, row, inputs, emissions, credits, submitted, lg)
