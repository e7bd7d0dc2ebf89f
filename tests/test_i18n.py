"""Languages: the Ukrainian site, dates in the site language, the catalog in step with the code."""

# Ukrainian text is the point here: its Cyrillic letters are not look-alikes of Latin ones.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template, render_template_string
from flask_wtf import FlaskForm
from werkzeug.exceptions import default_exceptions
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from blog import create_app
from blog.dates import clock, long_date, short_date
from blog.i18n import lazy_gettext as _l
from blog.models import Article, User
from blog.site import ERROR_NAMES
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "blog" / "translations" / "uk" / "LC_MESSAGES"
PUBLISHED = datetime(2023, 10, 26, 9, 0, tzinfo=UTC)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")
# Ukrainian dates end in "р." (рік), kept on the year's line by a narrow no-break space (CLDR).
YEAR = "2023\u202fр."


@cache
def ukrainian() -> Catalog:
    """The Ukrainian catalog as committed (the ``.po`` source)."""
    with (CATALOG / "messages.po").open("rb") as file:
        return read_po(file, locale="uk")


def _texts(message: Message) -> tuple[str, ...]:
    """The translations of ``message``: one, or one per plural form; empty ones left in."""
    text = message.string
    return tuple(text) if isinstance(text, list | tuple) else (text,)


def _ids(message: Message) -> tuple[str, ...]:
    """The English of ``message``: its msgid, and its plural when it has one."""
    return tuple(message.id) if isinstance(message.id, list | tuple) else (message.id,)


class _VisibleText(HTMLParser):
    """The words a person meets on a page: text outside scripts and styles, and labels."""

    LABELS = ("aria-label", "alt", "title", "placeholder")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in {"script", "style"}
        self.parts.extend(value for name, value in attrs if name in self.LABELS and value)

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in {"script", "style"}

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """``html`` as the text a reader sees or hears, spaces collapsed."""
    parser = _VisibleText()
    parser.feed(html)
    # Only ASCII whitespace: the no-break spaces of dates and names stay as they are.
    return re.sub(r"[ \t\r\n\f]+", " ", " ".join(parser.parts)).strip()


@cache
def english_patterns() -> dict[str, re.Pattern[str]]:
    """A pattern per English msgid of the catalog, placeholders and markup as any text.

    Ids with no English words of their own (``%(kind)s: %(note)s``) are left out.
    """
    patterns = {}
    for message in ukrainian():
        for english in _ids(message) if message.id else ():
            words = [part for part in re.split(r"%\(\w+\)[sdifr]|<[^>]*>", english) if part]
            if not any(re.search(r"[A-Za-z]{2}", part) for part in words):
                continue
            body = ".+?".join(re.escape(" ".join(part.split())) for part in words)
            patterns[english] = re.compile(rf"(?<!\w){body}(?!\w)")
    return patterns


def leftover_english(html: str) -> list[str]:
    """The catalog's English messages still to be read on the page."""
    text = visible_text(html)
    return [english for english, pattern in english_patterns().items() if pattern.search(text)]


@pytest.fixture
def uk(app: Flask) -> Flask:
    """The test app as a Ukrainian site (the language is read on every request and render)."""
    app.config.update(LANGUAGE="uk", SITE_NAME="Вісті", ARTICLES_PER_PAGE=1)
    return app


