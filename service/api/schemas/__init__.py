"""Request and response bodies of the client and admin API; request bodies refuse unknown fields."""
