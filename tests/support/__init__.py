"""Fakes and builders shared by tests (importable as `tests.support`)."""
