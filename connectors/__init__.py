"""Provider SDKs and the sandbox; they know nothing of the service."""
