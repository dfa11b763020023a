"""The agency directory: who exists, what they are called, how to reach them."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from sqlmodel import Session, col, delete, select

from config.errors import ConfigError
from config.yaml_source import Located, describe_validation_error, load_located
from dondoc.models import Agency, AgencyGroup, AgencyGroupMember, Contact
from dondoc.models_agency_history import AgencyChange, AgencyFormerName
from dondoc.names import NameIndex, Target, name_key

BUNDLED_DIRECTORY = Path(__file__).with_name("data") / "agencies.yaml"
AGENCY_KINDS = (
    "office",
    "department",
    "board",
    "district",
    "commune",
    "police",
    "center",
    "central-branch",
    "other",
)
_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    head: bool = False

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"'{value}' không phải địa chỉ email hợp lệ")
        return value


class FormerIn(BaseModel):
    """A name that ceased on `until` (the day the agency holding it now took over)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=300)
    until: date
    code: str | None = None
    aliases: list[str] = []


class AgencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str = Field(min_length=2, max_length=300)
    kind: str = "department"
    locale: str = "vi"
    aliases: list[str] = []
    former: list[FormerIn] = []
    contacts: list[ContactIn] = []

    @field_validator("code")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("mã chỉ gồm chữ thường không dấu, số, '-', '_' hoặc '.'")
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in AGENCY_KINDS:
            raise ValueError(f"loại phải là một trong: {', '.join(AGENCY_KINDS)}")
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("vi", "en"):
            raise ValueError("ngôn ngữ phải là 'vi' hoặc 'en'")
        return value


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str = Field(min_length=2, max_length=300)
    aliases: list[str] = []
    former: list[FormerIn] = []
    members: list[str] = Field(min_length=1)

    @field_validator("code")
    @classmethod
    def _slug(cls, value: str) -> str:
        return AgencyIn._slug(value)


class DirectoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agencies: list[AgencyIn] = []
    groups: list[GroupIn] = []
    # Where each value stood in the file, so later checks can say FILE:LINE:COL too.
    _source: Located | None = PrivateAttr(default=None)

    def where(self, *loc: int | str) -> str:
        return self._source.where(loc) if self._source is not None else "danh bạ"


@dataclass
class LoadSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def read_directory_file(path: Path) -> DirectoryIn:
    located = load_located(path)
    try:
        directory = DirectoryIn.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(located, exc)) from None
    directory._source = located
    seen: dict[str, str] = {}
    problems = []
    entries = [("agencies", i, a.code) for i, a in enumerate(directory.agencies)]
    entries += [("groups", i, g.code) for i, g in enumerate(directory.groups)]
    for section, i, code in entries:
        where = directory.where(section, i, "code")
        if code in seen:
            problems.append(f"{where}: mã '{code}' bị trùng với {seen[code]}")
        seen.setdefault(code, where)
    if problems:
        raise ConfigError(problems)
    return directory


def load_directory(session: Session, directory: DirectoryIn) -> LoadSummary:
    """Add or update agencies and groups; group members may be agencies already stored."""
    summary = LoadSummary()
    by_code = {a.code: a for a in session.exec(select(Agency)).all()}
    for item in directory.agencies:
        agency = by_code.get(item.code)
        before = None if agency is None else _agency_facts(session, agency)
        if agency is None:
            agency = Agency(code=item.code, name=item.name)
            summary.added.append(item.code)
        agency.name, agency.kind, agency.locale = item.name, item.kind, item.locale
        agency.aliases = list(item.aliases)
        session.add(agency)
        session.flush()
        by_code[item.code] = agency
        _replace_email_contacts(session, agency, item.contacts)
        _replace_former_names(session, item.former, agency_id=agency.id)
        # Loading the same file again changes nothing, and says so.
        if before is not None and before != _agency_facts(session, agency):
            summary.updated.append(item.code)
    problems = []
    for g, group_in in enumerate(directory.groups):
        missing = [(m, code) for m, code in enumerate(group_in.members) if code not in by_code]
        for m, code in missing:
            close = difflib.get_close_matches(code, by_code, n=1)
            hint = f" Có phải '{close[0]}'?" if close else ""
            problems.append(
                f"{directory.where('groups', g, 'members', m)}: nhóm '{group_in.code}': "
                f"không có cơ quan mã '{code}' trong danh bạ.{hint}"
            )
        if missing:
            continue
        group = session.exec(select(AgencyGroup).where(AgencyGroup.code == group_in.code)).first()
        group = group or AgencyGroup(code=group_in.code, name=group_in.name)
        group.name, group.aliases = group_in.name, list(group_in.aliases)
        session.add(group)
        session.flush()
        session.exec(delete(AgencyGroupMember).where(col(AgencyGroupMember.group_id) == group.id))
        for member in dict.fromkeys(group_in.members):
            agency_id = by_code[member].id
            if group.id is None or agency_id is None:
                raise RuntimeError("flushed rows must have ids")
            session.add(AgencyGroupMember(group_id=group.id, agency_id=agency_id))
        _replace_former_names(session, group_in.former, group_id=group.id)
        summary.groups.append(group_in.code)
    if problems:
        raise ConfigError(problems)
    session.flush()
    _check_names_unique(session, directory)
    return summary