@pytest.fixture
def story(
    uk: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> Article:
    """A Ukrainian article with everything its page can show, and two more around it."""
    author = make_user("olena", display_name="Олена Коваль")
    make_user("taras", display_name="Тарас Шевчук")
    for day in (1, 2):
        make_article(
            f"Вибори в громадах, день {day}",
            body="Підрахунок голосів триває. Вибори пройшли спокійно.",
            section="Політика",
            featured=True,
            published_at=PUBLISHED - timedelta(days=day),
        )
    return make_article(
        "Україна готується до зими",
        slug="ukraina-hotuietsia",
        summary="Енергетики ремонтують мережі.",
        dateline="Київ, Україна",
        body="Україна готується до зими.\n\n## Мережі\n\nРемонт.\n\n## Вибори\n\nНавесні.",
        section="Політика",
        tags=["вибори"],
        author_id=author.id,
        featured=True,
        published_at=PUBLISHED,
        revised_at=PUBLISHED + timedelta(days=1),
    )


# Each page of a reader (and of someone signing in) with words it must show in Ukrainian.
UKRAINIAN_PAGES = {
    "/": ["Останні публікації", "Старіші →", "Сторінка 1 з 2"],
    "/articles/ukraina-hotuietsia": [
        f"Київ, Україна – 26 жовтня {YEAR} – Україна готується",
        f"Автор: Олена Коваль · 26 жовтня {YEAR} · Оновлено 27 жовтня {YEAR}",
        "Зміст",
        "Рубрика: Політика",
        "Теги:",
    ],
    "/latest?page=2": ["Останні публікації", "← Новіші", "Старіші →", "Сторінка 2 з 3"],
    "/featured": ["Вибрані публікації", "Добірка нашої редакції.", f"26 жовт. {YEAR}"],
    "/sections/politika": ["Політика", "Стрічка", "Сторінка 1 з 3"],
    "/tags/vibori": ["Тег «вибори»", "Стрічка"],
    "/authors/olena": ["Олена Коваль", "Україна готується до зими", f"26 жовт. {YEAR}"],
    "/authors/taras": ["Тарас Шевчук", "Тут ще немає публікацій."],
    f"/search?q={quote('вибори')}": [
        "Слова для пошуку в публікаціях",
        "Запиту «вибори» відповідають 3 публікації.",
        "Наступні →",
    ],
    "/sidebars/latest": ["Останні публікації", "Усі останні публікації", f"25 жовт. {YEAR}"],
    "/sidebars/featured": ["Вибрані публікації", "Усі вибрані публікації", f"26 жовт. {YEAR}"],
    "/auth/login": ["Вхід для редакції", "Ім’я користувача", "Запам’ятати мене", "Увійти"],
    "/no-such-page": ["Сторінку не знайдено", "Ми не знайшли цієї сторінки.", "На головну"],
}


@pytest.mark.parametrize("path", UKRAINIAN_PAGES)
def test_ukrainian_site_shows_reader_pages_in_ukrainian(client, story, path):
    response = client.get(path)
    page = visible_text(response.text)
    for words in UKRAINIAN_PAGES[path]:
        assert words in page
    if not path.startswith("/sidebars/"):  # a fragment has no <html> or masthead
        assert '<html lang="uk">' in response.text
        for words in (
            "Перейти до основного вмісту",
            "Останні",
            "Вибране",
            "Пошук",
            "Усі публікації",
        ):
            assert words in page
    assert leftover_english(response.text) == []


def test_ukrainian_sign_in_explains_its_errors_in_ukrainian(client, uk, make_user):
    make_user("olena")
    token = csrf_token(client, "/auth/login")
    empty = client.post("/auth/login", data={"csrf_token": token})
    wrong = client.post(
        "/auth/login", data={"username": "olena", "password": "хибний", "csrf_token": token}
    )
    assert "Ви ще не ввійшли:" in visible_text(empty.text)
    assert "Це поле є обов'язковим." in visible_text(empty.text)  # WTForms' own catalog
    assert "Неправильне ім’я користувача або пароль." in visible_text(wrong.text)
    assert leftover_english(empty.text) == leftover_english(wrong.text) == []


def test_english_site_keeps_news_style_dates(client, make_article):
    make_article("Earlier", published_at=PUBLISHED - timedelta(days=1))
    article = make_article(dateline="Kyiv, Ukraine", published_at=PUBLISHED)
    page = client.get(f"/articles/{article.slug}").text
    assert '<html lang="en">' in page
    assert '<span class="dateline">Kyiv, Ukraine – October 26, 2023 – </span>' in page
    assert "October 26, 2023</time>" in page
    assert "Oct 25, 2023</time>" in client.get(f"/sidebars/latest?exclude={article.id}").text


@pytest.mark.parametrize(
    ("language", "formatted", "expected"),
    [
        ("en", long_date, "October 26, 2023"),
        ("uk", long_date, f"26 жовтня {YEAR}"),
        ("en", short_date, "Oct 26, 2023"),
        ("uk", short_date, f"26 жовт. {YEAR}"),
        ("en", clock, "09:00"),
        ("uk", clock, "09:00"),
    ],
)
def test_dates_follow_the_site_language(app, language, formatted, expected):
    app.config["LANGUAGE"] = language
    with app.app_context():
        assert formatted(PUBLISHED) == expected


def test_dates_are_the_newsroom_day_in_its_time_zone(app):
    app.config.update(LANGUAGE="uk", TIMEZONE="Europe/Kyiv")
    late = datetime(2025, 2, 24, 22, 30, tzinfo=UTC)  # already the 25th in Kyiv
    with app.app_context():
        year = "2025\u202fр."
        assert (long_date(late), short_date(late)) == (f"25 лютого {year}", f"25 лют. {year}")
        assert clock(late, zone=True) == "00:30 EET"


def test_dateline_is_written_in_the_site_language_when_the_article_is_saved(uk, make_article):
    article = make_article(dateline="Львів, Україна", published_at=PUBLISHED)
    assert (
        f'<span class="dateline">Львів, Україна – 26 жовтня {YEAR} – </span>' in article.body_html
    )


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (1, "відповідає 1 публікація."),
        (3, "відповідають 3 публікації."),
        (5, "відповідають 5 публікацій."),
        (11, "відповідають 11 публікацій."),
        (21, "відповідає 21 публікація."),
        (22, "відповідають 22 публікації."),
    ],
)
def test_search_count_takes_the_ukrainian_plural_form(uk, count, words):
    with uk.test_request_context():
        results = SimpleNamespace(total=count)
        status = render_template("search/_status.html", results=results, q="мир")
    assert status == f"Запиту «мир» {words}"


