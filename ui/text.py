"""User text on a page: shown as the characters typed, never as markdown, HTML or an icon.

Streamlit renders the text of `st.markdown`, captions and alerts as Markdown. It never renders
raw HTML there, but a run named `![x](http://…)` would load an image from anywhere, `[a](url)`
becomes a link, `**` bold and `:material/…:` an icon. `plain` escapes every character Markdown
gives a meaning to; a zero-width space after a colon breaks Streamlit's `:name[…]` and
`:material/…:` directives and bare URLs, which backslashes cannot escape. Plotly strings get
HTML entities instead (`plot_text`), since plotly reads a subset of HTML in titles and labels.
"""

from __future__ import annotations

import html
import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&=^\"'])")
_DIRECTIVE = re.compile(r":(?=[A-Za-z/])")
_BARE_URL = re.compile(r"(?i)www\.")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def plain(text: object) -> str:
    """`text` for a Markdown-rendering element: every character shows as itself, on one line."""
    one_line = _BARE_URL.sub("www\u200b.", _LINE_BREAKS.sub(" ", str(text)))
    return _DIRECTIVE.sub(":\u200b", _MARKDOWN.sub(r"\\\1", one_line))


def plot_text(text: object) -> str:
    """`text` for a plotly title, label or hover text: shown as typed, no tags or entities."""
    return html.escape(str(text), quote=False)
