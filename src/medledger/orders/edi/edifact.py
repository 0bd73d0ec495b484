"""UN/EDIFACT interchanges through ``pydifact``: split into messages, serialise responses.

pydifact parses the service string advice (UNA), the envelope and the segments; this module
only adds what intake needs: one self-contained interchange per message (to keep in the inbox
and replay alone) and positions that match the UNT segment count (UNH = segment 1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError, ValidationError
from pydifact.segmentcollection import Interchange as _Interchange
from pydifact.segmentcollection import Message as _Message
from pydifact.segments import Segment as _Segment

from medledger.orders.errors import Code, EdiSyntaxError, problem


@dataclass(frozen=True)
class Segment:
    tag: str
    elements: tuple[Any, ...]  # a str, or a list of str for a composite
    position: int

    def get(self, index: int, component: int = 0) -> str:
        """Element ``index`` (0-based), component ``component`` (0-based); "" when absent."""
        if index >= len(self.elements):
            return ""
        value = self.elements[index]
        if isinstance(value, list):
            return value[component].strip() if component < len(value) else ""
        return value.strip() if component == 0 else ""

    @property
    def label(self) -> str:
        return f"segment {self.position} {self.tag}"


@dataclass
class Message:
    type: str  # "ORDERS"
    identifier: list[str]  # ["ORDERS", "D", "96A", "UN", "EAN008"]
    reference: str
    segments: list[Segment]  # UNH … UNT
    content: str  # this message in its own interchange envelope


@dataclass
class Interchange:
    sender: str  # "qualifier:id"
    recipient: str
    control_reference: str
    decimal_mark: str
    messages: list[Message]


def looks_like_edifact(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n")
    return head.startswith("UNA") or head.startswith("UNB")


def _party(element: Any) -> str:
    if isinstance(element, list):
        ident = element[0] if element else ""
        qualifier = element[1] if len(element) > 1 else ""
        return f"{qualifier}:{ident}"
    return f":{element}"


def read(text: str) -> Interchange:
    """Parse an interchange and split it into its messages; ``edi.syntax`` when unreadable."""
    data = text.lstrip("\ufeff \t\r\n")
    try:
        with warnings.catch_warnings():
            # pydifact warns that it has no segment directories for validation; it still parses.
            warnings.simplefilter("ignore")
            parsed = _Interchange.from_str(data)
            messages = list(parsed.get_messages())
    except (EDISyntaxError, ValidationError, ValueError, IndexError) as error:
        raise EdiSyntaxError(
            "The EDIFACT interchange cannot be read: {detail}",
            code=Code.EDI_SYNTAX,
            params={"detail": str(error)},
            errors=[
                problem(
                    "interchange",
                    Code.EDI_SYNTAX,
                    "The EDIFACT interchange cannot be read: {detail}",
                    detail=str(error),
                )
            ],
        ) from None
    result = []
    for message in messages:
        segments = [Segment("UNH", (message.reference_number, message.identifier), 1)]
        for offset, raw in enumerate(message.segments, start=2):
            segments.append(Segment(raw.tag, tuple(raw.elements), offset))
        segments.append(
            Segment("UNT", (str(len(segments) + 1), message.reference_number), len(segments) + 1)
        )
        single = _Interchange(
            parsed.sender,
            parsed.recipient,
            parsed.control_reference,
            parsed.syntax_identifier,
            parsed.timestamp,
            characters=parsed.characters,
            extra_header_elements=parsed.extra_header_elements,
        )
        single.has_una_segment = True
        single.add_message(message)
        result.append(
            Message(
                message.type,
                list(message.identifier),
                str(message.reference_number),
                segments,
                single.serialize(break_lines=True),
            )
        )
    return Interchange(
        _party(parsed.sender),
        _party(parsed.recipient),
        str(parsed.control_reference),
        parsed.characters.decimal_point,
        result,
    )


def write(
    *,
    sender: list[str],
    recipient: list[str],
    control_reference: str,
    message_reference: str,
    identifier: list[str],
    segments: list[tuple[Any, ...]],
) -> str:
    """Serialise one message in an interchange (UNA, UNB … UNZ) with pydifact."""
    interchange = _Interchange(
        sender, recipient, control_reference, ("UNOC", 3), characters=Characters()
    )
    interchange.has_una_segment = True
    message = _Message(message_reference, identifier)
    for tag, *elements in segments:
        message.add_segment(_Segment(tag, *elements))
    interchange.add_message(message)
    return str(interchange.serialize(break_lines=True))
