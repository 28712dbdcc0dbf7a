"""Open and click measurement of e-mail campaigns (issue 24 item 4, brief T): privacy first.

- A campaign measures nothing unless it was created with ``tracking`` ``clicks`` or ``opens_clicks``, and only
  under a purpose whose data categories include behaviour (行動履歴; otherwise use beyond the purpose, R-18-1).
- A person under the GDPR gets the untracked message (plain links, no image): ePrivacy (Art. 5(3)) needs consent
  to read that a message was opened or a link clicked; their send row says ``tracked`` false.
- **Token**: every tracked send has a *second* random token (``secrets.token_urlsafe(32)``), not the unsubscribe
  one: a tracked link is often copied, forwarded or opened by a mail scanner, and the unsubscribe token would
  let whoever holds such a link stop the person's mail. Only its sha256 is stored (``CampaignSend.track_digest``);
  the token itself lives only in the sealed message. It can record an open or a click and nothing else.
- **Clicks**: every ``http(s)://`` link of the body becomes ``{base}/c/{token}/{n}``, ``n`` its index in the
  campaign's link list (parsed from the body at creation, stored on the campaign). ``GET /c/{token}/{n}`` records
  the first click time, adds one to the count, records an open too, and redirects to ``links[n]`` — the target
  comes only from the stored list, never from the request (no open redirect).
- **Opens** (``opens_clicks``): an HTML alternative (the same text in a ``<pre>``, the links as anchors, the
  footer) with a 1×1 image ``{base}/o/{token}.gif``; the first fetch records the first open time.
- **Audit**: the first open and the first click of a send are audited (``contact.tracked.open`` /
  ``contact.tracked.click``: the campaign, the send, the link index — never the token); later clicks only count.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select, update

from mamori.contact.models import Campaign, CampaignSend
from mamori.kernel.auditing import record_write
from mamori.kernel.context import Context

A_OPENED = "contact.tracked.open"
A_CLICKED = "contact.tracked.click"
CLICK_PATH = "/c/"
OPEN_PATH = "/o/"
MAX_LINKS = 100
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")  # secrets.token_urlsafe(32) is 43 characters

# A link in the marketer's text: ASCII URL characters after http(s)://; Japanese text ends it (「…」、。 etc.).
_LINK = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_TRAILING = ".,;:!?'"

FOOTER_CLICKS = "このメールでは、配信効果の測定のためリンクのクリックを記録しています。"
FOOTER_OPENS_CLICKS = "このメールでは、配信効果の測定のため開封とリンクのクリックを記録しています。"

# The 1×1 transparent GIF answered for every /o/ request, known token or not.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def well_formed(token: str) -> bool:
    return bool(TOKEN.match(token or ""))


# -- links ------------------------------------------------------------------------------------------------------


def _trim(url: str) -> str:
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))):
        url = url[:-1]
    return url


def _spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, url) of each http(s) link in ``text``, trailing punctuation left out."""
    for m in _LINK.finditer(text):
        url = _trim(m.group(0))
        if len(url) > len("https://"):
            yield m.start(), m.start() + len(url), url


def parse_links(body: str) -> list[str]:
    """The distinct http(s) links of a body, in the order they first appear."""
    return list(dict.fromkeys(url for _, _, url in _spans(body)))


def footer_line(tracking: str) -> str | None:
    """The footer's line saying what is measured (brief T item 4), or None for an untracked message."""
    if tracking == "opens_clicks":
        return FOOTER_OPENS_CLICKS
    if tracking == "clicks":
        return FOOTER_CLICKS
    return None


def click_url(base: str, token: str, n: int) -> str:
    return f"{base}{CLICK_PATH}{token}/{n}"


def open_url(base: str, token: str) -> str:
    return f"{base}{OPEN_PATH}{token}.gif"


@dataclass(frozen=True)
class Piece:
    """A part of the body: plain text (``link`` None) or a link with its index in the campaign's list."""

    text: str
    link: int | None = None


