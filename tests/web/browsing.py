"""Small helpers for driving the HTML pages through the TestClient."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.builders import PASSWORD


def login_form(client: TestClient, data: dict[str, str]) -> dict[str, str]:
    """``data`` plus the login form's CSRF token (fetching the form sets its cookie)."""
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return {**data, "csrf_token": match.group(1)}


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/login",
        data=login_form(client, {"username": username, "password": password}),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def csrf(client: TestClient, path: str = "/") -> str:
    """The CSRF token of the logged-in session, as a page embeds it."""
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def field_errors(page: str) -> dict[str, list[str]]:
    """Inline messages shown next to fields: input name → messages."""
    found: dict[str, list[str]] = {}
    for name, message in re.findall(r'class="field-error" id="([^"]+)-error">([^<]*)<', page):
        found.setdefault(name, []).append(html.unescape(message))
    return found


def alert(page: str) -> tuple[str, str]:
    """The code and the first line of the page's error alert."""
    match = re.search(r'role="alert" data-code="([^"]*)">\s*(?:<p><strong>)?([^<]*)<', page)
    assert match, page
    return match.group(1), html.unescape(match.group(2)).strip()


def input_value(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    assert match, name
    return html.unescape(match.group(1))


def nav_keys(page: str) -> list[str]:
    return re.findall(r'data-nav="([^"]+)"', page)


def list_rows(page: str) -> list[str]:
    """The rows of a toolkit list (``web.lists``), each as its HTML."""
    body = page.split("<tbody>", 1)[1] if "<tbody>" in page else ""
    body = body.rsplit("</tbody>", 1)[0]
    return [part for part in re.split(r'<tr data-row-id="[^"]*"[^>]*>', body)[1:]]


def list_column(page: str, column: str) -> list[str]:
    """The text of one column of a toolkit list, row by row (tags stripped)."""
    cells = []
    for row in list_rows(page):
        match = re.search(rf'data-col="{re.escape(column)}">(.*?)</td>', row, re.S)
        text = re.sub(r"<[^>]+>", "", match.group(1)) if match else ""
        cells.append(html.unescape(" ".join(text.split())))
    return cells
