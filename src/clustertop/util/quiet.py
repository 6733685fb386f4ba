"""Keeps known third-party noise off the user's terminal, before that party is imported."""

from __future__ import annotations

import warnings

_ASYNCSSH = r"asyncssh(\.|\Z)"
"""asyncssh and its submodules: where the warning is attributed (the line naming DSA types)."""


def quiet_third_party_warnings() -> None:
    """Hide the CryptographyDeprecationWarning (DSA) that asyncssh triggers on import; only that.

    asyncssh names cryptography's DSA key types at import time, and cryptography warns on each
    such name: ten lines before every `--once` report that no user can act on. Other categories,
    and this one from any other module, still show.
    """
    try:
        from cryptography.utils import CryptographyDeprecationWarning
    except ImportError:  # no cryptography, no asyncssh: nothing to quiet
        return
    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=_ASYNCSSH)
