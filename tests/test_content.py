"""The body pipeline: Markdown, heading ids, contents, external links and the dateline."""

from __future__ import annotations

import html5lib
import pytest

from blog.content import render

LEAD = "Kyiv, Ukraine – October 26, 2023 – "


def parse(html: str):
    return html5lib.parseFragment(html, namespaceHTMLElements=False)


def tags(html: str) -> list[str]:
    """Element names in document order."""
    fragment = parse(html)
    return [e.tag for e in fragment.iter() if e is not fragment and isinstance(e.tag, str)]


def heading_ids(html: str) -> list[str]:
    return [e.get("id") for e in parse(html).iter() if e.tag in {"h2", "h3", "h4", "h5", "h6"}]


# --- Markdown basics ------------------------------------------------------------------------


def test_emphasis_and_strong_render() -> None:
    assert render("*soft* and **loud**").html == "<p><em>soft</em> and <strong>loud</strong></p>\n"


def test_bullet_and_ordered_lists_render() -> None:
    html = render("- one\n- two\n\n3. three\n4. four").html
    assert tags(html) == ["ul", "li", "li", "ol", "li", "li"]
    assert parse(html).find("ol").get("start") == "3"


def test_pipe_table_renders() -> None:
    html = render("| City | Pop |\n|------|----:|\n| Kyiv | 3M |").html
    assert tags(html) == ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td"]
    assert [c.text for c in parse(html).iter("td")] == ["Kyiv", "3M"]
    assert "style" not in html  # markdown-it's alignment style is sanitized away


def test_strikethrough_renders_as_s() -> None:
    assert render("~~gone~~").html == "<p><s>gone</s></p>\n"


def test_fenced_code_keeps_its_language_class_and_escapes_its_text() -> None:
    html = render("```python\nif a < b:\n    print('<b>')\n```").html
    code = parse(html).find("pre/code")
    assert code.get("class") == "language-python"
    assert code.text == "if a < b:\n    print('<b>')\n"
    assert "<b>" not in html


def test_blockquote_and_inline_code_render() -> None:
    html = render("> said `x`").html
    assert tags(html) == ["blockquote", "p", "code"]


# --- headings -------------------------------------------------------------------------------


def test_hash_heading_becomes_h2() -> None:
    html = render("# Top story").html
    assert html == '<h2 id="h-top-story">Top story</h2>\n'


def test_markdown_heading_levels_shift_only_h1() -> None:
    html = render("# a\n\n## b\n\n### c\n\n#### d\n\n##### e\n\n###### f").html
    assert tags(html) == ["h2", "h2", "h3", "h4", "h5", "h6"]


def test_heading_ids_are_prefixed_and_made_from_the_text() -> None:
    html = render("## Where the money went\n\n### What’s next?").html
    assert heading_ids(html) == ["h-where-the-money-went", "h-whats-next"]


def test_repeated_headings_get_numbered_unique_ids() -> None:
    html = render("# Intro\n\n## Intro\n\n#### Intro\n\n## Intro").html
    assert heading_ids(html) == ["h-intro", "h-intro-2", "h-intro-3", "h-intro-4"]


def test_heading_ids_stay_unique_when_text_looks_like_a_numbered_id() -> None:
    html = render("## Intro 2\n\n## Intro\n\n## Intro\n\n## Intro 2").html
    ids = heading_ids(html)
    assert len(set(ids)) == len(ids) == 4
    assert all(i.startswith("h-intro") for i in ids)


@pytest.mark.parametrize("text", ["Café Zoë", "Київ", "日本語", "Ελλάδα"])
def test_unicode_heading_gets_a_non_empty_id(text: str) -> None:
    [anchor] = heading_ids(render(f"## {text}").html)
    assert anchor.startswith("h-")
    assert len(anchor) > len("h-")
    assert anchor.isascii()


