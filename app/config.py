"""Settings, read from the environment (prefix ``TQ_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.compute.limits import PoolLimits, default_workers

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-insecure-change-me"
MIN_SECRET = 32  # characters; token_urlsafe(32) gives 43
SECRET_HOWTO = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


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
    drills_dir: Path = Field(default=REPO_ROOT / "drills")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    access_log: bool = Field(default=True, description="uvicorn's per-request log lines.")
    secret_key: str = Field(default=DEV_SECRET, description="Signs session cookies.")
    desired_retention: float = Field(default=0.9, gt=0.5, lt=1.0)
    fsrs_fuzz: bool = Field(default=True, description="Spread due dates as Anki does.")
    new_per_day: int = Field(default=10, ge=0, le=1000)
    # Accounts (study-group mode). Off: a single local user, no login.
    auth_enabled: bool = False
    # "invite": registering needs a code (the organiser's TQ_INVITE_CODE or one an admin made);
    # "open": anyone who reaches the server may register. The first account never needs one.
    registration: Literal["invite", "open"] = "invite"
    invite_code: str | None = Field(default=None, min_length=6)
    admin_username: str | None = Field(default=None, description="This user becomes an admin.")
    # Mark cookies Secure (set when the app is served over HTTPS, e.g. behind a TLS proxy).
    secure_cookies: bool = False
    # The reverse proxy whose X-Forwarded-For/-Proto we trust (comma-separated addresses, or "*").
    forwarded_allow_ips: str = "127.0.0.1"
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    # A progress file: ~200 bytes a review, so a year of study is ~6 MB.
    max_import_bytes: int = Field(default=32 << 20, ge=1024)
    # `serve` migrates once before starting workers, then tells them not to.
    migrate_on_start: bool = True
    # The compute pool (app/compute): demos and drills run in worker processes, never here.
    compute_socket: Path | None = Field(
        default=None,
        description="The host's pool supervisor; `serve` sets it for its workers. Unset: this "
        "process starts its own pool on first use.",
    )
    compute_workers: int = Field(
        default_factory=default_workers,
        ge=1,
        le=64,
        description="Most worker processes (default: the cores less one, 1 to 4).",
    )
    compute_warm_workers: int = Field(
        default=1, ge=1, le=64, description="Workers waiting while nobody computes."
    )
    compute_idle_retire_s: float = Field(
        default=10.0, gt=0, le=3600, description="Idle seconds after jobs before a fresh fork."
    )
    demo_threads: int = Field(default=1, ge=1, le=64, description="torch threads per job.")
    compute_timeout_s: float = Field(default=20.0, gt=0, le=600, description="Wall clock per demo.")
    compute_memory_mb: int = Field(default=768, ge=64, description="Memory a worker may add.")
    compute_recycle_jobs: int = Field(
        default=200, ge=1, description="Jobs before a worker is replaced."
    )
    compute_recycle_rss_mb: int = Field(
        default=600, ge=64, description="RSS that retires a worker."
    )
    compute_queue: int = Field(default=16, ge=0, le=10_000, description="Jobs waiting; then 503.")
    compute_cache_mb: int = Field(default=64, ge=0, le=4096, description="Demo results cached.")
    # "auto": CUDA when torch sees a GPU, else the CPU. The demos are sized for a CPU.
    demo_device: Literal["auto", "cpu", "cuda"] = "auto"
    drills_enabled: bool = Field(default=True, description="Learners may run code (drills).")
    review_drills: bool = Field(default=True, description="Due drills take turns in /review.")
    drill_memory_mb: int = Field(default=512, ge=64, description="Memory of one drill run.")

    @model_validator(mode="after")
    def _shared_needs_a_secret(self) -> Settings:
        if self.auth_enabled and (
            self.secret_key == DEV_SECRET or len(self.secret_key) < MIN_SECRET
        ):
            raise ValueError(
                f"accounts are on: set TQ_SECRET_KEY to a random value of at least {MIN_SECRET} "
                f"characters, e.g. the output of: {SECRET_HOWTO}"
            )
        return self

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
    def pool_limits(self) -> PoolLimits:
        return PoolLimits(
            workers=self.compute_workers,
            warm_workers=self.compute_warm_workers,
            idle_retire_s=self.compute_idle_retire_s,
            threads=self.demo_threads,
            job_timeout_s=self.compute_timeout_s,
            worker_memory_mb=self.compute_memory_mb,
            recycle_after_jobs=self.compute_recycle_jobs,
            recycle_rss_mb=self.compute_recycle_rss_mb,
            queue_max=self.compute_queue,
            cache_mb=self.compute_cache_mb,
            device=self.demo_device,
            drill_memory_mb=self.drill_memory_mb,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")


def settings_problem(err: ValidationError) -> str:
    """One line naming each bad setting by its environment variable and what it needs."""
    parts = []
    for e in err.errors(include_url=False):
        name = "TQ_" + "_".join(str(p) for p in e["loc"]).upper() if e["loc"] else ""
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{name}: {msg}" if name else msg)
    return "transformer-quiz: bad settings: " + "; ".join(parts).replace("\n", " ")


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment; a bad one exits with one line saying what is needed
    (not a traceback)."""
    try:
        return Settings()
    except ValidationError as e:
        raise SystemExit(settings_problem(e)) from None
