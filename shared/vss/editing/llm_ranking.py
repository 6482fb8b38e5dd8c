"""Ranking candidates with a model (Gemini through the StructuredLlm port).

The model sees each segment's narration and its best candidates by the deterministic ranking
(what each one shows and says) and answers, as structured output, the candidate ids in order
of relevance. The answer only orders candidates: the solver still decides the cuts, so
coverage stays exact whatever the model says. Ids the model invents are ignored; candidates it
leaves out keep their deterministic order after the ones it ranked; a batch the model refuses
or answers unreadably keeps the deterministic order, and a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from vss.domain.dataset import Dataset
from vss.domain.usage import Usage
from vss.editing.relevance import Scored
from vss.errors import LlmError
from vss.ports import StructuredLlm

SHOWN_PER_SEGMENT = 24
SEGMENTS_PER_CALL = 8
LINE_CHARS = 60

SYSTEM = ("You are a film editor cutting a commentary video. For each narration segment, "
          "order the candidate source clips from the one that best shows what the narrator "
          "is saying at that moment to the least relevant. Prefer clips whose dialogue, "
          "speaker or action matches the narration. Answer only with candidate ids that "
          "were listed for that segment.")


class SegmentRanking(BaseModel):
    segment: int = Field(description="The segment number as given.")
    candidate_ids: list[str] = Field(description="Candidate ids, most relevant first.")


class Ranking(BaseModel):
    segments: list[SegmentRanking]


@dataclass
class LlmRanking:
    rankings: list[list[Scored]]
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)
    ranked_segments: int = 0


def _describe(scored: Scored, dataset: Dataset) -> str:
    candidate = scored.candidate
    scene = dataset.scenes[candidate.scene_id]
    said = " / ".join(
        f"{scene.dialogues[i].speaker or '?'}: {scene.dialogues[i].content}"
        for i in candidate.lines)
    if not said:
        said = (scene.narrative_summary or scene.character_dynamics or "")[:LINE_CHARS]
    seconds = candidate.length  # frames; the model only compares them
    return f"  [{candidate.id}] scene {scene.id}, {candidate.kind}, {seconds} frames: " \
           f"{said[:LINE_CHARS * 2]}"


def _prompt(batch: Sequence[tuple[int, str, Sequence[Scored]]], dataset: Dataset) -> str:
    parts = []
    for index, narration, shown in batch:
        lines = "\n".join(_describe(s, dataset) for s in shown)
        parts.append(f"Segment {index}\nNarration: {narration}\nCandidates:\n{lines}")
    return "\n\n".join(parts)


def _reorder(deterministic: list[Scored], ids: list[str]) -> list[Scored]:
    by_id = {s.candidate.id: s for s in deterministic}
    chosen = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
    if not chosen:
        return deterministic
    taken = {s.candidate.id for s in chosen}
    rest = [s for s in deterministic if s.candidate.id not in taken]
    n = len(chosen)
    # Ranked ones score 1.0 down to 0.5; the rest keep their order below them.
    ranked = [s._replace(score=round(1.0 - 0.5 * i / n, 4)) for i, s in enumerate(chosen)]
    return ranked + [s._replace(score=round(0.5 * s.score, 4)) for s in rest]


def rank_with_llm(llm: StructuredLlm, narrations: Sequence[str],
                  deterministic: list[list[Scored]], dataset: Dataset,
                  batch_size: int = SEGMENTS_PER_CALL) -> LlmRanking:
    """Model rankings per segment, `batch_size` segments per call. Raises RetryableError (the
    stage is retried) when the provider stays unavailable."""
    out = LlmRanking([list(r) for r in deterministic])
    items = [(i, narrations[i], deterministic[i][:SHOWN_PER_SEGMENT])
             for i in range(len(narrations)) if len(deterministic[i]) > 1]
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        try:
            result = llm.generate(system=SYSTEM, prompt=_prompt(batch, dataset),
                                  schema=Ranking)
        except LlmError as exc:
            out.notes.append(f"ranking of segments {batch[0][0]}–{batch[-1][0]} kept the "
                             f"deterministic order: the model refused ({exc.message})")
            continue
        out.usage += result.usage
        if result.parsed is None:
            out.notes.append(f"ranking of segments {batch[0][0]}–{batch[-1][0]} kept the "
                             f"deterministic order: the model's answer was not readable")
            continue
        wanted = {index for index, _, _ in batch}
        for answer in result.parsed.segments:
            if answer.segment in wanted:
                out.rankings[answer.segment] = _reorder(deterministic[answer.segment],
                                                        answer.candidate_ids)
                out.ranked_segments += 1
                wanted.discard(answer.segment)
    return out
