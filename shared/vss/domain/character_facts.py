"""The character facts report (CHARACTER_IDENTIFIER): what the story says about each character,
every fact with the words of its scene that say it, and what the dataset counts about them.

The seed's field names first, ours beside them; the seed's own reports validate (their facts
have no `source`, and their `metrics_calculation_results` may be null). Attributes and types
are labels of the report language's vocabulary (`vss.domain.fact_vocabulary`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from vss.domain.fact_vocabulary import OTHER_LABELS
from vss.domain.usage import Usage

__all__ = ["CharacterFact", "CharacterFacts", "CharacterFactsReport", "CharacterMetrics",
           "FactSource"]

FactSource = Literal["model", "offline"]


class _Artifact(BaseModel):
    model_config = ConfigDict(extra="allow")


class CharacterFact(_Artifact):
    scene_id: int
    attribute: str = Field(description="A label of the report language's vocabulary: 职业, "
                           "occupation, profession...")
    value: str
    source_text: str = Field(description="Words of the scene that state the fact, verbatim "
                             "(a line, lines in a row, a caption, the scene's summary).")
    type: str = Field(description="How lasting the fact is: 恒定/permanent, 状态性/stateful "
                      "(état), 情境性/situational (situationnel).")
    suggested_attribute: str | None = Field(
        None, description="Only with the attribute other (其他, other, autre): the attribute "
        "the fact would need.")
    source: FactSource | None = Field(
        None, description="model: a language model found it; offline: read off a caption or a "
        "self-introduction. Absent in the seed's reports.")

    @model_validator(mode="after")
    def _suggestion_only_for_other(self) -> Self:
        if self.suggested_attribute is not None and self.attribute not in OTHER_LABELS:
            raise ValueError("suggested_attribute goes only with the attribute other "
                             f"({', '.join(sorted(OTHER_LABELS))}), not {self.attribute!r}")
        return self


class CharacterFacts(RootModel[dict[str, list[CharacterFact]]]):
    """Facts by character name (a report's `identified_facts_by_character`)."""


class CharacterMetrics(BaseModel):
    """What the dataset counts about one character. A character appears in a scene when they
    speak in it or its captions, highlights, summary or dynamics name them."""

    model_config = ConfigDict(extra="forbid")

    name: str
    scenes: int = Field(ge=0, description="Scenes the character appears in.")
    lines: int = Field(ge=0, description="Dialogue lines the character speaks.")
    screen_time_seconds: float = Field(
        ge=0, description="The scenes' durations added up: an upper bound, since the dataset "
        "does not say who is on screen when.")
    co_appearances: dict[str, int] = Field(
        default_factory=dict, description="Other characters and the number of scenes shared "
        "with them, most first.")
    first_scene_id: int = Field(description="First appearance in footage order (episode, "
                                "then start time).")
    last_scene_id: int
    first_episode: int = Field(description="The first appearance's chapter id.")
    last_episode: int
    importance: float = Field(
        ge=0, le=1, description="0.35 × lines / the most lines of any character + 0.35 × "
        "scenes / the most scenes + 0.15 × screen time / the most screen time + 0.15 × "
        "episodes appeared in / the dataset's episodes; rounded to 4 places.")


class CharacterFactsReport(_Artifact):
    generation_date: datetime
    source_file: str = Field(description="The narrative dataset the facts were read from.")
    identified_facts_by_character: dict[str, list[CharacterFact]] = Field(
        description="Facts by character name, in scene order.")
    metrics_calculation_results: dict[str, CharacterMetrics] | None = Field(
        None, description="By character name (null in the seed's reports).")
    dropped_unquoted: int = Field(
        0, ge=0, description="Facts dropped because their source_text is not verbatim in "
        "their scene.")
    engine: str | None = Field(None, description="The model's provider, or offline.")
    lang: str | None = Field(None, description="The language of the labels and values.")
    notes: list[str] = Field(default_factory=list)
    usage: Usage | None = None
