"""Shapes of the notice slice: the structured notice (sections in Japanese and English) and its versions.

The content is what the privacy center shows and what a version keeps: the operator's public facts (public by
law, R-32-1) and the registries' wording — never a customer's data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Words(BaseModel):
    """One text in both languages."""

    ja: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


class Fact(BaseModel):
    """A labelled line: 「所在地: 東京都…」."""

    label: Words
    value: Words


class Link(BaseModel):
    href: str
    text: Words


class Entry(BaseModel):
    """One item of a section (a purpose, a joint use, a country …): a heading, paragraphs, labelled facts, links."""

    heading: Words | None = None
    paragraphs: list[Words] = []
    facts: list[Fact] = []
    links: list[Link] = []


class Section(BaseModel):
    id: str  # stable: operator, purposes, joint_use, requests, fees, security, foreign, contact
    title: Words
    intro: list[Words] = []
    entries: list[Entry] = []
    basis: Words  # the 「根拠」 note: the article the section answers (no rule ids in the main text)


class NoticeContent(BaseModel):
    schema_version: int = 1
    sections: list[Section]


class Placeholder(BaseModel):
    """A setting the notice needs that is not set: the notice shows a placeholder in its place."""

    setting: str  # the MAMORI_* environment variable
    section: str
    message: Words


class SectionChange(BaseModel):
    id: str
    title: Words
    status: Literal["added", "removed", "changed", "same"]
    diff: list[str] = []  # unified diff lines of the section's text (in the language asked)


class NoticeVersionRead(BaseModel):
    version: int
    published_at: datetime
    published_by: str
    sha256: str


class PublishedNoticeRead(NoticeVersionRead):
    content: NoticeContent


class Draft(BaseModel):
    """What would be published now, against the version in force, section by section."""

    content: NoticeContent
    sha256: str
    placeholders: list[Placeholder]
    published: NoticeVersionRead | None
    unchanged: bool  # the draft equals the version in force: publishing stores nothing
    changes: list[SectionChange]


class PublishedNoticeOut(PublishedNoticeRead):
    """A published version as the API answers it: the structured content (both languages) and, when a language is
    asked (``?lang=ja|en``), the notice as plain lines in that language (what ``mamori notice show`` prints)."""

    lang: Literal["ja", "en"] | None = None
    text: list[str] | None = None


class PublishIn(BaseModel):
    """Publish the draft the privacy officer reviewed: its sha256 as ``GET /notice/draft`` answered it."""

    model_config = ConfigDict(extra="forbid")

    expect: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the reviewed draft (64 hex digits)")


class PublishResult(BaseModel):
    published: bool  # False: the draft equals the version in force ("unchanged")
    status: Literal["published", "unchanged"]
    version: int
    published_at: datetime
    sha256: str
    placeholders: list[Placeholder]
