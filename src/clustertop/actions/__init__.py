"""Actions: the only code that changes anything on a host (checked, quoted, confirmed, audited)."""
