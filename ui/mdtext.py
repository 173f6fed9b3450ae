"""User text shown through Markdown as typed: ``md(name)``.

Streamlit renders Markdown in ``st.markdown``/``st.caption``/``st.info``/``st.warning``/
``st.error``/``st.success``/``st.write``, in headers, and in widget, expander and tab labels.
A park, dataset, scenario, account, file or column name, a note or a value from the URL is
somebody's typing: put into such a text as is, ``![x](http://host/p.png)`` becomes an image that
every other user's browser fetches, ``[click](…)`` a link, ``**x**`` bold, ``:red[x]`` colour,
``$x$`` a formula. ``md`` makes it literal text wherever it is placed, in the middle of a
translated sentence too (``t("siting.saved", lang, name=md(name))``):

- every ASCII punctuation character gets a backslash: CommonMark shows ``\\X`` as ``X`` for any
  ASCII punctuation ``X``, so links, images, emphasis, code, HTML, entities (``\\&``), headings,
  lists, tables, math (``\\$``) and Streamlit's ``:directive[…]``/``:icon:`` (``\\:``) all stay text;
- line breaks and other control characters become spaces (a new line would start a heading,
  a list or a quote).

Not for text that is not Markdown (``st.dataframe`` cells, ``st.code``, ``st.text``, selectbox
options, the map's tooltips — those have ``ui.map_vectors.escape_text``), nor inside a code span
(backticks keep backslashes).
"""
from __future__ import annotations

import string

_PUNCT = frozenset(string.punctuation)  # the ASCII punctuation characters CommonMark lets escape


def md(text) -> str:
    """``text`` (any value; ``None`` → "") as Markdown that renders exactly as the text."""
    if text is None:
        return ""
    out = []
    for ch in str(text):
        if ch in _PUNCT:
            out.append("\\" + ch)
        elif ch < " " or ch in "\x7f\u2028\u2029\x85":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def unescape(source: str) -> str:
    """What CommonMark shows for a text made by ``md`` (the escapes removed): ``unescape(md(x))``
    is ``x`` for a one-line ``x``. For tests and for checking a label."""
    out, i = [], 0
    while i < len(source):
        if source[i] == "\\" and i + 1 < len(source) and source[i + 1] in _PUNCT:
            out.append(source[i + 1])
            i += 2
        else:
            out.append(source[i])
            i += 1
    return "".join(out)
