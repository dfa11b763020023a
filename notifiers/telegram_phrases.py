"""What the bot says for each outcome of a chat action, in the chat's language."""

from __future__ import annotations

from dondoc.chat_links import ChatOutcome
from notifiers.render import Renderer

# The values each chat.j2 phrase takes, picked from an outcome's agency, task and detail.
_PHRASE_ARGS: dict[str, tuple[str, ...]] = {
    "linked": ("agency",),
    "already_linked": ("agency",),
    "linked_elsewhere": ("agency",),
    "refused": ("agency",),
    "acknowledged": ("task", "agency"),
    "done": ("task", "agency"),
    "already_done": ("task",),
    "occurrence_done": ("task", "occurrence"),
    "note_saved": ("task",),
    "explanation_saved": ("task",),
    "extension_sent": ("task", "proposed", "office"),
    "extension_pending": ("task", "proposed"),
    "extension_date_not_future": ("proposed",),
    "done_cancelled": ("task",),
    "not_member": ("agency",),
}


def outcome_text(renderer: Renderer, outcome: ChatOutcome, phrase: str | None = None) -> str:
    """The chat.j2 phrase for `outcome` (or `phrase`), filled with the values it names."""
    status = phrase or outcome.status
    if status == "explanation_invalid":
        return str(outcome.detail.get("message", ""))
    values = {"agency": outcome.agency, "task": outcome.task, **outcome.detail}
    arguments = {name: values.get(name) for name in _PHRASE_ARGS.get(status, ())}
    return renderer.chat(status, locale=outcome.locale, **arguments)