def pieces(body: str, links: list[str]) -> list[Piece]:
    """The body cut at its links (``links``: the campaign's list; a link not in it stays plain text)."""
    out: list[Piece] = []
    at = 0
    index = {url: n for n, url in enumerate(links)}
    for start, end, url in _spans(body):
        n = index.get(url)
        if n is None:
            continue
        if start > at:
            out.append(Piece(body[at:start]))
        out.append(Piece(url, n))
        at = end
    if at < len(body):
        out.append(Piece(body[at:]))
    return out


def text_with(parts: list[Piece], fill: str, base: str | None, token: str | None) -> str:
    """The plain text: ``{name}`` filled in the text parts only; links tracked when ``token`` is given."""
    return "".join(
        p.text.replace("{name}", fill)
        if p.link is None
        else (click_url(base, token, p.link) if base and token else p.text)
        for p in parts
    )


def html_with(
    parts: list[Piece], fill: str, base: str, token: str, footer: str, unsubscribe: str, *, pixel: bool
) -> str:
    """The HTML alternative: the same text escaped in a ``<pre>``, the tracked links as anchors (their text the
    destination), the footer with the unsubscribe link as an anchor, and — for opens — the 1×1 image."""
    body = "".join(
        html.escape(p.text.replace("{name}", fill))
        if p.link is None
        else f'<a href="{html.escape(click_url(base, token, p.link))}">{html.escape(p.text)}</a>'
        for p in parts
    )
    escaped_footer = html.escape(footer)
    escaped_link = html.escape(unsubscribe)
    escaped_footer = escaped_footer.replace(escaped_link, f'<a href="{escaped_link}">{escaped_link}</a>')
    image = (
        f'<img src="{html.escape(open_url(base, token))}" width="1" height="1" alt="" style="border:0">'
        if pixel
        else ""
    )
    return (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"></head><body>'
        f'<pre style="white-space:pre-wrap;font-family:inherit">{body}{escaped_footer}</pre>{image}'
        "</body></html>"
    )


# -- recording (the public routes; ctx: the system actor) -------------------------------------------------------


def _tracked_send(ctx: Context, token: str) -> tuple[CampaignSend, Campaign] | None:
    if not well_formed(token):
        return None
    found = ctx.session.execute(
        select(CampaignSend, Campaign)
        .join(Campaign, Campaign.id == CampaignSend.campaign_id)
        .where(CampaignSend.track_digest == digest(token))
    ).first()
    if found is None or not found[0].tracked or found[1].tracking == "none":
        return None
    return found[0], found[1]


def _links_of(campaign: Campaign) -> list[str]:
    try:
        value = json.loads(campaign.links or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def click(ctx: Context, token: str, n: int) -> str | None:
    """Record a click on link ``n`` of a tracked send and return where it leads (``links[n]`` of the campaign);
    None for an unknown token or index (the caller answers 404). The first click also records an open."""
    found = _tracked_send(ctx, token)
    if found is None or n < 0:
        return None
    row, campaign = found
    links = _links_of(campaign)
    if n >= len(links) or not re.match(r"^https?://", links[n], re.IGNORECASE):
        return None
    now = ctx.clock.now()
    first = row.clicked_at is None
    ctx.session.execute(  # in SQL: two clicks at once both count
        update(CampaignSend)
        .where(CampaignSend.id == row.id)
        .values(clicks=CampaignSend.clicks + 1)
        .execution_options(synchronize_session=False)
    )
    if row.clicked_at is None:
        row.clicked_at = now
    if row.opened_at is None:
        row.opened_at = now
    ctx.session.flush()
    if first:
        record_write(
            ctx,
            A_CLICKED,
            [row.customer_id],
            (),
            details={"campaign_id": campaign.id, "send_id": row.id, "link": n},
        )
    return links[n]


def opened(ctx: Context, token: str) -> bool:
    """Record the first open of a send measuring opens; True when one was recorded now. Unknown, untracked or
    already opened: False (the caller answers the same image either way)."""
    found = _tracked_send(ctx, token)
    if found is None:
        return False
    row, campaign = found
    if campaign.tracking != "opens_clicks" or row.opened_at is not None:
        return False
    row.opened_at = ctx.clock.now()
    ctx.session.flush()
    record_write(
        ctx, A_OPENED, [row.customer_id], (), details={"campaign_id": campaign.id, "send_id": row.id}
    )
    return True
