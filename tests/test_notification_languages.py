"""Every kind of email in the recipient's language: a Welsh speaker's in Welsh, an English speaker's in
English (the words looked up in the catalogues, so the test follows them)."""

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from app.db import get_sessionmaker, utcnow
from app.models.identity import NotificationKind, Role, User
from app.models.notification import Notification
from app.models.referral import Referral
from app.services import notifications
from app.services.notifications import digests
from app.unit_of_work import committed
from app.web import i18n
from tests.support.referral_helpers import Network, create_referral, make_network, move
from tests.support.staff import make_staff

pytestmark = pytest.mark.skipif(
    "cy" not in i18n.available_locales(), reason="the Welsh catalogue is compiled by `make install`"
)
OTHER = {"cy": "en", "en": "cy"}


async def _speaking(user_id: uuid.UUID, language: str) -> None:
    async def work(session: Any) -> None:
        await session.execute(update(User).where(col(User.id) == user_id).values(language=language))

    await committed(work)


async def _emails(kind: NotificationKind) -> list[Notification]:
    async def work(session: Any) -> list[Notification]:
        return list(
            (await session.execute(select(Notification).where(col(Notification.kind) == kind))).scalars()
        )

    return await committed(work)


def _written_in(email: Notification, language: str, english: str) -> None:
    """The email carries the catalogue's words in its language, and not those of the other."""
    assert email.language == language
    assert i18n.gettext_in(language, english) in email.body
    assert i18n.gettext_in(OTHER[language], english) not in email.body


@pytest.fixture(params=["cy", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _people(client: httpx.AsyncClient, language: str) -> Network:
    net = await make_network()
    receiver = await make_staff(client, net.debt, email="receiver@debt.example")
    await _speaking(receiver.user.id, language)
    return net


async def test_new_referrals_messages_and_updates(client: httpx.AsyncClient, language: str) -> None:
    net = await _people(client, language)
    referral = await create_referral(client, net)
    message = {"body": "Can you see her on Tuesday?"}
    await client.post(f"/v1/referrals/{referral['id']}/messages", json=message, headers=net.centre_headers)

    (new,) = await _emails(NotificationKind.NEW_REFERRAL)
    (said,) = await _emails(NotificationKind.MESSAGE)
    _written_in(new, language, "a new referral was sent")
    _written_in(said, language, "a new message is waiting in the referral")


async def test_updates_to_the_sender(client: httpx.AsyncClient, language: str) -> None:
    net = await make_network()
    sender = await make_staff(client, net.centre, email="sender@centre.example")
    await _speaking(sender.user.id, language)
    referral = await create_referral(client, net)
    async with get_sessionmaker()() as session:
        await session.execute(
            update(Referral).values(from_actor_kind="user", from_actor_id=str(sender.user.id))
        )
        await session.commit()
    assert (await move(client, referral, net.debt_headers, "accepted")).status_code == 200

    (accepted,) = await _emails(NotificationKind.REFERRAL_UPDATE)
    _written_in(accepted, language, "the referral was accepted")


async def test_overdue_digests_and_follow_ups(client: httpx.AsyncClient, language: str) -> None:
    net = await _people(client, language)
    referral = await create_referral(client, net)
    async with get_sessionmaker()() as session:
        await session.execute(update(Referral).values(due_by=utcnow() - timedelta(days=2)))
        await session.commit()
    await committed(lambda s: digests.overdue_digests(s, utcnow()))

    async def due(session: Any) -> None:
        found = await session.get(Referral, uuid.UUID(referral["id"]))
        await notifications.follow_up_due(
            session, found, net.debt.id, "check whether the job was kept for 13 weeks"
        )

    await committed(due)
    (overdue,) = await _emails(NotificationKind.OVERDUE_DIGEST)
    (follow_up,) = await _emails(NotificationKind.FOLLOW_UP_DUE)
    assert overdue.language == language
    assert referral["reference"] in overdue.body
    assert i18n.ngettext_in(language, *digests.OVERDUE_INTRO, 1) in overdue.body
    assert i18n.ngettext_in(OTHER[language], *digests.OVERDUE_INTRO, 1) not in overdue.body
    _written_in(follow_up, language, "check whether the job was kept for 13 weeks")


async def test_a_new_set_password_link_notice(client: httpx.AsyncClient, language: str) -> None:
    net = await make_network()
    admin = await make_staff(client, net.debt, Role.AGENCY_ADMIN)
    member = await make_staff(client, net.debt, email="member@debt.example")
    await _speaking(member.user.id, language)
    issued = await client.post(f"/v1/users/{member.user.id}/set-password-link", headers=admin.headers)
    assert issued.status_code in (200, 201), issued.text

    (notice,) = await _emails(NotificationKind.PASSWORD_LINK)
    _written_in(notice, language, "A new link to set your password was issued")
