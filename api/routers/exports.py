"""Export of an approved report as PDF with its signature manifestation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.auth.deps import StateDep, UserDep
from api.records import investigations
from api.records.errors import Conflict
from api.records.models import InvestigationStatus
from api.reports.pdf import ReportDocument, SignatureLine, render_report_pdf

router = APIRouter(prefix="/investigations", tags=["exports"])


@router.get(
    "/{investigation_id}/export.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def export_pdf(
    investigation_id: Annotated[str, Path(min_length=1, max_length=36)],
    state: StateDep,
    principal: UserDep,
) -> Response:
    with state.db.read() as session:
        investigation = investigations.get_visible(session, principal, investigation_id)
        if investigation.status != InvestigationStatus.approved.value:
            raise Conflict(
                f"only approved reports are exported (this one is {investigation.status})"
            )
        signed = [
            s
            for s in investigations.signatures(session, investigation.id)
            if s.version == investigation.current_version
        ]
        version = investigations.get_version(
            session, investigation.id, investigation.current_version
        )
        report = ReportDocument(
            investigation_id=investigation.id,
            title=investigation.title,
            site=investigation.site,
            status=investigation.status,
            version=version.version,
            sha256=version.sha256,
            content=version.content,
            signatures=[
                SignatureLine(s.printed_name, s.signed_at, s.meaning, s.statement) for s in signed
            ],
        )
    pdf = render_report_pdf(report)
    filename = f"devia-{investigation_id}-v{report.version}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
