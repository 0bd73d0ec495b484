"""``medledger edi …`` (partner EDI settings, despatch advices) and ``medledger api-key …``
(rotation, expiry) — as the tenant's administrator."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from medledger.orders.cli import TenantOption, _run

edi_app = typer.Typer(help="EDI with partners: settings, despatch advices.", no_args_is_help=True)
keys_app = typer.Typer(help="Partner API keys: rotation and expiry.", no_args_is_help=True)


def _party_id(session: Any, tenant_id: int, gln: str) -> int:
    from sqlalchemy import select

    from medledger.integration.errors import field_invalid
    from medledger.parties.errors import Code
    from medledger.parties.models import Party

    party = session.scalar(select(Party.id).where(Party.tenant_id == tenant_id, Party.gln == gln))
    if party is None:
        raise field_invalid("party", Code.PARTY_UNKNOWN, "Party {id} does not exist.", id=gln)
    return int(party)


@edi_app.command("settings")
def settings_command(
    party_gln: Annotated[str, typer.Argument(help="The partner's GLN.")],
    syntax: Annotated[str, typer.Option(help="edifact or x12.")],
    our_id: Annotated[str, typer.Option(help="Our interchange id, qualifier:id.")],
    partner_id: Annotated[str, typer.Option(help="The partner's interchange id, qualifier:id.")],
    folder: Annotated[str, typer.Option(help="Outbound folder inside the EDI root.")] = "",
    outbox: Annotated[bool, typer.Option(help="Also deliver through the outbox.")] = True,
    auto_despatch: Annotated[
        bool, typer.Option(help="Send a despatch advice at every shipping event to the partner.")
    ] = True,
    separators: Annotated[
        str, typer.Option(help="X12 element, component and segment separators.")
    ] = "*>~",
    tenant: TenantOption = None,
) -> None:
    """Set a partner's EDI settings."""
    from medledger.integration.edi import service
    from medledger.integration.edi.schemas import EdiSettingsIn, EdiSettingsOut

    def action(session: Any, principal: Any) -> dict[str, Any]:
        data = EdiSettingsIn(
            syntax=syntax,
            our_id=our_id,
            partner_id=partner_id,
            element_separator=separators[0:1] or "*",
            component_separator=separators[1:2] or ">",
            segment_terminator=separators[2:3] or "~",
            outbound_folder=folder,
            deliver_via_outbox=outbox,
            despatch_advice_auto=auto_despatch,
        )
        party_id = _party_id(session, principal.tenant_id, party_gln)
        setting = service.put_settings(session, principal, party_id, data)
        return EdiSettingsOut.model_validate(setting).model_dump(mode="json")

    typer.echo(json.dumps(_run(tenant, action), indent=2))


@edi_app.command("despatch-advice")
def despatch_advice_command(
    shipment_id: Annotated[int, typer.Argument(help="A shipment of the shipping event.")],
    tenant: TenantOption = None,
) -> None:
    """Generate and send the DESADV / 856 of a shipment's shipping event (once)."""
    from medledger.core.config import get_settings
    from medledger.integration.edi import service

    root = get_settings().edi_outbound_root

    def action(session: Any, principal: Any) -> dict[str, Any]:
        advice, created = service.send_despatch_advice(
            session, principal, shipment_id, outbound_root=root
        )
        return {
            "id": advice.id,
            "number": advice.number,
            "standard": advice.standard,
            "ssccs": advice.ssccs,
            "written_path": advice.written_path,
            "outbox_message_id": advice.outbox_message_id,
            "created": created,
        }

    typer.echo(json.dumps(_run(tenant, action), indent=2))


@edi_app.command("write-outbound")
def write_outbound_command(tenant: TenantOption = None) -> None:
    """Write the files of despatch advices missing from their outbound folder."""
    from medledger.core.config import get_settings
    from medledger.integration.edi import service

    root = get_settings().edi_outbound_root
    written = _run(tenant, lambda s, p: service.write_missing(s, p.tenant_id, root))
    for path in written:
        typer.echo(path)
    typer.echo(f"{len(written)} file(s) written")


@keys_app.command("rotate")
def rotate_command(
    key_id: Annotated[int, typer.Argument(help="The key to replace.")],
    overlap_hours: Annotated[
        int | None, typer.Option(help="How long the old key keeps working.")
    ] = None,
    expires: Annotated[
        datetime | None, typer.Option(help="When the new key stops working (UTC).")
    ] = None,
    tenant: TenantOption = None,
) -> None:
    """Issue a key's successor; prints the new secret (once)."""
    from datetime import UTC

    from medledger.core.config import get_settings
    from medledger.parties import service

    overlap = overlap_hours
    if overlap is None:
        overlap = get_settings().api_key_rotation_overlap_hours
    expires_at = expires.replace(tzinfo=UTC) if expires and expires.tzinfo is None else expires

    def action(session: Any, principal: Any) -> dict[str, Any]:
        key, secret = service.rotate_api_key(
            session, principal, key_id, overlap_hours=overlap, expires_at=expires_at
        )
        old = service.get_visible(session, service.ApiKey, key_id, principal)
        return {
            "id": key.id,
            "key": secret,
            "old_key_expires_at": old.expires_at.isoformat() if old.expires_at else None,
        }

    typer.echo(json.dumps(_run(tenant, action), indent=2))


@keys_app.command("expiring")
def expiring_command(
    days: Annotated[int | None, typer.Option(help="Within this many days.")] = None,
    tenant: TenantOption = None,
) -> None:
    """Users and API keys that expire soon."""
    from medledger.core.config import get_settings
    from medledger.parties import service

    within = days if days is not None else get_settings().expiry_warning_days

    def action(session: Any, principal: Any) -> list[str]:
        users, keys = service.expiring(session, principal, within_days=within)
        return [f"user {u.username} expires {u.expires_at:%Y-%m-%d %H:%M}" for u in users] + [
            f"api key {k.prefix} ({k.name}) expires {k.expires_at:%Y-%m-%d %H:%M}" for k in keys
        ]

    lines = _run(tenant, action)
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} expiring within {within} days")
