"""The expiring cache: entries live a jittered part of their time to live, and invalidation wins."""

from __future__ import annotations

import random

import pytest

from service.caching import JITTER, ExpiringCache


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Loader:
    def __init__(self) -> None:
        self.version = 1
        self.loads: list[str] = []
        self.fail: Exception | None = None
        self.during: list[object] = []

    def __call__(self, key: str) -> str:
        self.loads.append(key)
        for action in self.during:
            action()  # type: ignore[operator]
        if self.fail is not None:
            raise self.fail
        return f"{key}:{self.version}"


class _Fixed(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def _cache(loader: _Loader, clock: _Clock, *, draw: float = 0.0, ttl: float = 10) -> ExpiringCache[str, str]:
    return ExpiringCache(loader, ttl_s=ttl, clock=clock, rng=_Fixed(draw))


def test_an_entry_is_reused_until_it_expires() -> None:
    clock, loader = _Clock(), _Loader()
    cache = _cache(loader, clock)
    assert cache.get("a") == "a:1"
    loader.version = 2
    clock.now += 9.9
    assert cache.get("a") == "a:1"
    clock.now += 0.1
    assert cache.get("a") == "a:2"
    assert loader.loads == ["a", "a"]


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999])
def test_an_entry_lives_between_half_and_all_of_its_time_to_live(draw: float) -> None:
    clock, loader = _Clock(), _Loader()
    cache = _cache(loader, clock, draw=draw)
    lifetime = 10 * (1 - JITTER * draw)
    assert 5 < lifetime <= 10
    cache.get("a")
    clock.now += lifetime - 0.01
    cache.get("a")
    assert len(loader.loads) == 1
    clock.now += 0.01
    cache.get("a")
    assert len(loader.loads) == 2


def test_entries_loaded_together_do_not_expire_together() -> None:
    clock, loader = _Clock(), _Loader()
    cache: ExpiringCache[str, str] = ExpiringCache(loader, ttl_s=10, clock=clock, rng=random.Random(1))
    keys = [f"k{n}" for n in range(20)]
    for key in keys:
        cache.get(key)
    reloaded_by: list[int] = []
    for _ in range(10):
        clock.now += 1
        before = len(loader.loads)
        for key in keys:
            cache.get(key)
        reloaded_by.append(len(loader.loads) - before)
    assert sum(reloaded_by[:4]) == 0  # nothing expires before half the time to live
    assert max(reloaded_by) < 20  # and the 20 entries do not all expire in the same second
    assert sum(reloaded_by) >= 20


def test_invalidation_forgets_one_entry_or_all() -> None:
    clock, loader = _Clock(), _Loader()
    cache = _cache(loader, clock)
    cache.get("a")
    cache.get("b")
    loader.version = 2
    cache.invalidate("a")
    assert (cache.get("a"), cache.get("b")) == ("a:2", "b:1")
    loader.version = 3
    cache.invalidate()
    assert (cache.get("a"), cache.get("b")) == ("a:3", "b:3")


def test_a_load_that_raced_an_invalidation_is_served_once_but_not_kept() -> None:
    clock, loader = _Clock(), _Loader()
    cache = _cache(loader, clock)
    loader.during = [lambda: cache.invalidate("a")]  # e.g. the token was revoked meanwhile
    assert cache.get("a") == "a:1"
    loader.during = []
    loader.version = 2
    assert cache.get("a") == "a:2"


def test_errors_are_not_cached_and_a_zero_time_to_live_always_loads() -> None:
    clock, loader = _Clock(), _Loader()
    cache = _cache(loader, clock)
    loader.fail = LookupError("no such source")
    with pytest.raises(LookupError):
        cache.get("a")
    loader.fail = None
    assert cache.get("a") == "a:1"
    uncached = _cache(loader, clock, ttl=0)
    uncached.get("b")
    uncached.get("b")
    assert loader.loads == ["a", "a", "b", "b"]
