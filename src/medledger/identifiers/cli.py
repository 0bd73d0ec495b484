"""``medledger gs1 …``: GS1 identifier tools on the command line."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from medledger.core.errors import ValidationFailed
from medledger.identifiers.gs1 import parse_gs1

app = typer.Typer(
    help="GS1 identifiers: parse scans, Digital Link URIs and EPC URNs.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _commands() -> None:
    # A callback keeps "parse" a sub-command even while it is the only one, so the app
    # behaves the same standalone and mounted as "medledger gs1".
    pass


# Exit status for data that is not valid GS1 (1 stays free for unexpected failures).
EXIT_INVALID_DATA = 2


class OutputFormat(StrEnum):
    """How ``parse`` prints its result."""

    TEXT = "text"
    JSON = "json"


@app.command("parse")
def parse(
    data: Annotated[
        str,
        typer.Argument(
            help="Scan data (GS as \\x1d or the GS character), bracketed (01)… string, "
            "Digital Link URI or EPC URN."
        ),
    ],
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.TEXT,
) -> None:
    """Parse GS1 data and print GTIN, lot, serial, dates, UDI and canonical forms."""
    # A shell cannot easily pass the GS control character, so the escape "\x1d" stands in.
    try:
        parsed = parse_gs1(data.replace("\\x1d", "\x1d"))
    except ValidationFailed as error:
        typer.echo(f"{error.code}: {error.render_english()}", err=True)
        raise typer.Exit(EXIT_INVALID_DATA) from None
    result = parsed.to_dict()
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for name in (
        "format",
        "gtin",
        "lot",
        "serial",
        "expiry",
        "production_date",
        "best_before",
        "sscc",
        "gln",
        "element_string",
        "digital_link",
    ):
        if result[name] is not None:
            typer.echo(f"{name:16}{result[name]}")
    for ai in parsed.ais:
        typer.echo(f"({ai.ai}) {ai.title}: {ai.value}")
