"""The rule config admins edit: escalation policies, which task gets which, the calendar.

Pure pydantic models (no I/O); `config.rules_loader` reads the YAML and adds the
positions and reference checks. Every model forbids unknown keys: a typo in a key must
stop the config, never silently drop a stage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, time, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    field_validator,
    model_validator,
)

from rules.calendar import OfficeHours, WorkCalendar
from rules.policy_units import Duration, Offset, PeriodField
from rules.text import fold_words

# "none" is the kind of a task with no date to work towards yet: no deadline at all, or
# an external reference whose milestone the office has not set.
DEADLINE_KINDS = ("once", "recurring", "ongoing", "external", "none")
DATED_KINDS = frozenset({"once", "recurring", "external"})
RECIPIENT_WORDS = ("lead", "coordinators", "head", "office")
CHANNELS = ("email", "telegram", "zalo")
ChannelName = Literal["email", "telegram", "zalo"]
ANCHORS = ("due", "target", "start")
# The names the channels' templates provide; the loader is given the real set.
TEMPLATE_NAMES = (
    "upcoming",
    "due_today",
    "overdue",
    "escalation",
    "explanation_request",
    "checkin",
    "set_deadline",
    "digest",
    "late_report",
    "quarter_report",
)

_STRICT = ConfigDict(extra="forbid", frozen=True)
_STAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _listify(value: Any) -> Any:
    # `to: office` reads naturally; it means the one-element list.
    return [value] if isinstance(value, str) else value


class Repeat(BaseModel):
    """Send the stage again every `every`, at most `max` more times, until acknowledged."""

    model_config = _STRICT
    every: Duration
    max: int = Field(ge=1, le=52)

    @field_validator("every")
    @classmethod
    def _whole_days(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1) or value % timedelta(days=1):
            raise ValueError("lặp lại theo số ngày, ví dụ 7d (repeat in whole days, e.g. 7d)")
        return value


class Stage(BaseModel):
    """One step of a policy: when, to whom, on which channels, with which template.

    A dated stage has `at` (an offset from its anchor); a periodic check-in has `every`
    (and `day`) and applies to tasks with no date to count from.
    """

    model_config = _STRICT
    name: str
    at: Offset | None = None
    anchor: Literal["due", "target", "start"] = "due"
    every: PeriodField | None = None
    day: int | None = None
    to: Annotated[tuple[str, ...], BeforeValidator(_listify)] = Field(min_length=1)
    channels: Annotated[tuple[ChannelName, ...], BeforeValidator(_listify)] = (
        "email",
        "telegram",
        "zalo",
    )
    template: str
    repeat: Repeat | None = None
    ask_explanation: bool = False

    @field_validator("name")
    @classmethod
    def _key_safe_name(cls, value: str) -> str:
        # The name goes into idempotency keys, which use ':' and '/' as separators.
        if not _STAGE_NAME.match(value):
            raise ValueError(
                "tên bước chỉ gồm chữ thường không dấu, số, '_' hoặc '-' "
                "(lower-case letters, digits, '_' or '-')"
            )
        return value

    @field_validator("channels")
    @classmethod
    def _some_channel(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("cần ít nhất một kênh: email, telegram, zalo (at least one channel)")
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _dated_or_periodic(self) -> Stage:
        if (self.at is None) == (self.every is None):
            raise ValueError(
                "mỗi bước cần đúng một trong hai: 'at' (ví dụ -3d) hoặc 'every' (ví dụ "
                "'1 month') (a stage needs exactly one of 'at' or 'every')"
            )
        if self.every is not None:
            if self.repeat is not None:
                raise ValueError(
                    "bước định kỳ không dùng 'repeat': chu kỳ 'every' đã lặp lại "
                    "(a periodic stage repeats by 'every'; drop 'repeat')"
                )
            limit = 31 if self.every.unit == "month" else 7
            if self.day is not None and not 1 <= self.day <= limit:
                unit = (
                    "ngày trong tháng 1-31" if limit == 31 else "thứ trong tuần 1-7 (1 = thứ Hai)"
                )
                raise ValueError(f"'day' phải là {unit} (day out of range)")
        elif self.day is not None:
            raise ValueError("'day' chỉ dùng với 'every' ('day' needs 'every')")
        return self

    @property
    def periodic(self) -> bool:
        return self.every is not None

    def concerns(self, role: str) -> bool:
        """Whether this stage sends anything about an assignment with `role`."""
        if role == "coordinator":
            return "coordinators" in self.to
        return any(target != "coordinators" for target in self.to)

    def recipients(self, role: str) -> tuple[str, ...]:
        """Who hears about an assignment with `role`: "self", "head", "office" or codes."""
        if role == "coordinator":
            return ("self",) if "coordinators" in self.to else ()
        names = ("self" if target == "lead" else target for target in self.to)
        return tuple(dict.fromkeys(n for n in names if n != "coordinators"))


class Policy(RootModel[tuple[Stage, ...]]):
    """A named list of stages."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        if not self.root:
            raise ValueError("chính sách cần ít nhất một bước (a policy needs a stage)")
        names = [stage.name for stage in self.root]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"tên bước bị lặp lại: {', '.join(twice)} (duplicate stage names)")
        return self

    @property
    def stages(self) -> tuple[Stage, ...]:
        return self.root

    @cached_property
    def _by_role(self) -> dict[str, tuple[tuple[int, Stage], ...]]:
        # Evaluation asks this for every assignment at every tick.
        return {
            role: tuple((i, s) for i, s in enumerate(self.root) if s.concerns(role))
            for role in ("lead", "coordinator")
        }

    def stages_for(self, role: str) -> tuple[tuple[int, Stage], ...]:
        """(position, stage) of the stages that concern an assignment with `role`."""
        found = self._by_role.get(role)
        if found is None:
            return tuple((i, s) for i, s in enumerate(self.root) if s.concerns(role))
        return found

    def covers(self, kind: str | None) -> bool:
        """Whether the policy has stages for this kind of deadline (None: no date)."""
        dated = kind in DATED_KINDS
        return any(stage.periodic != dated for stage in self.root)


