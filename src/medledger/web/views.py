"""HTML pages of the shell: login, logout, start page, preferences; mounts the packages' pages."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from medledger.core.db import utcnow
from medledger.core.deps import client_address
from medledger.core.errors import Code, DomainError
from medledger.core.i18n import LOCALE_NAMES, SUPPORTED_LOCALES
from medledger.core.principal import Principal
from medledger.core.security import constant_time_equal
from medledger.parties import auth
from medledger.parties import service as parties_service
from medledger.parties.schemas import PreferencesIn
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.home import charts_for, tiles_for
from medledger.web.labels import ROLE_LABELS, label
from medledger.web.ui import Ui, UiPage, UiPublic, UiRoute, local_path, rls_bypass

router = APIRouter(include_in_schema=False, route_class=UiRoute)

_TIME_ZONES = sorted(available_timezones() | {"UTC"})


@router.get("/")
def home(ui: UiPage) -> Response:
    """The home page: the counts and alerts that matter to the user's role, each a link to the
    list of what it counts, and the charts (registered by the contexts, see ``web.home``)."""
    assert ui.principal is not None
    from medledger.web.nav import home_panels

    return ui.render(
        "home.html",
        role_label=label(ROLE_LABELS, ui.principal.role.value),
        tiles=tiles_for(ui),
        charts=charts_for(ui),
        panels=home_panels(ui),
    )


# --- login / logout --------------------------------------------------------------------------


# Before login there is no session to hold a CSRF token, so the login form uses a
# double-submit token: a random value in a SameSite=Strict cookie and in the form. A cross-site
# page can make the browser post the form but can neither read nor set the cookie, so it cannot
# log a victim into an attacker's account.
LOGIN_CSRF_COOKIE = "medledger_login_csrf"


def _login_page(ui: Ui, *, status: int = 200, token: str | None = None, **values: Any) -> Response:
    token = token or auth.new_csrf()
    response = ui.render("login.html", status=status, login_csrf=token, **values)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        path="/login",
        secure=ui.request.app.state.settings.cookie_secure,
    )
    return response


@router.get("/login")
def login_page(ui: UiPublic, next: str = "/", logged_out: int = 0) -> Response:
    """The login form (already logged-in users go straight on)."""
    if ui.principal is not None:
        return ui.redirect(local_path(next))
    return _login_page(
        ui,
        next=local_path(next),
        username="",
        error="",
        error_code="",
        logged_out=bool(logged_out),
    )


@router.post("/login")
def login(ui: UiPublic) -> Response:
    """Check the password, open a browser session and set its cookie."""
    settings = ui.request.app.state.settings
    form = ui.form
    username = str(form.get("username", "")) if form is not None else ""
    password = str(form.get("password", "")) if form is not None else ""
    next_path = local_path(str(form.get("next", "/")) if form is not None else "/")
    given = str(form.get("csrf_token", "")) if form is not None else ""
    expected = ui.request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not constant_time_equal(expected, given):
        return _login_page(
            ui,
            status=403,
            next=next_path,
            username=username,
            error=ui._(
                "The form expired or came from another site. Reload the page and try again."
            ),
            error_code=Code.CSRF_INVALID,
            logged_out=False,
        )
    session = ui.session
    rls_bypass(session, True)
    try:
        user = auth.authenticate(
            session,
            settings,
            username=username,
            password=password,
            client=client_address(ui.request),
        )
        issued = auth.issue_session(session, settings, user, kind="browser")
    except DomainError as exc:
        session.commit()  # keep the failed attempt for rate limiting and the security log
        return _login_page(
            ui,
            status=exc.status,
            token=expected,
            next=next_path,
            username=username,
            error=ui._(exc.message, **exc.params),
            error_code=exc.code,
            logged_out=False,
        )
    rls_bypass(session, False)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        settings.session_cookie_name,
        issued.token,
        max_age=issued.expires_in_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(ui: UiPage) -> Response:
    """Revoke the browser session and forget its cookie."""
    settings = ui.request.app.state.settings
    token = ui.request.cookies.get(settings.session_cookie_name)
    if token:
        auth.revoke_token(ui.session, token)
    response = RedirectResponse("/login?logged_out=1", status_code=303)
    response.delete_cookie(settings.session_cookie_name, path="/", httponly=True, samesite="lax")
    return response


# --- preferences -----------------------------------------------------------------------------


def _preferences(ui: UiPage, form: FormState[PreferencesIn], status: int = 200) -> Response:
    return ui.render(
        "preferences.html",
        status=status,
        form=form,
        locale_options=[(code, LOCALE_NAMES[code]) for code in SUPPORTED_LOCALES],
        time_zones=_TIME_ZONES,
        now=utcnow(),
    )


@router.get("/preferences")
def preferences_page(ui: UiPage) -> Response:
    """The user's language and time zone."""
    return _preferences(ui, empty_form(ui.locale))


