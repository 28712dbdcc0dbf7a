"""Plumbing shared by every slice's Typer commands: the CLI state, one-line errors, JSON or Rich output.

Each command is thin: parse, open a Context through ``CliState.transaction``, call the service, render. The
single commit of a command happens when the transaction block ends (the edge).

Start-up (issue 16): ``mamori --help`` and ``mamori version`` import no service, no SQLAlchemy, no polars. A CLI
module names what its commands call with ``lazy()`` (under ``if TYPE_CHECKING`` the real import, for mypy and
import-linter), so a module is imported by the first command that uses it; this module imports the runtime,
the settings and pydantic only inside the functions that need them. ``tests/cli/test_startup.py`` guards it.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from typer._click import exceptions as click_exc  # typer vendors click: its own exception classes

from mamori.kernel.errors import ConfigurationError, MamoriError
from mamori.kernel.labels import label

if TYPE_CHECKING:
    from pydantic import ValidationError

    from mamori.kernel.context import Actor, Context
    from mamori.kernel.runtime import Runtime

P = ParamSpec("P")
R = TypeVar("R")

ActorResolver = Callable[["Runtime", str], "Actor"]
# The CLI's signed-in session (issue 17): ``mamori login`` keeps its token in a 0600 file; this resolver (registered
# by ``mamori.cli.session.register``) turns the token into the session's Actor, checking idle/absolute expiry.
SessionResolver = Callable[["Runtime", str], "Actor"]
_SESSION_RESOLVER: list[SessionResolver] = []
SESSION_FILE_NAME = "cli-session"
MAX_SESSION_FILE_BYTES = 1024


def set_session_resolver(resolver: SessionResolver) -> None:
    """Register how a CLI session token becomes an Actor (the edge that owns sign-in does it, once)."""
    _SESSION_RESOLVER[:] = [resolver]


def session_file_path(settings: Any) -> Any:
    """Where the CLI's session token is kept: ``Settings.cli_session_file`` or ``<key dir>/cli-session``."""
    if settings.cli_session_file is not None:
        return settings.cli_session_file.expanduser()
    return settings.resolved_key_dir() / SESSION_FILE_NAME


def _unsafe_session_file(ja: str, en: str) -> ConfigurationError:
    return ConfigurationError(ja, en, code="cli_session_file_unsafe")


def read_session_file(path: Any) -> str | None:
    """The token in the CLI's session file, or None when there is none. Refused (one line) when the file is a
    symbolic link, not a regular file, readable or writable by group or others, or owned by another user — a
    session secret must be the signed-in user's alone. Opened without following links (O_NOFOLLOW)."""
    import stat

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise _unsafe_session_file(
            "CLI のセッションファイルがシンボリックリンクか通常のファイルではありません。使いません（削除して mamori login し直してください）。",
            "The CLI session file is a symbolic link or not a regular file; refused (delete it and run mamori login).",
        )
    if info.st_mode & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        raise _unsafe_session_file(
            "CLI のセッションファイルが他のユーザーからも読み書きできます（0600 で自分のものに限ります）。使いません。",
            "The CLI session file is readable or writable by others (it must be 0600 and yours); refused.",
        )
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        data = os.read(fd, MAX_SESSION_FILE_BYTES + 1)
    finally:
        os.close(fd)
    token = data.decode("ascii", errors="replace").strip()
    return token if 0 < len(token) <= MAX_SESSION_FILE_BYTES else None


