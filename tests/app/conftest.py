"""Fixtures for the web app: images made on the fly, users, signed-in clients and API tokens."""
from __future__ import annotations

import base64
import io
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image

from app.extensions import db
from app.models import Detection, FeedbackEvent, Prediction
from app.services import accounts
from net_support import free_port
from number_support import render

PASSWORD = "correct horse"


def _encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="session")
def encode():
    """encode(image, fmt="PNG", **options): the bytes of a PIL image saved in `fmt`."""
    return _encode


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    """A real portrait photo with one face (Grace Hopper, shipped with matplotlib)."""
    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()


@pytest.fixture(scope="session")
def three_faces_jpeg(face_jpeg) -> bytes:
    """The portrait three times side by side: three faces, left to right."""
    face = Image.open(io.BytesIO(face_jpeg)).convert("RGB")
    canvas = Image.new("RGB", (face.width * 3, face.height), "white")
    for i in range(3):
        canvas.paste(face, (i * face.width, 0))
    return _encode(canvas, "JPEG", quality=90)


@pytest.fixture(scope="session")
def plain_png() -> bytes:
    """A 36×24 picture with no face in it: small enough to be one digit's crop, so digits reads it as one digit."""
    image = Image.new("RGB", (36, 24), (200, 210, 220))
    image.paste((30, 30, 30), (15, 6, 21, 18))
    return _encode(image)


@pytest.fixture(scope="session")
def number_png() -> bytes:
    """A door number "126" drawn 40 px high (149×96): the number reader finds its three digits."""
    return _encode(render("126", 40, np.random.default_rng(0))[0])


@pytest.fixture(scope="session")
def faceless_png() -> bytes:
    """A 400×300 grey picture: too big to be a face crop, and no face in it."""
    return _encode(Image.new("RGB", (400, 300), (128, 128, 128)))


def make_user(email: str = "ada@example.com", admin: bool = False):
    """A committed user with the shared test password."""
    return accounts.create_user(email, PASSWORD, is_admin=admin)


@pytest.fixture
def user(app):
    """A user called ada."""
    with app.app_context():
        return make_user().id


@pytest.fixture
def login(client):
    """Sign `client` in as an email (created on first use) and return the client."""

    def sign_in(email: str = "ada@example.com"):
        with client.application.app_context():
            if accounts.find_user(email) is None:
                make_user(email)
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.data
        return client

    return sign_in


@pytest.fixture
def token_for(client):
    """A bearer header for an email (user created on first use), via POST /api/v1/tokens."""

    def issue(email: str = "ada@example.com") -> dict:
        with client.application.app_context():
            if accounts.find_user(email) is None:
                make_user(email)
        basic = base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()
        response = client.post("/api/v1/tokens", headers={"Authorization": f"Basic {basic}"})
        assert response.status_code == 201, response.data
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return issue


@pytest.fixture
def upload(client):
    """POST a photo to the page (or, with `api` headers, the API) and return the response."""

    def send(data: bytes, recognizers=("emotion7",), api: dict | None = None, **fields):
        body = {"image": (io.BytesIO(data), "photo.jpg"), **fields}
        if api is not None:
            return client.post("/api/v1/predictions", headers=api,
                               data={**body, "recognizers": ",".join(recognizers)})
        return client.post("/classify", data={**body, "recognizers": list(recognizers)})

    return send


@pytest.fixture
def stored(app_settings):
    """Every key of user data in the local storage folder, sorted (registered models are not user data); the
    random names of uploads' photos and unreviewed crops read `*`."""

    def keys() -> list[str]:
        root = Path(app_settings["STORAGE_DIR"])
        found = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()] if root.exists() else []
        user_data = [k for k in found if not k.startswith(("models/", "manifests/"))]
        return sorted(re.sub(r"/[0-9a-f]{32}\.", "/*.", k) for k in user_data)

    return keys


@pytest.fixture
def counts(app):
    """Row counts of predictions, detections and feedback events."""

    def count() -> tuple[int, int, int]:
        with app.app_context():
            return tuple(db.session.query(model).count() for model in (Prediction, Detection, FeedbackEvent))

    return count


# S3 on moto's standalone server (real HTTP), shared by the storage and base-data tests.

@pytest.fixture(scope="session")
def moto_url():
    """A moto S3 server in a subprocess, for the whole session."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("moto server did not start")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def bucket(moto_url, aws_env):
    """A fresh bucket on the moto server."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_url).create_bucket(Bucket=name)
    return name
