"""Babel extractor for our Python sources: finds every user-facing English msgid.

Messages are not only in ``_()`` calls: errors carry their English msgid as an argument of
``DomainError(...)``, ``field_error(...)``, ``rule_error(...)`` and friends, exception classes
have a ``title``, and pydantic's messages live in ``core.types.MESSAGE_TEMPLATES``. This
extractor reads the syntax tree, so a message spread over several lines is found too.
It is wired into ``babel.cfg``; see docs/i18n.md.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

# callable name -> position of its message argument (a ``message=`` keyword is found as well).
MESSAGE_ARGUMENT: dict[str, int] = {
    "DomainError": 0,
    "ValidationFailed": 0,
    "NotFound": 0,
    "Conflict": 0,
    "PermissionDenied": 0,
    "AuthenticationFailed": 0,
    "RateLimited": 0,
    "MethodNotAllowed": 0,
    "UnsupportedMediaType": 0,
    "BadRequestBody": 0,
    "PayloadTooLarge": 0,
    "ServiceUnavailable": 0,
    "field_error": 2,
    "FieldError": 2,
    "_conflict": 2,
    "_invalid": 2,
    "_field": 3,
    "rule_error": 1,
    "custom_error": 1,
    "invalid_parameter": 1,
    "_digital_link_error": 0,
    "field_invalid": 2,
    "_field_error": 2,
    "conflict": 1,  # inventory.errors
    "invalid": 1,
    "_error": 2,  # purchasing.service
    "_flag": 99,  # keyword message= only
    "SigningRefused": 1,
    "SigningLocked": 1,
    "GuardFailure": 1,
    "problem": 2,  # orders.errors
    "field_problem": 2,  # integration.errors
    "_definition_problem": 2,  # integration.dictionary
    "order_conflict": 2,
    "planning_conflict": 1,  # orders.errors (planning)
    "planning_invalid": 1,
    "EdiSyntaxError": 0,
    "OrderValidationFailed": 0,
    "IdempotencyKeyReused": 0,
}
# gettext-style markers: the first string argument is the message.
FIRST_STRING = frozenset({"_", "N_", "gettext", "translate"})
# Plural markers: the first two string arguments are the singular and the plural msgid.
PLURAL = frozenset({"NP_", "ngettext"})
# Module-level dicts whose values are message templates.
TEMPLATE_DICTS = frozenset({"MESSAGE_TEMPLATES"})


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return node.value
    return None


def _call_message(node: ast.Call) -> str | tuple[str, str] | None:
    name = _name(node.func)
    if name is None:
        return None
    if name in PLURAL:
        texts = [t for t in (_string(arg) for arg in node.args) if t is not None]
        return (texts[0], texts[1]) if len(texts) >= 2 else None
    if name in FIRST_STRING:
        for arg in node.args:
            text = _string(arg)
            if text is not None:
                return text
        return None
    if name not in MESSAGE_ARGUMENT:
        return None
    for keyword in node.keywords:
        if keyword.arg == "message":
            return _string(keyword.value)
    position = MESSAGE_ARGUMENT[name]
    return _string(node.args[position]) if len(node.args) > position else None


def messages_in(source: str) -> Iterator[tuple[int, str | tuple[str, str]]]:
    """``(line, msgid)`` for every user-facing message in Python ``source``."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            text = _call_message(node)
            if text is not None:
                yield node.lineno, text
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                target: ast.expr | None = None
                value: ast.expr | None = None
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target, value = statement.targets[0], statement.value
                elif isinstance(statement, ast.AnnAssign):
                    target, value = statement.target, statement.value
                if isinstance(target, ast.Name) and target.id == "title":
                    text = _string(value)
                    if text is not None:
                        yield statement.lineno, text
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(
                isinstance(t, ast.Name) and t.id in TEMPLATE_DICTS for t in targets
            ) and isinstance(node.value, ast.Dict):
                for item in node.value.values:
                    text = _string(item)
                    if text is not None:
                        yield item.lineno, text


def extract_python(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, str | tuple[str, str], list[str]]]:
    """The Babel extraction method (``medledger.web.extract:extract_python`` in babel.cfg)."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for lineno, text in messages_in(source):
        # A plural pair is reported as Babel's own ``ngettext`` keyword (singular, plural).
        yield lineno, "ngettext" if isinstance(text, tuple) else "", text, []
