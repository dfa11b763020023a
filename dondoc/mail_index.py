"""A readable index of the emails in a Maildir: what the demo sent, decoded.

A raw email file shows a base64 body and an RFC 2047 subject; this reads each message
with the standard library's email parser and writes one HTML page listing them, oldest
first, with decoded subjects and plain-text bodies. Everything taken from the messages
is autoescaped: the page shows plan text, it never runs it.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import cast

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment


@dataclass(frozen=True)
class Mail:
    key: str
    date: datetime | None
    sender: str
    to: str
    subject: str
    text: str
    attachments: tuple[str, ...]


def read_maildir(path: Path) -> list[Mail]:
    """Every message of the Maildir at `path`, decoded, in the order they were sent."""
    box = mailbox.Maildir(path, factory=None, create=False)
    mails = []
    for key, raw in box.items():
        message = cast(
            EmailMessage, email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
        )
        body = message.get_body(preferencelist=("plain", "html"))
        try:
            sent = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
        except (TypeError, ValueError):
            sent = None
        mails.append(
            Mail(
                key=key,
                date=sent,
                sender=str(message["From"] or ""),
                to=str(message["To"] or ""),
                subject=str(message["Subject"] or ""),
                text=str(body.get_content()) if body is not None else "",
                attachments=tuple(part.get_filename() or "" for part in message.iter_attachments()),
            )
        )
    mails.sort(key=lambda m: (m.date.timestamp() if m.date else 0.0, m.key))
    return mails


_PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:Arial,sans-serif;margin:2em} td,th{padding:2px 8px;text-align:left;
vertical-align:top} pre{white-space:pre-wrap;background:#f6f6f6;padding:8px}
article{border-top:1px solid #ccc;margin-top:1em}</style></head>
<body><h1>{{ title }}</h1><p>{{ mails|length }} email.</p>
<table><tr><th>#</th><th>Thời điểm</th><th>Người nhận</th><th>Tiêu đề</th></tr>
{% for mail in mails %}<tr><td>{{ loop.index }}</td><td>{{ when(mail) }}</td><td>{{ mail.to }}</td>
<td><a href="#m{{ loop.index }}">{{ mail.subject }}</a></td></tr>
{% endfor %}</table>
{% for mail in mails %}<article id="m{{ loop.index }}"><h2>{{ loop.index }}. {{ mail.subject }}</h2>
<p>Gửi lúc {{ when(mail) }} — từ {{ mail.sender }} đến {{ mail.to }}</p>
{% if mail.attachments %}<p>Tệp đính kèm: {{ mail.attachments|join(", ") }}</p>{% endif %}
<pre>{{ mail.text }}</pre></article>
{% endfor %}</body></html>
"""


def write_index(mails: list[Mail], path: Path, *, title: str) -> None:
    """One HTML page: a table of contents, then each message in full (autoescaped)."""
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    page = env.from_string(_PAGE).render(
        title=title,
        mails=mails,
        when=lambda mail: f"{mail.date:%d/%m/%Y %H:%M}" if mail.date else "",
    )
    path.write_text(page, encoding="utf-8")


def sample_reminder(mails: list[Mail]) -> Mail | None:
    """The first reminder to an agency (not a report), to show what one looks like."""
    return next((m for m in mails if m.subject.startswith("[Nhắc việc]")), None)
