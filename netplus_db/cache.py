"""The spec's application cache, in process: the catalog, achievement definitions, the question
bank as learners see it (no answer key), and user settings.

Each `Database` / `AsyncDatabase` keeps one `Cache` (unless `cache=False` or NETPLUS_CACHE=0).
Entries live for their region's TTL (`CacheSettings`) and are dropped at once when the content
changes, in any process: migration 0020's triggers NOTIFY the channel `netplus_cache` with the
table (and, for settings, the users) that changed, and the Database's listener connection
(cache_listener.py) hands each payload to `Cache.apply`.

The cache serves nothing while its listener is not listening: before the first connection,
and from the moment that connection is lost until it is back (then everything is dropped,
since notifications sent meanwhile were missed). A fill that read the database before an
invalidation of its region is not stored (`ticket`/`put`: each invalidation moves the region's
epoch). Payloads are only ever reasons to drop entries, so a forged notification (any role may
NOTIFY) costs a few misses, nothing more.

User settings are cached per learner for `settings_ttl` (60 s: a session's worth of page
views), dropped by the trigger's notification and, in the process, after every transaction
that learner commits through the library (read-your-writes without waiting for the
notification).

Values are shared between callers: rows are values the library never changes (rows.py); lists
are copied on the way out.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

CHANNEL = "netplus_cache"
CATALOG = "catalog"
ACHIEVEMENTS = "achievements"
QUESTIONS = "questions"
SETTINGS = "settings"
REGIONS = (CATALOG, ACHIEVEMENTS, QUESTIONS, SETTINGS)
# The table named by a notification -> the region it empties (or, with ids, thins).
TABLE_REGIONS = {
    "learning_components": CATALOG,
    "achievements": ACHIEVEMENTS,
    "question_bank": QUESTIONS,
    "user_settings": SETTINGS,
}


@dataclass(frozen=True)
class CacheSettings:
    """How long each region's entries live (seconds), how many a region keeps, and how the
    listener watches its connection. `clock` is injectable (tests). `listen_dsn`: where the
    listener connects when it must not go through the Database's own target (a PgBouncer in
    transaction pooling cannot keep a LISTEN: give the server, or a session-pooling port)."""

    catalog_ttl: float = 300.0
    achievements_ttl: float = 3600.0
    questions_ttl: float = 600.0
    settings_ttl: float = 60.0
    max_entries: int = 10_000
    heartbeat: float = 5.0
    retry_after: float = 1.0
    listen_dsn: str | None = None
    clock: Callable[[], float] = time.monotonic

    def ttl(self, region: str) -> float:
        """The TTL of a region."""
        return float(getattr(self, f"{region}_ttl"))

    def with_listen_dsn(self, dsn: str | None) -> CacheSettings:
        """The same settings with another listener connection string."""
        return replace(self, listen_dsn=dsn)


@dataclass
class CacheStats:
    """What the cache did: hits and misses per region, reads that bypassed it while the
    listener was down, fills stored and fills discarded as possibly stale, notifications
    received, entries dropped by them, and the listener's connects and losses."""

    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REGIONS, 0))
    misses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REGIONS, 0))
    bypassed: int = 0
    stored: int = 0
    discarded: int = 0
    notifications: int = 0
    dropped: int = 0
    connects: int = 0
    losses: int = 0
    live: bool = False
    reason: str = "the listener has not connected yet"

    def snapshot(self) -> dict[str, Any]:
        """The counters as a plain dict (JSON-ready)."""
        return {
            "hits": dict(self.hits),
            "misses": dict(self.misses),
            "bypassed": self.bypassed,
            "stored": self.stored,
            "discarded": self.discarded,
            "notifications": self.notifications,
            "dropped": self.dropped,
            "connects": self.connects,
            "losses": self.losses,
            "live": self.live,
            "reason": self.reason,
        }


MISS = object()


