"""Checking an office's own templates before they go live (`dondoc config check`).

Each custom template is read for what the sandbox would refuse (a private attribute such
as `__class__` or `__globals__`, wherever it sits, even in a branch the sample does not
take), then rendered in the sandbox against sample messages for an agency, for the
office and as a digest. Every problem is one 'FILE:LINE: message' line.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_FUNCTION_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    UNSAFE_METHOD_ATTRIBUTES,
    SandboxedEnvironment,
)

from notifiers.render import LOCALES, Renderer, RenderError

SAMPLE_DAY = date(2022, 12, 5)
_UNSAFE_NAMES = (
    UNSAFE_FUNCTION_ATTRIBUTES
    | UNSAFE_METHOD_ATTRIBUTES
    | UNSAFE_GENERATOR_ATTRIBUTES
    | UNSAFE_COROUTINE_ATTRIBUTES
    | UNSAFE_ASYNC_GENERATOR_ATTRIBUTES
    | {"mro", "func_globals", "f_globals", "f_locals", "f_builtins", "tb_frame"}
)


def sample_item(number: str = "5", *, audience: str = "agency") -> dict[str, Any]:
    """A message context with every value any bundled template reads."""
    office = {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"}
    agency = {"code": "so-noi-vu", "name": "Sở Nội vụ"}
    return {
        "assignment_id": 12,
        "role": "lead",
        "stage": "overdue",
        "template": "overdue",
        "repeat": 0,
        "ask_explanation": True,
        "occurrence": None,
        "audience": audience,
        "plan": {"code": "nq131", "title": "Kế hoạch thực hiện Nghị quyết số 131/NQ-CP"},
        "task": {
            "id": 5,
            "number": number,
            "section": "I",
            "title": "Rà soát, đơn giản hóa thủ tục hành chính nội bộ",
            "product": "Báo cáo",
            "deadline_text": "Tháng 11/2022",
            "deadline_explained": "hạn cuối ngày 30/11/2022",
            "due": "2022-11-30",
            "target": None,
            "leads": [agency],
        },
        "agency": agency,
        "recipient": office if audience == "office" else agency,
        "office": office,
        "answer": {"telegram_link": "https://t.me/dondoc_bot", "reply_email": "vp@example.vn"},
        "explanation": {"text": "Đang chờ ý kiến các sở.", "author": "Nguyễn Văn A"},
        "extension": {
            "id": 3,
            "plan": "nq131",
            "number": number,
            "title": "Rà soát thủ tục",
            "agency": agency["code"],
            "agency_name": agency["name"],
            "reason": "Chờ ý kiến",
            "requested_by": "Nguyễn Văn A",
            "proposed_due": "2023-01-31",
            "current_due": "2022-11-30",
            "previous_due": "2022-11-30",
            "status": "approved",
            "note": None,
        },
        "failure": {
            "channel": "email",
            "error": "Hộp thư không tồn tại",
            "key": "a:12:overdue",
            "recipient": agency,
        },
        "report": {
            "kind": "late",
            "period": "2022-11",
            "period_label": "tháng 11/2022",
            "title": "Danh sách cơ quan, đơn vị chậm muộn tháng 11/2022",
            "as_of": "2022-11-30",
            "html_path": "/tmp/bao-cao.html",
            "csv_path": "/tmp/bao-cao.csv",
            "summary": {
                "agencies": 1,
                "late": 1,
                "overdue": 1,
                "done_late": 0,
                "explained": 0,
                "missing_explanation": 1,
            },
        },
    }


def check_templates(templates_dir: Path) -> list[str]:
    """Problems of the custom templates in `templates_dir`, one 'FILE:LINE: …' line each."""
    problems: list[str] = []
    files = sorted(p for p in templates_dir.rglob("*.j2") if p.is_file())
    for path in files:
        problems += _unsafe_names(path)
    if problems:
        return problems  # rendering would only repeat them (or run into them)
    renderer = Renderer(templates_dir=templates_dir)
    for path in files:
        locale, name = path.parent.name, path.stem
        if locale not in LOCALES or name.startswith("_") or name == "chat":
            continue  # partials are checked through the templates that use them
        for items in (
            [sample_item()],
            [sample_item(audience="office")],
            [sample_item("5"), sample_item("6")],
        ):
            try:
                renderer.render(name, items=items, locale=locale, today=SAMPLE_DAY)
            except RenderError as exc:
                line = f"{exc.where or path}: {exc.problem}"
                if line not in problems:
                    problems.append(line)
    return problems


def _unsafe_names(path: Path) -> list[str]:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{path}: không đọc được mẫu (cannot read the template): {exc}"]
    try:
        tree = SandboxedEnvironment().parse(source, filename=str(path))
    except jinja2.TemplateSyntaxError as exc:
        return [f"{path}:{exc.lineno}: mẫu sai cú pháp (template syntax error): {exc.message}"]
    return [
        f"{path}:{lineno}: mẫu truy cập '{name}', bị sandbox chặn (a template may not reach "
        "private attributes; it may only read the message's values)"
        for lineno, name in _private_accesses(tree)
    ]


def _private_accesses(tree: nodes.Template) -> Iterator[tuple[int, str]]:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        name: object = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            first = node.args[0]
            name = first.value if isinstance(first, nodes.Const) else None
        if isinstance(name, str) and (name.startswith("_") or name in _UNSAFE_NAMES):
            yield node.lineno, name
