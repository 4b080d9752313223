"""Sync use cases: pull and map per provider, apply changes, reconcile deletes."""
