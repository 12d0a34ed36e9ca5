"""How fast a connection may go: a shared pause after a 429, a client-side rate cap, and
adaptive concurrency for `max_workers="auto"`. One home for both hooks.

`Pacer` is process-wide, one per account (API base URL, client id): every hook, thread and
asyncio task of that account asks it for a turn before each request and reports each answer.
The account, not the connection, is the unit because the server limits a client id: two
connections with the same URL and client id share one pause, one learned rate and one cap;
connections with another client id (or another API) have a pacer of their own.

A 429 with Retry-After pauses them all; a later, shorter Retry-After never shortens a pause
already held. A pause is capped by the hook at the connection's `max_retry_wait`.

429s also teach it the server's rate. While they keep coming the server's bucket is empty, so
what it admits between the first 429 of an episode and the latest is its rate: the pacer goes a
little under that and probes upward slowly (so a lesson fades: after a minute without a 429 it no
longer binds). Requests already under way when the bucket ran dry come back during the first
pause, some admitted just before: the count starts after them. The first 429 of all tells only
that the account went too fast: the pacer goes at 40 % of what went through in the last tenth of
a second (the listing's full speed; a second's window would also hold its slow first pages) and
probes upward quickly until 429s measure the server. A later episode starts 5 % under the lower
of its pace and what went through in the last second (a probe may have run past it).

A server that says how many requests its bucket still holds (`X-RateLimit-Remaining` or
`RateLimit-Remaining` on an answer) is read before it refuses anything. While the bucket drains,
what it holds plus what it admitted grows at the server's rate, whatever its window or burst: the
pacer goes a little under that rate, measured over the current drain (at least MIN_MEASURE, at
most RATE_WINDOW), and lets go at once as many requests as the latest answer says the bucket holds,
plus what it refilled since that request went, beyond those sent since (its "credit"): a full
bucket is spent at full speed, and an empty one is seldom run past (a late answer can make the
refill look larger than it was). A 429 still teaches as above; no header, no change.

`max_requests_per_second` caps it, whatever it learns. Each connection of the account registers
its own cap (its latest reading; none withdraws it) and the account goes at the lowest cap any
of its connections has registered in this process: a connection without the extra, or with a
higher one, cannot lift the cap another connection of the account set.

`AdaptiveLimit` is one listing's concurrency: it grows while throughput rises and shrinks on
latency that rises without throughput. 429s are the pacer's to answer: more pages in flight then
wait for a turn in this process, not at the server. Pages enter in the order they asked, so a
worker that just finished a page cannot take its room back ahead of an older page, which the
in-order listing would otherwise wait for while the pacer's turns go unused.

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
from typing import Literal, NamedTuple, TypeVar

T = TypeVar("T")
Workers = int | Literal["auto"]
AUTO: Literal["auto"] = "auto"
AUTO_CEILING = 16  # default most requests in flight for max_workers="auto"
AUTO_START = 4  # first concurrency of an "auto" listing (then doubled while throughput rises)
DEFAULT_PAUSE = 1.0  # seconds to pause on a 429 without a usable Retry-After
RATE_WINDOW = 1.0  # seconds of answers kept; also: 429s further apart are separate episodes
LEARN_MARGIN = 0.97  # pace a little under what the server admitted
FIRST_CUT = 0.95  # the first 429 of an episode: slow down a little before there is a measure
UNKNOWN_CUT = 0.4  # ... or to 40 % of the recent pace when nothing was learned yet (a burst was in it)
RECENT = 0.1  # seconds of answers that recent pace is taken over
RECENT_ANSWERS = 5  # fewer in that time (a slow listing): over the whole window instead
MIN_MEASURE = 0.05  # seconds of an episode (or of a drain) before its admitted rate is trusted
CREDIT_MARGIN = 1  # requests of a bucket's Remaining left unspent: answers arrive a little out of order
PROBE_PER_SECOND = 0.02  # a measured rate grows 2 % a second until the next 429
PROBE_UNMEASURED = 0.5  # a guessed one (a cut without a measure yet) 50 % a second

# Seconds this context (thread or task) spent waiting for its turn: kept out of latency samples.
_waited: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("simplestore_paced", default=None)


class Turn(NamedTuple):
    """A request's turn: its number among the account's turns, and when it was let go."""

    number: int
    at: float


def parse_remaining(value: str | None) -> int | None:
    """A RateLimit-Remaining header's whole number of requests left (None if absent or not one, or
    longer than 18 digits: int() refuses thousands of them with an error of its own)."""
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


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
        # (when its count starts, answers counted so far then, end of its first pause)
        self._episode: tuple[float, int, float] | None = None
        self._last_429 = float("-inf")
        self._answered = 0  # non-429 answers ever
        self._answers: deque[float] = deque()  # times of the last RATE_WINDOW's non-429 answers
        self._granted = 0  # turns given ever (a Turn's number is the count at it)
        self._credit = 0  # turns that may go now whatever the pace: the bucket holds them
        # (time, what the bucket was given so far, up to a constant) of the current drain, oldest
        # first: its slope is the server's rate
        self._drain: deque[tuple[float, int]] = deque()
        self._drain_top = -1  # Remaining when the drain began: as high again, a new drain begins

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

    def _reserve(self) -> tuple[float, Turn]:
        """Claim the next slot; (seconds until it starts, the request's turn)."""
        with self._lock:
            now = self.clock()
            start = max(now, self._paused_until)
            self._granted += 1
            rate = self.rate(now)
            if rate is not None and self._credit > 0 and self.max_rate is None:
                self._credit -= 1  # the server's bucket holds this one: no slot (a cap is always kept)
            elif rate is not None:
                start = max(start, self._next_slot)
                self._next_slot = start + 1 / rate
            return start - now, Turn(self._granted, start)

    def _pause_left(self) -> float:
        return self._paused_until - self.clock()

    def _record_wait(self, seconds: float) -> None:
        waited = _waited.get()
        if waited is not None:
            waited.append(seconds)

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> Turn:
        """Block until this request may go (its rate slot, then any pause set meanwhile); its turn."""
        started = self.clock()
        delay, turn = self._reserve()
        while delay > 0:
            sleep(delay)
            delay = self._pause_left()
        self._record_wait(self.clock() - started)
        return turn

    async def await_turn(self) -> Turn:
        """`wait` for asyncio tasks (real asyncio.sleep: the retry sleep hook is for retries)."""
        started = self.clock()
        delay, turn = self._reserve()
        while delay > 0:
            await asyncio.sleep(delay)
            delay = self._pause_left()
        self._record_wait(self.clock() - started)
        return turn

    def observe(
        self, status: int, retry_after: float | None, remaining: int | None = None, turn: Turn | None = None
    ) -> None:
        """Report one answer: a 429 pauses every request of this account and teaches a rate; the
        bucket's `remaining` (None: not said), read on the answer to `turn`, does too."""
        with self._lock:
            now = self.clock()
            while self._answers and self._answers[0] < now - RATE_WINDOW:
                self._answers.popleft()
            if status != 429:
                self._answers.append(now)
                self._answered += 1
                if remaining is not None and turn is not None:
                    self._read_remaining(now, remaining, turn)
                return
            self.rate_limited += 1
            self._credit = 0  # (the drain goes on: a refused request takes nothing from the bucket)
            pause = DEFAULT_PAUSE if retry_after is None else retry_after
            self._paused_until = max(self._paused_until, now + pause)
            self._learn(now)

    def _read_remaining(self, now: float, remaining: int, turn: Turn) -> None:
        """(lock held) The bucket held `remaining` after admitting `turn`: measure its rate, set the credit."""
        if remaining >= self._drain_top:
            self._drain.clear()  # full again (or the first reading: the top starts at -1): a new drain
            self._drain_top = remaining
        # What the bucket holds plus what it let in (turns given up to this one, less those refused):
        # turns, not answers, count it, so answers arriving out of order do not blur it.
        supplied_now = remaining + turn.number - self.rate_limited
        self._drain.append((now, supplied_now))
        while now - self._drain[0][0] > RATE_WINDOW:
            self._drain.popleft()
        began, supplied = self._drain[0]
        if now - began >= MIN_MEASURE:
            self._learned = max(1.0, (supplied_now - supplied) / (now - began) * LEARN_MARGIN)
            self._learned_at, self._measured = now, True
        # The turns given since this one take from the bucket after it, and it refills meanwhile: as
        # long as since this turn went (the next request reaches the server as late after this one).
        refilled = (self._learned or 0.0) * max(0.0, now - turn.at)
        self._credit = max(0, int(remaining + refilled) - (self._granted - turn.number) - CREDIT_MARGIN)

    def _recent_rate(self, now: float) -> float:
        """(lock held) Answers a second over the last RECENT seconds (too few: over the window)."""
        recent = sum(1 for t in self._answers if t >= now - RECENT)
        return recent / RECENT if recent >= RECENT_ANSWERS else self._window_rate(now)

    def _window_rate(self, now: float) -> float:
        """(lock held) Answers a second over the last RATE_WINDOW (or since the first answer, if later)."""
        span = min(RATE_WINDOW, now - self._answers[0]) if self._answers else RATE_WINDOW
        return len(self._answers) / max(span, RECENT)

    def _learn(self, now: float) -> None:
        """A 429 at `now` (lock held, its pause set): start an episode with a cut, or measure the server."""
        if self._episode is None or now - self._last_429 > RATE_WINDOW:
            self._episode = (now, self._answered, self._paused_until)
            current = self.rate(now)
            if current is None:
                self._learned = max(1.0, self._recent_rate(now) * UNKNOWN_CUT)
            else:
                self._learned = max(1.0, min(current, self._window_rate(now)) * FIRST_CUT)
        elif now < self._episode[2]:  # under way before the first pause: the count starts after it
            self._episode = (now, self._answered, self._episode[2])
        else:
            started, answered, _ = self._episode
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
    limit by 0.9, and every few quiet epochs it probes one step up again. A 429 is the pacer's: it
    pauses the account and slows its turns, so more pages in flight only wait for a turn in this
    process; cutting the limit too would leave the pacer turns no page is there to take.
    """

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
        self._line: deque[object] = deque()  # pages waiting for room, oldest first
        self._slow_start = True
        self._epoch_start = clock()
        self._done = 0
        self._latency = 0.0
        self._prev_limit = 0.0  # the limit and throughput of the epoch before
        self._prev_throughput = 0.0
        self._settled_latency: float | None = None  # latency when it began holding
        self._holds = 0

    def _admit(self, me: object | None) -> bool:
        """(lock held) Let `me` in if there is room and no page waits ahead of it (None: not in line)."""
        if (self._line[0] if self._line else None) is not me or self._in_flight >= int(self.limit):
            return False
        if me is not None:
            self._line.popleft()
        self._in_flight += 1
        self.peak = max(self.peak, self._in_flight)
        return True

    def _try_enter(self, me: object | None = None) -> bool:
        with self._cond:
            return self._admit(me)

    def _join(self) -> object:
        """A place at the end of the line."""
        me = object()
        with self._cond:
            self._line.append(me)
        return me

    def _step_out(self, me: object) -> None:
        """A page that gave up waiting (cancelled) leaves the line, so the ones behind it are not stuck."""
        with self._cond:
            if me in self._line:
                self._line.remove(me)
            self._cond.notify_all()
        if self._room is not None:
            self._room.set()

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
        me = self._join()
        try:
            with self._cond:
                while not self._admit(me):
                    self._cond.wait()
                self._cond.notify_all()  # the next in line may fit too
        except BaseException:
            self._step_out(me)
            raise
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
        me = self._join()
        try:
            while not self._try_enter(me):
                if self._room is None:
                    self._room = asyncio.Event()
                self._room.clear()  # no await since _try_enter: no wake-up is lost
                await self._room.wait()
        except BaseException:  # cancelled in line
            self._step_out(me)
            raise
        if self._room is not None:
            self._room.set()  # the next in line may fit too
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
