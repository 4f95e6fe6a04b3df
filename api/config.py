"""Settings from the environment (``COMMUNE_*``) or a ``.env`` file, via pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; each field is read from ``COMMUNE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="COMMUNE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/commune.db"
    auto_migrate: bool = True
    max_body_bytes: int = 10 * 2**20
    max_rows: int = 100_000
    upload_seconds: float = 60.0
    """Longest an upload may take to read (off the event loop) before it is refused."""
    page_default: int = 100
    page_max: int = 1000
    default_time_limit: float = 120.0
    max_time_limit: float = 3600.0
    job_heartbeat_seconds: float = 1.0
    job_stale_seconds: float = 30.0
    job_max_attempts: int = 3
    job_grace_seconds: float = 10.0
    worker_poll_seconds: float = 0.5
    batch_workers: int | None = None
    """Processes for batches of plans (courses of action); None: one per CPU; 0: in the worker."""
    dask_scheduler: str | None = None
    """A Dask scheduler address: batches of plans run there instead of local processes."""
    batch_journal_dir: str = "./var/batches"
    """Where batches journal their finished plans (a restarted job resumes from it)."""
    worker_delay: float = 0.0
    """Test-only: seconds a job sleeps inside the worker before solving."""

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with an explicit driver (psycopg 3 for PostgreSQL)."""
        return normalise_url(self.database_url)


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3; SQLite paths get their folder made."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return url


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests pass their own to ``create_app``)."""
    return Settings()
