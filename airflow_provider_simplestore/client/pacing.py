"""How fast a connection may go: a shared pause after a 429, a client-side rate cap, and
adaptive concurrency for `max_workers="auto"`. One home for both hooks.

`Pacer` is process-wide, one per account (API base URL, client id): every hook, thread and
asyncio task of that account asks it for a turn before each request and reports each answer.
The account, not the connection, is the unit because the server limits a client id: two
connections with the same URL and client id share one pause, one learned rate and one cap;
connections with another client id (or another API) have a pacer of their own.

A 429 with Retry-After pauses them all; a later, shorter Retry-After never shortens a pause
already held. 429s also teach it the server's rate: while they keep coming the server's bucket
is empty, so what it admits between the first 429 of an episode and the latest is its rate; the
pacer then goes a little under that and probes upward slowly (so a lesson fades: after a minute
without a 429 it no longer binds). A pause is capped by the hook at the connection's `max_retry_wait`.

`max_requests_per_second` caps it, whatever it learns. Each connection of the account registers
its own cap (its latest reading; none withdraws it) and the account goes at the lowest cap any
of its connections has registered in this process: a connection without the extra, or with a
higher one, cannot lift the cap another connection of the account set.

`AdaptiveLimit` is one listing's concurrency: it grows while throughput rises and no 429
arrives, and shrinks multiplicatively on a 429 or on latency that rises without throughput.

Locks are `threading.Lock`s held for a few arithmetic operations, never across a wait, so the
same object serves threads and event loops at once; only the waiting differs (`time.sleep` and
a `Condition` for threads, `asyncio.sleep` and an `Event` for tasks). No HTTP library here.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

T = TypeVar("T")
Workers = int | Literal["auto"]
AUTO: Literal["auto"] = "auto"
AUTO_CEILING = 16  # default most requests in flight for max_workers="auto"
AUTO_START = 2  # first concurrency of an "auto" listing (then doubled while throughput rises)
DEFAULT_PAUSE = 1.0  # seconds to pause on a 429 without a usable Retry-After
RATE_WINDOW = 1.0  # seconds of answers kept; also: 429s further apart are separate episodes
LEARN_MARGIN = 0.97  # pace a little under what the server admitted
FIRST_CUT = 0.95  # the first 429 of an episode: slow down a little before there is a measure
UNKNOWN_CUT = 0.5  # ... or by half when nothing was learned yet (what went through had a burst in it)
MIN_MEASURE = 0.1  # seconds of an episode before its admitted rate is trusted
PROBE_PER_SECOND = 0.02  # a measured rate grows 2 % a second until the next 429
PROBE_UNMEASURED = 0.25  # a guessed one (a cut without a measure yet) 25 % a second

# Seconds this context (thread or task) spent waiting for its turn: kept out of latency samples.
_waited: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("simplestore_paced", default=None)


def check_workers(value: object, *, name: str = "max_workers") -> Workers:
    """A positive integer or "auto"; anything else is a ValueError naming the value."""
    if value == AUTO:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be a positive integer or "auto", got {value!r}')
    return value


def check_ceiling(value: object, *, name: str = "auto_max_workers") -> int:
    """A positive integer (the most requests an "auto" listing may keep in flight)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class Pacer:
    """Turns for one account's requests; see the module docstring. Use `pacer_for`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.max_rate: float | None = None  # the lowest of _caps (read without the lock: one attribute)
        self._caps: dict[str, float] = {}  # connection id -> its max_requests_per_second
        self.rate_limited = 0  # 429s seen: AdaptiveLimits compare it to notice one
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._next_slot = 0.0
        self._learned: float | None = None
        self._learned_at = 0.0
        self._measured = False  # whether _learned came from an episode's measure (else a guess)
        self._episode: tuple[float, int] | None = None  # (first 429, answers counted so far then)
        self._last_429 = float("-inf")
        self._answered = 0  # non-429 answers ever
        self._answers: deque[float] = deque()  # times of the last RATE_WINDOW's non-429 answers

    def set_cap(self, conn_id: str, cap: float | None) -> None:
        """Register a connection's max_requests_per_second (None: it sets none); the lowest one binds."""
        with self._lock:
            if cap is None:
                self._caps.pop(conn_id, None)
            else:
                self._caps[conn_id] = cap
            self.max_rate = min(self._caps.values(), default=None)

    def rate(self, now: float | None = None) -> float | None:
        """Requests per second allowed now: the cap, or the learned rate (probed upward), if lower."""
        now = self.clock() if now is None else now
        learned = None
        if self._learned is not None:
            probe = PROBE_PER_SECOND if self._measured else PROBE_UNMEASURED
            learned = self._learned * (1 + probe * (now - self._learned_at))
        rates = [r for r in (self.max_rate, learned) if r is not None]
        return min(rates) if rates else None

    def _reserve(self) -> float:
        """Claim the next slot; seconds until it starts."""
        with self._lock:
            now = self.clock()
            start = max(now, self._paused_until)
            rate = self.rate(now)
            if rate is not None:
                start = max(start, self._next_slot)
                self._next_slot = start + 1 / rate
            return start - now

    def _pause_left(self) -> float:
        return self._paused_until - self.clock()

    def _record_wait(self, seconds: float) -> None:
        waited = _waited.get()
        if waited is not None:
            waited.append(seconds)

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Block until this request may go (its rate slot, then any pause set meanwhile)."""
        started = self.clock()
        delay = self._reserve()
        while delay > 0:
            sleep(delay)
            delay = self._pause_left()
        self._record_wait(self.clock() - started)

    async def await_turn(self) -> None:
        """`wait` for asyncio tasks (real asyncio.sleep: the retry sleep hook is for retries)."""
        started = self.clock()
        delay = self._reserve()
        while delay > 0:
            await asyncio.sleep(delay)
            delay = self._pause_left()
        self._record_wait(self.clock() - started)

    def observe(self, status: int, retry_after: float | None) -> None:
        """Report one answer. A 429 pauses every request of this account and teaches a rate."""
        with self._lock:
            now = self.clock()
            while self._answers and self._answers[0] < now - RATE_WINDOW:
                self._answers.popleft()
            if status != 429:
                self._answers.append(now)
                self._answered += 1
                return
            self.rate_limited += 1
            pause = DEFAULT_PAUSE if retry_after is None else retry_after
            self._paused_until = max(self._paused_until, now + pause)
            self._learn(now)

    def _learn(self, now: float) -> None:
        """A 429 at `now` (lock held): start an episode with a small cut, or measure the server."""
        if self._episode is None or now - self._last_429 > RATE_WINDOW:
            self._episode = (now, self._answered)
            current, cut = self.rate(now), FIRST_CUT
            if current is None:  # nothing learned yet: what went through in the last second
                span = min(RATE_WINDOW, now - self._answers[0]) if self._answers else RATE_WINDOW
                current, cut = len(self._answers) / max(span, MIN_MEASURE), UNKNOWN_CUT
            self._learned = max(1.0, current * cut)
        else:
            started, answered = self._episode
            if now - started >= MIN_MEASURE:
                self._learned = max(1.0, (self._answered - answered) / (now - started) * LEARN_MARGIN)
                self._measured = True
        self._learned_at, self._last_429 = now, now


_PACERS: dict[tuple[str, str], Pacer] = {}
_PACERS_LOCK = threading.Lock()


def pacer_for(base_url: str, client_id: str, conn_id: str, max_rate: float | None) -> Pacer:
    """The process-wide pacer of an account (API URL, client id), with `conn_id`'s cap registered."""
    with _PACERS_LOCK:
        pacer = _PACERS.setdefault((base_url, client_id), Pacer())
    if pacer._caps.get(conn_id) != max_rate:  # read racily: set_cap itself takes the lock
        pacer.set_cap(conn_id, max_rate)
    return pacer


