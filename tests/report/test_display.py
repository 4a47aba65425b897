"""Safe HTML: every piece of text is escaped before it reaches a report."""

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


def test_heading_level_is_kept_between_1_and_6_and_the_subtitle_is_a_note() -> None:
    assert str(heading("T", level=9)) == "<h6>T</h6>"
    assert str(heading("T", level=0)) == "<h1>T</h1>"
    assert str(heading("T", subtitle="n = 5", level=3)) == (
        '<h3>T</h3><p class="csat-note">n = 5</p>'
    )


def test_note_escapes_its_css_class() -> None:
    assert str(note("x", css_class='a" onclick="b')) == ('<p class="a&quot; onclick=&quot;b">x</p>')
