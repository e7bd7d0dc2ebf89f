"""Command line: ``flask --app app create-user|ensure-admin|import-articles|seed-demo``."""

from __future__ import annotations

import json
import re
import secrets
import tempfile
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from blog import demo
from blog.extensions import db
from blog.importing import ImportFailed, import_records
from blog.models import ROLES, Article, User
from blog.passwords import MIN_LENGTH, password_problem

USERNAME = re.compile(r"^[a-z0-9_.-]{2,40}$")


def init_app(app: Flask) -> None:
    """Add the commands to ``flask``."""
    for command in (create_user, set_password, ensure_admin, import_articles, seed_demo):
        app.cli.add_command(command)


def _check_password(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Refuse a password that breaks the rules of blog.passwords (asking again at the prompt)."""
    if value is not None and (problem := password_problem(value, ctx.params["username"])):
        raise click.BadParameter(problem)
    return value


password_option = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    callback=_check_password,
    help=f"At least {MIN_LENGTH} characters, not a common one; asked for when not given.",
)


@click.command("create-user")
@with_appcontext
@click.argument("username", is_eager=True)  # known before the password is checked against it
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "display_name", help="Name shown in bylines (default: the username).")
@password_option
def create_user(username: str, role: str, display_name: str | None, password: str) -> None:
    """Add a member of the newsroom."""
    if not USERNAME.match(username):
        raise click.BadParameter(
            "use 2-40 lowercase letters, digits, '.', '_' or '-'", param_hint="USERNAME"
        )
    if db.session.scalar(sa.select(User).where(User.username == username)):
        raise click.ClickException(f"a user named {username!r} already exists")
    user = User(username=username, display_name=display_name or username, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {username!r}.")


@click.command("set-password")
@with_appcontext
@click.argument("username", is_eager=True)
@password_option
def set_password(username: str, password: str) -> None:
    """Give a member a new password; every session they have ends."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    user.set_password(password)
    db.session.commit()
    click.echo(f"New password set for {username!r}; their sessions have ended.")


@click.command("ensure-admin")
@with_appcontext
def ensure_admin() -> None:
    """When the site has no admin yet, add ``admin`` with a random password and print it once."""
    if db.session.scalar(sa.select(User.id).where(User.role == "admin").limit(1)):
        return
    if db.session.scalar(sa.select(User.id).where(User.username == "admin")):
        raise click.ClickException("a non-admin user is named 'admin'; use create-user instead")
    password = secrets.token_urlsafe(12)
    user = User(username="admin", display_name="Administrator", role="admin")
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.secho(f"Admin login: username admin, password {password}", bold=True)
    click.echo("Keep it safe: it is not shown again.")


@click.command("import-articles")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--author",
    "author_name",
    help="Username for records without an author (default: the first admin).",
)
def import_articles(path: Path, author_name: str | None) -> None:
    """Import articles from a JSON list, all or nothing."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{path.name} is not valid JSON: {error}") from error
    count = _import(records, path.parent, author_name)
    click.echo(f"Imported {count} article(s) from {path.name}.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when there are articles already.")
def seed_demo(if_empty: bool) -> None:
    """Add a dozen demo articles with illustrations, so a new site has a front page."""
    if if_empty and db.session.scalar(sa.select(Article.id).limit(1)):
        return
    demo.ensure_authors()
    with tempfile.TemporaryDirectory() as folder:
        count = _import(demo.records(Path(folder)), Path(folder), "ada")
    click.echo(f"Added {count} demo articles.")


def _import(records: object, base: Path, author_name: str | None) -> int:
    """Run the importer, turning its report into a CLI error naming each bad record."""
    if author_name:
        author = db.session.scalar(sa.select(User).where(User.username == author_name))
    else:
        author = db.session.scalar(sa.select(User).where(User.role == "admin").order_by(User.id))
    if author is None:
        raise click.ClickException(
            f"no user named {author_name!r}"
            if author_name
            else "no admin yet: run create-user first"
        )
    try:
        return len(import_records(records, base, author))
    except ImportFailed as failure:
        db.session.rollback()
        lines = "\n".join(f"  {error}" for error in failure.errors)
        raise click.ClickException(f"nothing imported; fix these records:\n{lines}") from failure
