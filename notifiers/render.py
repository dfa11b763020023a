"""Turns outbox contexts into what a person reads: email text and HTML, a Telegram message
and its buttons, and the short phrases the bot says in chat.

Templates are jinja2 files under notifiers/templates/<locale>/, overridable file by file
from a directory of the same shape (settings.templates_dir). Plan data is only ever a
template *value*: a task titled "{{ x }}" or "<b>" is printed as written, and escaped in
HTML by autoescape.

Whoever may edit wording must not be able to run code as the daemon (and read its
secrets), so every template, bundled or custom, renders in Jinja's sandbox: reaching
`__class__`, `__globals__` or any other private attribute is a RenderError naming the
template's FILE:LINE, never an executed command.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from notifiers.base import Attachment, Button, OutgoingMessage
from notifiers.template_names import BUNDLED_TEMPLATES as BUNDLED_TEMPLATES
from notifiers.template_names import LOCALES, available_templates, search_path
from rules.deadline import Deadline

DEFAULT_LOCALE = "vi"
DIGEST = "digest"
# Telegram allows 100 buttons per message: 4 per task row, so at most 24 task rows.
MAX_BUTTON_ROWS = 24

ROLE_LABELS = {
    "vi": {"lead": "chủ trì", "coordinator": "phối hợp"},
    "en": {"lead": "lead agency", "coordinator": "coordinating agency"},
}
BUTTON_LABELS = {
    "vi": {"a": "Đã nhận", "d": "Đã hoàn thành", "e": "Xin gia hạn", "g": "Gửi giải trình"},
    "en": {"a": "Received", "d": "Done", "e": "Ask for extension", "g": "Send explanation"},
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# The parts each channel sends (see Rendered.message); the subject names every message.
_ALL_PARTS = frozenset(("subject", "text", "html", "telegram", "zalo"))
_PARTS = {
    "email": frozenset(("subject", "text", "html")),
    "telegram": frozenset(("subject", "telegram")),
    "zalo": frozenset(("subject", "zalo")),
}
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


class StrictSandbox(SandboxedEnvironment):
    """The sandbox, refusing an unsafe attribute at once.

    Jinja's default hands back an undefined value that only fails when used, and a chain
    such as `x|attr('__init__')|attr('__globals__')` then reports a missing attribute
    instead of what happened.
    """

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )


class RenderError(ValueError):
    """A template is missing, uses a value the context does not have, or broke the sandbox."""

    def __init__(self, template: str, problem: str, *, where: str | None = None) -> None:
        located = f" ({where})" if where else ""
        super().__init__(f"Mẫu thông báo '{template}'{located} lỗi: {problem}")
        self.template = template
        self.problem = problem
        self.where = where


def template_error(path: str, exc: Exception) -> RenderError:
    """A RenderError for `exc`, located at the template line that raised it when known."""
    where = template_location(exc)
    if isinstance(exc, SecurityError):
        reason = str(exc).rstrip(".")
        problem = (
            f"bị chặn vì không an toàn (blocked by the template sandbox): {reason}. Mẫu chỉ "
            "được đọc các giá trị của thông báo (templates may only read the message's values)"
        )
    elif isinstance(exc, jinja2.TemplateError):
        problem = str(exc)
    else:  # the template's own code failed: 1/0, a range the sandbox refuses, ...
        problem = f"{type(exc).__name__}: {exc}"
    return RenderError(path, problem, where=where)


def template_location(exc: BaseException) -> str | None:
    """'FILE:LINE' of the template frame in `exc`'s traceback (Jinja rewrites it so)."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    found = None
    tb = exc.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:  # jinja2.debug's fake frames
            found = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    telegram: str
    buttons: tuple[tuple[Button, ...], ...]
    zalo: str = ""  # the chat text with numbered answers instead of buttons

    def message(
        self,
        *,
        channel: str,
        address: str,
        message_key: str = "",
        reply_to: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> OutgoingMessage:
        """The message for one channel: email gets text + HTML, Telegram its text + buttons."""
        if channel == "zalo":
            return OutgoingMessage(
                channel=channel,
                address=address,
                subject=self.subject,
                text=self.zalo or self.telegram,
                attachments=attachments,
                message_key=message_key,
            )
        if channel == "telegram":
            return OutgoingMessage(
                channel=channel,
                address=address,
                subject=self.subject,
                text=self.telegram,
                buttons=self.buttons,
                attachments=attachments,
                message_key=message_key,
            )
        return OutgoingMessage(
            channel=channel,
            address=address,
            subject=self.subject,
            text=self.text,
            html=self.html,
            attachments=attachments,
            message_key=message_key,
            reply_to=reply_to,
        )


def format_date(value: date | str | None, locale: str) -> str:
    """30/11/2022 in Vietnamese, 30 Nov 2022 in English; '' for no date."""
    day = as_date(value)
    if day is None:
        return ""
    if locale == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def as_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _complete_task(task: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """The task with every key templates read; missing ones derived from its stored deadline."""
    complete = dict(task)
    for key in ("section", "product", "deadline_text", "target"):
        complete.setdefault(key, None)
    complete.setdefault("leads", [])
    stored = task.get("deadline")
    deadline = None
    if isinstance(stored, Mapping) and ("due" not in task or "deadline_explained" not in task):
        try:
            deadline = Deadline.from_dict(stored)
        except (ValueError, TypeError):
            deadline = None
    if "due" not in complete:
        complete["due"] = deadline.due.isoformat() if deadline and deadline.due else None
    if "deadline_explained" not in complete:
        complete["deadline_explained"] = deadline.describe(locale) if deadline else None
    return complete


def _due_label(stored: object, due: date | None) -> str | None:
    if due is None or not isinstance(stored, Mapping) or not stored.get("parts"):
        return None
    try:
        part = Deadline.from_dict(stored).part_for(due)
    except (ValueError, TypeError):
        return None
    return part.label if part is not None else None


def _tidy(text: str) -> str:
    text = _TRAILING_SPACE.sub("\n", text.replace("\r\n", "\n"))
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


def _one_line(text: str) -> str:
    # A subject is a header: a task title with line breaks must not fold into two.
    return " ".join(text.split())


class Renderer:
    """Renders reminders, notices and reports, and the bot's chat phrases, per locale."""

    def __init__(
        self,
        *,
        templates_dir: Path | None = None,
        links: Callable[[Mapping[str, Any]], Mapping[str, str] | None] | None = None,
    ) -> None:
        # links: the answer links of one item (dondoc.web.links.EmailLinks), or None when
        # the deployment has no public address: then emails carry no links.
        self._links = links
        self._templates_dir = templates_dir
        loader = jinja2.FileSystemLoader(search_path(templates_dir))
        self._text = self._environment(loader, autoescape=False)
        self._html = self._environment(loader, autoescape=True)

    @staticmethod
    def _environment(loader: jinja2.BaseLoader, *, autoescape: bool) -> jinja2.Environment:
        env = StrictSandbox(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            autoescape=autoescape,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        env.filters["d"] = jinja2.pass_context(
            lambda ctx, value: format_date(value, ctx.get("locale", DEFAULT_LOCALE))
        )
        env.filters["clip"] = lambda value, limit=90: (
            value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
        )
        return env

    def available(self) -> set[str]:
        """Template names that exist in every locale (what a rule config may reference)."""
        return available_templates(self._templates_dir)

    def render(
        self,
        template: str,
        *,
        items: Sequence[Mapping[str, Any]],
        locale: str,
        today: date,
        channel: str | None = None,
    ) -> Rendered:
        """One message for one recipient: one item → `template`, several → the digest.

        With `channel`, only what that channel sends is rendered (the rest is left
        empty): each part is a full pass over the template, and delivery renders every
        message it sends.
        """
        if not items:
            raise ValueError("render() needs at least one item")
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        contexts = [self._derive(item, locale=locale, today=today) for item in items]
        for context in contexts:
            context["links"] = self._links(context) if self._links else None
        name = template if len(contexts) == 1 else DIGEST
        variables: dict[str, Any] = {
            **contexts[0],
            "items": contexts,
            "locale": locale,
            "today": today,
            "template": name,
        }
        path = f"{locale}/{name}.j2"
        wanted = _PARTS.get(channel or "", _ALL_PARTS)
        parts = {
            part: self._render(self._text, path, {**variables, "part": part})
            if part in wanted
            else ""
            for part in ("subject", "text", "telegram", "zalo")
        }
        html = (
            self._render(self._html, path, {**variables, "part": "html"})
            if "html" in wanted
            else ""
        )
        return Rendered(
            subject=_one_line(parts["subject"]),
            text=_tidy(parts["text"]) if "text" in wanted else "",
            html=html.strip() + "\n" if "html" in wanted else "",
            telegram=_tidy(parts["telegram"]) if "telegram" in wanted else "",
            buttons=self._buttons(contexts, locale),
            zalo=_tidy(parts["zalo"]) if "zalo" in wanted else "",
        )

    def chat(self, phrase: str, *, locale: str, **values: Any) -> str:
        """A sentence the bot says in chat: a macro of <locale>/chat.j2."""
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        path = f"{locale}/chat.j2"
        try:
            module = self._text.get_template(path).make_module({"locale": locale})
            macro = getattr(module, phrase)
            return _tidy(str(macro(**values))).strip()
        except AttributeError:
            raise RenderError(path, f"không có câu '{phrase}'") from None
        except jinja2.TemplateError as exc:
            raise template_error(path, exc) from None

    @staticmethod
    def _render(env: jinja2.Environment, path: str, variables: dict[str, Any]) -> str:
        try:
            return env.get_template(path).render(variables)
        except jinja2.TemplateNotFound:
            raise RenderError(path, "không tìm thấy tệp mẫu") from None
        except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
            # What a template's own expressions can raise; our bugs elsewhere still show.
            raise template_error(path, exc) from None

    @staticmethod
    def _derive(item: Mapping[str, Any], *, locale: str, today: date) -> dict[str, Any]:
        """The item plus what templates should not compute: due date, days, role label."""
        context = dict(item)
        task = item.get("task")
        if isinstance(task, Mapping):
            task = context["task"] = _complete_task(task, locale)
            context.setdefault("office", None)
            context.setdefault("answer", {"telegram_link": None, "reply_email": None})
            due = as_date(item.get("occurrence")) or as_date(task.get("due"))
            context["due_date"] = due
            # "Sơ kết: Tháng 6/2026 - Tổng kết: Tháng 12/2026": which of the dates this is.
            context["due_label"] = _due_label(task.get("deadline"), due)
            context["days"] = (due - today).days if due is not None else None
            role = item.get("role")
            context["role_label"] = ROLE_LABELS[locale].get(str(role), str(role))
            recipient = item.get("recipient") or {}
            agency = item.get("agency") or {}
            context["actionable"] = bool(
                item.get("assignment_id")
                and item.get("audience") != "office"
                and recipient.get("code") == agency.get("code")
            )
            # An explanation is asked of the late agency only, and only until it came in;
            # the office is told that it was asked instead of being asked itself.
            explained = bool(item.get("explained"))
            asked = (
                bool(item.get("ask_explanation")) or item.get("template") == "explanation_request"
            ) and not explained
            to_office = item.get("audience") == "office"
            context["explained"] = explained
            context["ask_explanation"] = asked and not to_office
            context["explanation_pending"] = asked and to_office
        return context

    @staticmethod
    def _buttons(
        contexts: Sequence[Mapping[str, Any]], locale: str
    ) -> tuple[tuple[Button, ...], ...]:
        labels = BUTTON_LABELS[locale]
        actionable = [c for c in contexts if c.get("actionable")]
        rows: list[tuple[Button, ...]] = []
        for context in actionable[:MAX_BUTTON_ROWS]:
            assignment = int(context["assignment_id"])
            occurrence = as_date(context.get("occurrence"))
            done = f"d:{assignment}" + (f":{occurrence:%Y%m%d}" if occurrence else "")
            actions = [("a", f"a:{assignment}"), ("d", done), ("e", f"e:{assignment}")]
            if context.get("ask_explanation"):
                actions.append(("g", f"g:{assignment}"))
            if len(contexts) == 1:
                rows.append(tuple(Button(labels[k], data) for k, data in actions[:2]))
                rows.append(tuple(Button(labels[k], data) for k, data in actions[2:]))
            else:
                number = context["task"]["number"]
                rows.append(tuple(Button(f"{number}: {labels[k]}", data) for k, data in actions))
        return tuple(rows)
