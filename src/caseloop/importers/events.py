"""The case-event kind an import writes: one per imported case, dated when the case was
opened on the other desk, naming that desk and the case's id there."""

from django.utils.translation import gettext_lazy

from caseloop.cases.events import EventLine, EventNames, event_kind
from caseloop.cases.models import CaseEvent

SOURCE_NAMES = {"zendesk": "Zendesk", "freshdesk": "Freshdesk", "zammad": "Zammad", "csv": "CSV"}


def _imported(event: CaseEvent, names: EventNames) -> EventLine:
    data = event.data if isinstance(event.data, dict) else {}
    source = str(data.get("source") or "")
    desk = SOURCE_NAMES.get(source.split(":", 1)[0], source or "another desk")
    messages = data.get("messages")
    reason = f"{messages} messages" if isinstance(messages, int) else ""
    return EventLine(f"Imported from {desk} (#{data.get('source_id', '?')})", reason)


IMPORTED = event_kind("imported", gettext_lazy("Imported"), describe=_imported)
