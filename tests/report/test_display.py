from __future__ import annotations

from csatlib.report.display import escape, heading, note


def test_customer_text_is_escaped_in_every_display() -> None:
    payload = "<script>alert(1)</script> & <img src=x onerror=alert(1)> costs $5 and $10"
    for shown in (
        heading(payload)._repr_html_(),
        heading("t", subtitle=payload)._repr_html_(),
        note(payload)._repr_html_(),
    ):
        assert "<script>" not in shown and "<img" not in shown
        assert "&lt;script&gt;" in shown
        assert "$" not in shown  # no TeX delimiters survive


def test_escape_quotes() -> None:
    assert escape("\"x'") == "&quot;x&#x27;"
