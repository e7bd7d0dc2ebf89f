"""Publish checks: what should be fixed before an article goes out, shown live in the editor."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, abort, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markdown_it import MarkdownIt
from markdown_it.token import Token

from blog import images
from blog.access import refusal
from blog.auth import staff_required
from blog.body_images import library_name
from blog.extensions import db
from blog.forms import MAX_BODY_CHARS, ArticleForm
from blog.hx import fragment, is_htmx
from blog.models import Article
from blog.site import small_int

bp = Blueprint("checks", __name__, url_prefix="/editor")

# A body with fewer words than this is too short to publish (a brief runs longer).
SHORT_BODY_WORDS = 50
# Longer headlines read badly in listings and search results.
LONG_HEADLINE_CHARS = 110
# Square brackets that are newsroom style, not placeholders.
EDITORIAL_BRACKETS = frozenset({"sic", "...", "…"})
# The plain-text fields a placeholder can hide in, besides the body.
CHECKED_TEXT_FIELDS = ("title", "summary", "dateline", "hero_alt", "hero_caption", "hero_credit")

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_TK = re.compile(r"\b(?:TK)+\b")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_TASK_BOX = re.compile(r"^\[[ xX]\](?=\s|$)")
# Escapes stay apart (no text_join) so that "\[" can say "this bracket is meant".
_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_markdown.disable("text_join")


@dataclass(frozen=True)
class Problem:
    """Something to fix before publishing; ``field`` is the form field's id."""

    code: str
    message: str
    blocking: bool
    field: str


def problems(form: ArticleForm) -> list[Problem]:
    """Every problem in what ``form`` holds, blocking ones first."""
    body = _scan((form.body.data or "")[:MAX_BODY_CHARS])
    found = [
        *_placeholder_problems(form, body),
        *_headline_problems(form.title.data or "", form.article),
        *_body_problems(body),
        *_hero_problems(form),
    ]
    if not form.summary.data:
        found.append(
            Problem(
                "summary", _("No summary: readers see it under the headline."), False, "summary"
            )
        )
    return sorted(found, key=lambda problem: not problem.blocking)


@dataclass
class _Body:
    """What the publish checks need from a Markdown body."""

    text: list[str] = field(default_factory=list)
    alts: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    image_srcs: list[str] = field(default_factory=list)
    images_without_alt: int = 0


class _HTMLScan(HTMLParser):
    """Collect the text, link and image addresses and missing alt texts of some inline HTML."""

    def __init__(self, body: _Body):
        super().__init__(convert_charrefs=True)
        self.body = body
        self.in_code = False  # script or style: code, which cleaning removes anyway

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.in_code = self.in_code or tag in {"script", "style"}
        if tag == "a" and values.get("href"):
            self.body.urls.append(values["href"])
        if tag == "img":
            if values.get("src"):
                self.body.urls.append(values["src"])
                self.body.image_srcs.append(values["src"])
            if values.get("alt", "").strip():
                self.body.alts.append(values["alt"])
            else:
                self.body.images_without_alt += 1

    def handle_endtag(self, tag: str) -> None:
        self.in_code = self.in_code and tag not in {"script", "style"}

    def handle_data(self, data: str) -> None:
        if not self.in_code:
            self.body.text.append(data)


def _scan(source: str) -> _Body:
    """Read the body as Markdown: prose apart from code, link targets and task boxes."""
    body = _Body()
    tokens = _markdown.parse(source)
    for index, token in enumerate(tokens):
        if token.type == "html_block":
            _HTMLScan(body).feed(token.content)
        elif token.type == "inline":
            in_task = index >= 2 and tokens[index - 2].type == "list_item_open"
            text = "".join(_inline_text(token.children or [], body))
            body.text.append(_TASK_BOX.sub(" ", text, count=1) if in_task else text)
    return body


