"""The browser tests' own server must not leak what a browser's abrupt disconnects leave behind."""
from __future__ import annotations

import gc
import socket
import struct
import sys
import time
from urllib.parse import urlsplit


def test_a_browser_resetting_the_connection_after_its_answer_leaves_no_file_open(server, monkeypatch):
    # A browser that navigates away resets connections it no longer needs. When the reset lands after the
    # answer was written, Werkzeug's clean-up read raises before it closes the response, and the static file
    # behind it was only closed by garbage collection: a ResourceWarning that failed an unrelated test in CI.
    problems: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: problems.append(repr(unraisable.exc_value)))
    address = urlsplit(server)
    for _ in range(10):
        connection = socket.create_connection((address.hostname, address.port))
        connection.sendall(b"GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n")
        time.sleep(0.005)  # the answer is written before the reset arrives
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
        connection.close()
    time.sleep(0.2)
    gc.collect()
    assert problems == []
