import socket

import pytest

from tests.network_guard import NetworkAccessBlocked


def test_non_loopback_connection_fails() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(NetworkAccessBlocked),
    ):
        sock.connect(("198.51.100.7", 443))  # TEST-NET-2: never reached, the guard fires first


def test_loopback_connection_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
