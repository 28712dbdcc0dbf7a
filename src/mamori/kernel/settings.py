"""One settings object for the whole process (MAMORI_* environment variables)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where mamori keeps its data and keys.

    - ``MAMORI_HOME`` holds the SQLite files (data, keystore, audit) when no URL is given.
    - ``MAMORI_DATABASE_URL`` selects another data store (e.g. ``postgresql+psycopg://…``).
    - ``MAMORI_KEYSTORE_URL`` / ``MAMORI_AUDIT_URL``: the keystore and the audit log, each in its own
      database; by default SQLite files beside the data file (never inside the data database).
    - The key-encryption key comes from ``MAMORI_KEK`` (base64, 32 bytes) or from ``MAMORI_KEY_FILE``
      (default ``~/.config/mamori/kek.json``, outside ``MAMORI_HOME``).
    """

    model_config = SettingsConfigDict(env_prefix="MAMORI_", extra="ignore")

    home: Path = Field(default=Path(".mamori"))
    database_url: str | None = None
    keystore_url: str | None = None
    audit_url: str | None = None
    key_file: Path | None = None
    kek: str | None = None
    lang: str = "ja"
    # Checkpoint the audit log every N entries (signed tree head).
    audit_checkpoint_every: int = 1000

    @property
    def home_path(self) -> Path:
        return self.home.expanduser().resolve()

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home_path / 'mamori.db'}"

    def resolved_keystore_url(self) -> str:
        return self.keystore_url or f"sqlite:///{self.home_path / 'keystore.db'}"

    def resolved_audit_url(self) -> str:
        return self.audit_url or f"sqlite:///{self.home_path / 'audit.db'}"

    def resolved_key_file(self) -> Path:
        if self.key_file is not None:
            return self.key_file.expanduser().resolve()
        return (Path.home() / ".config" / "mamori" / "kek.json").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests and `mamori` commands that change the environment)."""
    get_settings.cache_clear()
