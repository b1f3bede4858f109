"""State changes of business follow-up: one keyword-only function each, one transaction each.

Pages, the API, CSV imports and the demo all write through here, so a touchpoint logged
from a phone, a CRM or a file has the same effects: the engagement's last touch moves,
health is recomputed (and a red episode notifies once), and events go to the outbox.

One module per concern; callers import the package (``from engagements import services``)
and call ``services.customer_save(...)``, so a patched name here covers every caller:

- ``shared``: scoping, locking, saving what changed, the event and audit entry of a save
- ``locks``: the global lock order of writes of many rows
- ``customers``, ``contacts``, ``engagements`` (with KPIs and a leaving member's hand-over),
  ``touchpoints``, ``health``, ``imports``
- ``upserts``: the one pipeline of many-row writes by external id (bulk API, CSV import)
"""

from engagements.services.contacts import CONTACT_FIELDS, contact_delete, contact_save
from engagements.services.customers import CUSTOMER_FIELDS, customer_delete, customer_save
from engagements.services.engagements import (
    ENGAGEMENT_FIELDS,
    RecordsHandedOver,
    engagement_delete,
    engagement_save,
    kpi_delete,
    kpi_save,
    kpis_replace,
    records_hand_over,
)
from engagements.services.health import (
    RED_KIND,
    engagement_health_refresh,
    health_settings_update,
    health_snapshot_take,
)
from engagements.services.imports import import_start
from engagements.services.locks import locked_by_external_id, write_order
from engagements.services.touchpoints import (
    FUTURE_TOLERANCE,
    TOUCHPOINT_FIELDS,
    touchpoint_delete,
    touchpoint_log,
    touchpoint_update,
)
from engagements.services.upserts import (
    BulkItemError,
    touchpoints_log_many,
    upsert_many,
    write_in_order,
)

__all__ = [
    "CONTACT_FIELDS",
    "CUSTOMER_FIELDS",
    "ENGAGEMENT_FIELDS",
    "FUTURE_TOLERANCE",
    "RED_KIND",
    "TOUCHPOINT_FIELDS",
    "BulkItemError",
    "RecordsHandedOver",
    "contact_delete",
    "contact_save",
    "customer_delete",
    "customer_save",
    "engagement_delete",
    "engagement_health_refresh",
    "engagement_save",
    "health_settings_update",
    "health_snapshot_take",
    "import_start",
    "kpi_delete",
    "kpi_save",
    "kpis_replace",
    "locked_by_external_id",
    "records_hand_over",
    "touchpoint_delete",
    "touchpoint_log",
    "touchpoint_update",
    "touchpoints_log_many",
    "upsert_many",
    "write_in_order",
    "write_order",
]
