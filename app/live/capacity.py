"""How many live sockets one web process holds open: each holds a thread, so they are bounded in all, per person
and for visitors, and the rest of the threads always serve pages."""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """The limits, from LIVE_MAX_SOCKETS, LIVE_MAX_ANONYMOUS_SOCKETS and LIVE_MAX_SOCKETS_PER_CLIENT."""

    total: int
    anonymous: int
    per_client: int

    @classmethod
    def from_config(cls, config) -> Bounds:
        """The bounds an app is configured with."""
        return cls(config["LIVE_MAX_SOCKETS"], config["LIVE_MAX_ANONYMOUS_SOCKETS"],
                   config["LIVE_MAX_SOCKETS_PER_CLIENT"])


class Slots:
    """Open sockets of this process, counted per client ("user:<id>" or "address:<ip>")."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    def take(self, client: str, anonymous: bool, bounds: Bounds) -> str | None:
        """Count a new socket of `client`; the reason (safe to show) when it is over a bound and not counted."""
        with self._lock:
            total = sum(self._open.values())
            visitors = sum(n for key, n in self._open.items() if key.startswith("address:"))
            if total >= bounds.total or (anonymous and visitors >= bounds.anonymous):
                return "Live mode is full right now; try again in a minute." + (
                    " Signed-in users have places kept for them." if anonymous else "")
            if self._open[client] >= bounds.per_client:
                return (f"You already have {bounds.per_client} live connections open; close one (another tab) "
                        f"first.")
            self._open[client] += 1
            return None

    def give_back(self, client: str) -> None:
        """The socket of `client` has closed."""
        with self._lock:
            self._open[client] -= 1
            if self._open[client] <= 0:
                del self._open[client]

    def count(self) -> int:
        """How many sockets are open."""
        with self._lock:
            return sum(self._open.values())
