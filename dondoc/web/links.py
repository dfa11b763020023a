"""Signed links for agencies: answers from an email, the portal, the calendar feed.

Signing is itsdangerous' (HMAC with the secret key, a salt per kind of link). An answer
link names one agency, one assignment and one occurrence and expires; portal and
calendar links name an agency and its link generation, so `dondoc agency link --revoke`
(which bumps the generation) ends them all at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings, secret_key
from dondoc.clock import Clock
from dondoc.errors import NotFoundError
from dondoc.models import Agency, AuditEntry
from dondoc.models_web import AgencyLinkKey

ANSWER_MAX_AGE = timedelta(days=60)
ANSWER_ACTIONS = ("ack", "done", "extend", "explain")
_ANSWER_SALT = "dondoc.answer.v1"
_PORTAL_SALT = "dondoc.portal.v1"
_CALENDAR_SALT = "dondoc.calendar.v1"


class LinkRefused(Exception):
    """A link that is tampered with, expired, revoked or for something else."""

    def __init__(self, reason: str, agency_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason  # "bad_signature" | "expired" | "revoked" | "not_assigned"
        self.agency_id = agency_id


@dataclass(frozen=True)
class AnswerGrant:
    agency_id: int
    assignment_id: int
    occurrence: date | None


@dataclass(frozen=True)
class AgencyGrant:
    agency_id: int
    generation: int


def _clock_signer(clock: Clock) -> type[TimestampSigner]:
    """itsdangerous stamps and checks ages with time.time(); dondoc's clock decides."""

    class ClockTimestampSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return ClockTimestampSigner


class Signer:
    """Mints and checks every kind of link with one secret key."""

    def __init__(self, secret_key: str, *, clock: Clock) -> None:
        self._answer = URLSafeTimedSerializer(
            secret_key, salt=_ANSWER_SALT, signer=_clock_signer(clock)
        )
        self._portal = URLSafeSerializer(secret_key, salt=_PORTAL_SALT)
        self._calendar = URLSafeSerializer(secret_key, salt=_CALENDAR_SALT)

    def answer_token(self, *, agency_id: int, assignment_id: int, occurrence: date | None) -> str:
        return self._answer.dumps(
            [agency_id, assignment_id, occurrence.isoformat() if occurrence else None]
        )

    def read_answer(self, token: str) -> AnswerGrant:
        try:
            value = self._answer.loads(token, max_age=int(ANSWER_MAX_AGE.total_seconds()))
        except SignatureExpired as exc:
            raise LinkRefused("expired", _agency_of(exc.payload, self._answer)) from None
        except BadSignature:
            raise LinkRefused("bad_signature") from None
        occurrence = date.fromisoformat(value[2]) if value[2] else None
        return AnswerGrant(int(value[0]), int(value[1]), occurrence)

    def portal_token(self, grant: AgencyGrant) -> str:
        return self._portal.dumps([grant.agency_id, grant.generation])

    def calendar_token(self, grant: AgencyGrant) -> str:
        return self._calendar.dumps([grant.agency_id, grant.generation])

    def read_portal(self, token: str) -> AgencyGrant:
        return _read_agency(self._portal, token)

    def read_calendar(self, token: str) -> AgencyGrant:
        return _read_agency(self._calendar, token)


def _agency_of(payload: Any, serializer: URLSafeTimedSerializer) -> int | None:
    try:
        value = serializer.load_payload(payload)
        return int(value[0])
    except (BadSignature, TypeError, ValueError, IndexError):
        return None


def _read_agency(serializer: URLSafeSerializer, token: str) -> AgencyGrant:
    try:
        value = serializer.loads(token)
        return AgencyGrant(int(value[0]), int(value[1]))
    except (BadSignature, TypeError, ValueError, IndexError):
        raise LinkRefused("bad_signature") from None


# --- generations: what revoking changes ----------------------------------------------------


def current_grant(session: Session, agency_id: int) -> AgencyGrant:
    key = session.get(AgencyLinkKey, agency_id)
    return AgencyGrant(agency_id, key.generation if key else 0)


def check_generation(session: Session, grant: AgencyGrant) -> None:
    if current_grant(session, grant.agency_id).generation != grant.generation:
        raise LinkRefused("revoked", grant.agency_id)


def revoke_links(session: Session, *, agency_code: str, actor: str, now: datetime) -> Agency:
    agency = session.exec(select(Agency).where(Agency.code == agency_code)).first()
    if agency is None:
        raise NotFoundError("cơ quan", agency_code)
    key = session.get(AgencyLinkKey, agency.id) or AgencyLinkKey(agency_id=agency.id or 0)
    key.generation += 1
    key.revoked_at = now
    session.add(key)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="agency.links_revoked",
            agency_id=agency.id,
            detail={"generation": key.generation},
        )
    )
    return agency


def audit_refused_link(
    session: Session,
    *,
    refused: LinkRefused,
    kind: str,
    address: str,
    now: datetime,
    assignment_id: int | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor="web-link",
            action="link.refused",
            agency_id=refused.agency_id,
            assignment_id=assignment_id,
            detail={"reason": refused.reason, "kind": kind, "address": address[:64]},
        )
    )


# --- the links a reminder email carries ----------------------------------------------------


@dataclass(frozen=True)
class Links:
    """Absolute URLs; built only when the deployment has a public address."""

    public_url: str
    signer: Signer

    def answer(
        self, *, agency_id: int, assignment_id: int, occurrence: date | None
    ) -> dict[str, str]:
        token = self.signer.answer_token(
            agency_id=agency_id, assignment_id=assignment_id, occurrence=occurrence
        )
        return {action: f"{self.public_url}/r/{token}/{action}" for action in ANSWER_ACTIONS}

    def portal(self, grant: AgencyGrant) -> str:
        return f"{self.public_url}/p/{self.signer.portal_token(grant)}"

    def calendar(self, grant: AgencyGrant) -> str:
        return f"{self.public_url}/cal/{self.signer.calendar_token(grant)}.ics"


class EmailLinks:
    """The renderer's hook: the links for one item of a reminder, or None.

    Links go only to the agency the item is about (not to the office or a head copied
    in), and are minted when the message is rendered, so they expire from the send.
    """

    def __init__(self, *, engine: Engine, links: Links) -> None:
        self._engine = engine
        self._links = links

    def __call__(self, item: Mapping[str, Any]) -> dict[str, str] | None:
        if not item.get("actionable") or not item.get("assignment_id"):
            return None
        code = (item.get("agency") or {}).get("code")
        with Session(self._engine) as session:
            agency = session.exec(select(Agency).where(Agency.code == code)).first()
            if agency is None or agency.id is None:
                return None
            grant = current_grant(session, agency.id)
        occurrence = item.get("occurrence")
        made = self._links.answer(
            agency_id=agency.id,
            assignment_id=int(item["assignment_id"]),
            occurrence=date.fromisoformat(str(occurrence)[:10]) if occurrence else None,
        )
        made["portal"] = self._links.portal(grant)
        made["calendar"] = self._links.calendar(grant)
        return made


def email_links(*, settings: Settings, engine: Engine, clock: Clock) -> EmailLinks | None:
    """The renderer's link hook, or None when there is no public address to link to."""
    if not settings.public_url:
        return None
    signer = Signer(secret_key(settings), clock=clock)
    return EmailLinks(engine=engine, links=Links(settings.public_url, signer))
