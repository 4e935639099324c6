"""Sales database: embedded PostgreSQL, loading and analyst queries."""