def clear_pacers() -> None:
    """Forget every pacer (tests: a new sandbox may reuse an old port)."""
    with _PACERS_LOCK:
        _PACERS.clear()


class AdaptiveLimit:
    """How many requests one "auto" listing keeps in flight (1..ceiling); see the module docstring.

    A hill climb, judged once an epoch (about three rounds of requests): after a step up, more
    throughput (5 %) earns another step (doubling in slow start, then +1), none steps back down.
    While it holds, latency 50 % above where it settled, without more throughput, multiplies the
    limit by 0.9, and every few quiet epochs it probes one step up again. A 429 anywhere on the
    account multiplies it by 0.75 (once per epoch: a storm of 429s is one signal).
    """

    DECREASE_ON_429 = 0.75
    DECREASE_ON_LATENCY = 0.9
    RISE = 1.05  # throughput must beat the epoch before by 5 % to count as rising
    LATENCY_RISE = 1.5
    PROBE_EVERY = 4  # quiet epochs between probes while holding

    def __init__(self, pacer: Pacer, ceiling: int = AUTO_CEILING, clock: Callable[[], float] = time.monotonic) -> None:
        self.pacer = pacer
        self.ceiling = check_ceiling(ceiling, name="ceiling")
        self.clock = clock
        self.limit = float(min(AUTO_START, self.ceiling))
        self.peak = int(self.limit)  # most requests ever in flight (tests check the ceiling)
        self._in_flight = 0
        self._cond = threading.Condition(threading.Lock())  # threads wait on it
        self._room: asyncio.Event | None = None  # tasks wait on it (one listing: one event loop)
        self._slow_start = True
        self._cut_allowed = True
        self._seen_429 = pacer.rate_limited
        self._epoch_start = clock()
        self._done = 0
        self._latency = 0.0
        self._prev_limit = 0.0  # the limit and throughput of the epoch before
        self._prev_throughput = 0.0
        self._settled_latency: float | None = None  # latency when it began holding
        self._holds = 0

    def _try_enter(self) -> bool:
        with self._cond:
            if self._in_flight >= int(self.limit):
                return False
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            return True

    def _leave(self, latency: float | None) -> None:
        with self._cond:
            self._in_flight -= 1
            if latency is not None:
                self._done += 1
                self._latency += latency
            self._adjust()
            self._cond.notify_all()

    def _adjust(self) -> None:
        now = self.clock()
        if self.pacer.rate_limited != self._seen_429:
            self._seen_429 = self.pacer.rate_limited
            if self._cut_allowed:  # a storm of 429s is one signal: one cut per epoch
                self._step(max(1.0, self.limit * self.DECREASE_ON_429), now, self._prev_throughput)
                self._cut_allowed = False
            return
        if self._done >= max(2, int(self.limit)):
            self._cut_allowed = True
        if self._done < max(6, 3 * int(self.limit)) or now <= self._epoch_start:
            return
        throughput = self._done / (now - self._epoch_start)
        latency = self._latency / self._done
        if self.limit > self._prev_limit:  # judge the step up
            if throughput > self._prev_throughput * self.RISE:
                self._step(min(self.ceiling, self.limit * 2 if self._slow_start else self.limit + 1), now, throughput)
            else:
                self._step(max(1.0, self._prev_limit), now, throughput)
            return
        if self._settled_latency is None:
            self._settled_latency = latency
        if latency > self._settled_latency * self.LATENCY_RISE and throughput <= self._prev_throughput * self.RISE:
            self._step(max(1.0, self.limit * self.DECREASE_ON_LATENCY), now, throughput)
            return
        self._holds += 1
        up = self._holds >= self.PROBE_EVERY and self.limit < self.ceiling
        self._step(self.limit + 1 if up else self.limit, now, throughput)

    def _step(self, limit: float, now: float, throughput: float) -> None:
        """Set the limit for the next epoch; a step down or a hold ends slow start."""
        if limit <= self.limit:
            self._slow_start = False
        if limit != self.limit:
            self._holds, self._settled_latency = 0, None
        self._prev_limit, self._prev_throughput = self.limit, throughput
        self.limit = float(limit)
        self._epoch_start, self._done, self._latency = now, 0, 0.0

    def _timed(self, started: float, waited: list[float], seen_429: int) -> float | None:
        """Seconds the request took, less its waits for a turn; None if a 429 came meanwhile."""
        if self.pacer.rate_limited != seen_429:
            return None
        return max(0.0, self.clock() - started - sum(waited))

    def run(self, fn: Callable[[], T]) -> T:
        """Call `fn` (one page) once there is room, and learn from how long it took."""
        with self._cond:
            self._cond.wait_for(lambda: self._in_flight < int(self.limit))
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        waited: list[float] = []
        token = _waited.set(waited)
        started, seen_429, latency = self.clock(), self.pacer.rate_limited, None
        try:
            result = fn()
            latency = self._timed(started, waited, seen_429)
            return result
        finally:
            _waited.reset(token)
            self._leave(latency)

    async def arun(self, fn: Callable[[], Awaitable[T]]) -> T:
        """`run` for asyncio tasks: waits for room without blocking the event loop."""
        while not self._try_enter():
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()  # no await since _try_enter: no wake-up is lost
            await self._room.wait()
        waited: list[float] = []
        token = _waited.set(waited)
        started, seen_429, latency = self.clock(), self.pacer.rate_limited, None
        try:
            result = await fn()
            latency = self._timed(started, waited, seen_429)
            return result
        finally:
            _waited.reset(token)
            self._leave(latency)
            if self._room is not None:
                self._room.set()
