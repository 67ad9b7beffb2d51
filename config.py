"""Configuration classes, chosen by FLASK_CONFIG or passed to create_app(); secrets come from the environment."""
from __future__ import annotations

import os
from datetime import timedelta


def database_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (SQLAlchemy would otherwise look for psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    # Unset: create_app makes a random key on first start and keeps it in the instance folder (never a known key).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # A relative SQLite path resolves against the Flask instance folder, so a newcomer needs no database server.
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL", "sqlite:///bacninh.sqlite"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    TIMEZONE = "Asia/Ho_Chi_Minh"
    # Deadlines and the timer worker (docs/RULES.md §6): reminders N working days before, escalation N days late.
    REMINDER_WORKING_DAYS = tuple(int(d) for d in os.environ.get("REMINDER_WORKING_DAYS", "5,1").split(","))
    ESCALATION_LADDER = tuple(  # (working days late, who): "1:agency_head,5:supervisor"
        (int(days), role) for days, role in
        (step.split(":") for step in os.environ.get("ESCALATION_LADDER", "1:agency_head,5:supervisor").split(","))
    )
    WORKER_INTERVAL_SECONDS = int(os.environ.get("WORKER_INTERVAL_SECONDS", "60"))
    WORKER_BATCH_SIZE = int(os.environ.get("WORKER_BATCH_SIZE", "200"))
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "7"))  # local hour from which the daily digest goes out
    # E-mail: SMTP in production; in development the messages are written to MAIL_OUTBOX_DIR instead of sent.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")  # unset: write to the outbox folder
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "khong-tra-loi@bacninh.gov.vn")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR")  # default: <instance>/outbox
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")  # for links in e-mails
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024  # one request; each evidence file is limited to 10 MB on its own
    MAX_FORM_PARTS = 5000  # the consolidation form for every unit, without JavaScript, is about 900 parts for 28
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)  # Flask-Login's default is a year
    HSTS = False  # Strict-Transport-Security on every response: only where the site is served over HTTPS
    # Behind N reverse proxies, the client address (sign-in throttling is per address) is the Nth X-Forwarded-For
    # entry from the right; 0 trusts no header. Without it every sign-in would seem to come from the proxy.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))


class DevelopmentConfig(Config):
    DEBUG = True


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))


class ProductionConfig(Config):
    # create_app refuses to start without one: every app server must sign with the same key.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SECRET_KEY_REQUIRED = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS = True


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}
