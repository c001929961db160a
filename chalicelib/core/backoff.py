"""Pauses between our own retries: full jitter over a ceiling that doubles, so a sick dependency is not hammered.

botocore already retries every AWS call (standard mode: up to four attempts,
jittered). The platform retries on top of that only where giving up costs more
than waiting: keys DynamoDB left unprocessed, and the record of a webhook that
was already sent (a lost record means the webhook is sent again). Each pause is
drawn from zero to a ceiling that doubles per try up to ``cap``, so callers
that failed together do not come back together.
"""

from __future__ import annotations

import random


def pause(tries: int, *, base: float, cap: float) -> float:
    """Seconds to wait before retry number ``tries + 1``: uniform over ``[0, min(cap, base * 2**tries)]``."""
    return random.uniform(0, min(cap, base * 2.0**tries))
