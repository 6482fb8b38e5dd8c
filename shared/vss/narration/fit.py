"""Fitting written snippets to their budgets: rewrite rounds, then a cut at a sentence boundary.

Narration and localisation both end here: each snippet over its budget is sent back for a
shorter version (at most `max_rewrites` rounds, all late snippets in one request per round),
and whatever is still too long is cut to the whole sentences (then clauses) that fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from vss.domain.artifacts import Pacing
from vss.domain.language import SpeechRate
from vss.narration.pacing import cut_to_budget, speech_seconds
from vss.narration.plan import NarrationPlan, PlannedSnippet

# Shorter versions of the snippets given with their current text, by index; may omit some.
Rewriter = Callable[[list[tuple[PlannedSnippet, str]]], dict[int, str]]


@dataclass(frozen=True)
class Fitted:
    text: str  # "" when nothing fits: the footage plays without narration
    rewrites: int
    action: Literal["fits", "rewritten", "cut"]
    estimated_seconds: float

    def pacing(self, planned: PlannedSnippet, rate: float) -> Pacing:
        return Pacing(footage_seconds=planned.footage_seconds, slot_seconds=planned.slot,
                      budget_seconds=planned.budget_seconds,
                      estimated_seconds=round(self.estimated_seconds, 3), speech_rate=rate,
                      action=self.action, rewrites=self.rewrites)


def fit(plan: NarrationPlan, texts: dict[int, str], rewrite: Rewriter | None, rate: SpeechRate,
        max_rewrites: int) -> dict[int, Fitted]:
    """Each snippet's text within its budget at `rate` in `plan.lang`."""
    lang = plan.lang
    texts = dict(texts)
    rewrites = dict.fromkeys(texts, 0)
    by_index = {s.index: s for s in plan.snippets}

    def over() -> list[PlannedSnippet]:
        return [by_index[i] for i, t in texts.items()
                if speech_seconds(t, lang, rate) > by_index[i].budget_seconds]

    for _ in range(max_rewrites if rewrite is not None else 0):
        late = over()
        if not late or rewrite is None:
            break
        shorter = rewrite([(s, texts[s.index]) for s in late])
        for snippet in late:
            rewrites[snippet.index] += 1
            if snippet.index in shorter:
                texts[snippet.index] = shorter[snippet.index]
    fitted = {}
    for index, text in texts.items():
        budget = by_index[index].budget_seconds
        action: Literal["fits", "rewritten", "cut"] = "rewritten" if rewrites[index] else "fits"
        if speech_seconds(text, lang, rate) > budget:
            text, action = cut_to_budget(text, budget, lang, rate), "cut"
        fitted[index] = Fitted(text, rewrites[index], action, speech_seconds(text, lang, rate))
    return fitted
