"""Random HTML and Markdown through the sanitizer and the pipeline leave nothing executable."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blog.content import render
from blog.sanitize import clean
from tests.test_sanitize import assert_nothing_executable

# Fixed examples (derandomize) and no example database: every run checks the same inputs.
PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TAGS = (
    # Allowed.
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figure", "h2", "h3", "img", "li", "ol",
    "p", "pre", "q", "strong", "table", "td", "th", "tr", "ul",
    # Not allowed: harmless, structural, or active.
    "div", "span", "h1", "body", "html", "head", "title", "col", "caption", "tbody", "select",
    "option", "textarea", "input", "button", "details", "summary", "dialog", "video", "audio",
    "source", "frame", "frameset", "xmp", "plaintext", "noembed", "noframes", "listing",
    "marquee", "applet", "keygen", "isindex", "slot", "portal", "image", "link", "script", "style",
    "iframe", "svg", "math", "object", "embed", "form", "base", "meta", "template", "noscript",
    "mtext", "mglyph", "malignmark", "annotation-xml", "foreignObject", "desc", "animate", "set",
    "use", "x-custom",
)  # fmt: skip
VOID_TAGS = ("br", "img", "input", "meta", "base", "link", "embed", "source", "col", "hr", "image")
EVENTS = ("onerror", "onload", "onclick", "onmouseover", "onfocus", "ontoggle", "onbegin",
          "onanimationstart", "onpointerenter", "onauxclick")  # fmt: skip
PLAIN_ATTRIBUTES = (
    "href", "src", "title", "alt", "width", "height", "class", "id", "name", "style", "srcset",
    "action", "formaction", "background", "poster", "xlink:href", "srcdoc", "content",
    "http-equiv", "rel", "target", "start", "colspan", "scope", "lowsrc", "dynsrc", "data",
    "codebase", "cite", "longdesc", "attributeName", "values", "from", "to", "is", "open",
    "autofocus", "xmlns", "xmlns:xlink", "encoding", "type",
)  # fmt: skip
HX_ATTRIBUTES = ("hx-get", "hx-post", "hx-trigger", "hx-on:click", "hx-on::load", "hx-vals",
                 "hx-swap", "hx-target", "data-hx-get")  # fmt: skip
SCHEMES = ("javascript", "JaVaScRiPt", "vbscript", "data", "livescript", "blob", "ftp", "http",
           "https", "mailto")  # fmt: skip
URL_RESTS = ("alert(1)", "123", "//example.org/", "text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2M=",
             "")  # fmt: skip
# What a browser ignores in a URL, raw and as entities.
URL_NOISE = ("\t", "\n", "\r", " ", "\x00", "\x01", "\x0b", "\x0c", "\x1f",
             "\x7f", "&Tab;", "&NewLine;", "&#9;", "&#x0A;", "&#13", "&#0;")  # fmt: skip
NAMED_ENTITIES = {":": ("&colon;",), "(": ("&lpar;",), ")": ("&rpar;",), "/": ("&sol;",)}
TEXT_ALPHABET = st.sampled_from(list("ab <>&\"'=/;:#!-`*_[]()\\\n")) | st.characters(
    codec="utf-8", exclude_categories=("Cs",)
)

text = st.text(TEXT_ALPHABET, max_size=16)


def encodings(char: str) -> tuple[str, ...]:
    """Ways to write ``char`` in an attribute value that the HTML parser decodes back."""
    code = ord(char)
    return (char.upper(), f"&#{code};", f"&#{code}", f"&#x{code:x};", f"&#X{code:X}",
            f"&#{code:07d};", *NAMED_ENTITIES.get(char, ()))  # fmt: skip


@st.composite
def disguised_url(draw: st.DrawFn) -> str:
    """A URL with a random scheme, a few of its characters entity-encoded, noise between."""
    chars = list(draw(st.sampled_from(SCHEMES)) + ":")
    positions = st.integers(0, len(chars) - 1)
    for at in draw(st.sets(positions, max_size=3)):
        chars[at] = draw(st.sampled_from(encodings(chars[at])))
    for at in sorted(draw(st.sets(positions, max_size=2)), reverse=True):
        chars.insert(at, draw(st.sampled_from(URL_NOISE)))
    return "".join(chars) + draw(st.sampled_from(URL_RESTS))


URL_ATTRIBUTES = ("href", "src", "xlink:href", "action", "formaction", "background", "poster")
attribute_name = st.one_of(
    st.sampled_from(PLAIN_ATTRIBUTES),
    st.sampled_from(EVENTS).map(lambda name: name.upper() if len(name) % 2 else name),
    st.sampled_from(HX_ATTRIBUTES),
    st.text("abz-", min_size=1, max_size=6).map("data-".__add__),
)
# Half the attributes are URLs, so that links and images often get a disguised scheme.
name_and_value = st.one_of(
    st.tuples(st.sampled_from(URL_ATTRIBUTES), disguised_url()),
    st.tuples(attribute_name, st.one_of(text, disguised_url())),
)


@st.composite
def attribute(draw: st.DrawFn) -> str:
    """`` name=value`` with a random separator and quoting, or a bare name."""
    name, value = draw(name_and_value)
    separator = draw(st.sampled_from([" ", " ", " ", "/", "\n"]))
    quote = draw(st.sampled_from(['"', "'", "", None]))
    return separator + name if quote is None else f"{separator}{name}={quote}{value}{quote}"


@st.composite
def element(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    """An element with random attributes, content, case and closing; often a link or image."""
    tag = draw(st.one_of(st.sampled_from(("a", "img")), st.sampled_from(TAGS)))
    tag = tag.upper() if len(tag) > 3 and draw(st.booleans()) else tag
    attributes = "".join(draw(st.lists(attribute(), max_size=3)))
    if tag.lower() in VOID_TAGS:
        return f"<{tag}{attributes}{draw(st.sampled_from(['', '/', ' /']))}>"
    inner = "".join(draw(st.lists(children, max_size=3)))
    closing = draw(st.sampled_from([f"</{tag}>", f"</{tag} >", "", f"</{tag.swapcase()}>"]))
    return f"<{tag}{attributes}>{inner}{closing}"


# Bits of markup the parser treats specially, mixed in as they are.
RAW_TOKENS = st.sampled_from(
    ["<!--", "-->", "<!-- x -->", "<![CDATA[", "]]>", "<?xml", "</", "<!doctype html>", "<",
     "&", "&lt;", "&#0;", "\x00", "<!--[if IE]>", "<![endif]-->", "</p>", "</table>"]
)  # fmt: skip

random_html = st.recursive(
    st.one_of(text, RAW_TOKENS),
    lambda children: element(children),
    max_leaves=8,
)


@st.composite
def markdown_url(draw: st.DrawFn) -> str:
    """A link destination as Markdown writes it: bare, in angle brackets, or escaped."""
    url = draw(st.one_of(disguised_url(), st.sampled_from(["/local", "#h-x", "?p=1"])))
    return draw(st.sampled_from([url, f"<{url}>", url.replace(":", "\\:", 1), url.strip()]))


TITLES = st.sampled_from(["", ' "t"', " 't\" onmouseover=\"alert(1)'", ' "a<b"'])

# A piece of a paragraph: text, a link, an image, an autolink, a reference or raw HTML.
markdown_inline = st.one_of(
    text,
    st.tuples(text, markdown_url(), TITLES).map(lambda p: f"[{p[0]}]({p[1]}{p[2]})"),
    st.tuples(text, markdown_url(), TITLES).map(lambda p: f"![{p[0]}]({p[1]}{p[2]})"),
    disguised_url().map(lambda url: f"<{url}>"),
    text.map(lambda label: f"[{label}][ref] *{label}* `{label}`"),
    random_html,
)
markdown_line = st.lists(markdown_inline, min_size=1, max_size=3).map(" ".join)

# A block: paragraph, heading, quote, list, table, fenced code, a definition or raw HTML.
markdown_block = st.one_of(
    markdown_line,
    markdown_line.map(lambda line: f"## {line}"),
    markdown_line.map(lambda line: f"> {line}"),
    st.tuples(markdown_line, markdown_inline).map(lambda p: f"- {p[0]}\n- {p[1]}"),
    markdown_line.map(lambda line: f"| a | b |\n|---|---|\n| {line} | x |"),
    markdown_line.map(lambda line: f"```html\n{line}\n```"),
    markdown_url().map(lambda url: f"[ref]: {url}"),
    random_html,
)
random_markdown = st.lists(markdown_block, min_size=1, max_size=4).map("\n\n".join)


def rendered_html(source: str) -> str:
    """The pipeline's HTML, with a dateline lead made of the source's first characters."""
    return render(source, lead=source[:20]).html


random_source = st.one_of(random_html, random_markdown)


@PROPERTY
@given(random_source)
def test_clean_leaves_nothing_executable(source: str) -> None:
    assert_nothing_executable(clean(source))


@PROPERTY
@given(random_source)
def test_render_leaves_nothing_executable(source: str) -> None:
    assert_nothing_executable(rendered_html(source), pipeline_markup=True)


@PROPERTY
@given(random_source)
def test_clean_is_idempotent(source: str) -> None:
    once = clean(source)
    assert clean(once) == once