class Cache:
    """Regions of entries with TTLs, epochs for fills, and the listener's on/off switch."""

    def __init__(self, settings: CacheSettings | None = None) -> None:
        self.settings = settings or CacheSettings()
        self._entries: dict[str, OrderedDict[Hashable, tuple[float, Any]]] = {
            region: OrderedDict() for region in REGIONS
        }
        self._epochs = dict.fromkeys(REGIONS, 0)
        self._lock = threading.Lock()
        self._stats = CacheStats()
        # The primary's WAL position after the last change notified: a replica serving a fill
        # must have replayed past it (routing.py waits for that, or reads the primary).
        self.fill_position = 0

    @property
    def live(self) -> bool:
        """Whether the listener is listening (only then is anything served or stored)."""
        return self._stats.live

    def stats(self) -> CacheStats:
        """A copy of the counters."""
        with self._lock:
            s = self._stats
            return replace(s, hits=dict(s.hits), misses=dict(s.misses))

    def get(self, region: str, key: Hashable) -> Any:
        """The live entry, or MISS (counted)."""
        with self._lock:
            if not self._stats.live:
                self._stats.bypassed += 1
                return MISS
            entries = self._entries[region]
            found = entries.get(key)
            if found is not None and found[0] > self.settings.clock():
                entries.move_to_end(key)
                self._stats.hits[region] += 1
                return found[1]
            if found is not None:
                del entries[key]  # expired
            self._stats.misses[region] += 1
            return MISS

    def ticket(self, region: str) -> int | None:
        """Taken before a fill reads the database; None when nothing may be stored."""
        with self._lock:
            return self._epochs[region] if self._stats.live else None

    def put(self, region: str, key: Hashable, value: Any, ticket: int | None) -> None:
        """Store a fill unless its region was invalidated since `ticket` was taken."""
        with self._lock:
            if ticket is None or not self._stats.live or ticket != self._epochs[region]:
                self._stats.discarded += 1
                return
            entries = self._entries[region]
            entries[key] = (self.settings.clock() + self.settings.ttl(region), value)
            entries.move_to_end(key)
            while len(entries) > self.settings.max_entries:
                entries.popitem(last=False)
            self._stats.stored += 1

    def invalidate(self, region: str, keys: Iterable[Hashable] | None = None) -> None:
        """Drop a region's entries (all, or those keys) and refuse fills begun before."""
        with self._lock:
            self._drop(region, keys)

    def _drop(self, region: str, keys: Iterable[Hashable] | None) -> None:
        entries = self._entries[region]
        self._epochs[region] += 1
        if keys is None:
            self._stats.dropped += len(entries)
            entries.clear()
            return
        for key in keys:
            if entries.pop(key, None) is not None:
                self._stats.dropped += 1

    def clear(self) -> None:
        """Drop everything (fills in flight are not stored)."""
        with self._lock:
            for region in REGIONS:
                self._drop(region, None)

    def apply(self, payload: str) -> None:
        """Act on one notification: `table` or `table:id,id,...`. Anything unreadable drops
        every region (a payload can only ever cause misses)."""
        table, _, ids = payload.partition(":")
        region = TABLE_REGIONS.get(table)
        with self._lock:
            self._stats.notifications += 1
            if region is None:
                for each in REGIONS:
                    self._drop(each, None)
                return
            keys = _uuids(ids) if ids and region == SETTINGS else None
            self._drop(region, keys)

    def went_live(self) -> None:
        """The listener is listening (again): start from nothing, serve from now on."""
        with self._lock:
            for region in REGIONS:
                self._drop(region, None)
            self._stats.live = True
            self._stats.connects += 1
            self._stats.reason = ""

    def went_down(self, reason: str) -> None:
        """The listener lost (or could not make) its connection: serve nothing, keep nothing."""
        with self._lock:
            for region in REGIONS:
                self._drop(region, None)
            if self._stats.live:
                self._stats.losses += 1
            self._stats.live = False
            self._stats.reason = reason

    def note_position(self, position: int) -> None:
        """The primary's WAL position at a notification (fills must see past it)."""
        with self._lock:
            self.fill_position = max(self.fill_position, position)


def _uuids(text: str) -> list[Hashable] | None:
    """The ids of a settings payload; None (the whole region) if any is not a UUID."""
    try:
        return [uuid.UUID(part) for part in text.split(",")]
    except ValueError:
        return None
