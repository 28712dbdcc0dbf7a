"""Which backend delivers e-mail: ``set_notifier``'s override, else ``MAMORI_MAIL_BACKEND`` (file | smtp)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.kernel.errors import ConfigurationError
from mamori.kernel.mail.smtp import SECURITY, SmtpNotifier, read_password
from mamori.kernel.notify import FileOutbox, Notifier, override

if TYPE_CHECKING:
    from mamori.kernel.settings import Settings

BACKENDS = ("file", "smtp")


def check(settings: Settings) -> None:
    """Raise a one-line ConfigurationError naming the setting when the mail backend cannot work."""
    backend = (settings.mail_backend or "").lower()
    if backend not in BACKENDS:
        raise _bad("MAMORI_MAIL_BACKEND", "file または smtp を指定してください", "must be file or smtp")
    if backend != "smtp":
        return
    if not settings.smtp_host:
        raise _bad("MAMORI_SMTP_HOST", "SMTP サーバーを指定してください", "the SMTP server is not set")
    if not settings.mail_from or "@" not in settings.mail_from:
        raise _bad(
            "MAMORI_MAIL_FROM", "送信者のメールアドレスを指定してください", "the sender address is not set"
        )
    if settings.smtp_security.lower() not in SECURITY:
        raise _bad(
            "MAMORI_SMTP_SECURITY", "starttls / tls / none のいずれかです", "must be starttls, tls or none"
        )
    if settings.smtp_password_file is not None and settings.smtp_password is None:
        try:
            read_password(settings.smtp_password_file)
        except OSError:
            raise _bad(
                "MAMORI_SMTP_PASSWORD_FILE",
                "パスワードファイルを読めません",
                "the password file cannot be read",
            ) from None


def _bad(setting: str, ja: str, en: str) -> ConfigurationError:
    return ConfigurationError(
        f"メール送信の設定が不正です: {setting}: {ja}（docs/mail.md）。",
        f"mail delivery is misconfigured: {setting}: {en} (docs/mail.md).",
        code="mail_config",
    )


def notifier(settings: Settings) -> Notifier:
    """The notifier plugged in with ``set_notifier``, else the configured backend."""
    plugged = override()
    if plugged is not None:
        return plugged
    if (settings.mail_backend or "").lower() == "smtp":
        check(settings)
        return SmtpNotifier.from_settings(settings)
    return FileOutbox(settings.home_path / "outbox")


def describe(settings: Settings) -> dict[str, object]:
    """The backend as status pages show it (no user, no password)."""
    plugged = override()
    if plugged is not None:
        return {"backend": type(plugged).__name__}
    backend = (settings.mail_backend or "file").lower()
    if backend == "smtp":
        return {
            "backend": "smtp",
            "host": settings.smtp_host,
            "port": settings.smtp_port,
            "security": settings.smtp_security,
        }
    return {"backend": backend}
