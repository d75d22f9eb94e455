"""GOV.UK Frontend's own words (a hidden "Error:", "Show" on a password, "Important" on a banner...)
in the page's language: the one place its components get them from.

Each component that has words of its own is wrapped once, in templates/govuk_frontend_jinja/, by
a macro that fills in the parameters a page did not give and calls GOV.UK Frontend's own.
"""

from collections.abc import Mapping
from typing import Any

from app.web.i18n import N_, gettext

TEXTS: dict[str, dict[str, str]] = {
    "errorMessage": {"visuallyHiddenText": N_("Error")},
    "errorSummary": {"titleText": N_("There is a problem")},
    "backLink": {"text": N_("Back")},
    "warningText": {"iconFallbackText": N_("Warning")},
    "passwordInput": {
        "showPasswordText": N_("Show"),
        "hidePasswordText": N_("Hide"),
        "showPasswordAriaLabelText": N_("Show password"),
        "hidePasswordAriaLabelText": N_("Hide password"),
        "passwordShownAnnouncementText": N_("Your password is visible"),
        "passwordHiddenAnnouncementText": N_("Your password is hidden"),
    },
    "serviceNavigation": {
        "menuButtonText": N_("Menu"),
        "navigationLabel": N_("Menu"),
        "ariaLabel": N_("Service information"),
    },
    "skipLink": {"text": N_("Skip to main content")},
}
BANNER_TITLES = {"success": N_("Success")}
BANNER_TITLE = N_("Important")


def with_text(component: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The component's parameters, with its own words in the page's language where none were given."""
    given = dict(params)
    if component == "notificationBanner":
        return _banner(given)
    return {name: gettext(text) for name, text in TEXTS[component].items()} | given


def _banner(given: dict[str, Any]) -> dict[str, Any]:
    if given.get("titleText") or given.get("titleHtml"):
        return given
    title = BANNER_TITLES.get(str(given.get("type", "")), BANNER_TITLE)
    return {"titleText": gettext(title)} | given
