"""What each page of making a referral accepts: its checks, and the values kept from it.

The routes in app/web/routes/make.py read a form, ask here, and either show the page again with
the errors or keep the values in the draft.
"""

from typing import Any

from app.errors import AppError
from app.models.directory import Service
from app.models.subject import check_nhs_number
from app.services import directory
from app.web import drafts, labels
from app.web.forms import Form, read_date
from app.web.i18n import gettext


def stored_form(draft: dict[str, Any], section: str) -> Form | None:
    """A section kept in the draft, as the form that shows it again."""
    stored = draft.get(section)
    if not stored:
        return None
    values = {k: v for k, v in stored.items() if isinstance(v, str)}
    lists = {k: v for k, v in stored.items() if isinstance(v, list)}
    return Form(values=values, lists=lists)


def postcode_error(postcode: str) -> str | None:
    """Why the postcode typed cannot be searched for, if it cannot."""
    try:
        directory.area_codes(postcode)
    except AppError:
        return gettext("Enter a real postcode, like LL13 9AA, or the first part of one, like LL13")
    return None


def _typed(form: Form) -> dict[str, Any]:
    return {k: v for k, v in form.values.items() if k != "csrf_token"}


def _check_person(form: Form) -> None:
    form.require("given_name", gettext("Enter their first name"))
    form.require("family_name", gettext("Enter their last name"))
    read_date(form, "dob", gettext("date of birth"), past=True, enter=gettext("Enter their date of birth"))
    if form.get("nhs_number") and not _is_nhs_number(form.get("nhs_number")):
        form.add("nhs_number", gettext("Enter a real NHS number, 10 digits, like 943 476 5919"))
    form.choice(
        "preferred_contact", labels.CONTACT_METHODS, gettext("Select how they prefer to be contacted")
    )
    form.choice("language", labels.LANGUAGES, gettext("Select their language"))


def _is_nhs_number(typed: str) -> bool:
    try:
        check_nhs_number(typed)
    except ValueError:
        return False
    return True


def person(form: Form) -> dict[str, Any]:
    """The person's details to keep; the form holds the errors, if any."""
    _check_person(form)
    values = _typed(form)
    values["benefits"] = [b for b in form.lists.get("benefits", []) if b in drafts.BENEFITS]
    values["barriers"] = [b for b in form.lists.get("barriers", []) if b in drafts.BARRIERS]
    if form.ok:
        drafts.check_subject(values, form)
    return values


def _check_consent(form: Form, service: Service) -> None:
    # In the order the page asks, so the error summary lists them in that order.
    if not [p for p in form.lists.get("purposes", []) if p in service.purposes]:
        form.add("purposes", gettext("Select what the person agreed their details can be used for"))
    form.choice("given_by", {"subject": "", "parent_or_guardian": ""}, gettext("Select who gave consent"))
    form.choice("method", labels.CONSENT_METHODS, gettext("Select how they gave consent"))
    form.choice("lawful_basis", labels.LAWFUL_BASES, gettext("Select the lawful basis for sharing"))
    if form.get("lawful_basis") not in ("consent", "") and not form.get("sharing_agreement_ref"):
        form.add("sharing_agreement_ref", gettext("Enter the sharing agreement reference"))
    if form.get("agreed") != "yes":
        form.add("agreed", gettext("Confirm that you read the words to the person and they agreed"))


def consent(form: Form, service: Service) -> dict[str, Any]:
    """The consent to keep, as given now; the form holds the errors, if any."""
    _check_consent(form, service)
    values = _typed(form)
    values["purposes"] = [p for p in form.lists.get("purposes", []) if p in service.purposes]
    values["data_categories"] = [
        c for c in form.lists.get("data_categories", []) if c in ("contact", "circumstances")
    ]
    values["given_at"] = drafts.now_text()
    return values


def details(form: Form, draft: dict[str, Any], purposes: list[str]) -> dict[str, Any]:
    """The referral's details to keep; the form holds the errors, if any."""
    form.choice("purpose", dict.fromkeys(purposes, ""), gettext("Select what the referral is for"))
    form.require("reason", gettext("Enter why you are making the referral"))
    if len(form.get("reason")) > 4000:
        form.add("reason", gettext("Reason must be 4000 characters or fewer"))
    form.choice("urgency", labels.URGENCIES, gettext("Select how urgent the referral is"))
    form.choice("handover_mode", labels.HANDOVER_MODES, gettext("Select how the handover should happen"))
    if draft.get("parent"):
        yes_no = {"yes": "", "no": ""}
        form.choice(
            "return_to_referrer", yes_no, gettext("Select whether you want them back when the work is done")
        )
    return _typed(form)
