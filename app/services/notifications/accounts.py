"""Notices to a member of staff about their own account: to them alone, at once, whatever their
preferences and even while they are away. They cannot be turned off: they are how a person
learns that someone may be taking their account over.

As every notification, they hold no personal data: not the account's name, nor who acted. A
link issued again is never sent (it goes only to whoever asked for it); a new account's first
link is sent to the address its admin gave, kept encrypted until it is sent and wiped after.
"""

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import encryption
from app.models.identity import NotificationKind, User
from app.models.notification import Notification
from app.web import i18n
from app.web.i18n import N_

UK = ZoneInfo("Europe/London")

NEW_LINK_SUBJECT = N_("A new link to set your password was issued")
NEW_LINK_BODY = (
    N_(
        "An administrator has issued a new single-use link to set the password of your account on the "
        "referral exchange. Any earlier link no longer works. Once the new link is used, your password "
        "changes and you are signed out everywhere."
    ),
    N_(
        "If you asked for a new link, your administrator will give it to you. If you did not, tell your "
        "agency's admin or the service desk at once: someone may be trying to take over your account."
    ),
    N_("You are always told when a new link is issued for your account; this cannot be turned off."),
)


def _new_link_notice(language: str) -> tuple[str, str]:
    subject = i18n.gettext_in(language, NEW_LINK_SUBJECT)
    return subject, "\n\n".join([subject, *(i18n.gettext_in(language, p) for p in NEW_LINK_BODY)])


def password_link_issued(session: AsyncSession, user: User) -> bool:
    """Queue the notice of a new set-password link to the user, in the unit of work that issued it;
    False (nothing queued) when the account has no email address."""
    if not user.email:
        return False
    subject, body = _new_link_notice(user.language)
    session.add(
        Notification(
            agency_id=user.agency_id,
            kind=NotificationKind.PASSWORD_LINK,
            recipient_user_id=user.id,
            recipient_email=user.email,
            subject=subject,
            body=body,
            language=user.language,
        )
    )
    return True


# Where a new account's notice says its set-password link goes; the link itself is sealed
# (encrypted) on the notification and put in only as it is sent.
LINK_SLOT = "((set-password link))"
# Said instead when the link can no longer be unsealed (the key it was sealed under is gone).
LINK_LOST = N_("(This link could not be sent. Ask your agency's admin for a new one.)")
WELCOME_SUBJECT = N_("Set your password for the referral exchange")


def _welcome(language: str, expires_at: datetime) -> tuple[str, str]:
    said = partial(i18n.gettext_in, language)
    uk = expires_at.astimezone(UK)
    until = format_datetime(uk, "d MMMM y, HH:mm", locale=language)
    body = [
        said(N_("An account on the referral exchange has been made for you.")),
        said(
            N_("Choose your password with this link. It works once, until %(until)s (UK time):"), until=until
        ),
        LINK_SLOT,
        said(
            N_(
                "Your agency's admin will tell you your username. If you did not expect this email, do not "
                "use the link: tell your agency's admin or the service desk."
            )
        ),
    ]
    return said(WELCOME_SUBJECT), "\n\n".join(body)


def account_created(session: AsyncSession, user: User, link: str, expires_at: datetime) -> bool:
    """Queue the new account's set-password link to its holder, in the unit of work that made the
    account; False (nothing queued) when the account has no email address."""
    if not user.email:
        return False
    subject, body = _welcome(user.language, expires_at)
    session.add(
        Notification(
            agency_id=user.agency_id,
            kind=NotificationKind.PASSWORD_LINK,
            recipient_user_id=user.id,
            recipient_email=user.email,
            subject=subject,
            body=body,
            language=user.language,
            sealed_link=encryption.encrypt(link),
        )
    )
    return True


def unsealed(notification: Notification) -> tuple[str, str | None]:
    """The body to send, with its link put in, and the link (for templates that place it apart)."""
    if notification.sealed_link is None:
        return notification.body, notification.link
    try:
        link = encryption.decrypt(notification.sealed_link)
    except encryption.UndecryptableSecret:
        lost = i18n.gettext_in(notification.language or i18n.DEFAULT_LOCALE, LINK_LOST)
        return notification.body.replace(LINK_SLOT, lost), None
    return notification.body.replace(LINK_SLOT, link), link


async def reseal_links(session: AsyncSession) -> int:
    """Seal the links not yet sent under SECRETS_KEY's first key (key rotation); how many."""
    query = select(col(Notification.id), col(Notification.sealed_link)).where(
        col(Notification.sealed_link).is_not(None)
    )
    resealed = 0
    for notification_id, sealed in (await session.execute(query)).all():
        try:
            link = encryption.decrypt(str(sealed))
        except encryption.UndecryptableSecret:
            continue  # sent with LINK_LOST in its place; nothing to keep
        await session.execute(
            update(Notification)
            .where(col(Notification.id) == notification_id)
            .values(sealed_link=encryption.encrypt(link))
        )
        resealed += 1
    return resealed
