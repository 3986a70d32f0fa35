"""One call's cost cap (a profile's `max_call_cost_usd`): decides, after each reply, whether
the next one would cross it.

The cost of a reply is known only once it is done (`response.done` usage), so the guard
looks one reply ahead: the next reply is assumed to cost as much as the dearest one so far
(each reply re-reads the whole conversation, so replies only get dearer). The line said to
wrap up is that one last reply, which is why a call ends within one reply of its cap.
"""

from dataclasses import dataclass

END_REASON_BUDGET = "budget"


@dataclass
class CallBudget:
    """`cap_usd` 0 means no cap: `after_reply` never asks to wrap up."""

    cap_usd: float
    spent_usd: float = 0.0
    dearest_reply_usd: float = 0.0
    tripped: bool = False

    def after_reply(self, spent_usd: float) -> bool:
        """Given the call's running cost after a reply, True once (the first time) the next
        reply would cross the cap."""
        reply_usd = max(spent_usd - self.spent_usd, 0.0)
        self.spent_usd = spent_usd
        self.dearest_reply_usd = max(self.dearest_reply_usd, reply_usd)
        if self.tripped or self.cap_usd <= 0:
            return False
        self.tripped = spent_usd + self.dearest_reply_usd > self.cap_usd
        return self.tripped