def test_ukrainian_feed_names_its_language(client, story):
    feed = client.get("/feed.rss").text
    assert "<language>uk</language>" in feed
    assert "<description>Останні публікації сайту Вісті</description>" in feed


def test_unknown_language_is_refused_at_startup(tmp_path):
    with pytest.raises(ValueError, match=r"LANGUAGE is 'fr'; Dateline speaks en, uk"):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'site.db'}",
                "LANGUAGE": "fr",
            }
        )


def test_error_page_names_are_werkzeugs_in_english():
    assert {code: str(name) for code, name in ERROR_NAMES.items()} == {
        code: default_exceptions[code]().name for code in ERROR_NAMES
    }


def test_lazily_translated_text_is_escaped_in_templates(app):
    with app.test_request_context():
        page = render_template_string("{{ text }} {{ text|string }}", text=_l("<b>&"))
    assert page == "&lt;b&gt;&amp; &lt;b&gt;&amp;"


def test_lazily_translated_labels_and_choices_are_escaped_once(app):
    class Form(FlaskForm):
        name = StringField(_l("Q&A <b>"), description=_l("Hint & <i>"))
        kind = SelectField(_l("Kind"), choices=[SelectChoice("qa", _l("Q&A"))])

    template = (
        '{% from "macros/forms.html" import field %}{{ field(form.name) }}{{ field(form.kind) }}'
    )
    with app.test_request_context():
        page = render_template_string(template, form=Form(meta={"csrf": False}))
    assert '<label for="name">Q&amp;A &lt;b&gt;</label>' in page
    assert ">Hint &amp; &lt;i&gt;</p>" in page
    assert '<option value="qa">Q&amp;A</option>' in page
    assert "&amp;amp;" not in page


def _compiled(catalog: Catalog) -> dict[tuple[str, ...], tuple[str, ...]]:
    """What gettext finds in ``catalog``: each English id and its translations."""
    return {_ids(message): _texts(message) for message in catalog if message.id}


def test_committed_mo_is_the_po_compiled():
    fresh = BytesIO()
    write_mo(fresh, ukrainian())
    fresh.seek(0)
    with (CATALOG / "messages.mo").open("rb") as file:
        committed = read_mo(file)
    assert _compiled(committed) == _compiled(read_mo(fresh))
    assert committed.plural_forms == ukrainian().plural_forms


def test_translations_keep_the_placeholders_of_their_message():
    wrong = {}
    for message in ukrainian():
        expected = {name for english in _ids(message) for name in PLACEHOLDER.findall(english)}
        for text in filter(None, _texts(message)):
            if set(PLACEHOLDER.findall(text)) != expected:
                wrong[_ids(message)[0]] = text
    assert wrong == {}


def _extracted_messages() -> dict[tuple[str, str | None], str]:
    """Every message in the code now, as ``make translations`` extracts it: the same babel.cfg
    and keywords, read from the Makefile.
    """
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    keywords_line = re.search(r"^BABEL_KEYWORDS := (.*)$", (ROOT / "Makefile").read_text(), re.M)
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(keywords_line[1].split())}
    found = extract_from_dir(ROOT, method_map, options_map, keywords=keywords)
    return {
        (message if isinstance(message, str) else message[0], context): f"{path}:{line}"
        for path, line, message, _comments, context in found
    }


def test_every_message_in_the_code_has_a_ukrainian_translation():
    catalog = ukrainian()
    untranslated = {}
    for (msgid, context), place in _extracted_messages().items():
        message = catalog.get(msgid, context)
        if message is None or message.fuzzy or not all(_texts(message)):
            untranslated[msgid] = place
    assert untranslated == {}, f"{len(untranslated)} messages need Ukrainian (make translations)"
