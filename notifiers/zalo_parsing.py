"""What people type in Zalo, read into plain values (pure: no store, no clock).

Zalo has no buttons, so answers are numbered: "1"/"đã nhận", "2"/"xong", "3 <lý do>, đến
<ngày>", "4 <nội dung>", optionally naming the task with its code "#12". The words and
the extension date are read exactly as in Telegram (notifiers/telegram_parsing.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dondoc.chat_links import INVITE_ALPHABET, INVITE_LENGTH, normalize_code
from notifiers.telegram_parsing import intent_of
from rules.text import fold_words

KINDS = {"1": "ack", "2": "done", "3": "extension", "4": "explanation"}
CONFIRM_WORDS = {"dong y", "co", "xac nhan", "yes", "y", "2", "xong"}
CANCEL_WORDS = {"huy", "khong", "no", "cancel", "thoi"}

_NUMBERED = re.compile(r"^\s*([1-4])(?=$|[\s.:,)–-])[\s.:,)–-]*(.*)$", re.DOTALL)
_CODE = re.compile(r"(?:^|\s)#(\d{1,9})\b")
_START = re.compile(r"^\s*/start(?:@\S+)?(?:\s+(\S+))?\s*$", re.IGNORECASE)
_BARE_CODE = re.compile(r"^\s*[A-Za-z0-9]{5}-?[A-Za-z0-9]{5}\s*$")


@dataclass(frozen=True)
class Answer:
    kind: str  # "ack" | "done" | "extension" | "explanation"
    rest: str  # what follows the number: the reason and date, or the explanation
    code: int | None  # the task code "#12" (an assignment id) when one was given


def parse_answer(text: str) -> Answer | None:
    """The numbered (or worded) answer in `text`, or None when it is not one."""
    code_match = _CODE.search(text)
    code = int(code_match.group(1)) if code_match else None
    body = _CODE.sub(" ", text).strip() if code_match else text.strip()
    numbered = _NUMBERED.match(body)
    if numbered:
        return Answer(KINDS[numbered.group(1)], numbered.group(2).strip(), code)
    intent = intent_of(body)
    return Answer(intent, "", code) if intent else None


def parse_start(text: str) -> tuple[bool, str | None]:
    """(is a link request, the code in it): "/start CODE", "/start", or the code alone."""
    start = _START.match(text)
    if start:
        return True, start.group(1)
    if _BARE_CODE.match(text):
        code = normalize_code(text)
        if len(code) == INVITE_LENGTH and all(ch in INVITE_ALPHABET for ch in code):
            return True, code
    return False, None


def confirmation(text: str) -> bool | None:
    """True for "đồng ý", False for "hủy", None for anything else."""
    words = fold_words(text)
    if words in CONFIRM_WORDS:
        return True
    if words in CANCEL_WORDS:
        return False
    return None
