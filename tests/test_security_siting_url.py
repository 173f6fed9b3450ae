"""A shared Siting link is typed by anyone: weights and park ids from the URL are checked.
Out-of-range weights are clamped to the sliders' range (0–10), values that are not finite
numbers and unknown criteria or park ids are ignored, and the page says so in the page's
language — it never crashes for the session that opened the link."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.mdtext import unescape

REPO = Path(__file__).resolve().parent.parent


def _open(lang: str, parks: str, w: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / "siting.py"), default_timeout=180)
    at.session_state["lang"] = lang
    at.query_params["parks"] = parks
    at.query_params["w"] = w
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _notice(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.fixture(scope="module")
def crits(dataset) -> list[str]:
    """The page's criteria (its weight sliders), whatever the indicator table names them."""
    at = _open("en", "P01,P03", "")
    found = [s.key[len("siting_w_"):] for s in at.slider if s.key and s.key.startswith("siting_w_")]
    assert len(found) >= 2, found
    return found


@pytest.mark.parametrize("raw,expected", [("1e308", 10.0), ("-5", 0.0), ("nan", 1.0), ("abc", 1.0),
                                          ("inf", 1.0), ("2.5", 2.5)])
def test_a_bad_weight_in_a_shared_link_is_clamped_or_ignored_with_a_notice(crits, raw, expected):
    c1, c2 = crits[:2]
    at = _open("en", "P01,P03", f"{c1}:{raw},{c2}:3")
    assert at.slider(key=f"siting_w_{c1}").value == expected
    assert at.slider(key=f"siting_w_{c2}").value == 3.0  # the valid part of the link holds
    assert at.multiselect(key="siting_parks").value == ["P01", "P03"]
    assert len(at.dataframe) and len(at.dataframe[0].value) == 2  # the ranking is there
    if raw == "2.5":  # a good link: no notice
        assert "link" not in _notice(at)
    else:
        assert "Some settings in the link were not usable" in _notice(at), _notice(at)
        assert f"{c1}:{raw}" in unescape(_notice(at))


def test_unknown_parks_and_criteria_are_ignored_with_a_notice_in_chinese(crits):
    at = _open("zh", "P01,ZZ99,P03", f"no_such_criterion:4,{crits[0]}:-1e308")
    assert at.multiselect(key="siting_parks").value == ["P01", "P03"]
    assert at.slider(key=f"siting_w_{crits[0]}").value == 0.0
    notice = _notice(at)
    assert "链接中的部分设置无法使用" in notice, notice
    assert "ZZ99" in notice and "no\\_such\\_criterion" in notice  # named, as literal Markdown text


def test_a_link_naming_only_unknown_parks_falls_back_to_the_default_choice(crits):
    at = _open("en", "[x](javascript:alert(1))", f"{crits[0]}:nan")
    chosen = at.multiselect(key="siting_parks").value
    assert len(chosen) >= 2 and all(p.startswith("P") for p in chosen)
    notice = _notice(at)
    assert "\\[x\\]\\(javascript\\:alert\\(1\\)\\)" in notice  # the URL text cannot become a link
    assert "[x](" not in notice