def _inline_text(children: list[Token], body: _Body) -> Iterator[str]:
    """The prose of one paragraph or heading, noting its links and images in ``body``."""
    in_autolink = False
    for token in children:
        if token.type == "link_open":
            body.urls.append(str(token.attrs.get("href", "")))
            in_autolink = token.markup == "autolink"
        elif token.type == "link_close":
            in_autolink = False
        elif token.type == "image":
            body.urls.append(str(token.attrs.get("src", "")))
            body.image_srcs.append(str(token.attrs.get("src", "")))
            if token.content.strip():
                body.alts.append(token.content)
            else:
                body.images_without_alt += 1
        elif token.type == "html_inline":
            _HTMLScan(body).feed(token.content)
        elif token.type == "text_special" and token.info == "escape":
            yield " " if token.content in {"[", "]"} else token.content
        elif token.type in {"text", "text_special", "code_inline"} and not in_autolink:
            # Code is shown as written: brackets in it are no placeholders.
            yield token.content if token.type != "code_inline" else " "
        elif token.type in {"softbreak", "hardbreak"}:
            yield "\n"


def placeholders(text: str) -> list[str]:
    """The unresolved placeholders in plain ``text``: ``[…]`` (not ``[sic]``), TK and TKTK."""
    found = [
        match.group(0)
        for match in _BRACKETS.finditer(text)
        if match.group(1).strip()
        and not match.group(1).startswith("^")
        and match.group(1).strip().lower() not in EDITORIAL_BRACKETS
    ]
    # A TK inside a bracketed placeholder is part of it, not one more.
    outside = _BRACKETS.sub(lambda match: " " if match.group(0) in found else match.group(0), text)
    return found + _TK.findall(outside)


def _placeholder_problems(form: ArticleForm, body: _Body) -> Iterator[Problem]:
    """A problem for each field with placeholders left in it."""
    texts = {name: [form[name].data or ""] for name in CHECKED_TEXT_FIELDS}
    texts["body"] = body.text + body.alts
    for name, pieces in texts.items():
        found = [placeholder for piece in pieces for placeholder in placeholders(piece)]
        if found:
            shown = _listed([f"“{_shorten(text)}”" for text in dict.fromkeys(found)])
            brackets = name == "body" and any(text.startswith("[") for text in found)
            message = (
                _(
                    "Placeholder left: %(found)s. Write \\[ and \\] for brackets you mean.",
                    found=shown,
                )
                if brackets
                else _("Placeholder left: %(found)s.", found=shown)
            )
            yield Problem("placeholder", message, True, name)


def _headline_problems(title: str, article: Article | None) -> Iterator[Problem]:
    """A headline that is too long, or that another article already has."""
    title = title.strip()
    if len(title) > LONG_HEADLINE_CHARS:
        yield Problem(
            "long-headline",
            ngettext(
                "The headline has %(num)d character; keep it to %(limit)d or fewer for "
                "listings and search results.",
                "The headline has %(num)d characters; keep it to %(limit)d or fewer for "
                "listings and search results.",
                len(title),
                limit=LONG_HEADLINE_CHARS,
            ),
            False,
            "title",
        )
    if title and (other := _headline_owner(title, article)) is not None:
        message = _("Another article has this headline: “%(title)s”.", title=other.title)
        yield Problem("used-headline", message, True, "title")


def _headline_owner(title: str, article: Article | None) -> Article | None:
    """Another article (not in the trash) whose headline is ``title``, ignoring case."""
    query = sa.select(Article).where(
        sa.func.lower(sa.func.trim(Article.title)) == sa.func.lower(title),
        Article.deleted_at.is_(None),
    )
    if article is not None and article.id is not None:
        query = query.where(Article.id != article.id)
    return db.session.scalar(query.limit(1))


