"""Configuration: defaults, instance file, FLASK_* environment, the stored secret key."""

from __future__ import annotations

import stat

from flask import Flask

from blog import config


def test_defaults_put_sqlite_and_media_in_instance(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path), instance_relative_config=True)
    config.load(app, None)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'dateline.db'}"
    assert app.config["MEDIA_DIR"] == str(tmp_path / "media")


def test_secret_key_is_generated_once_with_owner_only_permissions(tmp_path):
    first = Flask(__name__, instance_path=str(tmp_path), instance_relative_config=True)
    config.load(first, None)
    second = Flask(__name__, instance_path=str(tmp_path), instance_relative_config=True)
    config.load(second, None)
    key_file = tmp_path / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) >= 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_instance_file_and_environment_override_defaults(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('SITE_NAME = "The Ledger"\nTIMEZONE = "Europe/Kyiv"\n')
    monkeypatch.setenv("FLASK_TIMEZONE", "America/Chicago")
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-env")
    app = Flask(__name__, instance_path=str(tmp_path), instance_relative_config=True)
    config.load(app, None)
    assert app.config["SITE_NAME"] == "The Ledger"
    assert app.config["TIMEZONE"] == "America/Chicago"
    assert app.config["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()
