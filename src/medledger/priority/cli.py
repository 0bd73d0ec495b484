"""``medledger allocate``: run the allocation engine alone on a JSON instance file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from medledger.priority.allocate import SOLVER_CHOICES, SolverChoice, allocate_document
from medledger.priority.errors import InstanceError, SolverUnavailable


def allocate_command(
    instance: Annotated[Path, typer.Option(help="Instance JSON (see docs/priority.md).")],
    output: Annotated[Path, typer.Option(help="Where to write the result JSON.")],
    solver: Annotated[str, typer.Option(help="exact, greedy or auto.")] = "auto",
) -> None:
    """Allocate lots to order lines (priority-weighted fill, FEFO) and explain shortfalls.

    Exit code 2 for a bad instance (the message names the field), 1 when the exact solver
    cannot solve it (use --solver auto or greedy).
    """
    if solver not in SOLVER_CHOICES:
        typer.echo("--solver: must be one of exact, greedy, auto", err=True)
        raise typer.Exit(2)
    try:
        document = json.loads(instance.read_text(encoding="utf-8"))
    except OSError as exc:
        typer.echo(f"--instance: cannot read {instance}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        typer.echo(f"--instance: not valid JSON: {exc}", err=True)
        raise typer.Exit(2) from None
    choice: SolverChoice = solver
    try:
        result = allocate_document(document, choice)
    except InstanceError as exc:
        typer.echo(exc.render_english(), err=True)
        raise typer.Exit(2) from None
    except SolverUnavailable as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        raise typer.Exit(1) from None
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
