"""Webhook use cases: accept a delivery into the inbox, then process an inbox row."""
