"""The web link at the end of a Zalo reminder: the agency's signed portal link after the
numbered answers, only for the agency the reminder is about, and only with a public
address; long digests still reach the chat in pieces under Zalo's limit, the closing
whole."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fakes.zalo_api import MAX_TEXT, FakeZaloApi
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from config.settings import ZaloSettings
from dondoc.clock import ManualClock
from dondoc.models import Agency
from dondoc.store import session_scope
from dondoc.web.links import EmailLinks, Links, Signer
from notifiers.render import Renderer
from notifiers.zalo import ZaloChannel, ZaloClient

pytest_plugins = ["fakes.fixtures"]

PUBLIC = "https://dondoc.tinh.test"
KEY = "k" * 40
GROUP = "c0ffee00c0ffee00c0ff"
TODAY = date(2023, 1, 4)
VI_LINK = "Hoặc trả lời trên trang web (mọi nhiệm vụ của cơ quan): "


def item(number: int, **changes: Any) -> dict[str, Any]:
    """One overdue reminder of Sở Nội vụ, as the daemon puts it in the outbox."""
    context: dict[str, Any] = {
        "assignment_id": 100 + number,
        "role": "lead",
        "stage": "overdue",
        "template": "overdue",
        "repeat": 0,
        "ask_explanation": False,
        "occurrence": None,
        "audience": "agency",
        "plan": {"code": "nq131", "title": "Kế hoạch thực hiện Nghị quyết số 131/NQ-CP"},
        "task": {
            "id": number,
            "number": str(number),
            "section": "I",
            "title": f"Nhiệm vụ {number}: rà soát, đơn giản hóa thủ tục hành chính nội bộ "
            + "và cắt giảm giấy tờ không cần thiết " * 3,
            "product": "Báo cáo",
            "deadline_text": "Tháng 12/2022",
            "deadline_explained": "hạn cuối ngày 31/12/2022",
            "due": "2022-12-31",
            "target": None,
        },
        "agency": {"code": "so-noi-vu", "name": "Sở Nội vụ"},
        "recipient": {"code": "so-noi-vu", "name": "Sở Nội vụ"},
        "office": {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
    }
    context.update(changes)
    return context


def renderer_for(engine: Engine) -> Renderer:
    clock = ManualClock(datetime(2023, 1, 4, 2, tzinfo=UTC))
    links = Links(PUBLIC, Signer(KEY, clock=clock))
    return Renderer(links=EmailLinks(engine=engine, links=links))


def agency_id(engine: Engine, code: str) -> int:
    with session_scope(engine) as session:
        return session.exec(select(Agency).where(Agency.code == code)).one().id or 0


async def test_a_long_digest_ends_with_the_portal_link_in_pieces_under_the_limit(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    items = [item(n) for n in range(1, 15)]
    rendered = renderer_for(plan_store).render("overdue", items=items, locale="vi", today=TODAY)
    assert len(rendered.zalo) > 2 * MAX_TEXT

    fake_zalo_api.know(GROUP)
    settings = ZaloSettings(token=SecretStr(fake_zalo_api.token), api_url=fake_zalo_api.url,
                            max_per_second=50)  # fmt: skip
    channel = ZaloChannel(ZaloClient(settings))
    try:
        await channel.send(rendered.message(channel="zalo", address=GROUP))
    finally:
        await channel.shutdown()

    pieces = [m.text for m in fake_zalo_api.sent(GROUP)]
    assert len(pieces) >= 3 and all(len(p) <= MAX_TEXT for p in pieces)
    for it in items:  # each task whole, in one piece
        assert sum(it["task"]["title"].strip() in p for p in pieces) == 1
    closing = pieces[-1].split("\n\n")[-1].splitlines()
    assert closing[0] == "Trả lời tin nhắn này bằng:"  # the instructions are not cut off
    assert closing[1] == '1 (hoặc "đã nhận"): xác nhận đã nhận nhiệm vụ'
    assert closing[-2].startswith("Tin này có 14 nhiệm vụ:")
    assert closing[-1].startswith(VI_LINK + PUBLIC + "/p/")
    assert sum(PUBLIC in p for p in pieces) == 1  # one link, not one per task
    token = closing[-1].removeprefix(VI_LINK + PUBLIC + "/p/")
    grant = Signer(KEY, clock=ManualClock(datetime.now(UTC))).read_portal(token)
    assert grant.agency_id == agency_id(plan_store, "so-noi-vu")


def test_the_link_is_only_for_the_agency_and_only_with_a_public_address(
    plan_store: Engine,
) -> None:
    linked = renderer_for(plan_store)
    one = linked.render("overdue", items=[item(1)], locale="vi", today=TODAY).zalo
    assert one.rstrip().splitlines()[-1].startswith(VI_LINK + PUBLIC + "/p/")
    english = linked.render("overdue", items=[item(1)], locale="en", today=TODAY).zalo
    last = english.rstrip().splitlines()[-1]
    assert last.startswith("Or answer on the web (all of your agency's tasks): " + PUBLIC + "/p/")

    # The office copy of the same reminder answers nothing, so it links nothing.
    office = item(1, audience="office", recipient={"code": "vp-ubnd", "name": "VP UBND"})
    assert PUBLIC not in linked.render("overdue", items=[office], locale="vi", today=TODAY).zalo

    # Without DONDOC_PUBLIC_URL there is no link: the numbered answers end the message.
    plain = Renderer().render("overdue", items=[item(1)], locale="vi", today=TODAY).zalo
    assert "trang web" not in plain
    assert plain.rstrip().endswith("4 <nội dung>: gửi giải trình")
