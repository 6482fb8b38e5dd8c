"""CHARACTER_IDENTIFIER's core: the character facts report of a dataset.

With a model, the facts it finds (`vss.analysis.llm_facts`); without one, or when it answered
no chunk at all, the facts captions and self-introductions state (`vss.analysis.offline`).
Either way every quote is checked against its scene and the metrics are computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from vss.analysis.llm_facts import extract_with_model
from vss.analysis.metrics import metrics
from vss.analysis.offline import offline_facts
from vss.analysis.verbatim import quoted_in
from vss.domain.cast import cast_of
from vss.domain.character_facts import CharacterFact, CharacterFactsReport
from vss.domain.dataset import Dataset
from vss.domain.fact_vocabulary import FACT_VOCABULARIES
from vss.errors import PayloadInvalid
from vss.ports import StructuredLlm

LANG_POINTER = "/payload/service_params/lang"


def identify_facts(dataset: Dataset, names: Sequence[str], lang: str,
                   llm: StructuredLlm | None, *, prompt_budget_tokens: int,
                   source_file: str = "", generated_at: datetime | None = None,
                   temperature: float | None = None) -> CharacterFactsReport:
    """The facts about each of `names` (every speaker when empty), labelled in `lang`, and
    their metrics. PayloadInvalid when `lang` has no vocabulary or a name appears in no scene
    (`vss.domain.cast.cast_of`)."""
    if lang not in FACT_VOCABULARIES:
        reason = f"no fact vocabulary for {lang!r}; known: {', '.join(sorted(FACT_VOCABULARIES))}"
        raise PayloadInvalid(f"Invalid analysis language: {reason}",
                             details={"errors": [{"pointer": LANG_POINTER, "reason": reason}]})
    cast = cast_of(dataset, names)
    notes: list[str] = []
    usage = None
    dropped = 0
    engine = "offline"
    facts: dict[str, list[CharacterFact]] | None = None
    if llm is not None:
        found = extract_with_model(dataset, cast, lang, llm,
                                   prompt_budget_tokens=prompt_budget_tokens,
                                   temperature=temperature)
        notes += found.notes
        usage = found.usage
        dropped = found.dropped_unquoted
        if found.answered or not found.chunks:
            facts, engine = found.facts, llm.name
        else:
            notes.append("the model answered no chunk: facts read offline instead")
            engine = "offline-fallback"
    if facts is None:
        facts, unquoted = _quoted(dataset, offline_facts(dataset, cast, lang))
        dropped += unquoted
    every = metrics(dataset, cast)
    return CharacterFactsReport(
        generation_date=generated_at or datetime.now(UTC),
        source_file=source_file,
        identified_facts_by_character=facts,
        metrics_calculation_results={name: every[name] for name in cast if name in every},
        dropped_unquoted=dropped, engine=engine, lang=lang, notes=notes, usage=usage,
    )


def _quoted(dataset: Dataset, facts: dict[str, list[CharacterFact]]
            ) -> tuple[dict[str, list[CharacterFact]], int]:
    """The facts whose quote is verbatim in their scene, and how many were not."""
    kept = {name: [f for f in found if quoted_in(f.source_text, dataset.scenes[f.scene_id])]
            for name, found in facts.items()}
    return kept, sum(map(len, facts.values())) - sum(map(len, kept.values()))
