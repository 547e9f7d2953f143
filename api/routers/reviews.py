"""Review decisions: request changes, and approve / reject as Part 11 electronic signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.auth.deps import ApproverDep, StateDep, UserDep
from api.records import accounts, investigations
from api.records.accounts import Principal
from api.records.errors import Forbidden, Unauthenticated
from api.records.models import User
from api.routers.investigations import username_of
from api.schemas.investigations import ChangesRequestIn, ReviewOut, SignatureIn, SignatureOut
from api.state import AppState

router = APIRouter(prefix="/investigations/{investigation_id}", tags=["reviews"])
InvestigationId = Annotated[str, Path(min_length=1, max_length=36)]


@router.get("/reviews", response_model=list[ReviewOut])
def list_reviews(
    investigation_id: InvestigationId, state: StateDep, principal: UserDep
) -> list[ReviewOut]:
    with state.db.read() as session:
        investigations.get_visible(session, principal, investigation_id)
        return [
            ReviewOut.of(r, username_of(session, r.reviewer_id))
            for r in investigations.reviews(session, investigation_id)
        ]


@router.get("/signatures", response_model=list[SignatureOut])
def list_signatures(
    investigation_id: InvestigationId, state: StateDep, principal: UserDep
) -> list[SignatureOut]:
    with state.db.read() as session:
        investigations.get_visible(session, principal, investigation_id)
        return [SignatureOut.of(s) for s in investigations.signatures(session, investigation_id)]


@router.post("/request-changes", status_code=201, response_model=ReviewOut)
def request_changes(
    investigation_id: InvestigationId,
    body: ChangesRequestIn,
    state: StateDep,
    principal: ApproverDep,
) -> ReviewOut:
    with state.db.write() as session:
        review = investigations.request_changes(
            session,
            principal,
            investigation_id,
            version=body.version,
            sha256=body.sha256,
            comments=body.comments,
        )
        return ReviewOut.of(review, principal.username)


def verify_signer(state: AppState, principal: Principal, body: SignatureIn) -> None:
    """Both components re-entered; a wrong password counts toward the lock, committed at once."""
    if body.username != principal.username:
        raise Forbidden("sign with your own user name")
    with state.db.write() as session:
        user = session.get(User, principal.user_id)
        if user is None:
            raise Unauthenticated("account no longer exists")
        ok = accounts.check_password(
            session,
            user,
            body.password,
            max_failed=state.config.max_failed_attempts,
            purpose="signature",
        )
        left = max(0, state.config.max_failed_attempts - user.failed_attempts)
    if not ok:
        suffix = "the account is now locked" if left == 0 else f"{left} attempt(s) left"
        raise Unauthenticated(f"wrong password: signature refused ({suffix})")


@router.post("/approve", status_code=201, response_model=SignatureOut)
def approve(
    investigation_id: InvestigationId, body: SignatureIn, state: StateDep, principal: ApproverDep
) -> SignatureOut:
    verify_signer(state, principal, body)
    with state.db.write() as session:
        signature = investigations.sign(
            session,
            principal,
            investigation_id,
            decision="approve",
            version=body.version,
            sha256=body.sha256,
            comment=body.comment,
        )
        return SignatureOut.of(signature)


@router.post("/reject", status_code=201, response_model=SignatureOut)
def reject(
    investigation_id: InvestigationId, body: SignatureIn, state: StateDep, principal: ApproverDep
) -> SignatureOut:
    verify_signer(state, principal, body)
    with state.db.write() as session:
        signature = investigations.sign(
            session,
            principal,
            investigation_id,
            decision="reject",
            version=body.version,
            sha256=body.sha256,
            comment=body.comment,
        )
        return SignatureOut.of(signature)
