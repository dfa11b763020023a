"""Realistic reminders for the channel benchmarks, rendered by the real templates."""

from __future__ import annotations

from datetime import date
from typing import Any

from notifiers.render import Rendered, Renderer

TODAY = date(2022, 11, 27)


def reminder_context(n: int) -> dict[str, Any]:
    return {
        "assignment_id": n,
        "role": "lead" if n % 3 else "coordinator",
        "stage": "before",
        "template": "upcoming",
        "repeat": 0,
        "ask_explanation": False,
        "occurrence": None,
        "audience": "agency",
        "plan": {"code": "nq131", "title": "Kế hoạch thực hiện Nghị quyết số 131/NQ-CP"},
        "task": {
            "id": n,
            "number": str(n % 70 + 1),
            "section": "I",
            "title": "Rà soát, đơn giản hóa thủ tục hành chính nội bộ trong hệ thống hành chính "
            "nhà nước; công bố, công khai thủ tục hành chính theo quy định",
            "product": "Báo cáo kết quả rà soát",
            "deadline_text": "Tháng 11/2022",
            "deadline_explained": "hạn cuối ngày 30/11/2022",
            "due": "2022-11-30",
            "target": None,
        },
        "agency": {"code": f"co-quan-{n}", "name": f"Cơ quan số {n}"},
        "recipient": {"code": f"co-quan-{n}", "name": f"Cơ quan số {n}"},
        "office": {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
        "answer": {
            "telegram_link": "https://t.me/dondoc_bot",
            "reply_email": "vp-ubnd@tinhmau.example",
        },
    }


def rendered_reminders(count: int) -> list[Rendered]:
    renderer = Renderer()
    return [
        renderer.render("upcoming", items=[reminder_context(n)], locale="vi", today=TODAY)
        for n in range(count)
    ]
