"""Web UI chat: a question is stored, then its answer streams back as server-sent events.

The answer comes from the configured chat responder, scoped to the investigation (its site
and its current draft, as the job worker does). A responder with a `stream()` method streams
its text as it is generated; one with only `answer()` sends the whole reply as one chunk. The
finished answer is stored as the assistant's reply (with its audit entry) and sent once more
as escaped HTML with its citations.

Events: `delta` (a text chunk, JSON-encoded), `done` (the rendered answer), `failure` (a
plain-words error). The browser writes deltas with textContent, so nothing in them runs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Annotated, Protocol, runtime_checkable

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from api.auth.deps import StateDep
from api.jobs.protocols import ChatRequest, ChatTurn
from api.limits import LimitsDep
from api.records import investigations
from api.records.accounts import Principal
from api.records.errors import Forbidden, NotFound
from api.records.models import ChatMessage, Role
from api.state import AppState
from api.web.chat_format import split_answer
from api.web.csrf import require_session_token
from api.web.session import PageUserDep, render, templates

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
InvestigationId = Annotated[str, Path(min_length=1, max_length=36)]
_in_flight: set[int] = set()
_in_flight_lock = threading.Lock()


@runtime_checkable
class StreamingChatResponder(Protocol):
    def stream(self, request: ChatRequest) -> Iterator[str]: ...


@router.post(
    "/investigations/{investigation_id}/chat",
    response_class=HTMLResponse,
    dependencies=[Depends(require_session_token)],
)
def ask(
    request: Request,
    investigation_id: InvestigationId,
    state: StateDep,
    user: PageUserDep,
    limits: LimitsDep,
    question: Annotated[str, Form(min_length=1, max_length=8000)],
) -> Response:
    if user.role is Role.admin:
        raise Forbidden("admins do not take part in investigations")
    limits.check_chat(user.username)
    with state.db.write() as session:
        message = investigations.add_chat_message(session, user, investigation_id, question)
        message_id = message.id
    return render(
        request,
        "_chat_turn.html",
        user,
        question=question,
        author=user.username,
        stream_url=f"/investigations/{investigation_id}/chat/{message_id}/stream",
    )


def _load_request(
    state: AppState, user: Principal, investigation_id: str, message_id: int
) -> tuple[ChatRequest, str | None]:
    """The chat request for one stored question, and its stored reply if it has one."""
    with state.db.read() as session:
        inv = investigations.get_visible(session, user, investigation_id)
        question = session.get(ChatMessage, message_id)
        if question is None or question.investigation_id != inv.id or question.role != "user":
            raise NotFound(f"no question {message_id} in this investigation")
        messages = investigations.chat_messages(session, inv.id)
        reply = next((m.content for m in messages if m.reply_to == message_id), None)
        history = [ChatTurn(m.role, m.content) for m in messages if m.id <= message_id]
        draft = (
            investigations.get_version(session, inv.id, inv.current_version).content
            if inv.current_version
            else None
        )
        return ChatRequest(inv.id, inv.site, draft, history), reply


def _event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@router.get("/investigations/{investigation_id}/chat/{message_id}/stream")
def stream_answer(
    request: Request,
    investigation_id: InvestigationId,
    message_id: Annotated[int, Path(ge=1)],
    state: StateDep,
    user: PageUserDep,
) -> Response:
    chat_request, stored = _load_request(state, user, investigation_id, message_id)
    responder = state.handlers.chat

    def finished(text: str) -> str:
        body, cites = split_answer(text)
        html = templates.get_template("_chat_answer.html").render(body=body, cites=cites)
        return _event("done", html)

    def events() -> Iterator[str]:
        if stored is not None:
            yield finished(stored)
            return
        if responder is None:
            yield _event("failure", "No chat model is configured on this server.")
            return
        with _in_flight_lock:
            if message_id in _in_flight:
                yield _event("failure", "This question is already being answered.")
                return
            _in_flight.add(message_id)
        try:
            parts: list[str] = []
            try:
                if isinstance(responder, StreamingChatResponder):
                    for chunk in responder.stream(chat_request):
                        parts.append(chunk)
                        yield _event("delta", chunk)
                else:
                    parts.append(responder.answer(chat_request))
                    yield _event("delta", parts[-1])
            except Exception as exc:
                log.exception("chat responder failed for message %s", message_id)
                yield _event(
                    "failure", f"The assistant could not answer ({type(exc).__name__}: {exc})."
                )
                return
            text = "".join(parts)
            with state.db.write() as session:
                investigations.add_assistant_reply(session, message_id, text)
            yield finished(text)
        finally:
            with _in_flight_lock:
                _in_flight.discard(message_id)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
