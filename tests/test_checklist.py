"""Zero-carbon admission checklist (Anhui annex 1) and the 5% carbon-credit rule, by hand."""
import math
from pathlib import Path

import pytest

from indicators import checklist
from core.errors import InputError

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "gansu_action_plan_and_related_2025.txt"

ALL_PASS = {
    "coal_decline_pct": 3, "renewable_electricity_pct": 40, "waste_heat_recovery_pct": 10,
    "nev_share_pct": 30, "charger_coverage_pct": 10, "equipment_grade1": True,
    "pollution_compliance_pct": 100, "green_lighting_pct": 90, "iso_certified": "是",
    "ghg_inventory_pct": 100, "env_disclosure_pct": 100, "clean_audit_pct": 100,
}


def by_id(df):
    return df.set_index("id")


def test_declared_thresholds_match_annex_1():
    got = {c.id: (c.comparator, c.threshold) for c in checklist.CRITERIA}
    assert got == {
        "coal_decline_pct": (">=", 3), "renewable_electricity_pct": (">=", 40),
        "waste_heat_recovery_pct": (">=", 10), "nev_share_pct": (">=", 30),
        "charger_coverage_pct": (">=", 10), "equipment_grade1": ("==", 1),
        "pollution_compliance_pct": (">=", 100), "green_lighting_pct": (">=", 90),
        "green_coverage_pct": (">=", 15), "iso_certified": ("==", 1), "ghg_inventory_pct": (">=", 100),
        "env_disclosure_pct": (">=", 100), "clean_audit_pct": (">=", 100),
    }
    assert checklist.BY_ID["green_coverage_pct"].threshold_text("zh") == "≥ 15%"
    f = checklist.criteria_frame()
    assert len(f) == 13 and {"label_zh", "label_en", "clause_zh", "threshold_text_en"} <= set(f.columns)


@pytest.mark.skipif(not SEED.is_file(), reason="shared seeds not present")
def test_clauses_are_verbatim_quotes_of_the_source():
    text = SEED.read_text(encoding="utf-8")
    for c in checklist.CRITERIA:
        assert c.clause_zh in text, c.id
    assert checklist.CREDIT_CLAUSE_ZH in text


def test_all_at_threshold_pass():
    df, overall = checklist.evaluate(ALL_PASS, green_coverage_pct=15.0, green_reliability="ok")
    assert overall == "pass"
    assert (df["status"] == "pass").all()
    row = by_id(df).loc["green_coverage_pct"]
    assert row["source"] == "map" and "土地覆盖" in row["note_zh"] and "ok" in row["note_en"]


def test_one_below_fails_with_note():
    df, overall = checklist.evaluate({**ALL_PASS, "renewable_electricity_pct": 39.9}, green_coverage_pct=30.0)
    assert overall == "fail"
    r = by_id(df).loc["renewable_electricity_pct"]
    assert r["status"] == "fail" and "40%" in r["note_en"] and r["value_text_en"] == "39.9%"
    assert (df["status"] == "fail").sum() == 1


def test_missing_gives_incomplete_and_fail_wins():
    inputs = dict(ALL_PASS)
    del inputs["ghg_inventory_pct"]
    inputs["waste_heat_recovery_pct"] = ""
    df, overall = checklist.evaluate(inputs, green_coverage_pct=18.0)
    assert overall == "incomplete"
    assert sorted(df.loc[df.status == "missing", "id"]) == ["ghg_inventory_pct", "waste_heat_recovery_pct"]
    _, overall = checklist.evaluate({**inputs, "iso_certified": "否"}, green_coverage_pct=18.0)
    assert overall == "fail"  # a failure cannot be rescued by the missing items
    df, overall = checklist.evaluate({})
    assert overall == "incomplete" and (df.status == "missing").all()


def test_green_from_map_low_reliability_and_cap_advisory():
    df, _ = checklist.evaluate(ALL_PASS, green_coverage_pct=14.99, green_reliability="low")
    r = by_id(df).loc["green_coverage_pct"]
    assert r["status"] == "fail" and "low reliability" in r["note_en"] and "可靠性低" in r["note_zh"]
    df, overall = checklist.evaluate(ALL_PASS, green_coverage_pct=24.0, green_reliability="ok")
    r = by_id(df).loc["green_coverage_pct"]
    assert overall == "pass" and r["status"] == "pass"  # the 20% cap is advisory only
    assert "20%" in r["note_en"] and "绿地率" in r["note_zh"]
    # a measured value entered by the user wins over the map
    df, _ = checklist.evaluate({**ALL_PASS, "green_coverage_pct": 16}, green_coverage_pct=5.0)
    r = by_id(df).loc["green_coverage_pct"]
    assert r["status"] == "pass" and r["source"] == "input" and r["value"] == 16
    df, _ = checklist.evaluate(ALL_PASS, green_coverage_pct=float("nan"))
    assert by_id(df).loc["green_coverage_pct", "status"] == "missing"


def test_coal_may_rise_and_fail():
    df, _ = checklist.evaluate({"coal_decline_pct": -2.5})  # consumption rose 2.5%
    r = by_id(df).loc["coal_decline_pct"]
    assert r["status"] == "fail" and r["value"] == -2.5


@pytest.mark.parametrize("inputs,en,zh", [
    ({"renewable_electricity_pct": -1}, "negative", "负数"),
    ({"nev_share_pct": 100.5}, "above 100%", "超过 100%"),
    ({"charger_coverage_pct": "lots"}, "not a number", "不是数字"),
    ({"iso_certified": "maybe"}, "yes or no", "是"),
    ({"renewable_share": 50}, "unknown", "未知"),
    ({"coal_decline_pct": 120}, "maximum", "最大值"),
])
def test_bad_inputs_are_bilingual_errors(inputs, en, zh):
    with pytest.raises(InputError) as e:
        checklist.evaluate(inputs)
    assert en in e.value.en and zh in e.value.zh


def test_bad_green_from_map():
    with pytest.raises(InputError):
        checklist.evaluate({}, green_coverage_pct=120)


@pytest.mark.parametrize("emissions,credits,status,share", [
    (100_000, 5_000, "pass", 5.0),  # exactly 5%: allowed ("不应超过")
    (100_000, 5_001, "fail", 5.001),
    (40_000, 1_000, "pass", 2.5),
    (0, 0, "pass", 0.0),
    (0, 10, "fail", math.inf),
])
def test_credit_check(emissions, credits, status, share):
    r = checklist.credit_check(emissions, credits)
    assert r["status"] == status and r["share_pct"] == pytest.approx(share)
    assert r["max_credits_tco2"] == pytest.approx(emissions * 0.05)
    assert "5%" in r["note_en"] and "5%" in r["note_zh"]


@pytest.mark.parametrize("emissions,credits", [(-1, 0), (100, -5), ("x", 1), (float("nan"), 1)])
def test_credit_check_rejects_bad_numbers(emissions, credits):
    with pytest.raises(InputError) as e:
        checklist.credit_check(emissions, credits)
    assert e.value.zh != e.value.en
