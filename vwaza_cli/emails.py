"""How emails compare: one key per address, the same in Python and on every engine.

Standard library only: the store (its queries, a migration), the services and the server's
login limiter all compare emails by this key, while the address is kept and shown as typed.
"""

from __future__ import annotations

import unicodedata


def email_key(email: str) -> str:
    """The email as compared: trimmed, NFKC-normalised and case-folded (Unicode's
    compatibility caseless match), so `Émile@`, `ÉMILE@` and `émile@`, a Kelvin sign and its
    `k`, or full-width letters and plain ones, are one address. SQL's lower() is not used:
    SQLite's folds ASCII only. NFKC again after folding: folding can undo the normal form."""
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)
