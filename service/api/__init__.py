"""The HTTP surface: app factory, routers, schemas, the one error shape."""
