"""The task table people read: `dondoc tasks` and the demo print the same one."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from dondoc.tasks import task_status


def task_table(views: list[dict[str, Any]], groups: dict[str, tuple[str, list[str]]]) -> Table:
    """Tasks with their lead and coordinating agencies; a group whose members are all
    still open shows as the group's name, so a table of 28 tasks stays readable."""
    table = Table(title=f"Nhiệm vụ ({len(views)})", show_lines=True)
    for column, width in (
        ("ID", 4),
        ("STT", 5),
        ("Nhiệm vụ", 48),
        ("Thời hạn", 18),
        ("Chủ trì", 34),
        ("Phối hợp", 34),
        ("Trạng thái", 14),
    ):
        table.add_column(column, max_width=width, overflow="fold")
    for view in views:
        table.add_row(
            str(view["id"]),
            escape(f"{view['section'] or ''} {view['number']}".strip()),
            escape(_clip(view["title"], 140)),
            escape(view["deadline_text"]) if view["deadline_text"] else "[yellow](chưa có)[/]",
            _agencies(view, "lead", groups),
            _agencies(view, "coordinator", groups),
            escape(task_status(view)),
        )
    return table


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MARKS = {"open": "", "acknowledged": " ✓nhận", "done": " ✔xong"}


def _agencies(view: dict[str, Any], role: str, groups: dict[str, tuple[str, list[str]]]) -> str:
    """Agencies in one role; a whole group still all open is shown as the group's name."""
    items = [a for a in view["assignments"] if a["role"] == role]
    open_codes = {a["agency"] for a in items if _status(a) == "open"}
    lines: list[str] = []
    covered: set[str] = set()
    for name, members in groups.values():
        if len(members) > 1 and set(members) <= open_codes - covered:
            lines.append(f"{escape(name)} ({len(members)})")
            covered |= set(members)
    lines += [
        f"{escape(a['agency_name'])}{_MARKS[_status(a)]}"
        for a in items
        if a["agency"] not in covered
    ]
    return "\n".join(lines) or "—"


def _status(item: dict[str, Any]) -> str:
    return str(item.get("current_status", item["status"]))