class _LazyModule(types.ModuleType):
    """Stands for a module: the first attribute read imports it; every read answers from the real module (so a
    test that patches the module is seen)."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(importlib.import_module(self.__name__), attr)


def lazy(module: str) -> Any:
    """``service = lazy("mamori.customers.service")``: the module is imported when a command first uses it, not
    when the CLI starts (``mamori --help`` stays fast, issue 16). Pair it with the real import under
    ``if TYPE_CHECKING:`` so mypy checks the calls and import-linter sees the dependency."""
    return _LazyModule(module)


@dataclass
class CliState:
    as_user: str | None = None
    lang: str = "ja"
    resolve_actor: ActorResolver | None = None
    # Called before the runtime opens: the entry point registers the slices here (composition.register_all, which
    # runs once), so a command that never opens the runtime (``--help``, ``version``) never imports them.
    prepare: Callable[[], None] | None = None
    _runtime: Runtime | None = field(default=None, repr=False)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            from mamori.kernel.runtime import open_runtime
            from mamori.kernel.settings import get_settings

            self.register_slices()
            self._runtime = open_runtime(get_settings())
        return self._runtime

    def register_slices(self) -> None:
        """Run ``prepare`` (idempotent). Opening the runtime does it; a command that works on the stores without
        the runtime (``restore`` into a lost MAMORI_HOME re-applies erasures through the slices) calls it."""
        if self.prepare is not None:
            self.prepare()

    def production(self) -> bool:
        from mamori.kernel.settings import get_settings

        return bool(get_settings().production)

    def session_token(self) -> str | None:
        """The token of ``mamori login``'s session (None: not signed in); the file's safety is checked first."""
        from mamori.kernel.settings import get_settings

        return read_session_file(session_file_path(get_settings()))

    def _session_actor(self, token: str) -> Actor:
        if not _SESSION_RESOLVER:
            raise ConfigurationError("session resolver missing", "session resolver missing")
        return _SESSION_RESOLVER[0](self.runtime, token)

    def actor(self, *, system_ok: bool = False) -> Actor:
        """Who acts. Production mode (``MAMORI_PRODUCTION=1``): the user of ``mamori login``'s session — ``--as`` and
        MAMORI_AS are refused, a self-declared name is no identity (issue 17). Demo mode: ``--as`` as before, else the
        CLI session when there is one."""
        if self.production():
            if self.as_user:
                raise ConfigurationError(
                    "本番モードでは --as / MAMORI_AS は使えません。mamori login でサインインしてください。",
                    "--as / MAMORI_AS are refused in production mode; sign in with mamori login.",
                    code="as_refused_in_production",
                )
            token = self.session_token()
            if token is not None:
                return self._session_actor(token)
            if system_ok:
                from mamori.kernel.context import SYSTEM_ACTOR

                return SYSTEM_ACTOR
            raise ConfigurationError(
                "サインインしていません。mamori login でサインインしてください。",
                "Not signed in: run mamori login.",
                code="login_required",
            )
        if not self.as_user and _SESSION_RESOLVER:
            token = self.session_token()
            if token is not None:
                return self._session_actor(token)
        if not self.as_user:
            if system_ok:
                from mamori.kernel.context import SYSTEM_ACTOR

                return SYSTEM_ACTOR
            raise ConfigurationError(
                "操作するスタッフを --as ユーザー名（または環境変数 MAMORI_AS）で指定してください。",
                "Say which staff user acts: --as USERNAME (or MAMORI_AS).",
                code="actor_required",
            )
        if self.resolve_actor is None:
            raise ConfigurationError("actor resolver missing", "actor resolver missing")
        return self.resolve_actor(self.runtime, self.as_user)

    @contextmanager
    def transaction(self, purpose: str | None = None, *, system_ok: bool = False) -> Iterator[Context]:
        actor = self.actor(system_ok=system_ok)
        with self.runtime.transaction(actor, purpose, lang=self.lang) as ctx:
            yield ctx

    def t(self, ja: str, en: str) -> str:
        return en if self.lang == "en" else ja


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState(lang=os.environ.get("MAMORI_LANG", "ja"))
        ctx.find_root().obj = obj
    return obj


console = Console()
err_console = Console(stderr=True)


def _default(o: object) -> object:
    from pydantic import BaseModel

    if isinstance(o, BaseModel):
        return o.model_dump(mode="json")
    if isinstance(o, datetime | date):
        return o.isoformat()
    if isinstance(o, bytes):
        return o.hex()
    if hasattr(o, "__dict__"):
        return o.__dict__
    return str(o)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=_default, indent=2) + "\n")


def validation_message(exc: ValidationError, lang: str) -> str:
    """Field labels and what is wrong, in ``lang`` (Japanese unless English was chosen) — never the value."""
    from mamori.kernel import validation

    head = label("validation.invalid_input", "en" if lang == "en" else "ja")
    return f"{head}: " + validation.message(exc, lang)


def cli_command(fn: Callable[P, R]) -> Callable[P, R]:
    """Render MamoriError / validation errors as one line on stderr and a non-zero exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from pydantic import ValidationError

        from mamori.kernel import validation

        lang = os.environ.get("MAMORI_LANG", "ja")
        for a in list(args) + list(kwargs.values()):
            if hasattr(a, "find_root"):  # the click context (typer vendors click: no isinstance)
                lang = state(a).lang  # type: ignore[arg-type]
        try:
            return fn(*args, **kwargs)
        except MamoriError as exc:
            err_console.print(exc.one_line(lang), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except ValidationError as exc:
            err_console.print(
                f"{label('cli_error.prefix', 'en' if lang == 'en' else 'ja')} (invalid_input): "
                + validation.message(exc, lang),
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper


def any_of(*values: Any) -> bool:
    return any(v is not None for v in values)


# -- usage errors (click/typer's English panel replaced by one line) ----------------------------------------------

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_CODE_LIST = re.compile(r"[a-z0-9_-]+(?: / [a-z0-9_-]+)+")


def _usage_lang(exc: BaseException, argv: Sequence[str]) -> str:
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        obj = ctx.find_root().obj
        if isinstance(obj, CliState):
            return obj.lang
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return "en" if argv[i + 1] == "en" else "ja"
        if arg.startswith("--lang="):
            return "en" if arg.split("=", 1)[1] == "en" else "ja"
    return "en" if os.environ.get("MAMORI_LANG") == "en" else "ja"


def _param_name(param: Any, lang: str) -> str:
    """An option by its flags (``--birth-date``); an argument by its label when one exists (「顧客ID」), else
    its name in capitals (``CUSTOMER_ID``)."""
    from mamori.kernel import validation

    if param is None:
        return ""
    opts = [o for o in getattr(param, "opts", []) if o.startswith("-")]
    if opts:
        return " / ".join(opts)
    name = str(getattr(param, "name", "") or "")
    shown = validation.field_name(name, lang)
    return shown if shown != name else name.upper()


def _own_message(message: str, lang: str) -> str:
    """A message our commands raise: 「日本語 / English」 → the chosen half; English-only → translated or generic."""
    from mamori.kernel import validation

    if " / " in message and _JAPANESE.search(message.split(" / ", 1)[0]):
        ja, en = message.split(" / ", 1)
        if not _JAPANESE.search(en):
            return en.strip() if lang == "en" else ja.strip()
    if _CODE_LIST.fullmatch(message.strip()):  # "report / merge / create": the codes the option takes
        codes = [c.strip() for c in message.split("/")]
        return label("pydantic.literal_error", lang).format(
            expected=(", " if lang == "en" else "、").join(codes)
        )
    return validation.value_error_text(message, lang)


def _bad_parameter(exc: click_exc.BadParameter, lang: str) -> str:
    from pydantic import ValidationError

    from mamori.kernel import validation

    lg = "en" if lang == "en" else "ja"
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        errors = cause.errors(include_input=False, include_url=False)
        why = ("; " if lg == "en" else "／").join(
            dict.fromkeys(validation.reason(e, lg) for e in errors)
        ) or label("cli_error.invalid_value", lg)
    else:
        msg = exc.message
        path_words = {
            " does not exist.": "path_missing",
            " is a file.": "path_is_file",
            " is a directory.": "path_is_dir",
            " is not readable.": "path_unreadable",
            " is not writable.": "path_unwritable",
        }
        key = next((k for suffix, k in path_words.items() if msg.endswith(suffix)), None)
        if key is not None:
            why = label(f"cli_error.{key}", lg)
        elif msg.startswith("'") and "': " in msg:  # typer: "'<file>': <strerror>" (the path is not repeated)
            why = label("cli_error.file_error", lg)
        elif msg.startswith("Value ") or msg == "Value must be an iterable.":
            why = label("cli_error.invalid_value", lg)
        else:
            why = _own_message(msg, lg)
    name = str(exc.param_hint) if isinstance(exc.param_hint, str) else _param_name(exc.param, lg)
    if isinstance(exc.param_hint, list | tuple):
        name = " / ".join(str(h) for h in exc.param_hint)
    return f"{name}: {why}" if name else why


def usage_message(exc: click_exc.ClickException, lang: str) -> str:
    """A click/typer usage error as words in ``lang`` (no help panel; no value typed by the user, only option
    and command names)."""
    lg = "en" if lang == "en" else "ja"
    if isinstance(exc, click_exc.NoSuchOption):
        text = label("cli_error.no_such_option", lg).format(option=exc.option_name)
        if exc.possibilities:
            cands = ", ".join(sorted(exc.possibilities))
            text += (
                ("（" if lg == "ja" else " (")
                + label("cli_error.did_you_mean", lg).format(candidates=cands)
                + ("）" if lg == "ja" else ")")
            )
        return text
    if isinstance(exc, click_exc.MissingParameter):
        kind = exc.param_type or (getattr(exc.param, "param_type_name", None) if exc.param else None)
        key = {"option": "missing_option", "argument": "missing_argument"}.get(
            kind or "", "missing_parameter"
        )
        name = _param_name(exc.param, lg) if exc.param_hint is None else str(exc.param_hint)
        return label(f"cli_error.{key}", lg).format(param=name)
    if isinstance(exc, click_exc.BadParameter):
        return _bad_parameter(exc, lg)
    if isinstance(exc, click_exc.BadOptionUsage):
        msg = exc.message
        key = (
            "option_needs_value"
            if "requires" in msg
            else "option_takes_no_value"
            if "does not take a value" in msg
            else "bad_option_usage"
        )
        return label(f"cli_error.{key}", lg).format(option=exc.option_name)
    if isinstance(exc, click_exc.BadArgumentUsage):
        return label("cli_error.bad_argument_usage", lg)
    if isinstance(exc, click_exc.UsageError):
        msg = exc.message
        m = re.match(r"No such command '(.+?)'", msg)
        if m:
            return label("cli_error.no_such_command", lg).format(command=m.group(1))
        if msg.startswith("Missing command"):
            return label("cli_error.missing_command", lg)
        if msg.startswith("Got unexpected extra argument"):
            return label("cli_error.extra_arguments", lg)
        return label("cli_error.usage", lg)
    if isinstance(exc, click_exc.FileError):
        return label("cli_error.file_error", lg)
    return label("cli_error.usage", lg)


def usage_line(exc: click_exc.ClickException, lang: str) -> str:
    """「エラー (usage): 不明なオプションです: --bogus（mamori customers list --help で使い方を確認できます）」."""
    lg = "en" if lang == "en" else "ja"
    text = usage_message(exc, lg)
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        hint = label("cli_error.help_hint", lg).format(command=ctx.command_path)
        text += f"（{hint}）" if lg == "ja" else f" ({hint})"
    code = "usage" if isinstance(exc, click_exc.UsageError) else "invalid_input"
    return f"{label('cli_error.prefix', lg)} ({code}): {text}"


def run_app(app: typer.Typer, args: Sequence[str] | None = None, prog_name: str = "mamori") -> int:
    """Run the Typer app as the ``mamori`` entry point does and return the exit code. Usage errors (unknown
    option or command, a missing or bad parameter) are printed as ONE line in the chosen language instead of
    click's English panel, exit code 2; ``--help`` and the help shown for a bare group stay as Typer renders."""
    argv = list(sys.argv[1:] if args is None else args)
    try:
        rv = app(args=argv, prog_name=prog_name, standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:  # a bare group: Typer has already rendered its help
        return exc.exit_code
    except click_exc.ClickException as exc:
        err_console.print(
            usage_line(exc, _usage_lang(exc, argv)), markup=False, highlight=False, soft_wrap=True
        )
        return exc.exit_code
    except typer.Abort:
        lang = _usage_lang(Exception(), argv)
        err_console.print(label("cli_error.aborted", "en" if lang == "en" else "ja"), markup=False)
        return 1
    return rv if isinstance(rv, int) else 0
