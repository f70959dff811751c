"""The OA's messaging window: free replies only for a while after the user last wrote.

Sources differ (48 hours to 7 days, zalo.md §2 [O][M][Q][T]), so the length is a setting
(ZALO_OA_WINDOW_HOURS); what is stored is the fact: when each user last wrote, and a phone
number an admin gave for ZNS template messages outside the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.tables.zalo import ZaloContactWindow

# How a message held back by the window is marked in `Outbox.error` (the delivery worker
# writes "rejected: " + the channel's reason): the coordinator's digest counts these.
OUTSIDE_WINDOW = "outside_window"
NO_TEMPLATE = "no_zns_template"  # no ZNS template id configured (ZALO_ZNS_TEMPLATE_ID)
NO_PHONE = "no_phone"  # the contact has no phone number for ZNS
NOT_A_REMINDER = "not_a_reminder"  # ZNS carries reminders only (a template with their facts)
REFUSED = "zalo_refused"  # Zalo itself answered with a window/quota error code


def outside_reason(detail: str, *causes: str) -> str:
    """The marked reason: `outside_window[no_zns_template,no_phone]: detail`."""
    return f"{OUTSIDE_WINDOW}[{','.join(causes)}]: {detail}"


def causes_of(error: str | None) -> tuple[str, ...]:
    """The causes in a marked reason (empty when `error` is not a window mark)."""
    if not error or OUTSIDE_WINDOW + "[" not in error:
        return ()
    inside_brackets = error.split(OUTSIDE_WINDOW + "[", 1)[1].split("]", 1)[0]
    return tuple(c for c in inside_brackets.split(",") if c)


def touch(engine: Engine, channel: str, user_id: str, now: datetime) -> None:
    with Session(engine) as session:
        row = session.get(ZaloContactWindow, (channel, user_id))
        if row is None:
            row = ZaloContactWindow(channel=channel, user_id=user_id)
        row.last_inbound_at = now
        session.add(row)
        session.commit()


def set_phone(engine: Engine, channel: str, user_id: str, phone: str | None) -> None:
    with Session(engine) as session:
        row = session.get(ZaloContactWindow, (channel, user_id)) or ZaloContactWindow(
            channel=channel, user_id=user_id
        )
        row.phone = phone
        session.add(row)
        session.commit()


def window_of(engine: Engine, channel: str, user_id: str) -> ZaloContactWindow | None:
    with Session(engine) as session:
        return session.get(ZaloContactWindow, (channel, user_id))


def inside(row: ZaloContactWindow | None, now: datetime, hours: float) -> bool:
    if row is None or row.last_inbound_at is None:
        return False
    last = row.last_inbound_at
    return now - last <= timedelta(hours=hours)
