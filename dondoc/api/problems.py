"""Errors as RFC 9457 problem details (`application/problem+json`), Vietnamese `detail`.

Every refusal of the API, FastAPI's own validation errors included, leaves through
`problem_response`, so a client parses one shape: type, title, status, detail, instance.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dondoc.errors import NotFoundError, UserError

# A URN: it names the kind of problem stably without promising a page at some address.
PROBLEM_TYPE = "urn:dondoc:problem:"
MEDIA_TYPE = "application/problem+json"

# (title, default detail) per status: the title stays the same for one kind of problem.
TITLES: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ", "Yêu cầu không hợp lệ."),
    401: ("Chưa xác thực", "Cần mã truy cập hợp lệ trong tiêu đề Authorization: Bearer <mã>."),
    403: ("Không có quyền", "Mã truy cập này không được phép thực hiện yêu cầu."),
    404: ("Không tìm thấy", "Không tìm thấy tài nguyên được yêu cầu."),
    405: ("Phương thức không được hỗ trợ", "Địa chỉ này không nhận phương thức HTTP đã dùng."),
    409: ("Xung đột", "Yêu cầu xung đột với trạng thái hiện tại."),
    413: ("Tệp quá lớn", "Tệp gửi lên vượt quá giới hạn cho phép."),
    422: ("Dữ liệu không hợp lệ", "Dữ liệu gửi lên không hợp lệ."),
    429: ("Quá nhiều yêu cầu", "Có quá nhiều lần xác thực sai; vui lòng thử lại sau."),
    500: ("Lỗi máy chủ", "Máy chủ gặp lỗi; vui lòng thử lại sau."),
}


class Problem(Exception):
    """A refusal with its HTTP status; `code` names it in `type` (urn:dondoc:problem:<code>)."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        title, default = TITLES.get(status, TITLES[400 if status < 500 else 500])
        self.status = status
        self.title = title
        self.detail = detail or default
        self.code = code or title_code(status)
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail)


def title_code(status: int) -> str:
    return {
        400: "bad-request",
        401: "unauthorized",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        409: "conflict",
        413: "too-large",
        422: "invalid",
        429: "throttled",
    }.get(status, "server-error")


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + problem.code,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extra,
    }
    return JSONResponse(
        jsonable_encoder(body),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("query", "limit") -> "limit"; ("body", "text") -> "text"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


_MESSAGES = {
    "missing": "thiếu giá trị bắt buộc",
    "int_parsing": "phải là một số nguyên",
    "less_than_equal": "quá lớn",
    "greater_than_equal": "quá nhỏ",
    "date_from_datetime_parsing": "phải là ngày dạng YYYY-MM-DD",
    "date_parsing": "phải là ngày dạng YYYY-MM-DD",
    "string_too_short": "không được để trống",
    "string_too_long": "quá dài",
    "enum": "không thuộc các giá trị cho phép",
    "literal_error": "không thuộc các giá trị cho phép",
    "json_invalid": "không phải JSON hợp lệ",
    "model_attributes_type": "phải là một đối tượng JSON",
    "dict_type": "phải là một đối tượng JSON",
}


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = [
        {
            "field": _field(error.get("loc", ())),
            "message": _MESSAGES.get(str(error.get("type")), "không hợp lệ"),
            "type": error.get("type"),
        }
        for error in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return Problem(422, f"Dữ liệu không hợp lệ — {detail}.", errors=errors)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, validation_problem(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own details are English phrases: the Vietnamese default replaces them.
        detail = None
        if exc.status_code == 404:
            detail = f"Không có địa chỉ {request.url.path} trong API."
        headers = dict(exc.headers or {})
        return problem_response(request, Problem(exc.status_code, detail, headers=headers))

    @app.exception_handler(NotFoundError)
    async def _missing(request: Request, exc: NotFoundError) -> JSONResponse:
        return problem_response(request, Problem(404, exc.message))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the caller's mistake: Starlette still logs it with its traceback.
        return problem_response(request, Problem(500))

    @app.exception_handler(UserError)
    async def _user(request: Request, exc: UserError) -> JSONResponse:
        return problem_response(request, Problem(422, exc.message))
