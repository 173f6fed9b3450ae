"""``python -m cli checklist``: many parks at once with the page's rules — hand-made files, the
result per park and criterion, bilingual refusals with exit 2, and the Checklist page and the CLI
giving the same statuses for the same answers (on a 30 m land cover in use, so the greening row
carries a map hint)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cli.__main__ import main as cli_main
from indicators import checklist as ck
from indicators import runs
from ui.mdtext import unescape
from tests.test_apptest_data_in_use import _demo_parks, files, page, run_done, store, use_landcover  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
PARKS = pd.DataFrame({  # the columns of `python -m cli parks` the checklist reads
    "park_id": ["A", "B"], "name": ["甲园区", "乙园区"], "vegetated_share_pct": [42.0, 30.0],
    "landcover_pixels": [400.0, 2.0], "landcover_pixel_m": [30.0, 5000.0], "carbon_sink_tco2_yr": [96_000.0, 0.0]})
ANSWERS = [  # park_id, criterion, value, not_applicable_reason, kind, source, date
    ("A", "no_major_incident", "否", "", "", "", ""),
    ("A", "coal_decline_pct", "", "园区不用煤", "", "", ""),
    ("A", "greening_coverage_pct", "15", "", "measured", "竣工测绘报告", "2025-03"),
    ("A", "emissions_tco2", "100000", "", "", "", ""),
    ("A", "credits_tco2", "5000", "", "", "", ""),
    ("A", "nat_energy_use_10k_tce", "50", "", "", "", ""),
    ("A", "nat_carbon_per_energy", "0.21", "", "", "", ""),
    ("B", "renewable_electricity_pct", "30", "", "", "", ""),
    ("B", "relaxation", "yes", "", "", "锂电池", ""),
    ("B", "greening_coverage_pct", "14.9", "", "planned", "控规", "2024"),
]


def _write(tmp_path, answers=ANSWERS, parks=PARKS) -> tuple[Path, Path]:
    p, a = tmp_path / "parks.csv", tmp_path / "answers.csv"
    parks.to_csv(p, index=False)
    pd.DataFrame(answers, columns=["park_id", "criterion", "value", "not_applicable_reason", "kind", "source",
                                   "date"]).to_csv(a, index=False)
    return p, a


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "checklist", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_cli_evaluates_many_parks_by_the_rules(tmp_path):
    p, a = _write(tmp_path)
    r = _cli("--parks", p, "--inputs", a, "--out", tmp_path / "out.csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["A\tfail\tindicative", "B\tincomplete\tindicative"]
    df = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    n_a, n_n = len(ck.ANHUI.criteria), len(ck.NATIONAL.criteria)
    assert (df["park_id"] == "A").sum() == n_a + n_n + 2 + 3  # criteria, 2 overall rows, 3 credit rows
    assert (df["park_id"] == "B").sum() == n_a + n_n + 2  # no emissions: no credit rows
    df = df.set_index(["park_id", "checklist", "id"]).droplevel("checklist")[lambda d: ~d.index.duplicated()]
    s = df["status"]
    assert s["A", "no_major_incident"] == "fail" and s["A", "coal_decline_pct"] == "na"
    assert s["A", "greening_coverage_pct"] == "pass" and s["A", "nat_carbon_per_energy"] == "indicative_below"
    assert s["B", "renewable_electricity_pct"] == "relaxed" and s["B", "greening_coverage_pct"] == "relaxed"
    assert s["B", "overall"] == "incomplete" and s["B", "policy_law_compliance"] == "missing"  # Anhui's overall
    notes = df["note_en"]
    assert "map hint: vegetated share 42.0% (400 pixels of 30 m)" in notes["A", "greening_coverage_pct"]
    assert "veto failed" in notes["A", "overall"]
    v = df["value"]
    assert float(v["A", "credit_balance_with_sink"]) == -1000 and float(v["A", "credit_balance_without_sink"]) == 95000
    assert Path(str(tmp_path / "out.csv") + ".provenance.json").is_file()
    # Excel: labelled headers
    r = _cli("--parks", p, "--inputs", a, "--out", tmp_path / "out.xlsx", "--lang", "en")
    assert r.returncode == 0, r.stderr
    xl = pd.read_excel(tmp_path / "out.xlsx", sheet_name="checklist")
    assert {"Status", "Veto", "Threshold verified", "Clause"} <= set(xl.columns)


@pytest.mark.parametrize("answers,en,zh", [
    ([("A", "no_such_item", "1", "", "", "", "")], "answers line 2: unknown criterion 'no_such_item'", "未知的清单项"),
    ([("A", "coal_decline_pct", "n/a", "", "", "", "")], "“not applicable” needs a reason", "须说明理由"),
    ([("A", "coal_decline_pct", "5", "不用煤", "", "", "")], "give one of them", "只能选其一"),
    ([("Z", "coal_decline_pct", "5", "", "", "", "")], "answers name parks not in --parks: ['Z']", "不在 --parks 中"),
    ([("A", "greening_coverage_pct", "18", "", "planned", "", "2024")], "give its source", "来源"),
    ([("A", "relaxation", "yes", "", "", "", "")], "needs its basis", "依据"),
    ([("A", "iso_certified", "yes", "", "", "", "")] * 2, "answers line 3: iso_certified repeated", "重复"),
])
def test_bad_answers_exit_2_in_both_languages(tmp_path, answers, en, zh):
    p, a = _write(tmp_path, answers)
    r = _cli("--parks", p, "--inputs", a, "--out", tmp_path / "out.csv")
    assert r.returncode == 2 and en in r.stderr and zh in r.stderr, r.stderr
    assert "error:" in r.stderr and "错误：" in r.stderr and not (tmp_path / "out.csv").exists()


def test_bad_files_exit_2(tmp_path):
    p, a = _write(tmp_path)
    assert _cli("--parks", p, "--inputs", a, "--out", tmp_path / "o.txt").returncode == 2
    r = _cli("--parks", tmp_path / "none.csv", "--inputs", a, "--out", tmp_path / "o.csv")
    assert r.returncode == 2 and "not found" in r.stderr and "找不到" in r.stderr
    PARKS.drop(columns="park_id").to_csv(p, index=False)
    r = _cli("--parks", p, "--inputs", a, "--out", tmp_path / "o.csv")
    assert r.returncode == 2 and "no field 'park_id'" in r.stderr


# --- the page and the CLI agree ----------------------------------------------------------------
SAVED = {  # the page's saved form of the same answers as ROWS
    "no_major_incident": "yes", "allowance_surrender": "n/a", "_na:allowance_surrender": "园区内没有控排企业",
    "_na:coal_decline_pct": "园区不用煤",
    "renewable_electricity_pct": "30", "iso_certified": "no", "policy_law_compliance": "yes",
    "_relaxation": "yes", "_relaxation_basis": "太阳能电池",
    "nat_energy_use_10k_tce": "150", "nat_carbon_per_energy": "0.25", "nat_clean_energy_pct": "70",
    "_emissions_tco2": "20000", "_credits_tco2": "1200",
}
ROWS = [("P01", "no_major_incident", "yes", "", "", "", ""),
        ("P01", "allowance_surrender", "n/a", "园区内没有控排企业", "", "", ""),
        ("P01", "coal_decline_pct", "", "园区不用煤", "", "", ""),
        ("P01", "renewable_electricity_pct", "30", "", "", "", ""),
        ("P01", "iso_certified", "no", "", "", "", ""),
        ("P01", "policy_law_compliance", "yes", "", "", "", ""),
        ("P01", "relaxation", "yes", "", "", "太阳能电池", ""),
        ("P01", "nat_energy_use_10k_tce", "150", "", "", "", ""),
        ("P01", "nat_carbon_per_energy", "0.25", "", "", "", ""),
        ("P01", "nat_clean_energy_pct", "70", "", "", "", ""),
        ("P01", "emissions_tco2", "20000", "", "", "", ""),
        ("P01", "credits_tco2", "1200", "", "", "", "")]


def test_page_and_cli_agree_for_the_same_answers(store, files, tmp_path):  # noqa: F811
    from core.i18n import t

    use_landcover(store, files)  # 30 m CLCD around 兰州新区 P01: the greening row gets a map hint
    store.save_checklist("P01", SAVED)
    at = run_done(page("checklist.py", "en", check_park="P01"))
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error or len(at.dataframe) == 2, [e.value for e in at.error]
    anhui, national = at.dataframe[0].value, at.dataframe[1].value
    rows = runs.compute_cached(store, _demo_parks(), runs.inputs_from_workspace(store))  # the rows the page used
    assert bool(rows.set_index("park_id").loc["P01", "vegetated_share_hint"])
    _, a = _write(tmp_path, ROWS, PARKS)
    rows.to_csv(tmp_path / "page_parks.csv", index=False)
    assert cli_main(["checklist", "--parks", str(tmp_path / "page_parks.csv"), "--inputs", str(a),
                     "--out", str(tmp_path / "out.csv")]) == 0
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    p01 = out[out["park_id"] == "P01"].set_index(["checklist", "id"])
    cli_anhui = p01.loc["anhui"].drop(index="overall")
    cli_nat = p01.loc["national"].drop(index="overall")
    assert list(anhui["Status"]) == list(cli_anhui["status_en"])
    assert list(national["Status"]) == list(cli_nat["status_en"])
    assert list(anhui["Note"]) == list(cli_anhui["note_en"])  # the hint, the N/A reasons, the relaxation notes
    assert "map hint" in cli_anhui.loc["greening_coverage_pct", "note_en"]
    # iso "no" and renewables 30% are relaxed; the veto marked N/A and the unanswered items: incomplete
    overall = p01.loc[("anhui", "overall"), "status"]
    assert overall == "incomplete" and cli_anhui.loc["iso_certified", "status"] == "relaxed"
    assert t(f"check.overall.{overall}", "en") in [e.value for e in at.warning]
    shown = unescape(" ".join(str(e.value) for e in at.markdown))
    assert "Greening coverage of the park" in shown and "needs measured or planned data" in shown
    credit = p01.loc[("credit", "credit_balance_with_sink"), "note_en"]
    assert any(credit.split(";")[0] in unescape(str(c.value)) for c in at.caption)  # captions are escaped Markdown
