"""The agency's webhook subscriptions and their delivery log."""

import uuid

from fastapi import APIRouter, Response, status

from app.deps import SessionDep, SettingsDep, WebhookManager
from app.errors import Responses
from app.models.webhooks import (
    DeliveryStatus,
    WebhookDeliveryPublic,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionPublic,
)
from app.pagination import CursorParam, LimitParam, Page
from app.services import webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
NOT_FOUND: Responses = {404: {"description": "No such subscription for the caller's agency"}}


@router.post("", response_model=WebhookSubscriptionCreated, status_code=status.HTTP_201_CREATED)
async def create_subscription(
    body: WebhookSubscriptionCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: WebhookManager,
    response: Response,
) -> WebhookSubscriptionCreated:
    """Subscribe a URL to the agency's events; the signing secret is returned only here."""
    subscription = await webhooks.create_subscription(session, settings, principal.actor, body)
    response.headers["Location"] = f"/v1/webhooks/{subscription.id}"
    return WebhookSubscriptionCreated.model_validate(subscription)


@router.get("", response_model=Page[WebhookSubscriptionPublic])
async def list_subscriptions(
    session: SessionDep, principal: WebhookManager, cursor: CursorParam = None, limit: LimitParam = 50
) -> Page[WebhookSubscriptionPublic]:
    """The agency's webhook subscriptions, oldest first."""
    rows, next_cursor = await webhooks.list_subscriptions(session, principal.actor, cursor, limit)
    return Page(items=[WebhookSubscriptionPublic.model_validate(s) for s in rows], next_cursor=next_cursor)


@router.get("/{subscription_id}", response_model=WebhookSubscriptionPublic, responses=NOT_FOUND)
async def get_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: WebhookManager
) -> WebhookSubscriptionPublic:
    """One of the agency's webhook subscriptions."""
    subscription = await webhooks.get_subscription(session, principal.actor, subscription_id)
    return WebhookSubscriptionPublic.model_validate(subscription)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: WebhookManager
) -> None:
    """Delete a subscription; deliveries still on their way to it are cancelled."""
    await webhooks.delete_subscription(session, principal.actor, subscription_id)


@router.get("/{subscription_id}/deliveries", response_model=Page[WebhookDeliveryPublic], responses=NOT_FOUND)
async def list_deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    principal: WebhookManager,
    status: DeliveryStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[WebhookDeliveryPublic]:
    """The subscription's deliveries, newest first, each with its attempts."""
    rows, next_cursor = await webhooks.list_deliveries(
        session, principal.actor, subscription_id, status=status, cursor=cursor, limit=limit
    )
    return Page(items=[WebhookDeliveryPublic.model_validate(d) for d in rows], next_cursor=next_cursor)


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    response_model=WebhookDeliveryPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        404: {"description": "No such subscription or delivery for the caller's agency"},
        409: {"description": "The subscription is disabled, or the delivery is being sent now"},
    },
)
async def redeliver(
    subscription_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, principal: WebhookManager
) -> WebhookDeliveryPublic:
    """Queue a delivery to be sent again now, with a fresh round of retries."""
    delivery = await webhooks.redeliver(session, principal.actor, subscription_id, delivery_id)
    return WebhookDeliveryPublic.model_validate(delivery)
