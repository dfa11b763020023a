"""Plan import through the API: the CLI's `dondoc plan import`, from a multipart upload.

The same import_plan: every row is checked before anything is written, and any problem
refuses the whole file (422, each problem naming its row and field). `dry_run` answers
what would be written and writes nothing. Only an office token (no agency limit) with
the write scope may import; a plan-limited token only its own plan.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from sqlmodel import Session, select

from dondoc.agency_cells import slug
from dondoc.api.deps import api, db, refuse, writer
from dondoc.api.problems import Problem
from dondoc.api.schemas import ImportOut
from dondoc.api.tokens import Caller
from dondoc.models import AuditEntry, Plan
from dondoc.plan_import import import_plan
from dondoc.plan_report import PlanImportError, PlanWarningsError

router = APIRouter()

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx", ".docx", ".pdf")


def _file_name(upload: UploadFile) -> str:
    """The uploaded file's own name (no directories), which errors and the plan code use."""
    name = PurePath((upload.filename or "").replace("\\", "/")).name.strip()
    if not name or not name.lower().endswith(SUFFIXES):
        raise Problem(
            422,
            f"Tệp '{name or '(không tên)'}' không được hỗ trợ: hãy gửi bảng Phụ lục dạng "
            ".docx, .pdf, .xlsx hoặc .csv.",
            code="unsupported-file",
        )
    return name


@router.post(
    "/plans/import",
    response_model=ImportOut,
    summary="Nhập (hoặc cập nhật) kế hoạch từ bảng Phụ lục",
)
def import_upload(
    request: Request,
    file: UploadFile = File(..., description="Bảng Phụ lục: .docx, .pdf, .xlsx hoặc .csv"),
    plan: str | None = Form(None, description="Mã kế hoạch; mặc định theo tên tệp"),
    title: str | None = Form(None, description="Tên kế hoạch"),
    owner: str | None = Form(None, description="Mã cơ quan theo dõi kế hoạch"),
    create_agencies: bool = Form(False, description="Thêm các cơ quan chưa có trong danh bạ"),
    strict: bool = Form(False, description="Coi mọi cảnh báo là lỗi"),
    dry_run: bool = Form(False, description="Chỉ cho xem kết quả, không ghi gì"),
    who: Caller = Depends(writer),
    session: Session = Depends(db, scope="function"),
) -> ImportOut:
    if who.agency_id is not None:
        refuse(request, who, "office_only")
    name = _file_name(file)
    code = plan or slug(PurePath(name).stem)
    if who.plan_id is not None:
        limit = session.get(Plan, who.plan_id)
        if limit is None or code != limit.code:
            refuse(request, who, "plan_limit", plan=code)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise Problem(413, f"Tệp '{name}' lớn hơn {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    with tempfile.TemporaryDirectory(prefix="dondoc-api-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            report = import_plan(
                session,
                path=path,
                now=api(request).clock.now(),
                plan_code=plan,
                title=title,
                owner=owner,
                create_agencies=create_agencies,
                dry_run=dry_run,
                actor=who.actor,
                strict=strict,
            )
        except PlanImportError as exc:
            session.rollback()
            raise Problem(422, exc.message, code="plan-invalid", errors=exc.problems) from None
        except PlanWarningsError as exc:
            session.rollback()
            raise Problem(422, exc.message, code="plan-warnings", errors=exc.warnings) from None
    if not dry_run:
        # The plan and its audit entry name the file as sent, not the temporary copy.
        for row in session.new:
            if isinstance(row, AuditEntry) and row.action == "plan.import":
                row.detail = {**row.detail, "file": name}
        stored = session.exec(select(Plan).where(Plan.code == report.plan_code)).first()
        if stored is not None:
            stored.source_file = name
            session.add(stored)
    return ImportOut(dry_run=dry_run, report=report.to_dict())
