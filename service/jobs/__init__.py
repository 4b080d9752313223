"""The job runner: huey with SQLite storage embedded (Redis when scaled out); tasks carry ids only."""
