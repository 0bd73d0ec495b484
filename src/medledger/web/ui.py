"""Plumbing of the server-rendered UI: templates, the per-request ``Ui`` and the HTML route class.

Pages are plain HTML forms and links (they work without JavaScript); htmx, served from the npm
package under ``/vendor``, only swaps the results of list filters in place.

* One Jinja2 environment, one loader over ``web/templates`` and every ``medledger/<package>/
  templates`` folder, so a package can ``{% extends "base.html" %}`` from its own folder.
* Every user-facing string in a template goes through ``_("English msgid", name=value)``: it is
  bound per request to the user's language (``core.i18n.translate``), so ``{placeholders}`` work
  exactly as in error messages.
* ``UiRoute`` renders domain errors of a page (404 for records the user may not see, 403, CSRF)
  as an HTML error page in the user's language, and sends anonymous visitors to the login page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from medledger.core.db import is_postgres, set_tenant_guc
from medledger.core.deps import DbSession, check_csrf, resolve_principal
from medledger.core.errors import DomainError
from medledger.core.i18n import (
    LOCALE_NAMES,
    SUPPORTED_LOCALES,
    format_day,
    format_time,
    negotiate_locale,
    translate,
)
from medledger.core.principal import Principal
from medledger.core.problems import problem_headers
from medledger.web.labels import (
    BIZ_STEP_LABELS,
    DISPOSITION_LABELS,
    EVENT_ACTION_LABELS,
    EVENT_TYPE_LABELS,
    ROLE_LABELS,
    cbv_label,
    label,
)
from medledger.web.nav import nav_for

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _template_dirs() -> list[str]:
    dirs = [str(Path(__file__).parent / "templates")]
    dirs += [str(p) for p in sorted(_PACKAGE_ROOT.glob("*/templates")) if p.parent.name != "web"]
    return dirs


templates = Environment(
    loader=FileSystemLoader(_template_dirs()),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)


class LoginRequired(Exception):
    """Raised by a page dependency when nobody is logged in."""


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def with_query(path: str, **params: Any) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(clean)}" if clean else path


@dataclass
class Ui:
    """What a page handler needs: the request, its transaction, who asks and in which language."""

    request: Request
    session: Session
    principal: Principal | None
    locale: str
    form: FormData | None = None
    party_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    # --- language and time ---------------------------------------------------------------

    def _(self, message: str, **params: Any) -> str:
        """Translate an English msgid into the request's language and fill its placeholders."""
        return translate(self.locale, message, params)

    @property
    def time_zone(self) -> str:
        return self.principal.time_zone if self.principal else "UTC"

    def time(self, value: Any, fmt: str = "medium") -> str:
        """A stored UTC time in the user's zone and locale, with its UTC offset."""
        return format_time(value, self.locale, self.time_zone, fmt)

    def day(self, value: Any, fmt: str = "medium") -> str:
        """A calendar date in the user's locale."""
        return format_day(value, self.locale, fmt)

    # --- EPCIS vocabulary (codes stay codes in the API; people read names) ---------------

    def biz_step(self, value: str | None) -> str:
        return self._(cbv_label(BIZ_STEP_LABELS, value)) if value else ""

    def disposition(self, value: str | None) -> str:
        return self._(cbv_label(DISPOSITION_LABELS, value)) if value else ""

    def event_kind(self, event_type: str | None, action: str | None) -> str:
        """``Object event · observe``."""
        text = self._(label(EVENT_TYPE_LABELS, event_type)) if event_type else ""
        if action:
            text += " · " + self._(label(EVENT_ACTION_LABELS, action))
        return text

    # --- responses -----------------------------------------------------------------------

    @property
    def csrf_token(self) -> str:
        return str(getattr(self.request.state, "csrf_token", "") or "")

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def context(self, **ctx: Any) -> dict[str, Any]:
        principal = self.principal
        return {
            "request": self.request,
            "ui": self,
            "principal": principal,
            "locale": self.locale,
            "locale_names": LOCALE_NAMES,
            "supported_locales": SUPPORTED_LOCALES,
            "_": self._,
            "gettext": self._,
            "fmt_time": self.time,
            "fmt_day": self.day,
            "biz_step_name": self.biz_step,
            "disposition_name": self.disposition,
            "event_kind": self.event_kind,
            "csrf_token": self.csrf_token,
            "nav": nav_for(principal) if principal else [],
            "role_label": label(ROLE_LABELS, principal.role.value) if principal else "",
            "party_name": self.party_name,
            "current_path": self.request.url.path,
            "with_query": with_query,
            **ctx,
        }

    def render(
        self, template: str, status: int = 200, *, block: str | None = None, **ctx: Any
    ) -> HTMLResponse:
        """Render ``template``; for an htmx request aimed at ``#results``, only that block."""
        tmpl = templates.get_template(template)
        context = self.context(**ctx)
        target = block or (
            "results"
            if self.is_htmx and self.request.headers.get("hx-target") == "results"
            else None
        )
        if target and target in tmpl.blocks:
            html = "".join(tmpl.blocks[target](tmpl.new_context(context)))
        else:
            html = tmpl.render(context)
        return HTMLResponse(html, status_code=status, headers={"Vary": "HX-Request, HX-Target"})

    def redirect(self, url: str) -> RedirectResponse:
        """After a successful POST: see the result with a GET (post/redirect/get)."""
        return RedirectResponse(url, status_code=303)

    # --- transactions --------------------------------------------------------------------

    def discard_changes(self) -> None:
        """A rejected form changes nothing: roll back whatever the service flushed, then make
        the (now empty) transaction serve the same tenant again so the form can re-render."""
        self.session.rollback()
        if self.principal is not None:
            set_tenant_guc(self.session, self.principal.tenant_id)


