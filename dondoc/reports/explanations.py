"""Recording an agency's explanation for a late task (Nghị định 61/2018/NĐ-CP).

The office types in one received on paper or by email (`dondoc explain`); the chat
channel records those sent from Telegram through the same function.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from dondoc.errors import UserError
from dondoc.models import Assignment, AuditEntry, Explanation, Task
from rules.text import nfc

VIA = ("paper", "email", "telegram", "zalo", "api")
MAX_TEXT = 10_000


class EmptyExplanationError(UserError, ValueError):
    def __init__(self) -> None:
        super().__init__("Nội dung giải trình đang để trống: hãy nhập nội dung (--text).")


def record_explanation(
    session: Session,
    *,
    assignment: Assignment,
    text: str,
    author: str,
    via: str,
    actor: str,
    now: datetime,
) -> Explanation:
    """Store an explanation for `assignment`, audit it and ask the daemon to re-evaluate."""
    if via not in VIA:
        raise UserError(f"Hình thức nhận giải trình '{via}' không hợp lệ: dùng {', '.join(VIA)}.")
    # Paragraph breaks are kept: an explanation typed from a letter may have several.
    cleaned = "\n".join(nfc(line) for line in text.strip().splitlines()).strip()
    if not cleaned:
        raise EmptyExplanationError()
    if len(cleaned) > MAX_TEXT:
        raise UserError(
            f"Nội dung giải trình dài {len(cleaned)} ký tự, vượt quá {MAX_TEXT}: "
            "hãy tóm tắt hoặc đính kèm văn bản."
        )
    explanation = Explanation(
        assignment_id=assignment.id or 0, text=cleaned, author=nfc(author), via=via, at=now
    )
    session.add(explanation)
    # A stage waiting for this explanation can stop asking at the next tick.
    assignment.next_due_at = now
    session.add(assignment)
    task = session.get(Task, assignment.task_id)
    session.flush()
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="assignment.explanation",
            plan_id=task.plan_id if task else None,
            task_id=assignment.task_id,
            assignment_id=assignment.id,
            agency_id=assignment.agency_id,
            detail={"explanation_id": explanation.id, "via": via, "author": explanation.author},
        )
    )
    return explanation