def _check_names_unique(session: Session, directory: DirectoryIn) -> None:
    """Refuse a directory where one spelling would mean two agencies or groups."""
    in_file = {a.code: ("agencies", i) for i, a in enumerate(directory.agencies)}
    in_file.update({g.code: ("groups", i) for i, g in enumerate(directory.groups)})
    owners: dict[str, tuple[str, str]] = {}
    problems = []
    named = [(a.code, a.name, a.aliases) for a in session.exec(select(Agency)).all()]
    named += [(g.code, g.name, g.aliases) for g in session.exec(select(AgencyGroup)).all()]
    for code, name, aliases in named:
        for spelling in dict.fromkeys([name, *aliases]):
            owner = owners.setdefault(name_key(spelling), (code, spelling))
            if owner[0] == code:
                continue
            clash = code if code in in_file else owner[0]
            where = directory.where(*in_file[clash], "code") + ": " if clash in in_file else ""
            problems.append(
                f"{where}tên '{spelling}' của '{code}' trùng với tên '{owner[1]}' của "
                f"'{owner[0]}': một tên chỉ được chỉ một cơ quan hoặc nhóm"
            )
    if problems:
        raise ConfigError(problems)


def _agency_facts(session: Session, agency: Agency) -> tuple[object, ...]:
    """What a directory file sets for one agency, to tell an update from a no-op."""
    session.flush()
    contacts = session.exec(
        select(Contact.address, Contact.name, Contact.is_head).where(
            col(Contact.agency_id) == agency.id, col(Contact.channel) == "email"
        )
    ).all()
    former = [
        (f.name, f.until, f.former_code, list(f.aliases))
        for f in session.exec(
            select(AgencyFormerName).where(col(AgencyFormerName.agency_id) == agency.id)
        ).all()
    ]
    return (
        agency.name,
        agency.kind,
        agency.locale,
        list(agency.aliases),
        sorted(contacts),
        sorted(former, key=str),
    )


def _replace_former_names(
    session: Session,
    former: list[FormerIn],
    *,
    agency_id: int | None = None,
    group_id: int | None = None,
) -> None:
    # Names recorded by `dondoc agencies merge|rename` (with a change_id) are history the
    # file does not know about: keep them.
    owner = (
        col(AgencyFormerName.agency_id) == agency_id
        if agency_id is not None
        else col(AgencyFormerName.group_id) == group_id
    )
    session.exec(delete(AgencyFormerName).where(owner, col(AgencyFormerName.change_id).is_(None)))
    for item in former:
        session.add(
            AgencyFormerName(
                agency_id=agency_id,
                group_id=group_id,
                name=item.name,
                aliases=list(item.aliases),
                until=item.until,
                former_code=item.code,
            )
        )


def succession_note(former: str, current: str, until: date) -> str:
    """'Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ từ 01/03/2025'."""
    return f"{former} → {current} từ {until:%d/%m/%Y}"


def _replace_email_contacts(session: Session, agency: Agency, contacts: list[ContactIn]) -> None:
    # Telegram chats are linked from chat, not from the file: keep them.
    session.exec(
        delete(Contact).where(col(Contact.agency_id) == agency.id, col(Contact.channel) == "email")
    )
    if agency.id is None:
        raise RuntimeError("agency must be flushed before its contacts")
    for contact in contacts:
        session.add(
            Contact(
                agency_id=agency.id,
                channel="email",
                address=contact.email,
                name=contact.name,
                is_head=contact.head,
            )
        )


def build_name_index(session: Session) -> NameIndex:
    index = NameIndex()
    agencies: dict[int | None, Target] = {}
    groups: dict[int | None, Target] = {}
    # An agency merged into another is found by its former name, as the successor.
    merged = set(
        session.exec(
            select(AgencyChange.old_agency_id).where(
                AgencyChange.kind == "merge", col(AgencyChange.undone_at).is_(None)
            )
        ).all()
    )
    for agency in session.exec(select(Agency)).all():
        if agency.id in merged:
            continue
        target = agencies[agency.id] = Target("agency", agency.code, agency.name)
        index.add(target, [agency.name, *agency.aliases])
    for group in session.exec(select(AgencyGroup)).all():
        target = groups[group.id] = Target("group", group.code, group.name)
        index.add(target, [group.name, *group.aliases])
    for former in session.exec(select(AgencyFormerName)).all():
        owner = agencies.get(former.agency_id) or groups.get(former.group_id)
        if owner is not None:
            note = succession_note(former.name, owner.name, former.until)
            index.add_former(owner, former.name, note, former.aliases)
    return index


def group_members(session: Session) -> dict[str, list[str]]:
    """Group code → member agency codes; groups and members in directory order."""
    rows = session.exec(
        select(AgencyGroup.code, Agency.code)
        .join(AgencyGroupMember, col(AgencyGroupMember.group_id) == AgencyGroup.id)
        .join(Agency, col(Agency.id) == AgencyGroupMember.agency_id)
        .order_by(col(AgencyGroup.id), col(Agency.id))
    ).all()
    members: dict[str, list[str]] = {}
    for group_code, agency_code in rows:
        members.setdefault(group_code, []).append(agency_code)
    return members


def group_names(session: Session) -> dict[str, tuple[str, list[str]]]:
    """Group code → (name, member codes)."""
    names = {g.code: g.name for g in session.exec(select(AgencyGroup)).all()}
    return {code: (names[code], members) for code, members in group_members(session).items()}


def default_office(session: Session) -> Agency | None:
    """The one agency of kind 'office', which owns (tracks) plans unless told otherwise."""
    offices = session.exec(select(Agency).where(Agency.kind == "office")).all()
    return offices[0] if len(offices) == 1 else None
