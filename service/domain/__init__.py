"""The normalized model: pure types and the values derived from them (no I/O, no frameworks)."""