def test_accented_heading_id_is_transliterated() -> None:
    assert heading_ids(render("## Café Zoë").html) == ["h-cafe-zoe"]


def test_heading_without_letters_still_gets_an_id() -> None:
    assert heading_ids(render("## !!!\n\n## ???").html) == ["h-section", "h-section-2"]


@pytest.mark.parametrize(
    "source",
    [
        '<h2 id="main">Main</h2>',
        '<h2 id="h-custom">Main</h2>',
        '<h2 ID="location" name="x">Main</h2>',
        '# Main <span id="inner">x</span>',
    ],
    ids=["plain-id", "id-with-our-prefix", "clobbering-id", "id-inside-heading"],
)
def test_user_supplied_id_on_a_heading_is_replaced_by_ours(source: str) -> None:
    fragment = parse(render(source).html)
    heading = fragment.find("h2")
    assert heading.get("id").startswith("h-main")
    assert [e.get("id") for e in fragment.iter() if e.get("id")] == [heading.get("id")]


def test_no_user_id_survives_on_any_element() -> None:
    source = '<p id="a">x</p><a id="b" href="/x">y</a><img id="c" src="x"><table id="d"></table>'
    assert " id=" not in render(source).html


# --- table of contents ----------------------------------------------------------------------


def test_toc_lists_only_h2_and_h3_in_document_order() -> None:
    rendered = render("# One\n\n### Two\n\n#### Skipped\n\n## Three\n\n##### Skipped too")
    assert rendered.toc == [
        {"level": 2, "id": "h-one", "text": "One"},
        {"level": 3, "id": "h-two", "text": "Two"},
        {"level": 2, "id": "h-three", "text": "Three"},
    ]


def test_toc_ids_match_the_heading_ids_in_the_html() -> None:
    rendered = render("# A\n\n## A\n\n### B\n\n<h3>C</h3>\n\n#### D")
    fragment = parse(rendered.html)
    in_html = [(int(e.tag[1]), e.get("id")) for e in fragment.iter() if e.tag in {"h2", "h3"}]
    assert [(entry["level"], entry["id"]) for entry in rendered.toc] == in_html


def test_toc_text_is_the_plain_heading_text() -> None:
    rendered = render("## The **big**   `vote`\n\n<h3>  Spaced <em>out</em>  </h3>")
    assert [entry["text"] for entry in rendered.toc] == ["The big vote", "Spaced out"]


def test_body_without_headings_has_an_empty_toc() -> None:
    assert render("Just a paragraph.").toc == []


# --- external links -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "[x](https://example.org/)",
        "[x](http://example.org/)",
        "<https://example.org/>",
        '<a href="HTTPS://EXAMPLE.ORG/">x</a>',
        '<a href="//example.org/">x</a>',
        "[x][ref]\n\n[ref]: https://example.org/",
    ],
    ids=["https", "http", "autolink", "upper-case-raw-html", "protocol-relative", "reference"],
)
def test_external_link_gets_noopener_noreferrer(source: str) -> None:
    link = parse(render(source).html).find(".//a")
    assert link.get("rel") == "noopener noreferrer"


@pytest.mark.parametrize(
    "source",
    [
        "[x](/news/1)",
        "[x](news/1)",
        "[x](#h-intro)",
        "[x](mailto:desk@example.org)",
        "<desk@example.org>",
    ],
    ids=["absolute-path", "relative-path", "fragment", "mailto", "email-autolink"],
)
def test_relative_and_mailto_links_get_no_rel(source: str) -> None:
    link = parse(render(source).html).find(".//a")
    assert link.get("href")
    assert "rel" not in link.attrib


@pytest.mark.parametrize(
    "href",
    [
        "ht&#9;tp://evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "https:\\\\evil.example/",
    ],
    ids=["tab-inside-scheme", "slash-backslash", "double-backslash", "scheme-backslashes"],
)
def test_external_link_written_with_url_noise_gets_noopener_noreferrer(href: str) -> None:
    link = parse(render(f'<a href="{href}">x</a>').html).find(".//a")
    assert link.get("href"), "the sanitizer keeps the link"
    assert link.get("rel") == "noopener noreferrer"


