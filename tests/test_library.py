"""The media library: uploads, the grid and its search, descriptions, deleting, and who may."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from PIL import Image

from blog import content, images
from blog.database import MIGRATIONS
from blog.extensions import db
from blog.library import PAGE_SIZE
from blog.models import Article, MediaItem, User
from tests.conftest import app_at_revision, csrf_token
from tests.test_editor import form_data, image_file, stored
from tests.test_images import noisy_jpeg
from tests.test_queries import counted
from tests.test_site import assert_same_with_or_without_htmx

LIBRARY = "/editor/media"


def picture(shade: int = 90, size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG file of one shade of grey: each shade is another image."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (shade, shade, shade)).save(buffer, "JPEG")
    return buffer.getvalue()


def upload(
    client: FlaskClient, data: bytes | None = None, filename: str = "harbour.jpg", **fields: str
) -> object:
    """Post the upload form as the library page fills it."""
    form = {"csrf_token": csrf_token(client, LIBRARY), "alt": "", "caption": "", "credit": ""}
    form |= fields
    if data is not None:
        form["image"] = (io.BytesIO(data), filename)
    return client.post(LIBRARY, data=form, content_type="multipart/form-data")


def add_items(app: Flask, count: int, by: User | None = None, **fields: str) -> list[int]:
    """``count`` library items without files, each a minute newer than any before; their ids.

    Their alt texts are ``Picture 0``, ``Picture 1`` … unless ``alt`` is given.
    """
    with app.app_context():
        made = db.session.scalar(sa.select(sa.func.count()).select_from(MediaItem))
        items = [
            MediaItem(
                name=f"{made + n:032x}.jpg",
                width=640,
                height=360,
                alt=fields.get("alt", f"Picture {n}"),
                caption=fields.get("caption", ""),
                uploaded_by_id=by.id if by else None,
                created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=made + n),
            )
            for n in range(count)
        ]
        db.session.add_all(items)
        db.session.commit()
        return [item.id for item in items]


def alts(html: str) -> list[str]:
    """The alt texts of the cards in ``html``, in order."""
    return re.findall(r'<p class="media-card__alt">([^<]*)</p>', html)


def item_named(app: Flask, name: str) -> MediaItem | None:
    """The library item of the stored file ``name``."""
    with app.app_context():
        return db.session.scalar(sa.select(MediaItem).where(MediaItem.name == name))


def items(app: Flask) -> list[MediaItem]:
    """Every library item."""
    with app.app_context():
        return list(db.session.scalars(sa.select(MediaItem).order_by(MediaItem.id)))


# --- uploading ----------------------------------------------------------------------------------


def test_an_upload_joins_the_library_described_and_ready_to_use(app, client, auth, tmp_path):
    writer = auth.login("writer")
    response = upload(
        client, picture(), alt="Boats in the harbour", caption="At dawn", credit="Ana Lee"
    )

    [item] = items(app)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{LIBRARY}#media-{item.id}"
    assert (item.alt, item.caption, item.credit) == ("Boats in the harbour", "At dawn", "Ana Lee")
    assert (item.width, item.height, item.uploaded_by_id) == (64, 48, writer.id)
    assert (tmp_path / "media" / item.name).is_file()
    page = client.get(LIBRARY).text
    assert "Added “Boats in the harbour” to the library." in page
    assert alts(page) == ["Boats in the harbour"]
    assert f'value="![Boats in the harbour](/media/{item.name})"' in page
    assert f'src="/media/{item.name}" width="64" height="48" alt=""' in page
    assert 'loading="lazy"' in page and "Writer, <time" in page


def test_a_file_that_is_no_image_comes_back_422_with_the_reason_and_the_text(app, client, auth):
    auth.login("writer")
    response = upload(client, b"not a picture", filename="notes.txt", alt="Boats", caption="Dawn")

    assert response.status_code == 422
    with app.app_context(), pytest.raises(images.ImageRejected) as rejected:
        images.store(io.BytesIO(b"not a picture"))
    assert f'id="image-error">{escape(rejected.value)}</p>' in response.text
    assert 'value="Boats"' in response.text and 'value="Dawn"' in response.text
    assert items(app) == []


def test_an_upload_without_alt_text_keeps_the_image_until_it_is_described(app, client, auth):
    auth.login("writer")
    response = upload(client, picture(), caption="At dawn")

    assert response.status_code == 422
    assert 'id="alt-error">Describe the image for people who cannot see it.' in response.text
    assert "Uploaded; it is kept while you fix the form." in response.text
    kept = re.search(r'name="upload" type="hidden" value="([^"]+)"', response.text).group(1)
    assert items(app) == []

    assert upload(client, upload=kept, alt="Boats", caption="At dawn").status_code == 303
    assert [(item.name, item.alt) for item in items(app)] == [(kept, "Boats")]


def test_an_upload_needs_a_file(client, auth):
    auth.login("writer")
    response = upload(client, alt="Boats")
    assert response.status_code == 422
    assert 'id="image-error">Choose an image file to upload.' in response.text


def test_an_image_already_in_the_library_keeps_its_description(app, client, auth):
    auth.login("writer")
    upload(client, picture(), alt="Boats in the harbour")
    response = upload(client, picture(), alt="Something else")

    assert response.status_code == 303
    assert [item.alt for item in items(app)] == ["Boats in the harbour"]
    assert "already in the library, as “Boats in the harbour”" in client.get(LIBRARY).text


def test_a_long_description_is_refused_with_the_limit(app, client, auth):
    auth.login("writer")
    response = upload(client, picture(), alt="a" * 301, credit="c" * 121)
    assert response.status_code == 422
    assert "Field cannot be longer than 300 characters." in response.text
    assert "Field cannot be longer than 120 characters." in response.text
    assert items(app) == []


def test_an_expired_form_comes_back_with_its_text(app, client, auth):
    auth.login("writer")
    form = {"csrf_token": "stale", "alt": "Boats", "image": (io.BytesIO(picture()), "a.jpg")}
    response = client.post(LIBRARY, data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "The form had expired" in response.text and 'value="Boats"' in response.text
    assert items(app) == []


def test_a_hero_image_saved_with_an_article_joins_the_library_once(app, client, auth):
    editor = auth.login("editor")
    for title in ("Harbour reopens", "Harbour again"):
        form = {
            "csrf_token": csrf_token(client, "/editor/articles/new"),
            "title": title,
            "body": "Boats are back.",
            "status": "draft",
            "hero_image": (io.BytesIO(picture()), "hero.jpg"),
            "hero_alt": "Boats at the quay",
            "hero_caption": "Monday morning",
            "hero_credit": "Ana Lee",
        }
        response = client.post(
            "/editor/articles/new", data=form, content_type="multipart/form-data"
        )
        assert response.status_code == 303, response.text

    [item] = items(app)
    assert (item.alt, item.caption, item.credit) == (
        "Boats at the quay",
        "Monday morning",
        "Ana Lee",
    )
    assert item.uploaded_by_id == editor.id
    with app.app_context():
        heroes = db.session.scalars(sa.select(Article.hero_image)).all()
    assert heroes == [item.name, item.name]


# --- the grid: pages, "More" and search ---------------------------------------------------------


def test_the_grid_shows_the_newest_first_a_page_at_a_time(app, client, auth):
    auth.login("writer")
    add_items(app, PAGE_SIZE + 6)
    newest = [f"Picture {n}" for n in range(PAGE_SIZE + 5, -1, -1)]

    first = client.get(LIBRARY).text
    assert alts(first) == newest[:PAGE_SIZE]
    assert f"{PAGE_SIZE + 6} images, newest first." in first
    assert f'href="{LIBRARY}?page=2"' in first
    assert f'hx-get="{LIBRARY}/grid?page=2"' in first
    assert 'rel="prev"' not in first

    second = client.get(f"{LIBRARY}?page=2").text
    assert alts(second) == newest[PAGE_SIZE:]
    assert "More images" not in second
    assert f'<a rel="prev" href="{LIBRARY}">← Newer images</a>' in second
    assert client.get(f"{LIBRARY}?page=3").status_code == 404


def test_more_answers_the_next_cards_without_changing_the_address(app, client, hx, auth):
    auth.login("writer")
    add_items(app, PAGE_SIZE * 2 + 1)

    response = hx.get(f"{LIBRARY}/grid?page=2")

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "HX-Replace-Url" not in response.headers
    assert len(alts(response.text)) == PAGE_SIZE
    assert response.text.count("data-focus") == 1  # the first new card takes the focus
    assert f'hx-get="{LIBRARY}/grid?page=3"' in response.text
    assert "hx-swap-oob" not in response.text
    last = hx.get(f"{LIBRARY}/grid?page=3")
    assert len(alts(last.text)) == 1 and "More images" not in last.text
    assert hx.get(f"{LIBRARY}/grid?page=4").status_code == 404


def test_search_finds_alt_text_and_captions_and_names_the_full_page(app, client, hx, auth):
    auth.login("writer")
    add_items(app, 2, alt="Ferry at the pier")
    add_items(app, 1, alt="Boats", caption="The HARBOUR at dawn")
    add_items(app, 1, alt="Harbour wall")
    add_items(app, 1, alt="100% sure")

    response = hx.get(f"{LIBRARY}/grid?q=harbour")

    assert response.headers["HX-Replace-Url"] == f"{LIBRARY}?q=harbour"
    assert alts(response.text) == ["Harbour wall", "Boats"]
    assert '<p id="media-status" hx-swap-oob="innerHTML">2 images match “harbour”.' in response.text
    assert '<div id="media-pager" hx-swap-oob="true"></div>' in response.text
    assert alts(client.get(f"{LIBRARY}?q=harbour").text) == ["Harbour wall", "Boats"]
    assert alts(hx.get(f"{LIBRARY}/grid?q=%25").text) == ["100% sure"]
    nothing = hx.get(f"{LIBRARY}/grid?q=zeppelin")
    assert alts(nothing.text) == [] and "No image matches “zeppelin”." in nothing.text
    everything = hx.get(f"{LIBRARY}/grid?q=")
    assert everything.headers["HX-Replace-Url"] == LIBRARY
    assert len(alts(everything.text)) == 5


def test_more_keeps_the_search(app, client, auth):
    auth.login("writer")
    add_items(app, PAGE_SIZE + 1, alt="Harbour")
    add_items(app, 3, alt="Ferry")
    page = client.get(f"{LIBRARY}?q=harbour").text
    assert f'hx-get="{LIBRARY}/grid?q=harbour&amp;page=2"' in page
    assert f'href="{LIBRARY}?q=harbour&amp;page=2"' in page


def test_a_search_too_long_is_a_400_page(client, auth):
    auth.login("writer")
    for url in (f"{LIBRARY}?q={'x' * 201}", f"{LIBRARY}/grid?q={'x' * 201}"):
        response = client.get(url)
        assert response.status_code == 400 and "at most 200 characters" in response.text


def test_page_numbers_that_are_no_page_show_the_first_and_past_the_last_404(client, auth):
    auth.login("writer")
    for page in ("0", "-1", "x", "99999999999"):
        assert client.get(f"{LIBRARY}?page={page}").status_code == 200, page
    assert client.get(f"{LIBRARY}?page=2").status_code == 404


def test_a_page_of_the_grid_costs_the_same_queries_for_many_uploaders(app, client, auth, make_user):
    auth.login("writer")
    add_items(app, 2, by=make_user("first"))
    with counted(app) as few:
        assert client.get(LIBRARY).status_code == 200
    for n in range(PAGE_SIZE):
        add_items(app, 1, by=make_user(f"uploader{n}"))
    with counted(app) as many:
        assert client.get(LIBRARY).status_code == 200
    assert len(many) == len(few)


def test_the_library_pages_are_the_same_with_or_without_htmx(app, client, auth):
    auth.login("editor")
    [item] = add_items(app, 1)
    pages = [LIBRARY, f"{LIBRARY}?q=picture", f"{LIBRARY}/{item}/edit", f"{LIBRARY}/{item}/delete"]
    assert_same_with_or_without_htmx(client, pages)


def test_the_masthead_links_to_the_library_for_the_newsroom_only(client, auth):
    assert f'href="{LIBRARY}"' not in client.get("/").text
    auth.login("writer")
    assert f'<a href="{LIBRARY}">Media</a>' in client.get("/").text


# --- the Markdown of a card ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "alt",
    ["Boats", "A [draft] sign", "Half] open", "*Not* emphasis_here", r"C:\path `x` <b> &amp;"],
)
def test_the_markdown_of_a_card_shows_the_image_with_its_alt_text(app, client, auth, alt):
    auth.login("writer")
    assert upload(client, picture(), alt=alt).status_code == 303
    [item] = items(app)
    snippet = re.search(
        r'id="markdown-\d+" type="text" readonly value="([^"]*)"', client.get(LIBRARY).text
    )
    markdown = snippet.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    markdown = markdown.replace("&#34;", '"').replace("&#39;", "'")
    with app.test_request_context():
        html = content.render(markdown).html
    shown = re.search(r'<img[^>]*alt="([^"]*)"', html)
    assert shown is not None, html
    assert shown.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == alt
    assert f"/media/{item.hash}" in html


# --- describing in place ------------------------------------------------------------------------


def description(client: FlaskClient, item_id: int, **fields: str) -> dict[str, str]:
    """The description form of an item as its page fills it, with ``fields``."""
    token = csrf_token(client, LIBRARY)
    prefix = f"media-{item_id}-"
    values = {"alt": "Picture", "caption": "", "credit": ""} | fields
    return {f"{prefix}csrf_token": token} | {prefix + name: v for name, v in values.items()}


def test_the_description_form_opens_in_place(app, hx, auth):
    auth.login("writer")
    [item_id] = add_items(app, 1, caption="Dawn")
    response = hx.get(f"{LIBRARY}/{item_id}/form")
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.lstrip().startswith(
        f'<li class="media-card media-card--editing" id="media-{item_id}"'
    )
    assert f'hx-post="{LIBRARY}/{item_id}/edit"' in response.text
    assert f'name="media-{item_id}-caption" type="text" value="Dawn"' in response.text
    assert f'hx-get="{LIBRARY}/{item_id}/card"' in response.text  # Cancel
    card = hx.get(f"{LIBRARY}/{item_id}/card")
    assert card.text.lstrip().startswith(f'<li class="media-card" id="media-{item_id}"')
    assert alts(card.text) == ["Picture 0"]


def test_a_description_saved_in_place_answers_the_card(app, client, hx, auth):
    auth.login("writer")
    [item_id] = add_items(app, 1)
    data = description(client, item_id, alt="Gulls on the pier", caption="Noon", credit="Ben")

    response = hx.post(f"{LIBRARY}/{item_id}/edit", data=data)

    assert response.status_code == 200 and "<html" not in response.text
    assert alts(response.text) == ["Gulls on the pier"]
    assert "Saved." in response.text and "Noon" in response.text
    [item] = items(app)
    assert (item.alt, item.caption, item.credit) == ("Gulls on the pier", "Noon", "Ben")


def test_a_description_with_errors_comes_back_in_place_with_the_text(app, client, hx, auth):
    auth.login("writer")
    [item_id] = add_items(app, 1)
    data = description(client, item_id, alt="", caption="Kept caption")

    response = hx.post(f"{LIBRARY}/{item_id}/edit", data=data)

    assert response.status_code == 200  # htmx swaps only a 2xx answer
    assert "Describe the image for people who cannot see it." in response.text
    assert 'value="Kept caption"' in response.text and "media-card--editing" in response.text
    assert items(app)[0].alt == "Picture 0"


def test_an_expired_description_form_comes_back_in_place_with_the_text(app, client, hx, auth):
    auth.login("writer")
    [item_id] = add_items(app, 1)
    data = description(client, item_id, alt="Gulls") | {f"media-{item_id}-csrf_token": "stale"}

    response = hx.post(f"{LIBRARY}/{item_id}/edit", data=data)

    assert response.status_code == 200
    assert "The form had expired and is renewed now: save again." in response.text
    assert 'value="Gulls"' in response.text
    assert items(app)[0].alt == "Picture 0"


def test_without_javascript_the_description_is_a_page_and_a_redirect(app, client, auth):
    auth.login("writer")
    [item_id] = add_items(app, 1)
    page = client.get(f"{LIBRARY}/{item_id}/edit")
    assert page.status_code == 200 and "<h1>Describe the image</h1>" in page.text

    refused = client.post(f"{LIBRARY}/{item_id}/edit", data=description(client, item_id, alt=" "))
    assert refused.status_code == 422 and "nothing you typed is lost" in refused.text

    saved = client.post(f"{LIBRARY}/{item_id}/edit", data=description(client, item_id, alt="Gulls"))
    assert saved.status_code == 303
    assert saved.headers["Location"] == f"{LIBRARY}#media-{item_id}"
    assert "Saved the description of “Gulls”." in client.get(LIBRARY).text


def test_unknown_items_are_404(client, hx, auth):
    auth.login("editor")
    for url in ("/1/edit", "/1/form", "/1/card", "/1/delete", "/0/edit", "/99999999999/card"):
        assert client.get(LIBRARY + url).status_code == 404, url


# --- deleting -----------------------------------------------------------------------------------


def delete(client: FlaskClient, item_id: int) -> object:
    """Confirm the deletion of an item."""
    token = csrf_token(client, LIBRARY)
    return client.post(f"{LIBRARY}/{item_id}/delete", data={"csrf_token": token})


def stored_item(app: Flask, client: FlaskClient, shade: int = 90) -> MediaItem:
    """An uploaded item, with two renditions beside its file."""
    assert upload(client, picture(shade), alt=f"Shade {shade}").status_code == 303
    item = items(app)[-1]
    folder = Path(app.config["MEDIA_DIR"])
    for rendition in (f"{item.hash}-480.webp", f"{item.hash}-960.jpg"):
        (folder / rendition).write_bytes(b"a rendition")
    return item


def files(app: Flask) -> list[str]:
    """The names in the media folder."""
    return sorted(path.name for path in Path(app.config["MEDIA_DIR"]).iterdir())


def test_an_unused_image_is_deleted_with_its_files_after_confirmation(app, client, auth):
    auth.login("editor")
    kept = stored_item(app, client, 40)
    kept_files = [name for name in files(app) if name.startswith(kept.hash)]
    gone = stored_item(app, client, 200)

    page = client.get(f"{LIBRARY}/{gone.id}/delete")
    assert page.status_code == 200 and "Delete this image?" in page.text
    response = delete(client, gone.id)

    assert response.status_code == 303 and response.headers["Location"] == LIBRARY
    assert [item.id for item in items(app)] == [kept.id]
    assert not any(name.startswith(gone.hash) for name in files(app))
    assert [name for name in files(app) if name.startswith(kept.hash)] == kept_files
    assert len(kept_files) >= 3
    assert "Deleted “Shade 200” and its files." in client.get(LIBRARY).text


@pytest.mark.parametrize("where", ["hero", "body"])
def test_an_image_in_use_is_not_deleted_and_its_articles_are_named(
    app, client, auth, make_article, where
):
    auth.login("editor")
    item = stored_item(app, client)
    if where == "hero":
        article = make_article("Harbour reopens", hero_image=item.name, hero_alt="Boats")
    else:
        article = make_article("Harbour reopens", body=f"Look: ![Boats](/media/{item.name})")
    make_article("Unrelated story")
    before = files(app)

    page = client.get(f"{LIBRARY}/{item.id}/delete")
    refused = delete(client, item.id)

    for response, status in ((page, 200), (refused, 409)):
        assert response.status_code == status
        assert "This image is in use" in response.text
        assert f'<a href="/editor/articles/{article.id}/edit">Harbour reopens</a>' in response.text
        assert ("its hero image" if where == "hero" else "in its body") in response.text
        assert "Unrelated story" not in response.text and "Delete the image" not in response.text
    assert [i.id for i in items(app)] == [item.id] and files(app) == before


def test_an_image_in_an_article_in_the_trash_is_in_use(app, client, auth, make_article):
    auth.login("editor")
    item = stored_item(app, client)
    make_article("Binned", hero_image=item.name, status="draft", deleted_at=datetime.now(UTC))
    response = delete(client, item.id)
    assert response.status_code == 409 and "in the trash" in response.text


def test_deleting_an_image_keeps_the_files_of_a_profile_photo_that_is_the_same_picture(
    app, client, auth
):
    auth.login("editor")
    item = stored_item(app, client)
    with app.app_context():
        person = db.session.scalar(sa.select(User).where(User.username == "editor"))
        person.photo = item.name
        db.session.commit()
    shared = [name for name in files(app) if name.startswith(item.hash)]

    assert delete(client, item.id).status_code == 303
    assert items(app) == [] and files(app) == shared
    assert "Deleted “Shade 90” from the library; a profile photo" in client.get(LIBRARY).text
    with client.get(f"/media/{item.name}") as photo:
        assert photo.status_code == 200


def test_writers_may_not_delete_and_see_no_delete_link(app, client, auth, make_user):
    auth.login("writer")
    [item_id] = add_items(app, 1)
    assert "Delete…" not in client.get(LIBRARY).text
    assert client.get(f"{LIBRARY}/{item_id}/delete").status_code == 403
    assert delete(client, item_id).status_code == 403
    assert len(items(app)) == 1


def test_editors_see_the_delete_link(app, client, auth):
    auth.login("editor")
    [item_id] = add_items(app, 1)
    assert f'href="{LIBRARY}/{item_id}/delete"' in client.get(LIBRARY).text


# --- the migration ------------------------------------------------------------------------------


def test_the_migration_puts_every_stored_hero_in_the_library(tmp_path: Path) -> None:
    app = app_at_revision(tmp_path, "8db7329a7860")
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO users (id, username, display_name, password_hash, role, active,"
                " created_at, session_token) VALUES (1, 'ada', 'Ada', 'x', 'writer', 1, :t, 't'),"
                " (2, 'ben', 'Ben', 'x', 'writer', 1, :t, 't')"
            ),
            {"t": datetime(2025, 1, 1)},
        )
        rows = [  # id, author, created, hero, alt, caption, credit
            (1, 1, datetime(2025, 2, 1), "a" * 32 + ".jpg", "Old alt", "Old caption", "Ada"),
            (2, 2, datetime(2025, 3, 1), "a" * 32 + ".jpg", "New alt", "New caption", "Ben"),
            (3, 2, datetime(2025, 4, 1), "b" * 32 + ".png", "", "", ""),
            (4, 1, datetime(2025, 5, 1), None, "", "", ""),
        ]
        for n, author, created, hero, alt, caption, credit in rows:
            db.session.execute(
                sa.text(
                    "INSERT INTO articles (id, title, slug, summary, dateline, body, body_html,"
                    " toc, author_id, featured, status, created_at, updated_at, hero_image,"
                    " hero_width, hero_height, hero_alt, hero_caption, hero_credit, version)"
                    " VALUES (:n, 'T', :slug, '', '', '', '', '[]', :author, 0, 'draft', :t, :t,"
                    " :hero, 800, 600, :alt, :caption, :credit, 1)"
                ),
                {"n": n, "slug": f"t-{n}", "author": author, "t": created, "hero": hero}
                | {"alt": alt, "caption": caption, "credit": credit},
            )
        db.session.commit()
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        found = [
            (i.name[0], i.alt, i.caption, i.credit, i.uploaded_by_id, i.created_at, i.width)
            for i in db.session.scalars(sa.select(MediaItem).order_by(MediaItem.name))
        ]
        db.engine.dispose()
    assert found == [
        ("a", "New alt", "New caption", "Ben", 1, datetime(2025, 2, 1, tzinfo=UTC), 800),
        ("b", "", "", "", 2, datetime(2025, 4, 1, tzinfo=UTC), 800),
    ]


def library_image(app: Flask, **description: str) -> images.StoredImage:
    """An image in the library, described."""
    with app.app_context():
        image = images.store(image_file())
        MediaItem.keep(image, None, **description)
        db.session.commit()
    return image


def test_an_article_takes_its_hero_from_the_library_with_its_description(app, client, auth):
    auth.login("editor")
    image = library_image(app, alt="Harbour at dawn", caption="Boats return.", credit="Ana Ruiz")
    page = client.get("/editor/articles/new").text
    assert f'name="hero_from_library" value="{image.name}"' in page
    data = form_data(client, hero_from_library=image.name, hero_caption="Typed caption.")
    assert client.post("/editor/articles/new", data=data).status_code == 303
    article = stored(app, title="Council approves budget")
    assert (article.hero_image, article.hero_width, article.hero_height) == (
        image.name,
        image.width,
        image.height,
    )
    # What the writer typed wins; the library fills what was left empty.
    assert (article.hero_alt, article.hero_caption, article.hero_credit) == (
        "Harbour at dawn",
        "Typed caption.",
        "Ana Ruiz",
    )


def test_a_library_image_gone_meanwhile_brings_the_form_back_with_the_text(app, client, auth):
    auth.login("editor")
    library_image(app, alt="Harbour at dawn")
    data = form_data(client, hero_from_library="0" * 32 + ".jpg", title="Kept headline")
    response = client.post("/editor/articles/new", data=data)
    assert response.status_code == 422
    assert "That image is no longer in the library; choose another." in response.text
    assert 'value="Kept headline"' in response.text
    assert stored(app, title="Kept headline") is None


def test_hero_choices_follow_the_words_typed(app, client, auth, hx):
    auth.login("writer")
    gulls = library_image(app, alt="Gulls on the pier")
    with app.app_context():
        other = images.store(io.BytesIO(noisy_jpeg()))
        MediaItem.keep(other, None, alt="Council chamber")
        db.session.commit()
    response = hx.get(f"{LIBRARY}/hero-choices?q=gull")
    assert response.status_code == 200 and "<html" not in response.text
    assert f'value="{gulls.name}"' in response.text and f'value="{other.name}"' not in response.text
    assert "No image in the library matches." in hx.get(f"{LIBRARY}/hero-choices?q=zebra").text
    # The search box belongs to a form of its own: the article form never sends it.
    page = client.get("/editor/articles/new").text
    assert 'name="q" form="hero-search-form"' in page
    search_form = '<form id="hero-search-form" action="/editor/media" method="get" target="_blank">'
    assert search_form in page
