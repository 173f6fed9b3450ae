"""Zero-carbon park checklists, per park: every 须 item of the Anhui admission criteria (annex 1,
vetoes and the relaxation for advantaged industries included, "not applicable" with a reason),
the greening coverage entered as planned or measured (the map's vegetated share only as a hint,
when the land cover is fine enough), the national indicators of the 2025 notice (indicative:
thresholds not verified) and the carbon-credit check with and without the park's sink. The same
rules as the exports and ``python -m cli checklist``. Answers are saved per park."""
from ui import checklist_form, common, parks

lg = common.page("check.title", "check.intro")
df = parks.indicators(lg)
pid = parks.park_picker(df, lg, key="check_park")
row = df[df["park_id"] == pid].iloc[0]
answers, submitted = checklist_form.form(pid, row, lg)
checklist_form.results(pid, row, answers, submitted, lg)
