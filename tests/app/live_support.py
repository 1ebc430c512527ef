"""Helpers for live-mode tests: the app served on a free port, a WebSocket client, generated camera frames."""
from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image
from simple_websocket import Client

from number_support import render
from scripts.live_video import SIZE, frames, jpeg

TIMEOUT_S = 30  # a reply waits for at most one classification on a busy two-core machine


@pytest.fixture(scope="session")
def five_faces() -> bytes:
    """One 640×480 JPEG frame with five faces, as the browser sends it."""
    return jpeg(next(frames(1)))


@pytest.fixture(scope="session")
def number_frame() -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """One 640×480 JPEG frame of a door with the number "126" on it, and the box of every digit in the frame."""
    plate, boxes = render("126", 60, np.random.default_rng(1))
    frame, at = Image.new("RGB", SIZE, (96, 104, 112)), (200, 160)
    frame.paste(plate, at)
    return jpeg(frame, quality=90), [(x + at[0], y + at[1], w, h) for x, y, w, h in boxes]


@pytest.fixture(scope="session")
def blank_frame() -> bytes:
    """One 640×480 JPEG frame of a plain wall: no face, no number."""
    return jpeg(Image.new("RGB", SIZE, (96, 104, 112)))


@pytest.fixture
def served(live_server):
    """The ws:// base URL of `app` on a real server (sockets need one)."""
    return "ws" + live_server.removeprefix("http")


class _Client(Client):
    """simple_websocket's client without a race of its handshake: it parses only the server's answer from the bytes
    it read, so a reply and a close that came in the same read (a server that refuses at once) waited in the parser
    for more bytes, none came, and the client saw a bare disconnect instead of the reply."""

    def handshake(self):
        super().handshake()
        self._handle_events()  # whatever came with the answer: replies, perhaps the close
        self.connected = True  # the reader thread starts all the same and ends when the server has gone


class Socket:
    """A WebSocket client that speaks live mode's JSON replies."""

    def __init__(self, client: Client):
        self.client = client

    def reply(self) -> dict:
        """The next message from the server, decoded; fails the test when none comes in time."""
        text = self.client.receive(timeout=TIMEOUT_S)
        assert text is not None, "no reply from the live socket"
        return json.loads(text)

    def ask(self, message: bytes | dict) -> dict:
        """Send a frame (bytes) or a command (dict) and return the reply."""
        self.client.send(message if isinstance(message, bytes) else json.dumps(message))
        return self.reply()


@pytest.fixture
def live_socket(served, client):
    """live_socket(query="", signed_in=False, origin=None): an open socket whose `ready` message was read."""

    @contextmanager
    def open_(query: str = "", signed_in: bool = False, origin: str | None = None, ready: bool = True):
        headers = {}
        if signed_in:
            headers["Cookie"] = f"session={client.get_cookie('session').value}"
        if origin:
            headers["Origin"] = origin
        ws = _Client.connect(f"{served}/live/ws{query}", headers=headers)
        socket = Socket(ws)
        try:
            if ready:
                assert socket.reply()["type"] == "ready"
            yield socket
        finally:
            if ws.connected:
                ws.close()

    return open_
