"""The editor: the article form with good and bad input, roles, uploads, preview, slug check."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from PIL import Image

from blog.extensions import db
from blog.models import Article, AuditEvent
from tests.conftest import PASSWORD, csrf_token


def image_file(kind: str = "JPEG", size: tuple[int, int] = (40, 30)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(buffer, kind)
    buffer.seek(0)
    return buffer


def form_data(client, url: str = "/editor/articles/new", **fields) -> dict:
    data = {
        "csrf_token": csrf_token(client, url),
        "title": "Council approves budget",
        "summary": "A short dek.",
        "dateline": "Millbrook",
        "body": (
            "The council voted.\n\n## Vote\n\nSeven members voted for the budget and two "
            "against it, after a debate that ran late into the evening at the town hall on Main "
            "Street.\n\n## Next\n\nThe mayor signs the budget this week, and the new rates for "
            "water, parking and waste collection take effect on the first of next month."
        ),
        "section": "Local",
        "tags": "council, budget, Council",
        "status": "published",
        "published_at": "",
        "hero_alt": "",
        "hero_caption": "",
        "hero_credit": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def stored(app, **filters) -> Article | None:
    with app.app_context():
        article = db.session.scalar(sa.select(Article).filter_by(**filters))
        if article is not None:
            _ = article.tags, article.section
            db.session.expunge(article)
        return article


def test_anonymous_users_are_sent_to_sign_in(client):
    for url in ("/editor/", "/editor/articles/new", "/editor/articles/1/edit", "/editor/rows"):
        response = client.get(url)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/auth/login?next=")


def test_signed_out_htmx_request_gets_a_notice_and_the_page_stays(client):
    response = client.get(
        "/editor/rows?q=x",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/editor/articles/3/edit"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#session-notice"
    assert "HX-Redirect" not in response.headers and "<html" not in response.text
    assert 'href="/auth/login?next=/editor/articles/3/edit" target="_blank"' in response.text


def test_form_posted_after_sign_out_comes_back_with_its_text(client):
    data = {"title": "My scoop", "body": "Words I must not lose", "csrf_token": "stale"}
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 401
    assert "Words I must not lose" in response.text and "My scoop" in response.text
    assert 'action="/auth/login?next=/editor/articles/new"' in response.text


def test_field_hints_are_text_even_when_translated_lazily(client, auth):
    """A lazily translated hint passes as markup in Jinja; the form must still escape it."""
    auth.login("writer")
    page = client.get("/editor/articles/new").text
    assert "The address: /articles/&lt;slug&gt;." in page


def test_editor_publishes_an_article_through_the_form(app, client, auth):
    auth.login("editor")
    response = client.post("/editor/articles/new", data=form_data(client))
    assert response.status_code == 303
    article = stored(app, slug="council-approves-budget")
    assert article.status == "published" and article.published_at is not None
    assert article.section.name == "Local"
    assert sorted(tag.name for tag in article.tags) == ["budget", "council"]
    assert '<h2 id="h-vote">Vote</h2>' in article.body_html
    assert [entry["id"] for entry in article.toc] == ["h-vote", "h-next"]
    assert "Millbrook – " in article.body_html
    assert client.get("/articles/council-approves-budget").status_code == 200


def test_form_with_errors_keeps_everything_typed_and_marks_the_field(client, auth):
    auth.login("editor")
    body = "A long body I must not lose.\n\n<b>with html</b>"
    response = client.post("/editor/articles/new", data=form_data(client, title="", body=body))
    assert response.status_code == 422
    page = response.text
    assert "A long body I must not lose." in page and "&lt;b&gt;with html&lt;/b&gt;" in page
    assert 'value="A short dek."' not in page and "A short dek." in page
    assert 'aria-invalid="true"' in page and 'id="title-error"' in page
    assert "This field is required." in page


def test_duplicate_slug_is_refused_with_a_message(client, auth, make_article):
    make_article("Existing", slug="taken-slug")
    auth.login("editor")
    response = client.post("/editor/articles/new", data=form_data(client, slug="taken-slug"))
    assert response.status_code == 422
    assert "Another article already uses this slug." in response.text


def test_malformed_slug_gets_a_suggestion(client, auth):
    auth.login("editor")
    response = client.post("/editor/articles/new", data=form_data(client, slug="Hello World!"))
    assert response.status_code == 422 and "hello-world" in response.text


def test_empty_slug_is_made_unique_from_the_title(app, client, auth, make_article):
    make_article("Council approves budget", slug="council-approves-budget")
    auth.login("editor")
    client.post("/editor/articles/new", data=form_data(client, status="draft"))
    assert stored(app, slug="council-approves-budget-2") is not None


def test_publishing_needs_a_body(client, auth):
    auth.login("editor")
    response = client.post("/editor/articles/new", data=form_data(client, body="  "))
    assert response.status_code == 422 and "A published article needs a body." in response.text


def test_bad_publication_time_is_refused(client, auth):
    auth.login("editor")
    response = client.post("/editor/articles/new", data=form_data(client, published_at="tomorrow"))
    assert response.status_code == 422 and 'id="published_at-error"' in response.text


def test_future_publication_time_schedules_the_article(app, client, auth):
    auth.login("editor")
    client.post("/editor/articles/new", data=form_data(client, published_at="2099-01-01T09:00"))
    assert "/articles/council-approves-budget" not in client.get("/latest").text
    reader = app.test_client()
    assert reader.get("/articles/council-approves-budget").status_code == 404


def test_xss_in_the_body_is_cleaned_on_save(app, client, auth):
    auth.login("editor")
    body = "<img src=x onerror=alert(1)><script>alert(2)</script>[x](javascript:alert(3))"
    client.post("/editor/articles/new", data=form_data(client, body=body, status="draft"))
    article = stored(app, slug="council-approves-budget")
    assert "onerror" not in article.body_html and "<script" not in article.body_html
    assert 'href="javascript' not in article.body_html
    assert article.body == body


def test_editing_changes_the_article_and_keeps_its_slug(app, client, auth, make_article):
    article = make_article("Before", slug="stays")
    auth.login("editor")
    url = f"/editor/articles/{article.id}/edit"
    page = client.get(url).text
    assert 'value="Before"' in page and 'value="stays"' in page
    response = client.post(url, data=form_data(client, url, title="After", slug="stays"))
    assert response.status_code == 303
    assert stored(app, id=article.id).title == "After"


def test_writer_cannot_publish_or_feature(app, client, auth):
    auth.login("writer")
    page = client.get("/editor/articles/new").text
    assert '<option disabled value="published">' in page and 'name="featured"' not in page
    response = client.post("/editor/articles/new", data=form_data(client))
    assert response.status_code == 422 and "Only editors can publish." in response.text
    response = client.post(
        "/editor/articles/new", data=form_data(client, status="draft", featured="y")
    )
    assert response.status_code == 422 and "Only editors can feature articles." in response.text
    assert stored(app, slug="council-approves-budget") is None


def test_a_published_article_is_changed_by_editors_only(app, client, auth, make_article):
    writer = auth.login("writer")
    article = make_article("Typo in here", author_id=writer.id, slug="typo")
    url = f"/editor/articles/{article.id}/edit"
    assert client.get(url).status_code == 403
    token = csrf_token(client, "/editor/articles/new")
    response = client.post(url, data={"csrf_token": token, "title": "Changed", "status": "draft"})
    assert response.status_code == 403
    assert stored(app, id=article.id).title == "Typo in here"


def test_writer_saves_a_draft(app, client, auth):
    auth.login("writer")
    response = client.post("/editor/articles/new", data=form_data(client, status="draft"))
    assert response.status_code == 303
    assert stored(app, slug="council-approves-budget").published_at is None


def test_writer_cannot_edit_or_delete_others_work(client, auth, make_article):
    article = make_article("Someone else's")
    auth.login("writer")
    assert client.get(f"/editor/articles/{article.id}/edit").status_code == 403
    token = csrf_token(client, "/editor/articles/new")
    edit = client.post(
        f"/editor/articles/{article.id}/edit", data={"csrf_token": token, "title": "Mine"}
    )
    assert edit.status_code == 403
    delete = client.post(f"/editor/articles/{article.id}/delete", data={"csrf_token": token})
    assert delete.status_code == 403
    assert client.get(f"/articles/{article.slug}").status_code == 200


def test_unknown_article_is_404_in_the_editor(client, auth):
    auth.login("editor")
    assert client.get("/editor/articles/999/edit").status_code == 404


def test_delete_asks_first_then_moves_to_the_trash(app, client, auth, make_article):
    article = make_article("Doomed")
    auth.login("editor")
    confirm = client.get(f"/editor/articles/{article.id}/delete")
    assert confirm.status_code == 200 and "Move “Doomed” to the trash?" in confirm.text
    assert "Readers will no longer see it." in confirm.text
    assert stored(app, id=article.id).deleted_at is None
    token = csrf_token(client, f"/editor/articles/{article.id}/delete")
    response = client.post(f"/editor/articles/{article.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/editor/"
    trashed = stored(app, id=article.id)
    assert trashed.deleted_at is not None and trashed.status == "draft"
    assert client.get(f"/articles/{article.slug}").status_code == 200  # staff still see it
    assert app.test_client().get(f"/articles/{article.slug}").status_code == 404


def test_hero_upload_is_stored_under_a_generated_name(app, client, auth):
    auth.login("editor")
    data = form_data(client, hero_alt="An orange square", hero_caption="Cap", hero_credit="Me")
    data["hero_image"] = (image_file(), "../../etc/passwd.jpg")
    assert client.post("/editor/articles/new", data=data).status_code == 303
    article = stored(app, slug="council-approves-budget")
    assert article.hero_image.endswith(".jpg") and "passwd" not in article.hero_image
    assert (article.hero_width, article.hero_height) == (40, 30)
    with client.get(f"/media/{article.hero_image}") as media:
        assert media.status_code == 200 and media.mimetype == "image/jpeg"
        assert "immutable" in media.headers["Cache-Control"]


def test_image_needs_alt_text_and_the_upload_survives_the_error(app, client, auth):
    auth.login("editor")
    data = form_data(client)
    data["hero_image"] = (image_file("PNG"), "square.png")
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 422
    assert "Describe the image" in response.text
    kept = response.text.split('name="hero_upload" type="hidden" value="')[1].split('"')[0]
    assert kept.endswith(".png")
    retry = form_data(client, hero_upload=kept, hero_alt="An orange square")
    assert client.post("/editor/articles/new", data=retry).status_code == 303
    assert stored(app, slug="council-approves-budget").hero_image == kept


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "empty.jpg"),
        (b"%PDF-1.4 not an image", "report.jpg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg"),
        (image_file().getvalue()[:200], "truncated.jpg"),
    ],
    ids=["empty", "pdf-renamed", "svg", "truncated-jpeg"],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(app, client, auth, content, name):
    auth.login("editor")
    data = form_data(client, hero_alt="alt")
    data["hero_image"] = (io.BytesIO(content), name)
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 422
    assert 'id="hero_image-error"' in response.text
    assert stored(app, slug="council-approves-budget") is None


def test_forged_hero_upload_name_is_refused(client, auth):
    auth.login("editor")
    data = form_data(client, hero_upload="../secret_key", hero_alt="alt")
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 422 and "choose the file again" in response.text


def test_preview_renders_through_the_save_pipeline(client, auth, hx):
    auth.login("editor")
    token = csrf_token(client, "/editor/articles/new")
    response = hx.post(
        "/editor/preview",
        data={"body": "## Hi\n\n<script>alert(1)</script>\n\n**bold**", "dateline": "Kyiv"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert '<h2 id="h-hi">Hi</h2>' in response.text and "<strong>bold</strong>" in response.text
    assert "<script" not in response.text and "alert" not in response.text
    assert "<html" not in response.text


def test_preview_without_csrf_token_is_refused(client, auth, hx):
    auth.login("editor")
    response = hx.post("/editor/preview", data={"body": "**x**"})
    assert "<strong>" not in response.text and "security token is out of date" in response.text
    assert client.post("/editor/preview", data={"body": "x"}).status_code == 400


def test_slug_check_answers_inline(client, auth, make_article):
    make_article("Taken", slug="taken")
    auth.login("editor")
    taken = client.get("/editor/slug-check?slug=taken").text
    assert "is taken by “Taken”" in taken and "taken-2" in taken
    assert "/articles/free-one is free" in client.get("/editor/slug-check?slug=free-one").text
    assert "Slugs use lowercase" in client.get("/editor/slug-check?slug=Bad Slug").text
    suggested = client.get("/editor/slug-check?slug=&title=Taken").text
    assert "/articles/taken-2" in suggested


def test_slug_check_accepts_an_articles_own_slug(client, auth, make_article):
    article = make_article("Mine", slug="mine")
    auth.login("editor")
    assert "is free" in client.get(f"/editor/slug-check?slug=mine&article_id={article.id}").text


def test_dashboard_lists_and_filters(client, auth, make_article):
    make_article("Bridge repairs begin")
    make_article("Library reopens", status="draft", published_at=None)
    auth.login("editor")
    page = client.get("/editor/").text
    assert "Bridge repairs begin" in page and "Library reopens" in page
    filtered = client.get("/editor/?q=bridge").text
    assert "Bridge repairs begin" in filtered and "Library reopens" not in filtered
    rows = client.get("/editor/rows?q=draft", headers={"HX-Request": "true"})
    assert "Library reopens" in rows.text and "Bridge repairs begin" not in rows.text
    assert rows.headers["HX-Replace-Url"] == "/editor/?q=draft"
    assert rows.text.lstrip().startswith('<tbody id="article-rows"')


def test_post_without_csrf_token_is_refused_and_changes_nothing(app, client, auth):
    auth.login("editor")
    data = form_data(client)
    del data["csrf_token"]
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 422 and "The form had expired" in response.text
    assert "The council voted." in response.text and 'name="csrf_token"' in response.text
    assert stored(app, slug="council-approves-budget") is None


def test_too_large_upload_gets_a_page_not_a_crash(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    auth.login("editor")
    data = form_data(client, hero_alt="alt")
    data["hero_image"] = (io.BytesIO(b"x" * 5000), "big.jpg")
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 413 and "too large" in response.text


def test_preview_dateline_uses_the_typed_publication_time(client, auth, hx):
    auth.login("editor")
    token = csrf_token(client, "/editor/articles/new")
    data = {"body": "Text.", "dateline": "Kyiv", "published_at": "2023-10-26T09:00"}
    response = hx.post("/editor/preview", data=data, headers={"X-CSRFToken": token})
    assert "Kyiv – October 26, 2023 – " in response.text


def test_backdated_publication_shows_no_update_but_a_later_edit_does(client, auth):
    auth.login("editor")
    data = form_data(client, published_at="2024-03-01T10:00")
    client.post("/editor/articles/new", data=data)
    assert "Updated" not in client.get("/articles/council-approves-budget").text
    url = "/editor/articles/1/edit"
    client.post(
        url,
        data=form_data(
            client,
            url,
            slug="council-approves-budget",
            published_at="2024-03-01T10:00",
            summary="Corrected.",
        ),
    )
    assert "· Updated <time" in client.get("/articles/council-approves-budget").text


@pytest.mark.parametrize(
    ("zone", "typed"), [("Asia/Tokyo", "0001-01-01T00:00"), ("America/Chicago", "9999-12-31T23:59")]
)
def test_publication_times_outside_the_calendar_are_refused(app, client, auth, zone, typed):
    app.config["TIMEZONE"] = zone
    auth.login("editor")
    response = client.post("/editor/articles/new", data=form_data(client, published_at=typed))
    assert response.status_code == 422 and "Choose a date between" in response.text


def test_dashboard_filter_treats_percent_and_underscore_as_text(client, auth, make_article):
    make_article("Turnout up 40% this year")
    make_article("Plain headline")
    auth.login("editor")
    assert "Plain headline" not in client.get("/editor/?q=%25").text
    assert "Turnout up 40%" in client.get("/editor/?q=40%25").text
    assert "No article matches" in client.get("/editor/?q=_").text


def test_edit_post_missing_fields_is_a_form_error_not_a_crash(client, auth, make_article):
    article = make_article("Partial", section="Local", tags=["a"])
    auth.login("editor")
    url = f"/editor/articles/{article.id}/edit"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "status": "draft"})
    assert response.status_code == 422 and 'id="title-error"' in response.text


def test_phone_jpeg_variants_and_rotated_photos_are_measured_as_shown(app, client, auth):
    auth.login("editor")
    rotated = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # turned a quarter: shown 30 wide and 40 high
    Image.new("RGB", (40, 30), "navy").save(rotated, "JPEG", exif=exif)
    rotated.seek(0)
    data = form_data(client, hero_alt="A navy rectangle")
    data["hero_image"] = (rotated, "phone.jpg")
    assert client.post("/editor/articles/new", data=data).status_code == 303
    article = stored(app, slug="council-approves-budget")
    assert (article.hero_width, article.hero_height) == (30, 40)
    mpo = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(mpo, "MPO")
    mpo.seek(0)
    data = form_data(client, title="Second", hero_alt="A red rectangle")
    data["hero_image"] = (mpo, "camera.jpg")
    assert client.post("/editor/articles/new", data=data).status_code == 303
    assert stored(app, slug="second").hero_image.endswith(".jpg")


def test_save_clashing_with_a_simultaneous_one_comes_back_with_the_text(
    app, client, auth, monkeypatch
):
    auth.login("editor")
    data = form_data(client, body="Text typed during a clash.", status="draft")
    real_flush = db.session.flush

    def clash(*args, **kwargs):
        raise sa.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(db.session, "flush", clash)
    response = client.post("/editor/articles/new", data=data)
    monkeypatch.setattr(db.session, "flush", real_flush)
    assert response.status_code == 422
    assert "Another save at the same moment" in response.text
    assert "Text typed during a clash." in response.text
    assert stored(app, slug="council-approves-budget") is None
    assert client.post("/editor/articles/new", data=form_data(client)).status_code == 303


def test_simultaneous_saves_with_one_headline_never_fail_with_a_500(app, make_user):
    make_user("ed", role="editor")
    clients = []
    for _ in range(8):
        client = app.test_client()
        token = csrf_token(client, "/auth/login")
        data = {"username": "ed", "password": PASSWORD, "csrf_token": token}
        assert client.post("/auth/login", data=data).status_code == 303
        clients.append((client, form_data(client, title="Same headline")))
    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(
            pool.map(lambda c: c[0].post("/editor/articles/new", data=c[1]).status_code, clients)
        )
    assert set(statuses) <= {303, 422} and 303 in statuses
    with app.app_context():
        slugs = db.session.scalars(sa.select(Article.slug)).all()
    assert len(slugs) == statuses.count(303) and len(set(slugs)) == len(slugs)


def test_saving_says_when_a_scheduled_article_goes_out_and_the_log_keeps_it(app, client, auth):
    auth.login("editor")
    data = form_data(client, published_at="2099-01-01T09:30")
    response = client.post("/editor/articles/new", data=data, follow_redirects=True)
    assert "Readers see it from January 1, 2099 at 09:30 UTC." in response.text
    assert "<strong>Scheduled:</strong> readers see it from January 1, 2099 at 09:30 UTC." in (
        response.text
    )
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "schedule"))
        assert event.detail == "For January 1, 2099, 09:30 UTC."


def test_a_writer_submitting_for_review_is_told_it_waits_for_an_editor(client, auth):
    auth.login("writer")
    data = form_data(client, status="review")
    response = client.post("/editor/articles/new", data=data, follow_redirects=True)
    assert "Saved “Council approves budget”. It waits for an editor&#39;s review." in (
        response.text
    )
