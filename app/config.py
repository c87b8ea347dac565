"""Settings, read from the environment (prefix ``TQ_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TQ_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / "data", description="Where the SQLite file lives.")
    # DATABASE_URL (no prefix) is the convention Docker/Heroku-style deployments use.
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TQ_DATABASE_URL", "DATABASE_URL"),
        description="Any SQLAlchemy URL; default is SQLite at <data_dir>/quiz.db.",
    )
    questions_dir: Path = Field(default=REPO_ROOT / "questions")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    secret_key: str = Field(default="dev-insecure-change-me", min_length=8)
    desired_retention: float = Field(default=0.9, gt=0.5, lt=1.0)
    fsrs_fuzz: bool = Field(default=True, description="Spread due dates as Anki does.")
    new_per_day: int = Field(default=10, ge=0, le=1000)
    # Accounts (study-group mode). Off: a single local user, no login.
    auth_enabled: bool = False
    # Mark cookies Secure (set when the app is served over HTTPS, e.g. behind a TLS proxy).
    secure_cookies: bool = False
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    # `serve` migrates once before starting workers, then tells them not to.
    migrate_on_start: bool = True
    demo_threads: int = Field(default=1, ge=1, le=64, description="torch threads per demo run.")
    demo_concurrency: int = Field(default=2, ge=1, le=64)

    @property
    def db_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Plain postgres:// URLs (as many hosts print them) mean psycopg 3 here.
            if url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url[len("postgres://") :]
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return url
        return f"sqlite:///{self.data_dir / 'quiz.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