# --- the dateline ---------------------------------------------------------------------------


def test_lead_opens_the_first_paragraph_in_a_dateline_span() -> None:
    html = render("The council voted.\n\nMore later.", lead=LEAD).html
    assert html == (
        f'<p><span class="dateline">{LEAD}</span>The council voted.</p>\n<p>More later.</p>\n'
    )


def test_lead_keeps_the_paragraphs_inline_markup_after_it() -> None:
    html = render("**Breaking:** the council voted.", lead=LEAD).html
    paragraph = parse(html).find("p")
    assert [child.tag for child in paragraph] == ["span", "strong"]
    assert paragraph[0].tail is None
    assert paragraph[1].tail == " the council voted."


def test_lead_goes_in_the_first_paragraph_when_the_body_starts_with_a_heading() -> None:
    html = render("# Background\n\nThe council voted.", lead=LEAD).html
    assert html == (
        '<h2 id="h-background">Background</h2>\n'
        f'<p><span class="dateline">{LEAD}</span>The council voted.</p>\n'
    )


def test_lead_gets_a_new_first_paragraph_when_the_body_has_none() -> None:
    html = render("# Background\n\n- a list item", lead=LEAD).html
    assert tags(html)[:3] == ["p", "span", "h2"]
    assert parse(html).find("p/span").text == LEAD
    assert html.startswith(f'<p><span class="dateline">{LEAD}</span></p><h2')


def test_empty_body_with_a_lead_is_just_the_lead_paragraph() -> None:
    assert render("", lead=LEAD).html == f'<p><span class="dateline">{LEAD}</span></p>'


def test_lead_is_text_not_markup() -> None:
    html = render("Body.", lead='<b onclick="x">Kyiv</b> & Co – ').html
    span = parse(html).find("p/span")
    assert span.get("class") == "dateline"
    assert span.text == '<b onclick="x">Kyiv</b> & Co – '
    assert len(span) == 0
    assert "<b" not in html


def test_without_a_lead_there_is_no_dateline() -> None:
    assert "dateline" not in render("Body.").html
    assert "<span" not in render("Body.").html


def test_author_cannot_forge_a_dateline_span() -> None:
    html = render('<span class="dateline">Fake – </span>Body.').html
    assert "<span" not in html
    assert "Fake" in html


# --- determinism and output hygiene ---------------------------------------------------------


def test_rendering_is_deterministic() -> None:
    source = (
        "# Intro\n\nSee [this](https://example.org/) and <abbr title='x'>AP</abbr>.\n\n"
        "## Intro\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```py\nx\n```\n"
    )
    first = render(source, lead=LEAD)
    for _ in range(3):
        again = render(source, lead=LEAD)
        assert again.html == first.html
        assert again.toc == first.toc


@pytest.mark.parametrize(
    "source",
    [
        '<abbr title="<script>alert(1)</script>">AP</abbr>',
        '<img src="x" alt="--><iframe/onload=alert(1)>">',
    ],
    ids=["abbr-title", "img-alt"],
)
def test_render_keeps_angle_brackets_in_attribute_values_escaped(source: str) -> None:
    html = render(source).html
    assert "<script" not in html
    assert "<iframe" not in html


def test_many_equal_headings_get_consecutive_ids():
    rendered = render("## Same\n\n" * 500)
    ids = [entry["id"] for entry in rendered.toc]
    assert ids == ["h-same", *(f"h-same-{n}" for n in range(2, 501))]


def test_a_heading_named_like_a_numbered_one_keeps_ids_unique():
    ids = [entry["id"] for entry in render("## A 2\n\n## A\n\n## A\n\n## A 2").toc]
    assert len(set(ids)) == 4
