"""Management information, aggregated in the database; no personal data is read or returned.

Every figure is about referrals created in the period [from, to). Platform-wide reports also
count each outcome type once per person per journey; an agency's report counts its own referrals.
"""

from app.services.reports.exports import CSV_COLUMNS, summary_csv
from app.services.reports.overdue import list_overdue
from app.services.reports.scope import agency_in_scope
from app.services.reports.summary import summarise

__all__ = ["CSV_COLUMNS", "agency_in_scope", "list_overdue", "summarise", "summary_csv"]
