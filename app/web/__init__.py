"""The staff pages: GOV.UK Design System pages served by the same application as the API."""

import os
from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, params
from starlette.staticfiles import StaticFiles

from app.config import get_settings
from app.web import errors
from app.web.routes import (
    account,
    admin,
    audit,
    boxes,
    directory,
    follow_ups,
    make,
    onward,
    referral,
    referral_steps,
    services,
    settings,
    staff,
)
from app.web.security import PageHeaders, check_csrf

STATIC_DIR = Path(__file__).resolve().parent / "static"


class GovukFrontendFiles(StaticFiles):
    """Under /assets: GOV.UK Frontend's JavaScript, and its styles as compiled for this service.

    Only those. The package's own fonts (GDS Transport, licensed for GOV.UK alone), images (the
    crown and crest) and precompiled styles (which load those fonts) are not served: this service
    is not on GOV.UK.
    """

    SERVED = frozenset({"service.css", "govuk-frontend.min.js", "govuk-frontend.min.js.map"})

    def __init__(self, dist: Path, styles: Path) -> None:
        super().__init__(directory=styles, check_dir=False)
        self.all_directories = [styles, dist]

    def get_directories(
        self, directory: "str | os.PathLike[str] | None" = None, packages: object = None
    ) -> list["str | os.PathLike[str]"]:
        return list(getattr(self, "all_directories", []))

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        return super().lookup_path(path) if path in self.SERVED else ("", None)


def router() -> APIRouter:
    """Every page, each form post checked for its CSRF token; none of it in the API document."""
    pages = APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
    modules = (
        account,
        admin,
        audit,
        boxes,
        directory,
        follow_ups,
        make,
        onward,
        referral,
        referral_steps,
        services,
        settings,
        staff,
    )
    for module in modules:
        pages.include_router(module.router)
    return pages


def install(app: FastAPI, dependencies: Sequence[params.Depends] = ()) -> None:
    """Add the pages (each with `dependencies` first), their files, their security headers and their
    error pages to the app."""
    app.include_router(router(), dependencies=dependencies)
    settings = get_settings()
    assets = GovukFrontendFiles(settings.govuk_frontend_dir, settings.web_styles_dir)
    app.mount("/assets", assets, name="assets")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(PageHeaders)
    errors.install(app)
