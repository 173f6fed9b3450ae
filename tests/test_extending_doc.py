"""docs/extending.md names the exact files of each extension: every path it writes in `code` exists,
so the page cannot drift from the house as files move."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PATH = re.compile(r"`([A-Za-z_][\w./-]*\.(?:py|md|toml|csv))`")


def test_every_file_named_in_extending_md_exists():
    text = (REPO / "docs" / "extending.md").read_text(encoding="utf-8")
    named = sorted(set(PATH.findall(text)))
    assert len(named) >= 20, named  # the page names files, not just ideas
    missing = [p for p in named if not (REPO / p).exists()]
    assert not missing, f"docs/extending.md names files that do not exist: {missing}"


def test_the_check_catches_a_missing_file(tmp_path):
    assert PATH.findall("see `layers/nowhere.py` and `docs/inputs.md`") == ["layers/nowhere.py", "docs/inputs.md"]


def test_the_command_line_reference_is_generated_from_the_parsers():
    from cli import reference

    doc = (REPO / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert doc == reference.markdown(), "docs/cli-reference.md is stale: python -m cli.reference > docs/cli-reference.md"
    assert "--redline FILE [FILE ...]" in doc and "## gansu siting" in doc