def rls_bypass(session: Session, on: bool) -> None:
    """Login lookups happen before the tenant is known (PostgreSQL row-level security)."""
    if is_postgres(session):
        session.execute(
            text("SELECT set_config('app.rls_bypass', :v, true)"), {"v": "on" if on else "off"}
        )


async def _form_of(request: Request) -> FormData | None:
    """The parsed form of a POST (read on the event loop: it awaits the body, no database)."""
    if request.method in ("GET", "HEAD"):
        return None
    if "form" not in request.headers.get("content-type", ""):
        return None
    return await request.form()


PageForm = Annotated[FormData | None, Depends(_form_of)]


# The page dependencies are plain functions: FastAPI runs them in its thread pool, so resolving
# the principal (database work that may wait for a pooled connection) never blocks the event loop.
def _build_ui(request: Request, session: Session, form: FormData | None, *, required: bool) -> Ui:
    principal = resolve_principal(request, session)
    if principal is None:
        locale = negotiate_locale(None, request.headers.get("accept-language"))
        ui = Ui(request, session, None, locale, form)
        request.state.ui = ui
        if required:
            raise LoginRequired()
        return ui
    locale = negotiate_locale(principal.locale, request.headers.get("accept-language"))
    ui = Ui(request, session, principal, locale, form)
    request.state.ui = ui
    csrf_value = form.get("csrf_token") if form is not None else None
    check_csrf(request, csrf_value if isinstance(csrf_value, str) else None)
    ui.party_name = principal.party_name
    return ui


def _page_ui(request: Request, session: DbSession, form: PageForm) -> Ui:
    return _build_ui(request, session, form, required=True)


def _public_ui(request: Request, session: DbSession, form: PageForm) -> Ui:
    return _build_ui(request, session, form, required=False)


UiPage = Annotated[Ui, Depends(_page_ui)]
"""A page for logged-in users (anonymous visitors are sent to the login page)."""

UiPublic = Annotated[Ui, Depends(_public_ui)]
"""A page anyone may open (login)."""


# Titles and explanations of an error page by status: plain words, with the error's own
# message only where it helps (a conflict, a refused action).
_ERROR_PAGES: dict[int, tuple[str, str]] = {
    404: (
        "Not found",
        "There is no such page or record, or it is not shared with your organisation.",
    ),
    403: ("Not allowed", ""),
    405: ("Not allowed", "This page cannot be opened this way."),
}


def error_page(request: Request, exc: DomainError) -> HTMLResponse:
    """A domain error as an HTML page in the user's language, with the error's status and a way
    back (to the page the user came from when it is on this site, and to the home page)."""
    ui: Ui | None = getattr(request.state, "ui", None)
    if ui is None:
        locale = negotiate_locale(None, request.headers.get("accept-language"))
        ui = Ui(request, None, None, locale)  # type: ignore[arg-type]
    title, generic = _ERROR_PAGES.get(exc.status, (exc.title, ""))
    if exc.status in (404, 405):
        detail = translate(ui.locale, generic)
    else:
        detail = translate(ui.locale, exc.message, exc.params)
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    back = referer[len(origin) :] if referer.startswith(origin + "/") else ""
    response = ui.render(
        "error.html",
        status=exc.status,
        block=None,
        title=translate(ui.locale, title),
        detail=detail,
        code=exc.code,
        back=local_path(back, default=""),
    )
    response.headers.update(problem_headers(exc) or {})
    return response


class UiRoute(APIRoute):
    """An HTML route: anonymous → login page; domain errors → HTML error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                next_path = request.url.path
                if request.url.query:
                    next_path += "?" + request.url.query
                target = "/login?next=" + quote(next_path, safe="")
                if request.headers.get("hx-request") == "true":
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            except DomainError as exc:
                # The request's transaction was already rolled back by the DbSession dependency.
                return error_page(request, exc)

        return html_handler
