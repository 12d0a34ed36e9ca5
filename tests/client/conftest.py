"""Fixtures of the client/ tests: the hook-driving ones the hook tests use too (tests/hook_support.py)."""

from tests.hook_support import _empty_token_cache, client, connect, flavor  # noqa: F401 - fixtures
