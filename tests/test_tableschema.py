"""Parameter tables are declared once (layers/tableschema.py) and read and checked in one place:
each default table in tables/ passes; a broken table gets one bilingual message naming the table,
the column and the spreadsheet rows; the loaders of indicators go through it; docs/tables.md is
generated from the schemas."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core import paths
from core.errors import InputError
from indicators import carbon, checklist, pooltable
from layers import tableschema

REPO = Path(__file__).resolve().parent.parent
RATES = "class,rate_tco2_ha_yr,flagged,source\nforest,3.5,no,x\ngrassland,0.4,yes,y\n"


def _csv(tmp_path, text: str) -> Path:
    p = tmp_path / "t.csv"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("schema", [s for s, v in tableschema.SCHEMAS.items() if v.file])
def test_every_default_table_passes_its_schema(schema):
    df = tableschema.read(paths.TABLES / tableschema.SCHEMAS[schema].file, schema)
    assert len(df) > 0
    for c in tableschema.SCHEMAS[schema].columns:
        if c.kind == "number" and c.name in df.columns:
            assert df[c.name].dtype == "float64", c.name


def test_numbers_come_back_as_floats_and_classes_lower_cased(tmp_path):
    df = tableschema.read(_csv(tmp_path, "Class , RATE_tco2_ha_yr\n Forest ,3.5\n"), "sink_rates")
    assert list(df.columns) == ["class", "rate_tco2_ha_yr"] and df.loc[0, "class"] == "forest"
    assert df.loc[0, "rate_tco2_ha_yr"] == 3.5


@pytest.mark.parametrize("text,schema,en,zh", [
    ("class,flagged\nforest,no\n", "sink_rates", "sink rates table: missing column(s) ['rate_tco2_ha_yr']; "
     "required: class, rate_tco2_ha_yr (t CO2/ha/yr)", "碳汇速率表缺少列 ['rate_tco2_ha_yr']"),
    ("class,rate_tco2_ha_yr\nforest,3.5\ngrassland,abc\n", "sink_rates",
     "sink rates table row(s) [3], column rate_tco2_ha_yr: must be a number", "碳汇速率表第 [3] 行的 rate_tco2_ha_yr 列须为数值"),
    ("class,rate_tco2_ha_yr\nforest,\n", "sink_rates",
     "sink rates table row(s) [2], column rate_tco2_ha_yr: must be a number", "须为数值"),
    ("class,rate_tco2_ha_yr\nrainforest,1\n", "sink_rates",
     "sink rates table: unknown class(es) ['rainforest']", "碳汇速率表含未知类别 ['rainforest']"),
    ("class,rate_tco2_ha_yr,flagged\nforest,1,maybe\n", "sink_rates",
     "sink rates table row(s) [2], column flagged: must be yes or no", "须为 yes 或 no"),
    ("class,topsoil_share,soil_loss_share,soil_loss_low,soil_loss_high\ndefault,0.6,1.2,0.1,0.3\n",
     "carbon_conversion", "carbon conversion table row(s) [2], column soil_loss_share: must lie in 0–1", "须在 0–1 之间"),
    ("lucode,c_above,c_below,c_soil,c_dead\n10.5,1,1,1,1\n", "carbon_pools",
     "carbon pools table row(s) [2], column lucode: must be an integer", "须为整数"),
    ("lucode,c_above,c_below,c_soil,c_dead\n10,-1,1,1,1\n", "carbon_pools",
     "carbon pools table row(s) [2], column c_above: must lie in 0–", "须在 0– 之间"),
])
def test_a_broken_table_names_the_table_column_and_rows(tmp_path, text, schema, en, zh):
    with pytest.raises(InputError) as e:
        tableschema.read(_csv(tmp_path, text), schema)
    assert en in e.value.en and zh in e.value.zh


def test_the_loaders_read_through_the_schema(tmp_path):
    with pytest.raises(InputError, match="column rate_tco2_ha_yr: must be a number"):
        carbon.load_sink_rates(_csv(tmp_path, "class,rate_tco2_ha_yr\nforest,x\n"))
    assert carbon.load_sink_rates(_csv(tmp_path, RATES)).loc["grassland", "rate_tco2_ha_yr"] == 0.4
    with pytest.raises(InputError, match="carbon pools table: missing column"):
        pooltable.load_pool_table(_csv(tmp_path, "lucode,c_above\n1,2\n"))
    bad = pd.read_csv(paths.TABLES / "checklist_criteria.csv", dtype=str, keep_default_na=False)
    bad.loc[0, "threshold"] = "fifteen"
    bad.to_csv(tmp_path / "criteria.csv", index=False)
    with pytest.raises(InputError, match=r"row\(s\) \[2\], column threshold: must be a number"):
        checklist.load_criteria(tmp_path / "criteria.csv")


def test_the_docs_table_is_generated_from_the_schemas():
    doc = (REPO / "docs" / "tables.md").read_text(encoding="utf-8")
    assert tableschema.markdown() in doc
    assert "| `rate_tco2_ha_yr` | number | t CO2/ha/yr | yes |" in doc


def test_na_in_an_optional_number_is_blank_but_a_text_keeps_it(tmp_path):
    rates = carbon.load_sink_rates(_csv(tmp_path, "class,rate_tco2_ha_yr,rate_low\nforest,3.5,NA\n"))
    assert rates.loc["forest", "rate_low"] == 3.5  # a missing low end is the central rate
    with pytest.raises(InputError, match="column class: must not be empty"):
        tableschema.read(_csv(tmp_path, "class,rate_tco2_ha_yr\n,3.5\n"), "sink_rates")
    assert pooltable.density_table()["verified"].isin(["yes", "partial", "no", "n/a"]).all()  # "n/a" is a value here
