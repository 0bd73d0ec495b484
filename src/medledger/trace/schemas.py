"""Pydantic shapes of the EPCIS REST binding answers (capture jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medledger.trace.models import CaptureJob


class CaptureErrorOut(BaseModel):
    """One problem of a capture job: an RFC 7807 problem (``type``, ``title``, ``status``,
    ``detail``) with the event (index, eventID), pointer and
    stable ``code`` it concerns."""

    model_config = ConfigDict(populate_by_name=True)

    type: str = "epcisException:ValidationException"
    title: str = "Invalid event"
    status: int = 400
    detail: str = ""
    event_index: int | None = Field(alias="eventIndex")
    event_id: str | None = Field(alias="eventID")
    pointer: str
    code: str
    message: str


class CaptureJobOut(BaseModel):
    """A capture job as the EPCIS 2.0 REST binding describes it, plus MedLedger's counts."""

    model_config = ConfigDict(populate_by_name=True)

    capture_id: str = Field(alias="captureID")
    state: str
    running: bool
    success: bool
    capture_error_behaviour: str = Field(alias="captureErrorBehaviour")
    created_at: datetime = Field(alias="createdAt")
    finished_at: datetime | None = Field(alias="finishedAt")
    event_count: int = Field(alias="eventCount")
    captured_count: int = Field(alias="capturedCount")
    errors: list[CaptureErrorOut]

    @classmethod
    def of(cls, job: CaptureJob) -> CaptureJobOut:
        errors: list[dict[str, Any]] = list(job.errors or [])
        return cls(
            capture_id=str(job.id),
            state=job.state,
            running=job.state in ("accepted", "running"),
            success=job.state == "succeeded",
            capture_error_behaviour=job.error_behaviour,
            created_at=job.created_at,
            finished_at=job.finished_at,
            event_count=job.event_count,
            captured_count=job.captured_count,
            errors=[
                CaptureErrorOut.model_validate(
                    {
                        **error,
                        "detail": error.get("message", ""),
                        **(
                            {"type": "epcisException:ResourceAlreadyExistsException", "status": 409}
                            if error.get("code") == "epcis.duplicate_event_id"
                            else {}
                        ),
                    }
                )
                for error in errors
            ],
        )
