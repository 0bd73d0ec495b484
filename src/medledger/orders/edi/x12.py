"""A small reader and writer for ANSI X12 interchanges (ISA … IEA).

Why our own: no X12 library on the package index we install from is both maintained and
general (pyx12 targets the HIPAA 5010 health-care transactions and is not available there), and
the envelope is simple. The reader takes the separators from the ISA segment the way X12
defines it (element separator = the 4th character; component separator = ISA16; segment
terminator = the character that ends ISA), but it does not trust ISA to be exactly 106
characters: real files pad ISA fields with odd blanks or leave ISA16 out, so the terminator is
found as the character before the ``GS`` segment. Line breaks and indentation between segments
are ignored; a line break *inside* a segment means a missing terminator and is reported with
its position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medledger.core.errors import FieldError
from medledger.orders.errors import Code, EdiSyntaxError, problem


@dataclass(frozen=True)
class Segment:
    tag: str
    elements: tuple[str, ...]  # elements[0] is XX01
    position: int = 0  # 1-based within its transaction set (ST = 1), 0 for envelopes

    def get(self, index: int) -> str:
        """Element ``index`` (1-based, as X12 numbers them), stripped; "" when absent."""
        return self.elements[index - 1].strip() if 0 < index <= len(self.elements) else ""

    @property
    def label(self) -> str:
        return f"segment {self.position} {self.tag}"


@dataclass
class TransactionSet:
    code: str  # "850"
    control_number: str
    segments: list[Segment]  # ST … SE
    group: Segment  # its GS
    problems: list[FieldError] = field(default_factory=list)


@dataclass
class Interchange:
    element_separator: str
    component_separator: str
    segment_terminator: str
    isa: Segment
    transaction_sets: list[TransactionSet]

    @property
    def sender(self) -> str:
        return f"{self.isa.get(5)}:{self.isa.get(6)}"

    @property
    def receiver(self) -> str:
        return f"{self.isa.get(7)}:{self.isa.get(8)}"

    @property
    def control_number(self) -> str:
        return self.isa.get(13)

    def envelope(self, transaction_set: TransactionSet) -> str:
        """One transaction set in its own interchange and group (to keep and replay alone)."""
        return write(
            [
                self.isa,
                transaction_set.group,
                *transaction_set.segments,
                Segment("GE", ("1", transaction_set.group.get(6))),
                Segment("IEA", ("1", self.control_number)),
            ],
            self.element_separator,
            self.segment_terminator,
        )


def looks_like_x12(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith("ISA")


def read(text: str) -> Interchange:
    """Split an interchange into its transaction sets; raises ``edi.syntax`` when the envelope
    cannot be read. Problems inside a transaction set are kept on it (``problems``)."""
    data = text.lstrip("\ufeff \t\r\n")
    if not data.startswith("ISA") or len(data) < 20:
        raise EdiSyntaxError(
            "The file does not start with an ISA segment.",
            code=Code.EDI_SYNTAX,
            errors=[
                problem(
                    "segment 1", Code.EDI_SYNTAX, "The file does not start with an ISA segment."
                )
            ],
        )
    sep = data[3]
    gs_at = data.find(f"GS{sep}")
    count, index = 0, 0
    while count < 16 and index < len(data):
        if data[index] == sep:
            count += 1
        index += 1
    if count < 16 or gs_at < 0:
        raise EdiSyntaxError(
            "The ISA segment is incomplete.",
            code=Code.EDI_SYNTAX,
            errors=[problem("segment ISA", Code.EDI_SYNTAX, "The ISA segment is incomplete.")],
        )
    end = gs_at - 1
    while end > index and data[end] in " \t\r\n":
        end -= 1
    terminator = data[end]
    component = data[index:end].strip() or ">"
    isa_elements = (*data[4:index].split(sep)[:15], component)
    isa = Segment("ISA", isa_elements)
    raw_segments = data[end + 1 :].split(terminator)
    sets: list[TransactionSet] = []
    group: Segment | None = None
    current: TransactionSet | None = None
    for raw in raw_segments:
        chunk = raw.strip(" \t\r\n\ufeff")
        if not chunk:
            continue
        tag, *elements = chunk.split(sep)
        if current is not None:
            position = len(current.segments) + 1
            segment = Segment(tag, tuple(elements), position)
            if "\n" in chunk or "\r" in chunk:
                current.problems.append(
                    problem(
                        segment.label,
                        Code.EDI_SEGMENT_TERMINATOR_MISSING,
                        "Segment {position} runs over a line break: its terminator {terminator} "
                        "is probably missing.",
                        position=position,
                        terminator=terminator,
                    )
                )
            current.segments.append(segment)
            if tag == "SE":
                if segment.get(1) != str(len(current.segments)):
                    current.problems.append(
                        problem(
                            segment.label,
                            Code.EDI_SEGMENT_COUNT,
                            "SE says {declared} segments; the transaction set has {actual}.",
                            declared=segment.get(1),
                            actual=len(current.segments),
                        )
                    )
                current = None
            continue
        if tag == "GS":
            group = Segment(tag, tuple(elements))
        elif tag == "ST":
            if group is None:
                raise EdiSyntaxError(
                    "A transaction set starts outside a functional group (no GS).",
                    code=Code.EDI_SYNTAX,
                )
            current = TransactionSet(
                elements[0] if elements else "",
                elements[1] if len(elements) > 1 else "",
                [Segment(tag, tuple(elements), 1)],
                group,
            )
            sets.append(current)
    if current is not None:
        current.problems.append(
            problem("segment SE", Code.EDI_UNTERMINATED, "The transaction set has no SE segment.")
        )
    return Interchange(sep, component, terminator, isa, sets)


def write(segments: list[Segment], element_separator: str = "*", terminator: str = "~") -> str:
    """Serialise segments, one per line (a line break after the terminator is customary)."""
    return "".join(
        element_separator.join((s.tag, *s.elements)) + terminator + "\n" for s in segments
    )