class PolicyFor(BaseModel):
    """Which policy a task gets; the most specific rule wins: task, tag, plan, kind."""

    model_config = _STRICT
    kind: dict[Literal["once", "recurring", "ongoing", "external", "none"], str]
    plan: dict[str, str] = {}
    tag: dict[str, str] = {}
    task: dict[str, str] = {}

    @field_validator("task")
    @classmethod
    def _plan_slash_number(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [key for key in value if key.count("/") != 1 or "" in key.split("/")]
        if bad:
            raise ValueError(
                f"khóa nhiệm vụ phải có dạng KẾ_HOẠCH/STT, ví dụ nq131/13: {', '.join(bad)} "
                "(task keys are PLAN/NUMBER)"
            )
        return value


def _parse_hours(value: Any) -> Any:
    if isinstance(value, str) and (match := _HOURS.match(value)):
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            return OfficeHours(time(h1, m1), time(h2, m2))
        except ValueError as exc:
            raise ValueError(f"giờ làm việc không hợp lệ {value!r}: {exc}") from None
    if isinstance(value, OfficeHours):
        return value
    raise ValueError(
        f'giờ làm việc không hợp lệ {value!r}: viết như "07:30-17:00" (office hours HH:MM-HH:MM)'
    )


class CalendarConfig(BaseModel):
    """When reminders may go out: office hours, days off and working Saturdays."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    office_hours: Annotated[
        OfficeHours,
        BeforeValidator(_parse_hours),
        PlainSerializer(lambda h: f"{h.start:%H:%M}-{h.end:%H:%M}", return_type=str),
    ] = OfficeHours()
    extra_days_off: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _no_day_both_off_and_working(self) -> CalendarConfig:
        clash = sorted(set(self.extra_days_off) & set(self.working_days))
        if clash:
            days = ", ".join(d.isoformat() for d in clash)
            raise ValueError(f"ngày vừa nghỉ vừa làm việc: {days} (days both off and working)")
        return self


class ReportSchedule(BaseModel):
    """When the office's reports go out by themselves (`dondoc report` makes them by hand).

    The monthly late list of the previous month goes out on `late_list_day`; the
    quarterly report on `quarter_report_day` of the quarter's last month, which must be
    before day 20 (the Resolution 131 plans' deadline for it). Both are off until turned
    on; `to` names "office" (the office that tracks the plans) or agency codes.
    """

    model_config = _STRICT
    late_list: bool = False
    late_list_day: int = Field(default=5, ge=1, le=28)
    late_list_time: time = time(8, 0)
    quarter_report: bool = False
    quarter_report_day: int = Field(default=15, ge=1, le=19)
    quarter_report_time: time = time(8, 0)
    to: Annotated[tuple[str, ...], BeforeValidator(_listify)] = Field(
        default=("office",), min_length=1
    )
    plan: str | None = None
    channels: tuple[ChannelName, ...] = ("email",)

    @field_validator("late_list_time", "quarter_report_time", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        # YAML reads an unquoted 8:00 as the number 480; say how to write it instead.
        if isinstance(value, str) and re.fullmatch(r"\s*\d{1,2}:\d{2}\s*", value):
            hour, minute = (int(part) for part in value.strip().split(":"))
            if hour < 24 and minute < 60:
                return time(hour, minute)
        if isinstance(value, time) and value.tzinfo is None:
            return value
        raise ValueError(
            f'giờ gửi không hợp lệ {value!r}: viết trong dấu nháy như "08:00" '
            '(a local time such as "08:00", quoted)'
        )


class RuleConfig(BaseModel):
    """The whole rule config (config/rules.yaml)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True
    )
    timezone: str = "Asia/Ho_Chi_Minh"
    ack_timeout: Duration
    digest: bool = True
    # Named `office_calendar` because `calendar()` builds the WorkCalendar; YAML says
    # `calendar:`.
    office_calendar: CalendarConfig = Field(default=CalendarConfig(), alias="calendar")
    milestones: dict[str, date] = {}
    policies: dict[str, Policy]
    policy_for: PolicyFor
    reports: ReportSchedule = ReportSchedule()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"múi giờ không tồn tại (unknown time zone): {value!r}") from None
        return value

    @field_validator("policies")
    @classmethod
    def _some_policy(cls, value: dict[str, Policy]) -> dict[str, Policy]:
        if not value:
            raise ValueError("cần ít nhất một chính sách (at least one policy)")
        return value

    def calendar(self) -> WorkCalendar:
        cal = self.office_calendar
        return WorkCalendar(
            timezone=self.timezone,
            office_hours=cal.office_hours,
            extra_days_off=frozenset(cal.extra_days_off),
            working_days=frozenset(cal.working_days),
        )

    def select(
        self,
        *,
        plan: str,
        number: str,
        tags: Sequence[str],
        kind: str | None,
        task_policy: str | None,
    ) -> tuple[str, Policy]:
        """The policy for one task: per task > by tag > by plan > by deadline kind.

        A task with no date yet (kind None) always gets the `none` policy: what it needs
        is the office setting a date, whatever the plan's usual push. An override naming
        a policy without stages for this kind of deadline (or an unknown name coming from
        the store) is passed over, so an override can never silence a task.
        """
        rules = self.policy_for
        by_kind = next((name for k, name in rules.kind.items() if k == (kind or "none")), None)
        candidates: list[str | None] = []
        if kind is not None:
            candidates.append(rules.task.get(f"{plan}/{number}"))
            candidates.append(task_policy)
            tagset = set(tags)
            candidates.extend(name for tag, name in rules.tag.items() if tag in tagset)
            candidates.append(rules.plan.get(plan))
        candidates.append(by_kind)
        for name in candidates:
            if name is not None and name in self.policies and self.policies[name].covers(kind):
                return name, self.policies[name]
        raise LookupError(f"no policy for deadline kind {kind or 'none'!r} in the rule config")

    def milestone_for(self, depends_on: str) -> date | None:
        """The office's date for an external reference; the latest if several match.

        Matching ignores case, diacritics and punctuation; a milestone name matches when
        its words appear as a run in the reference ("Đề án 06" in "Theo tiến độ của Đề
        án 06"). A task following two schedules is due when the later one is.
        """
        reference = f" {fold_words(depends_on)} "
        found = [
            when
            for name, when in self.milestones.items()
            if (key := fold_words(name)) and f" {key} " in reference
        ]
        return max(found) if found else None
