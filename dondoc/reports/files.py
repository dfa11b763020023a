"""Writing report files whole or not at all, and the names they are published under."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlmodel import Session, select

from dondoc.directory import default_office
from dondoc.errors import UserError
from dondoc.models import Agency, Plan


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UserError(f"Không ghi được tệp {path}: {exc.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise UserError(f"Không ghi được tệp {path}: {exc.strerror}.") from None


def office_name(session: Session, plan: str | None) -> str | None:
    """Who publishes the report: the plan's owner, else the directory's one office."""
    if plan is not None:
        row = session.exec(select(Plan).where(Plan.code == plan)).first()
        if row is not None and row.owner_agency_id is not None:
            owner = session.get(Agency, row.owner_agency_id)
            if owner is not None:
                return owner.name
    office = default_office(session)
    return office.name if office else None
