"""Plan import by multipart upload over real HTTP, on SQLite and PostgreSQL: a dry run
writes nothing, a bad file is refused whole with each problem named, a good one is
imported like `dondoc plan import` imports it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import EXAMPLE_PLAN, audits, client, count, is_problem, make_token, serve_api
from fakes.smtp import SmtpSink

from dondoc.app import App
from dondoc.models import Agency, Assignment, AuditEntry, Plan, Task

pytest_plugins = ["fakes.fixtures"]

HEADER = "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành\n"


@pytest.fixture
def served(store_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[tuple[App, str]]:
    with serve_api(tmp_path, smtp_sink, store_url=store_url) as found:
        yield found


def _counts(app: App) -> tuple[int, ...]:
    return tuple(count(app, table) for table in (Plan, Task, Assignment, Agency, AuditEntry))


def test_a_dry_run_upload_writes_nothing_then_the_real_one_imports(
    served: tuple[App, str],
) -> None:
    app, base = served
    token = make_token(app, "vp", "write")
    before = _counts(app)
    with client(base, token) as http:
        files = {"file": ("nq131-phu-luc.csv", EXAMPLE_PLAN.read_bytes())}
        dry = http.post("/plans/import", files=files, data={"plan": "nq131", "dry_run": "true"})
        assert dry.status_code == 200, dry.text
        assert _counts(app) == before
        real = http.post("/plans/import", files=files, data={"plan": "nq131"})
        assert real.status_code == 200, real.text
    assert dry.json()["dry_run"] is True
    assert dry.json()["report"]["totals"] == real.json()["report"]["totals"]
    assert real.json()["report"]["totals"]["tasks"] == 28
    after = _counts(app)
    assert after[0] == before[0] + 1 and after[1] == before[1] + 28
    entry = audits(app, "plan.import")[-1]
    assert (entry.actor, entry.detail["file"]) == ("api:vp", "nq131-phu-luc.csv")


def test_a_bad_file_is_refused_whole_naming_rows_and_fields(served: tuple[App, str]) -> None:
    app, base = served
    token = make_token(app, "vp", "write")
    bad = (
        HEADER
        + "1,Rà soát hồ sơ,Sở Tư pháp,,Báo cáo,Tháng 6/2023\n"
        + "2,Nhiệm vụ thứ hai,Sở Không Có Thật,,Báo cáo,Tháng 6/2023\n"
    )
    before = _counts(app)
    with client(base, token) as http:
        refused = http.post("/plans/import", files={"file": ("kh-loi.csv", bad.encode())})
        wrong_type = http.post("/plans/import", files={"file": ("kh.txt", b"abc")})
    body = is_problem(refused, 422)
    assert "kh-loi.csv" in body["detail"] and "chưa nhập gì" in body["detail"]
    assert any("dòng 3" in problem and "Sở Không Có Thật" in problem for problem in body["errors"])
    assert _counts(app) == before
    assert ".csv" in is_problem(wrong_type, 422)["detail"]


def test_only_an_office_write_token_imports_and_a_plan_token_only_its_plan(
    served: tuple[App, str],
) -> None:
    app, base = served
    good = (HEADER + "1,Rà soát hồ sơ,Sở Tư pháp,,Báo cáo,Tháng 6/2023\n").encode()
    agency = make_token(app, "stp", "write", agency="so-tu-phap")
    plan = make_token(app, "test-only", "write", plan="test")
    before = _counts(app)
    with client(base, agency) as http:
        is_problem(http.post("/plans/import", files={"file": ("khac.csv", good)}), 403)
    with client(base, plan) as http:
        is_problem(http.post("/plans/import", files={"file": ("khac.csv", good)}), 403)
        again = http.post("/plans/import", files={"file": ("x.csv", good)}, data={"plan": "test"})
    assert again.status_code == 200, again.text
    assert again.json()["report"]["removed"]  # the 27 tasks not in the new file
    assert _counts(app)[0] == before[0]
    assert [e.detail["reason"] for e in audits(app, "api.refused")] == [
        "office_only",
        "plan_limit",
    ]
