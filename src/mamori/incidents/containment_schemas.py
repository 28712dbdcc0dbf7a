"""Shapes of an incident's containment steps (issue 22 "Deliver" 7; R-26-7). Validators never echo the value they
reject. A step names its target by a staff user name, a session / token / contract id (opaque), or nothing (key
rotation); the measure records the step with counts only."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, model_validator

from mamori.kernel.schemas import InputModel
from mamori.staff.schemas import USERNAME

# The containment steps, in the order the page and the CLI show them.
CONTAINMENT_KINDS = (
    "disable_account",
    "revoke_sessions",
    "revoke_session",
    "revoke_tokens",
    "revoke_token",
    "suspend_outsourcee",
    "rotate_keys",
)
CONTAINMENT_LABELS = {
    "disable_account": ("アカウントの無効化", "account disabled"),
    "revoke_sessions": ("全セッションの失効", "all sessions revoked"),
    "revoke_session": ("セッションの失効", "session revoked"),
    "revoke_tokens": ("全 API トークンの失効", "all API tokens revoked"),
    "revoke_token": ("API トークンの失効", "API token revoked"),
    "suspend_outsourcee": ("委託先のアクセス停止", "outsourcee's access suspended"),
    "rotate_keys": ("鍵の更新（KEK ローテーション）", "keys rotated"),
    # substitute measures recorded by the notices part (R-26-6): shown in the list when present
    "publication": ("公表", "publication"),
    "inquiry_line": ("問い合わせ窓口の設置", "inquiry line"),
}
# What the target is, per kind (None: no target).
TARGETS: dict[str, str | None] = {
    "disable_account": "username",
    "revoke_sessions": "username",
    "revoke_session": "session_id",
    "revoke_tokens": "username",
    "revoke_token": "token_id",
    "suspend_outsourcee": "contract_id",
    "rotate_keys": None,
}
COUNT_LABELS = {
    "disabled": ("無効化したアカウント", "accounts disabled"),
    "sessions_revoked": ("失効したセッション", "sessions revoked"),
    "tokens_revoked": ("失効した API トークン", "API tokens revoked"),
    "suspended": ("停止した委託契約", "contracts suspended"),
    "operators": ("アクセスを止めたオペレーター", "operators stopped"),
    "rewrapped": ("再ラップした鍵", "keys rewrapped"),
    "from_version": ("旧 KEK 版", "old KEK version"),
    "to_version": ("新 KEK 版", "new KEK version"),
    "remaining_on_old": ("旧版に残る鍵", "keys left on old versions"),
    "unreadable": ("開けない鍵", "unreadable keys"),
}

ContainmentKind = Literal[
    "disable_account",
    "revoke_sessions",
    "revoke_session",
    "revoke_tokens",
    "revoke_token",
    "suspend_outsourcee",
    "rotate_keys",
]

_ID = re.compile(r"^[0-9a-f]{32}$")


def check_target(kind: str, target: str | None) -> str | None:
    """The target in its canonical form for ``kind``; ValueError (without the value) when it does not fit."""
    what = TARGETS.get(kind, None)
    text = (target or "").strip()
    if what is None:
        if text:
            raise ValueError("この手順に対象は指定できません / this step takes no target")
        return None
    if not text:
        raise ValueError("対象を指定してください / give the target")
    if what == "username":
        if not USERNAME.match(text):
            raise ValueError("ユーザー名の形式が正しくありません / not a user name")
        return text
    text = text.lower()
    if not _ID.match(text):
        raise ValueError("ID の形式が正しくありません（32 桁の英数字） / not an id (32 hex digits)")
    return text


class ContainmentIn(InputModel):
    """One containment step: ``kind`` and its ``target`` (none for ``rotate_keys``)."""

    kind: ContainmentKind
    target: str | None = None

    @model_validator(mode="after")
    def _target_fits(self) -> ContainmentIn:
        self.target = check_target(self.kind, self.target)
        return self


class MeasureRead(BaseModel):
    """A step taken from the incident, as recorded (counts only, never a personal value)."""

    id: str
    incident_id: str
    kind: str
    target: str | None
    note: str | None
    result: dict[str, int]
    at: datetime
    by: str