def _body_problems(body: _Body) -> Iterator[Problem]:
    """An empty or very short body, images without alt text or not in the library, bad links."""
    words = sum(len(_WORD.findall(text)) for text in body.text)
    if words == 0:
        yield Problem("empty-body", _("The body is empty."), True, "body")
    elif words < SHORT_BODY_WORDS:
        yield Problem(
            "short-body",
            ngettext(
                "The body has %(num)d word; an article needs at least %(least)d.",
                "The body has %(num)d words; an article needs at least %(least)d.",
                words,
                least=SHORT_BODY_WORDS,
            ),
            True,
            "body",
        )
    if body.images_without_alt:
        yield Problem(
            "missing-alt",
            ngettext(
                "%(num)d image without alt text: describe each one, "
                "as in ![What it shows](image.jpg).",
                "%(num)d images without alt text: describe each one, "
                "as in ![What it shows](image.jpg).",
                body.images_without_alt,
            ),
            True,
            "body",
        )
    missing = [
        src
        for src in dict.fromkeys(body.image_srcs)
        if (name := library_name(src)) is not None and images.stored(name) is None
    ]
    if missing:
        yield Problem(
            "missing-image",
            ngettext(
                "%(num)d image not in the media library, shown as alt text only: %(images)s",
                "%(num)d images not in the media library, shown as alt text only: %(images)s",
                len(missing),
                images=_listed([_shorten(src) for src in missing]),
            ),
            False,
            "body",
        )
    urls = list(dict.fromkeys(body.urls))
    local = [url for url in urls if _is_local(url)]
    insecure = [url for url in urls if _is_http(url) and not _is_local(url)]
    if local:
        yield Problem(
            "local-link",
            ngettext(
                "%(num)d link to a local address that readers cannot open: %(links)s",
                "%(num)d links to a local address that readers cannot open: %(links)s",
                len(local),
                links=_listed([_shorten(url) for url in local]),
            ),
            True,
            "body",
        )
    if insecure:
        yield Problem(
            "http-link",
            ngettext(
                "%(num)d link without https: %(links)s",
                "%(num)d links without https: %(links)s",
                len(insecure),
                links=_listed([_shorten(url) for url in insecure]),
            ),
            False,
            "body",
        )


def _hero_problems(form: ArticleForm) -> Iterator[Problem]:
    """A hero image without alt text or credit."""
    kept = form.article is not None and form.article.hero_image and not form.remove_hero.data
    if not (form.hero is not None or form.hero_upload.data or kept):
        return
    if not form.hero_alt.data:
        yield Problem("missing-alt", _("The hero image has no alt text."), True, "hero_alt")
    if not form.hero_credit.data:
        yield Problem("missing-credit", _("The hero image has no credit."), False, "hero_credit")


def _host(url: str) -> str | None:
    """The lowercase host ``url`` leads to, without a trailing dot; None for none or nonsense."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


def _is_local(url: str) -> bool:
    """Whether ``url`` leads to the writer's own computer or network, not the web."""
    host = _host(url)
    if host is None:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _is_http(url: str) -> bool:
    """Whether ``url`` is an unencrypted ``http://`` address."""
    return url.strip().lower().startswith("http:")


def _listed(items: list[str], limit: int = 3) -> str:
    """The first ``limit`` items, and how many more there are."""
    shown = ", ".join(items[:limit])
    if len(items) <= limit:
        return shown
    return _("%(items)s and %(num)d more", items=shown, num=len(items) - limit)


def _shorten(text: str, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


bp.add_app_template_global(problems, "publish_problems")


@bp.before_request
@staff_required
def _require_staff() -> None:
    """The checks are for the newsroom only."""


@bp.post("/checks")
def checks() -> ResponseReturnValue:
    """The publish checks of what the article form holds now, for its "Before publishing" panel."""
    article = db.session.get(Article, request.form.get("article_id", type=small_int) or 0)
    if article is not None and (refused := refusal(article)):
        if not is_htmx():
            abort(403)
        # htmx shows only a 2xx answer: say in the panel why it is no longer checked.
        return fragment("checks/_checks.html", refused=refused)
    form = ArticleForm(meta={"csrf": False}, article=article, can_publish=current_user.can_publish)
    return fragment("checks/_checks.html", form=form, problems=problems(form))
