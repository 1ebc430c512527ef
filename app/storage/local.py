"""Storage in a local folder (the default, under instance/)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from app.storage import NotFound, Storage, StorageError, check_key


FOLDER_ATTEMPTS = 5


def _in_folder(folder: Path, action):
    """Create `folder`, then run `action` in it; again when a concurrent delete pruned the empty folder between."""
    for attempt in range(FOLDER_ATTEMPTS):
        last = attempt == FOLDER_ATTEMPTS - 1
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # made by another writer, then pruned, between mkdir's try and its check
            if last:
                raise
            continue
        try:
            return action()
        except FileNotFoundError:
            # Not `folder.is_dir()`: another writer may have made it again meanwhile. A missing source file to move
            # fails every attempt the same way, so it still ends in this error.
            if last:
                raise


class LocalStorage(Storage):
    """Keys are paths below `root`."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        """Write atomically: a reader never sees half a file."""
        path = self._path(key)
        try:
            fd, tmp = _in_folder(path.parent, lambda: tempfile.mkstemp(dir=path.parent, prefix=".tmp-"))
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StorageError(f"cannot write {key}: {exc}") from None

    def get(self, key: str) -> bytes:
        """Read the file under `key`."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc}") from None

    def delete(self, key: str) -> None:
        """Remove the file, then any folders it leaves empty."""
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key}: {exc}") from None
        self._prune(path.parent)

    def exists(self, key: str) -> bool:
        """Whether the file exists."""
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Walk the folder; temporary files of unfinished writes are skipped."""
        if not self.root.is_dir():
            return iter(())
        found = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                 if p.is_file() and not p.name.startswith(".tmp-"))
        return iter(sorted(k for k in found if k.startswith(prefix)))

    def move(self, src: str, dst: str) -> None:
        """A rename on the same file system."""
        if src == dst:
            return
        source, target = self._path(src), self._path(dst)
        try:
            _in_folder(target.parent, lambda: os.replace(source, target))
        except FileNotFoundError:
            if not target.is_file():
                raise NotFound(src) from None
            return  # an earlier attempt already moved it
        except OSError as exc:
            raise StorageError(f"cannot move {src} to {dst}: {exc}") from None
        self._prune(source.parent)

    def _prune(self, folder: Path) -> None:
        # Class folders come and go with relabelling; empty ones would read as classes without images.
        parent = folder
        try:
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        except OSError:
            return  # a concurrent write filled the folder again: keep it
