"""A small OpenAI-compatible chat server on loopback, scripted per test.

Speaks the parts of the API devia uses (GET /v1/models, GET /version, streamed POST
/v1/chat/completions with SSE) and can misbehave on purpose: 5xx answers, a vLLM-style 404
for an unknown model, llama-cpp-python's refusal of `response_format.type == "json_schema"`,
no usage chunk, slow tokens.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubBehaviour:
    served_model: str = "stub-model"
    replies: deque[str] = field(default_factory=deque)
    default_reply: str | None = None  # used once `replies` is empty
    failures_before_success: int = 0
    failure_status: int = 503
    bad_request: bool = False
    refuse_json_schema: bool = False  # like llama-cpp-python's server
    send_usage: bool = True
    token_delay_s: float = 0.0
    version: str | None = "0.33.0"
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    model_list_calls: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _StubServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        behaviour = self.server.behaviour
        if self.path == "/v1/models":
            behaviour.model_list_calls += 1
            entry = {
                "id": behaviour.served_model,
                "object": "model",
                "owned_by": "stub",
                "root": "org/stub-model-7b",
                "max_model_len": 4096,
            }
            self._json(200, {"object": "list", "data": [entry]})
        elif self.path == "/version" and behaviour.version is not None:
            self._json(200, {"version": behaviour.version})
        else:
            self._json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        behaviour = self.server.behaviour
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        behaviour.chat_requests.append(body)
        if behaviour.failures_before_success > 0:
            behaviour.failures_before_success -= 1
            self._json(behaviour.failure_status, {"error": {"message": "engine overloaded"}})
            return
        if behaviour.bad_request:
            self._json(400, {"error": {"message": "prompt is longer than the context"}})
            return
        if body.get("model") != behaviour.served_model:
            message = f"The model `{body.get('model')}` does not exist."
            self._json(404, {"error": {"message": message, "type": "NotFoundError"}})
            return
        response_format = body.get("response_format") or {}
        if behaviour.refuse_json_schema and response_format.get("type") == "json_schema":
            detail = [
                {
                    "loc": ["body", "response_format", "type"],
                    "msg": "Input should be 'text' or 'json_object'",
                    "type": "literal_error",
                }
            ]
            # llama-cpp-python's server wraps this validation error in a 500
            self._json(500, {"error": {"message": json.dumps(detail), "type": "server_error"}})
            return
        self._stream(behaviour, body)

    def _stream(self, behaviour: StubBehaviour, body: dict[str, Any]) -> None:
        reply = behaviour.replies.popleft() if behaviour.replies else behaviour.default_reply
        assert reply is not None, "the stub ran out of scripted replies"
        words = reply.split(" ")
        tokens = [word if i == 0 else " " + word for i, word in enumerate(words)]
        max_tokens = body.get("max_tokens") or len(tokens)
        finish = "length" if len(tokens) > max_tokens else "stop"
        tokens = tokens[:max_tokens]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

        def send(payload: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        base = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": behaviour.served_model,
        }
        try:
            for token in tokens:
                if behaviour.token_delay_s:
                    time.sleep(behaviour.token_delay_s)
                send(
                    {
                        **base,
                        "choices": [
                            {"index": 0, "delta": {"content": token}, "finish_reason": None}
                        ],
                    }
                )
            send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            if behaviour.send_usage:
                usage = {
                    "prompt_tokens": 42,
                    "completion_tokens": len(tokens),
                    "total_tokens": 42 + len(tokens),
                }
                send({**base, "choices": [], "usage": usage})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (cancelled): nothing left to do


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: StubBehaviour) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour


class OpenAIStub:
    def __init__(self, behaviour: StubBehaviour) -> None:
        self.behaviour = behaviour
        self._server = _StubServer(behaviour)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> OpenAIStub:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
