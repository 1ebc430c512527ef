"""Storage in an S3 bucket (or any S3-compatible endpoint) via boto3."""
from __future__ import annotations

from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.storage import NotFound, Storage, StorageError, check_key, content_type

MISSING = {"404", "NoSuchKey", "NotFound"}


def client_config(connect_s: float = 3, read_s: float = 10, attempts: int = 2) -> Config:
    """Fail fast when the endpoint hangs or is down: every call ends within attempts × (connect_s + read_s) plus
    back-off, well inside the web server's timeout, so the request can answer (and queue the move) itself."""
    return Config(connect_timeout=connect_s, read_timeout=read_s,
                  retries={"total_max_attempts": attempts, "mode": "standard"})


class S3Storage(Storage):
    """Keys live under `prefix` in `bucket`; credentials and region come from boto3's usual sources."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, config: Config | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, config=config or client_config())

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _call(self, what: str, key: str, method, **kwargs):
        try:
            return method(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                raise NotFound(key) from None
            raise StorageError(f"S3 {what} {key}: {code or exc}") from None
        except BotoCoreError as exc:
            raise StorageError(f"S3 {what} {key}: {exc}") from None

    def put(self, key: str, data: bytes) -> None:
        """Upload one object."""
        self._call("put", key, self.client.put_object, Key=self._key(key), Body=data,
                   ContentType=content_type(key))

    def get(self, key: str) -> bytes:
        """Download one object."""
        body = self._call("get", key, self.client.get_object, Key=self._key(key))["Body"]
        try:
            return body.read()
        except BotoCoreError as exc:
            raise StorageError(f"S3 get {key}: {exc}") from None

    def delete(self, key: str) -> None:
        """Delete one object (S3 does not complain about missing keys)."""
        self._call("delete", key, self.client.delete_object, Key=self._key(key))

    def exists(self, key: str) -> bool:
        """A HEAD request."""
        try:
            self._call("head", key, self.client.head_object, Key=self._key(key))
        except NotFound:
            return False
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """List page by page; S3 returns keys sorted."""
        token = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call("list", prefix, self.client.list_objects_v2, Prefix=self.prefix + prefix, **extra)
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix):]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def copy(self, src: str, dst: str) -> None:
        """A server-side copy: the bytes never pass through the web process."""
        self._call("copy", src, self.client.copy_object, Key=self._key(dst),
                   CopySource={"Bucket": self.bucket, "Key": self._key(src)})
