"""Zalo webhook pushes with several daemons: any daemon stores a push once per Zalo event
and answers 200 at once; the chat leader answers stored pushes in arrival order per chat,
under a lease, so a dead leader's pushes are answered by the next one.

The store functions run on SQLite and PostgreSQL; the process test runs two real daemons
on PostgreSQL against the fake Zalo Bot API, posting to their HTTP ports as the platform
(or a load balancer in front of them) would.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes.zalo_api import FakeZaloApi
from multi_daemon_support import daemon_env, seed, start_daemon, wait_for
from sqlalchemy.engine import Engine
from sqlmodel import select

from dondoc.chat_links import chat_agency, create_invite
from dondoc.models import AuditEntry, ZaloPush
from dondoc.store import make_engine, session_scope
from notifiers.zalo_inbox import (
    claim_pushes,
    event_key,
    finish_push,
    prune_pushes,
    release_pushes,
    store_push,
)
from notifiers.zalo_webhook import WEBHOOK_PATH

pytest_plugins = ["fakes.fixtures"]

SECRET = "a-long-enough-secret"
PUBLIC = "https://dondoc.tinh.test"
GROUP = "5d41402abc4b2a76b971"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _update(chat: str, text: str, message_id: str) -> dict[str, Any]:
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": message_id,
            "date": 1766619597466,
            "text": text,
            "chat": {"id": chat, "chat_type": "GROUP"},
            "from": {"id": "u7", "display_name": "Lê Văn Cường", "is_bot": False},
        },
    }


def _store(engine: Engine, chat: str, message_id: str, at: datetime = T0) -> bool:
    update = _update(chat, "1", message_id)
    return store_push(engine, update, chat_id=chat, now=at, received_by="test")


def _ids(claimed: list[Any]) -> list[str]:
    return [c.update["message"]["message_id"] for c in claimed]


def _statuses(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {p.event_key.rsplit(":", 1)[1]: p.status for p in session.exec(select(ZaloPush))}


# --- the store, on both backends ---------------------------------------------------------


def test_a_push_is_kept_once_per_event_and_claimed_in_arrival_order_per_chat(
    engine: Engine,
) -> None:
    assert _store(engine, "chat-a", "m1")
    assert not _store(engine, "chat-a", "m1", T0 + timedelta(minutes=5))  # a retry
    assert _store(engine, "chat-b", "m2")
    assert _store(engine, "chat-a", "m3")
    # No message id: the whole update is the identity, still kept once.
    sticker = {"event_name": "message.text.received", "message": {"chat": {"id": "c"}}}
    assert event_key(sticker).startswith("sha256:") and event_key(sticker) == event_key(
        json.loads(json.dumps(sticker))
    )

    # The oldest open push of each chat, oldest first: m3 waits behind m1.
    first = claim_pushes(engine, token="leader-1", now=T0)
    assert _ids(first) == ["m1", "m2"]
    assert claim_pushes(engine, token="leader-1", now=T0) == []  # m3 still waits
    assert finish_push(engine, first[0].id, token="leader-1", now=T0)
    assert _ids(claim_pushes(engine, token="leader-1", now=T0)) == ["m3"]

    # leader-1 dies holding m2 and m3: another claimer gets them only after the lease.
    later = T0 + LEASE - timedelta(seconds=1)
    assert claim_pushes(engine, token="leader-2", now=later) == []
    taken = claim_pushes(engine, token="leader-2", now=T0 + LEASE + timedelta(seconds=1))
    assert _ids(taken) == ["m2", "m3"]
    # The dead leader's late write is fenced off; the new holder's counts.
    assert not finish_push(engine, taken[0].id, token="leader-1", now=later)
    assert finish_push(engine, taken[0].id, token="leader-2", now=later)
    # A leader stepping down gives back what it did not answer.
    assert release_pushes(engine, token="leader-2") == 1
    assert _statuses(engine) == {"m1": "done", "m2": "done", "m3": "pending"}

    # Answered pushes go with the delivery retention, open ones never.
    assert prune_pushes(engine, before=T0 + timedelta(days=400)) == 2
    assert _statuses(engine) == {"m3": "pending"}


def test_a_push_that_keeps_killing_its_claimer_is_given_up_after_five_tries(
    engine: Engine,
) -> None:
    assert _store(engine, "chat-a", "poison")
    assert _store(engine, "chat-a", "next")
    now = T0
    for attempt in range(5):
        assert _ids(claim_pushes(engine, token=f"leader-{attempt}", now=now)) == ["poison"]
        now += LEASE + timedelta(seconds=1)  # each claimer dies
    # The chat is not held up for ever: the next message is answered.
    assert _ids(claim_pushes(engine, token="leader-5", now=now)) == ["next"]
    assert _statuses(engine)["poison"] == "failed"
    # Given up once, and audited once: the office sees which chat went unanswered.
    claim_pushes(engine, token="leader-6", now=now + LEASE * 3)
    with session_scope(engine) as session:
        audits = session.exec(select(AuditEntry).where(AuditEntry.action == "chat.error")).all()
    assert [(a.actor, a.detail) for a in audits] == [
        (
            "zalo",
            {
                "channel": "zalo",
                "reason": "push_given_up",
                "chat_id": "chat-a",
                "event_key": "message.text.received:poison",
                "attempts": 5,
            },
        )
    ]


@pytest.mark.postgres
def test_concurrent_claimers_on_postgresql_never_take_the_same_push(postgres_url: str) -> None:
    from dondoc.store import migrate

    engines = [make_engine(postgres_url) for _ in range(4)]
    migrate(engines[0])
    try:
        for n in range(200):
            assert _store(engines[0], f"chat-{n}", f"m{n}")
        taken: list[list[str]] = [[] for _ in engines]

        def claimer(i: int) -> None:
            while batch := claim_pushes(engines[i], token=f"t{i}", now=T0, limit=7):
                taken[i].extend(_ids(batch))

        threads = [threading.Thread(target=claimer, args=(i,)) for i in range(len(engines))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for engine in engines:
            engine.dispose()
    everything = [m for claimed in taken for m in claimed]
    assert sorted(everything) == sorted(f"m{n}" for n in range(200))  # each exactly once
    assert sum(1 for claimed in taken if claimed) >= 2  # they really ran side by side


# --- two real daemons on PostgreSQL --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(port: int, update: dict[str, Any], secret: str = SECRET) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        data=json.dumps(update, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "X-Bot-Api-Secret-Token": secret},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as exc:
        return dict(json.load(exc))
    except OSError:
        return None


def status(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dondoc", "status", *args],
        env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def daemons_by_pid(env: dict[str, str]) -> dict[int, dict[str, Any]]:
    result = status(env, "--json")
    assert result.returncode == 0, result.stderr
    return {d["pid"]: d for d in json.loads(result.stdout)["daemons"]}


@pytest.mark.slow
@pytest.mark.postgres
def test_two_daemons_take_zalo_pushes_the_leader_answers_once_and_a_new_leader_takes_over(
    tmp_path: Path, postgres_url: str, fake_zalo_api: FakeZaloApi
) -> None:
    seed(postgres_url, count=3, queue=False)
    fake_zalo_api.know(GROUP)  # the platform lets a bot answer only where it was written to
    engine = make_engine(postgres_url)
    with session_scope(engine) as session:
        code = create_invite(
            session, agency_code="co-quan-1", hours=72, actor="cli", now=datetime.now(UTC)
        ).code
    ports = {"a": _free_port(), "b": _free_port()}

    def env(name: str) -> dict[str, str]:
        return daemon_env(
            tmp_path,
            url=postgres_url,
            smtp_port=1,
            name=name,
            DONDOC_SMTP__HOST="",  # Zalo alone
            DONDOC_ZALO__TOKEN=fake_zalo_api.token,
            DONDOC_ZALO__API_URL=fake_zalo_api.url,
            DONDOC_ZALO__WEBHOOK_SECRET=SECRET,
            DONDOC_PUBLIC_URL=PUBLIC,
            DONDOC_SECRET_KEY="k" * 40,  # the public address signs the links it serves
            DONDOC_HTTP_PORT=str(ports[name]),
        )

    leading = "this daemon polls the chat bots"
    a = start_daemon(env("a"), tmp_path, "a")
    daemons = [a]
    try:
        assert wait_for(lambda: leading in a.output(), timeout=60), a.output()
        assert wait_for(lambda: fake_zalo_api.webhook is not None, timeout=20)
        b = start_daemon(env("b"), tmp_path, "b")
        daemons.append(b)

        def healthy(port: int) -> bool:
            body = _health(port)
            return body is not None and bool(body["ok"])

        assert wait_for(lambda: healthy(ports["a"]) and healthy(ports["b"]), timeout=60), b.output()
        health_a, health_b = _health(ports["a"]), _health(ports["b"])
        assert health_a is not None and health_b is not None
        assert (health_a["bot"]["polling"], health_b["bot"]["polling"]) == (True, False)

        # `status` lists both, with their roles.
        listed = daemons_by_pid(env("b"))
        assert {pid: d["state"] for pid, d in listed.items()} == {
            a.process.pid: "running",
            b.process.pid: "running",
        }
        assert listed[a.process.pid]["role"] == "leader"
        assert listed[b.process.pid]["role"] == "follower"
        assert set(listed[b.process.pid]["channels"]) == {"zalo", "webhook"}

        # A push to the follower: 200 at once, answered by the leader, recorded once.
        linking = _update(GROUP, f"/start {code}", "link-0001")
        assert _post(ports["b"], linking) == 200
        assert wait_for(lambda: len(fake_zalo_api.sent(GROUP)) == 1, timeout=20), (
            _statuses(engine),
            a.output()[-3000:],
        )
        assert fake_zalo_api.sent(GROUP)[0].text.startswith(
            "Đã liên kết cuộc trò chuyện này với Cơ quan số 1."
        )
        # The platform retries the same push, once to each daemon: nothing happens twice.
        assert _post(ports["a"], linking) == 200
        assert _post(ports["b"], linking) == 200
        # A push without the secret is refused exactly as before.
        assert _post(ports["b"], _update(GROUP, "1", "forged-01"), secret="wrong-secret") == 403
        time.sleep(2.0)  # a second answer would come within the leader's poll (0.5 s)
        assert len(fake_zalo_api.sent(GROUP)) == 1
        with session_scope(engine) as session:
            linked = chat_agency(session, chat_id=GROUP, channel="zalo")
            assert linked is not None and linked.code == "co-quan-1"
            links = session.exec(select(AuditEntry).where(AuditEntry.action == "chat.linked")).all()
            assert len(links) == 1
            (stored,) = session.exec(select(ZaloPush)).all()
        assert stored.status == "done" and f":{b.process.pid}:" in stored.received_by

        # The leader dies; a push arrives meanwhile at the survivor and waits in the store.
        a.kill()
        asking = _update(GROUP, "/help", "help-0002")
        assert _post(ports["b"], asking) == 200
        assert _statuses(engine)["help-0002"] == "pending"
        waiting = status(env("b"))
        assert "Tin Zalo đang chờ bot trả lời: 1." in waiting.stdout, waiting.stdout
        # `status` shows the dead daemon as silent once its heartbeat is overdue.
        assert wait_for(
            lambda: daemons_by_pid(env("b"))[a.process.pid]["state"] == "stale", timeout=40
        )
        # The survivor takes over (after the fencing delay) and answers it, once.
        assert wait_for(lambda: leading in b.output(), timeout=60), b.output()
        assert wait_for(lambda: len(fake_zalo_api.sent(GROUP)) == 2, timeout=20)
        assert _post(ports["b"], asking) == 200  # retried after the answer: nothing more
        time.sleep(1.5)
        assert len(fake_zalo_api.sent(GROUP)) == 2
        assert _statuses(engine) == {"link-0001": "done", "help-0002": "done"}
        human = status(env("b"))
        assert "Daemon: 1 đang chạy, 1 im lặng, 0 đã dừng." in human.stdout, human.stdout
        assert f"PID {b.process.pid}: đang chạy; bot chat: DẪN ĐẦU" in human.stdout
        assert f"PID {a.process.pid}: IM LẶNG: không báo tin từ" in human.stdout
    finally:
        codes = [d.stop() for d in daemons if d.killed_at is None]
    assert codes == [0], [d.output()[-3000:] for d in daemons]
    # A clean exit marks the daemon stopped; the killed one stays silent until pruned.
    after = daemons_by_pid(env("b"))
    assert after[b.process.pid]["state"] == "stopped"
    assert after[a.process.pid]["state"] == "stale"
    english = status(env("b"), "--lang", "en").stdout
    assert "Daemons: 0 running, 1 silent, 1 stopped." in english
    assert f"PID {a.process.pid}: SILENT: no heartbeat for" in english
    engine.dispose()