@router.post("/preferences")
def save_preferences(ui: UiPage) -> Response:
    """Save the language and time zone (an empty language means: follow the browser)."""
    state = parse_form(
        PreferencesIn, ui.form, ui.locale, mode="update", nullable=frozenset({"locale"})
    )
    if state.data is not None:
        try:
            parties_service.update_preferences(ui.session, _principal(ui), state.data)
        except DomainError as exc:
            ui.discard_changes()
            state.reject(exc)
        else:
            return ui.redirect("/preferences?saved=1")
    return _preferences(ui, state, status=state.status)


@router.post("/preferences/language")
def switch_language(ui: UiPage) -> Response:
    """The language buttons of the user menu."""
    form = ui.form
    locale = str(form.get("locale", "")) if form is not None else ""
    next_path = local_path(str(form.get("next", "/")) if form is not None else "/")
    state = parse_form(PreferencesIn, ui.form, ui.locale, mode="update", skip=frozenset({"next"}))
    if state.data is None or locale not in SUPPORTED_LOCALES:
        return _preferences(ui, state, status=422)
    parties_service.update_preferences(ui.session, _principal(ui), state.data)
    return ui.redirect(next_path)


def _principal(ui: Ui) -> Principal:
    assert ui.principal is not None
    return ui.principal


def _mount_package_pages() -> None:
    from medledger.analytics.insight_views import router as insight_pages
    from medledger.analytics.transport_views import router as transport_pages
    from medledger.analytics.views import router as analytics_pages
    from medledger.catalog.views import router as catalog_pages
    from medledger.compliance.views import router as compliance_pages
    from medledger.integration.imports.views import router as imports_pages
    from medledger.integration.views import router as integration_pages
    from medledger.inventory.views import router as inventory_pages
    from medledger.orders.planning_views import router as planning_pages
    from medledger.orders.views import router as orders_pages
    from medledger.parties.views import router as parties_pages
    from medledger.production.views import router as production_pages
    from medledger.purchasing.views import router as purchasing_pages
    from medledger.quality.inspection_views import router as inspection_pages
    from medledger.quality.views import router as quality_pages
    from medledger.recall.views import router as recall_pages
    from medledger.trace.ledger_views import router as ledger_pages
    from medledger.trace.views import router as trace_pages
    from medledger.web.docs import router as docs_pages

    for pages in (
        parties_pages,
        catalog_pages,
        compliance_pages,
        trace_pages,
        integration_pages,
        imports_pages,
        ledger_pages,
        docs_pages,
        inspection_pages,
        quality_pages,
        planning_pages,  # before the order pages: /orders/board is not an order id
        orders_pages,
        recall_pages,
        production_pages,
        analytics_pages,
        insight_pages,
        transport_pages,
    ):
        router.include_router(pages)
    router.include_router(inventory_pages)
    router.include_router(purchasing_pages)


_mount_package_pages()
