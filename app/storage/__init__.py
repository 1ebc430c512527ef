"""Object storage for photos and labelled crops: one small interface, a local-folder and an S3 backend."""
from __future__ import annotations

import mimetypes
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator

from flask import Flask, Response, abort, current_app

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_./-]*$")


class StorageError(RuntimeError):
    """The storage backend could not do what was asked (unreachable, refused, misconfigured)."""


class NotFound(StorageError, KeyError):
    """No object is stored under that key."""


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root ("..", absolute paths, odd characters)."""
    if not KEY_PATTERN.match(key) or ".." in key.split("/") or "//" in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


def content_type(key: str) -> str:
    """The media type a key's suffix names (`.png`, `.jpg`, `.json`...)."""
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class Storage(ABC):
    """Bytes stored under slash-separated keys such as `crops/emotion7/happy/12.png`."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there (its media type follows the key's suffix)."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes under `key`; NotFound when there are none."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key`; a missing key is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether something is stored under `key`."""

    @abstractmethod
    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key that starts with `prefix`, sorted."""

    def copy(self, src: str, dst: str) -> None:
        """Store a copy of `src` under `dst`."""
        self.put(dst, self.get(src))

    def move(self, src: str, dst: str) -> None:
        """Move `src` to `dst`; safe to repeat after a crash between the copy and the delete."""
        if src == dst:
            return
        try:
            self.copy(src, dst)
        except NotFound:
            if self.exists(dst):
                return  # an earlier attempt already moved it
            raise
        self.delete(src)


def from_config(config) -> Storage:
    """S3 when S3_BUCKET is set, else a local folder at STORAGE_DIR."""
    if config.get("S3_BUCKET"):
        from app.storage.s3 import S3Storage, client_config  # noqa: PLC0415 - boto3 is slow to import

        timeouts = client_config(config.get("S3_CONNECT_TIMEOUT_S", 3), config.get("S3_READ_TIMEOUT_S", 10),
                                 config.get("S3_ATTEMPTS", 2))
        return S3Storage(config["S3_BUCKET"], config.get("S3_PREFIX", ""), config.get("S3_ENDPOINT_URL"), timeouts)
    from app.storage.local import LocalStorage  # noqa: PLC0415

    return LocalStorage(config["STORAGE_DIR"])


def init_app(app: Flask) -> None:
    """Attach the configured backend to the app."""
    app.extensions["storage"] = from_config(app.config)


def current() -> Storage:
    """The storage backend of the current app."""
    return current_app.extensions["storage"]


def send(key: str | None, max_age: int = 3600) -> Response:
    """A stored image as a private, cacheable response: 404 when it is not there, 503 when storage is down."""
    if not key:
        abort(404)
    try:
        data = current().get(key)
    except NotFound:
        abort(404)
    except StorageError:
        abort(503, "Storage is unavailable right now.")
    response = Response(data, mimetype=content_type(key))
    response.headers["Cache-Control"] = f"private, max-age={max_age}"
    return response
