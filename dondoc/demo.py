"""`make run`: the whole loop on the example plan, in under a minute, with nothing to set up.

A fresh store in data/demo, the example directory and plan, an SMTP sink on 127.0.0.1
writing every email to a Maildir, and the real daemon simulating 2022-11-01 → 2023-06-30
on a virtual clock; halfway, a few agencies answer, as they would from chat.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
import os
import shutil
import socket
import subprocess
import sys
import time as _time
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import col, select

from config.settings import load_settings
from dondoc.actions import set_status
from dondoc.app import App
from dondoc.clock import ManualClock
from dondoc.directory import BUNDLED_DIRECTORY, group_names, load_directory, read_directory_file
from dondoc.logs import configure_logging
from dondoc.mail_index import read_maildir, sample_reminder, write_index
from dondoc.models import Agency, Assignment, OutboxMessage, Plan, Task
from dondoc.plan_import import import_plan
from dondoc.store import migrate, session_scope
from dondoc.task_table import task_table
from dondoc.tasks import list_tasks

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PLAN = ROOT / "examples" / "nq131-phu-luc.csv"
START, PAUSE, END = "2022-11-01", "2022-12-20", "2023-06-30"

console = Console(highlight=False, soft_wrap=True)


class SmtpSink:
    """aiosmtpd's own Maildir handler in a child process: one file per email received."""

    def __init__(self, maildir: Path) -> None:
        mailbox.Maildir(maildir, create=True)
        self.maildir = maildir
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SmtpSink:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{self.port}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(self.maildir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = _time.monotonic() + 15
        while _time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                _time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the demo SMTP sink did not start")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    @property
    def count(self) -> int:
        return len(mailbox.Maildir(self.maildir, create=False))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(app: App) -> None:
    migrate(app.engine)
    with session_scope(app.engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
        report = import_plan(
            session,
            path=EXAMPLE_PLAN,
            now=app.clock.now(),
            plan_code="nq131",
            title="Kế hoạch thực hiện Nghị quyết số 131/NQ-CP",
        )
        views = list_tasks(session, plan="nq131")
        groups = group_names(session)
    console.print(f"Đã nhập kế hoạch [bold]nq131[/]: {report.tasks_total} nhiệm vụ.")
    console.print(task_table(views, groups))


def _answer_some(app: App, when: datetime) -> list[str]:
    """As agencies would from chat: two acknowledge task 13, one finishes task 1."""
    answered = []
    with session_scope(app.engine) as session:
        plan = session.exec(select(Plan).where(Plan.code == "nq131")).one()
        for number, agency_code, status in (
            ("13", "so-khcn", "acknowledged"),
            ("1", "so-tu-phap", "done"),
            ("1", "so-noi-vu", "done"),
            ("5", "vp-ubnd", "acknowledged"),
        ):
            row = session.exec(
                select(Assignment, Agency)
                .join(Task, col(Task.id) == Assignment.task_id)
                .join(Agency, col(Agency.id) == Assignment.agency_id)
                .where(Task.plan_id == plan.id, Task.number == number, Agency.code == agency_code)
            ).first()
            if row is not None:
                set_status(
                    session,
                    assignment=row[0],
                    status=status,
                    actor=f"demo:{agency_code}",
                    now=when,
                    via="telegram",
                )
                answered.append(f"{row[1].name}: STT {number} → {status}")
    return answered


def _summary(app: App, maildir: Path, received: int) -> None:
    with session_scope(app.engine) as session:
        rows = session.exec(
            select(OutboxMessage, Agency)
            .join(Agency, col(Agency.id) == OutboxMessage.agency_id)
            .where(OutboxMessage.status == "sent")
        ).all()
    per_stage = Counter(m.stage for m, _ in rows)
    per_agency = Counter(a.name for _, a in rows)
    table = Table(title="Nhắc việc đã gửi theo giai đoạn (sent per stage)")
    table.add_column("Giai đoạn")
    table.add_column("Số nhắc việc", justify="right")
    for stage, count in per_stage.most_common():
        table.add_row(stage, str(count))
    console.print(table)
    table = Table(title="Theo cơ quan (10 cơ quan nhận nhiều nhất)")
    table.add_column("Cơ quan")
    table.add_column("Số nhắc việc", justify="right")
    for name, count in per_agency.most_common(10):
        table.add_row(name, str(count))
    console.print(table)
    mails = read_maildir(maildir)
    index = maildir.parent / "emails.html"
    write_index(mails, index, title="Email dondoc đã gửi trong bản chạy thử")
    sample = sample_reminder(mails)
    if sample is not None:
        console.print("\n[bold]Một email nhắc việc mẫu[/] (đã giải mã):")
        console.print(f"Gửi: {sample.to}\nTiêu đề: {sample.subject}\n", markup=False)
        console.print(sample.text, markup=False)
    console.print(
        f"{len(rows)} nhắc việc trong {received} email đã đến hộp thư thử nghiệm.\n"
        f"Đọc mọi email (đã giải mã tiêu đề và nội dung) tại: [bold]{index.as_uri()}[/]\n"
        f"Bản gốc từng email (định dạng Maildir, mỗi tệp trong new/ là một email): {maildir}\n"
        f"Báo cáo hằng tháng và hằng quý đã gửi Văn phòng: {maildir.parent / 'reports'}"
    )


async def _simulate(app: App, until: str) -> None:
    end = datetime.combine(date.fromisoformat(until), time(23, 59), app.settings.tz)
    await app.build_daemon().run(simulate_until=end, speed=0)


def main() -> int:
    data_dir = Path(os.environ.get("DONDOC_DEMO_DIR", "data/demo")).resolve()
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    with SmtpSink(data_dir / "maildir") as sink:
        os.environ.update(
            {
                "DONDOC_DATA_DIR": str(data_dir),
                "DONDOC_SMTP__HOST": "127.0.0.1",
                "DONDOC_SMTP__PORT": str(sink.port),
                "DONDOC_SMTP__SENDER": "dondoc@tinhmau.example",
                "DONDOC_HTTP_PORT": "0",
            }
        )
        os.environ.pop("DONDOC_DATABASE_URL", None)
        settings = load_settings()
        start = datetime.combine(date.fromisoformat(START), time(0, 0), settings.tz)
        app = App(settings=settings, clock=ManualClock(start))
        try:
            _prepare(app)
            configure_logging(app.clock, settings.tz, level=logging.WARNING)
            console.print(f"Mô phỏng {START} → {PAUSE} …")
            asyncio.run(_simulate(app, PAUSE))
            for line in _answer_some(app, app.clock.now()):
                console.print(f"  phản hồi: {line}")
            console.print(f"Mô phỏng tiếp {PAUSE} → {END} …")
            asyncio.run(_simulate(app, END))
            _summary(app, sink.maildir, sink.count)
        finally:
            app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
