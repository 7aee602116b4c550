"""Issue 12, item 13: Markdown renders what people paste from GitHub, and stays safe."""

import re

from core.markdown import render_markdown


def test_two_space_nested_list__stays_nested():
    html = render_markdown("- Deploy\n  - drain the queue\n  - stop workers\n- Verify")
    assert re.sub(r"\s+", "", html) == (
        "<ul><li>Deploy<ul><li>drainthequeue</li><li>stopworkers</li></ul></li><li>Verify</li></ul>"
    )


def test_list_right_after_a_paragraph_line__is_a_list():
    html = render_markdown("Steps:\n1. stop\n2. start")
    assert "<p>Steps:</p>" in html
    assert "<ol>" in html
    assert "<li>stop</li>" in html
    assert "<li>start</li>" in html


def test_strikethrough():
    assert "<s>old plan</s>" in render_markdown("~~old plan~~ new plan")


def test_gfm_table():
    html = render_markdown("| check | result |\n|---|---|\n| smoke | pass |")
    assert "<table>" in html
    assert "<th>check</th>" in html
    assert "<td>pass</td>" in html


def test_task_list__renders_disabled_checkboxes():
    html = render_markdown("- [ ] announce\n- [x] tag")
    boxes = re.findall(r"<input[^>]*>", html)
    assert len(boxes) == 2
    assert all('type="checkbox"' in box and "disabled" in box for box in boxes)
    assert "checked" in boxes[1] and "checked" not in boxes[0]
    assert "announce" in html and "tag" in html


def test_raw_html__is_shown_as_text_never_as_an_element():
    html = render_markdown(
        'Click <input type="submit" value="Deploy"> or <script>alert(1)</script>'
    )
    assert "<input" not in html
    assert "<script" not in html
    assert "&lt;input" in html


def test_unsafe_links__are_dropped():
    html = render_markdown("[run](javascript:alert(1)) and [docs](https://example.com)")
    assert 'href="javascript' not in html
    assert "<a" in html and html.count("<a ") == 1
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_empty():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""
