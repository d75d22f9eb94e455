"""Notices to a member of staff about their own account: to them alone, at once, whatever their
preferences and even while they are away. They cannot be turned off: they are how a person
learns that someone may be taking their account over.

As every notification, they hold no personal data: not the account's name, not who acted, and
never a set-password link (that goes only to whoever asked for it).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.identity import NotificationKind, User
from app.models.notification import Notification

NEW_LINK_SUBJECT = "A new link to set your password was issued"
NEW_LINK_BODY = "\n".join(
    [
        NEW_LINK_SUBJECT,
        "",
        "An administrator has issued a new single-use link to set the password of your account on the "
        "referral exchange. Any earlier link no longer works. Once the new link is used, your password "
        "changes and you are signed out everywhere.",
        "",
        "If you asked for a new link, your administrator will give it to you. If you did not, tell your "
        "agency's admin or the service desk at once: someone may be trying to take over your account.",
        "",
        "You are always told when a new link is issued for your account; this cannot be turned off.",
    ]
)


def password_link_issued(session: AsyncSession, user: User) -> bool:
    """Queue the notice of a new set-password link to the user, in the unit of work that issued it;
    False (nothing queued) when the account has no email address."""
    if not user.email:
        return False
    session.add(
        Notification(
            agency_id=user.agency_id,
            kind=NotificationKind.PASSWORD_LINK,
            recipient_user_id=user.id,
            recipient_email=user.email,
            subject=NEW_LINK_SUBJECT,
            body=NEW_LINK_BODY,
        )
    )
    return True
