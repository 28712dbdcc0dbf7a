"""Plumbing shared by every slice's Typer commands: the CLI state, one-line errors, JSON or Rich output.

Each command is thin: parse, open a Context through ``CliState.transaction``, call the service, render. The
single commit of a command happens when the transaction block ends (the edge).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from mamori.kernel.context import SYSTEM_ACTOR, Actor, Context
from mamori.kernel.errors import ConfigurationError, MamoriError
from mamori.kernel.runtime import Runtime, open_runtime
from mamori.kernel.settings import get_settings

P = ParamSpec("P")
R = TypeVar("R")

ActorResolver = Callable[[Runtime, str], Actor]


@dataclass
class CliState:
    as_user: str | None = None
    lang: str = "ja"
    resolve_actor: ActorResolver | None = None
    _runtime: Runtime | None = field(default=None, repr=False)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = open_runtime(get_settings())
        return self._runtime

    def actor(self, *, system_ok: bool = False) -> Actor:
        if not self.as_user:
            if system_ok:
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
    """Field names and what is wrong — never the submitted value."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    head = "入力が不正です" if lang != "en" else "invalid input"
    return f"{head}: " + "; ".join(parts)


def cli_command(fn: Callable[P, R]) -> Callable[P, R]:
    """Render MamoriError / validation errors as one line on stderr and a non-zero exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
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
                ("エラー (invalid_input): " if lang != "en" else "error (invalid_input): ")
                + validation_message(exc, lang).split(": ", 1)[1],
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper


def any_of(*values: Any) -> bool:
    return any(v is not None for v in values)
