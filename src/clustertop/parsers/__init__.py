"""Pure parsers: raw command output from a host (text) -> model values."""
