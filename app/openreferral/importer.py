"""Import another directory's feed: organizations become agencies and services become services,
each found again by its Open Referral id (`external_id`), through the directory service (which
audits every change) in the caller's one transaction.

A service the feed adds is listed (for signposting) but takes no referrals until an admin turns
it on; later imports never turn it back off, unless the feed says it is no longer active. An
entry the feed says nothing new about is left alone, so importing the same feed twice changes
nothing the second time.
"""

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.audit import AuditActor
from app.models.directory import Agency, AgencyCreate, AgencyUpdate, Service, ServiceCreate, ServiceUpdate
from app.openreferral import translate
from app.openreferral.feed import FeedError, shown, unique
from app.openreferral.mapping import Mapping as TermMapping
from app.openreferral.records import FeedOrganization, FeedService
from app.openreferral.schema import ServiceStatus
from app.services import audit, directory


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # agency or service
    action: str  # created, updated, unchanged, closed or skipped
    name: str
    external_id: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.action} {self.kind}: {self.name} ({self.external_id}){self.detail}"


@dataclass
class ImportReport:
    """What an import did (or, dry, would do), entry by entry."""

    source: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found = Counter((c.kind, c.action) for c in self.changes)
        agencies = {f"agencies_{a}": found["agency", a] for a in AGENCY_ACTIONS}
        return agencies | {f"services_{a}": found["service", a] for a in ACTIONS}

    @property
    def changed(self) -> bool:
        return any(c.action not in {"unchanged", "skipped"} for c in self.changes)

    def compared(self, kind: str, name: str, external_id: str, changed: Mapping[str, object]) -> None:
        """Note an entry that was here already: updated (with the fields) or left alone."""
        action = "updated" if changed else "unchanged"
        self.changes.append(Change(kind, action, name, external_id, _fields(changed)))

    def lines(self) -> list[str]:
        """What to print: each entry created, updated, closed or skipped, any notes, then the totals."""
        counts = self.counts()

        def total(kind: str, actions: tuple[str, ...]) -> str:
            return f"{kind}: " + ", ".join(f"{counts[f'{kind}_{a}']} {a}" for a in actions)

        told = [c.line() for c in self.changes if c.action != "unchanged"]
        return [*told, *self.notes, total("agencies", AGENCY_ACTIONS), total("services", ACTIONS)]


ACTIONS = ("created", "updated", "unchanged", "closed", "skipped")
AGENCY_ACTIONS = ("created", "updated", "unchanged")
WHILE_CLOSED = ": the feed says it is {status}; it takes no referrals now"
NEW_SERVICE = ": listed, taking no referrals until an admin turns it on"


async def apply(
    session: AsyncSession, actor: AuditActor, services: list[FeedService], mapping: TermMapping, source: str
) -> ImportReport:
    """Bring the directory in line with the feed's services and their organizations."""
    report, records = ImportReport(shown(source)), unique(services)
    agencies: dict[uuid.UUID, Agency] = {}
    for organization, offered in _by_organization(records):
        agencies[organization.id] = await _agency(session, actor, organization, offered, mapping, report)
    for record in records:
        assert record.organization is not None  # the reader saw to that
        await _service(session, actor, record, agencies[record.organization.id], mapping, report)
    if report.changed:
        details: dict[str, audit.DetailValue] = {"source": report.source, **report.counts()}
        audit.record(session, actor, "directory.imported", "directory", details=details)
    return report


def _by_organization(records: list[FeedService]) -> list[tuple[FeedOrganization, list[FeedService]]]:
    """Each organization once (as its first service gives it), with the services it offers."""
    grouped: dict[uuid.UUID, tuple[FeedOrganization, list[FeedService]]] = {}
    for record in records:
        if record.organization is None:
            raise FeedError(f"service {record.id}: organization: field required")
        grouped.setdefault(record.organization.id, (record.organization, []))[1].append(record)
    return list(grouped.values())


async def _agency(
    session: AsyncSession,
    actor: AuditActor,
    organization: FeedOrganization,
    offered: list[FeedService],
    mapping: TermMapping,
    report: ImportReport,
) -> Agency:
    """The organization's agency, made or brought up to date (its name, in English and Welsh)."""
    external_id = str(organization.id)
    present = await directory.agency_by_external_id(session, external_id)
    wanted = translate.agency_fields(organization)
    if present is None:
        where = translate.local_authority(offered, mapping.local_authority)
        body = AgencyCreate(
            **wanted, kind=mapping.agency_kind, local_authority=where, external_id=external_id
        )
        report.changes.append(Change("agency", "created", organization.name, external_id))
        return await directory.create_agency(session, actor, body)
    changed = {name: value for name, value in wanted.items() if getattr(present, name) != value}
    report.compared("agency", organization.name, external_id, changed)
    if changed:
        await directory.update_agency(session, actor, present.id, AgencyUpdate(**changed))
    return present


async def _service(
    session: AsyncSession,
    actor: AuditActor,
    record: FeedService,
    agency: Agency,
    mapping: TermMapping,
    report: ImportReport,
) -> None:
    external_id = str(record.id)
    present = await directory.service_by_external_id(session, external_id)
    if record.status != ServiceStatus.ACTIVE:
        await _inactive(session, actor, record, present, report)
        return
    wanted = translate.service_fields(record, mapping, present, report.notes)
    if present is None:
        body = ServiceCreate(
            **wanted, agency_id=agency.id, accepting_referrals=False, external_id=external_id
        )
        await directory.create_service(session, actor, body)
        report.changes.append(Change("service", "created", record.name, external_id, NEW_SERVICE))
        return
    now = translate.present_fields(present)
    changed = {name: value for name, value in wanted.items() if not translate.same(name, value, now[name])}
    report.compared("service", record.name, external_id, changed)
    if changed:
        await directory.update_service(session, actor, present.id, ServiceUpdate(**changed))


async def _inactive(
    session: AsyncSession,
    actor: AuditActor,
    record: FeedService,
    present: Service | None,
    report: ImportReport,
) -> None:
    """A service the feed says is not active: never added; one already here stops taking referrals."""
    external_id, status = str(record.id), str(record.status)
    if present is None:
        report.changes.append(
            Change("service", "skipped", record.name, external_id, f": the feed says it is {status}")
        )
        return
    if not present.accepting_referrals:
        report.changes.append(Change("service", "unchanged", record.name, external_id))
        return
    await directory.update_service(session, actor, present.id, ServiceUpdate(accepting_referrals=False))
    report.changes.append(
        Change("service", "closed", record.name, external_id, WHILE_CLOSED.format(status=status))
    )


def _fields(changed: Mapping[str, object]) -> str:
    return f": {', '.join(sorted(changed))}" if changed else ""
