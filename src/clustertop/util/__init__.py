"""Helpers every layer may use: safe text, units, asyncio."""
