"""The history store: readings kept in SQLite across restarts, in downsampled tiers."""
