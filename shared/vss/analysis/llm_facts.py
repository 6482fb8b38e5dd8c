"""Character facts found by a structured-output model, bounded for long series.

The scenes the characters appear in, in footage order, are cut into chunks whose text fits the
prompt budget (a scene too long for one chunk goes on in the next). Each chunk is one call,
whose answer schema holds the attribute and the type to the labels of the report language's
vocabulary. Every fact is then checked: it must be about a character the chunk was asked
about, in one of its scenes, with a quote verbatim in that scene
(`vss.analysis.verbatim`). Facts failing the quote are dropped and counted; other bad facts
(a label outside the vocabulary, a scene or a character not asked about) are dropped and
noted. What is left is merged across chunks (a scene in two chunks may be reported twice): one
fact per (character, scene, attribute, value).

An answer that is not valid for its schema is read item by item, so one bad fact does not cost
the others; an answer that is not JSON at all is asked for once more. A chunk the model refuses
is noted and skipped; a provider that stays unavailable raises (the stage is retried).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, create_model

from vss.analysis.verbatim import normalise, quoted_in, says_more_than_names
from vss.domain.cast import appearances, footage_order, speakers
from vss.domain.character_facts import CharacterFact
from vss.domain.dataset import Dataset, Scene
from vss.domain.fact_vocabulary import (
    FACT_VOCABULARIES,
    GLOSSES,
    Attribute,
    FactType,
    FactVocabulary,
)
from vss.domain.language import estimate_tokens, language_profile
from vss.domain.usage import Usage
from vss.errors import LlmError
from vss.ports import LlmResult, StructuredLlm

SYSTEM = (
    "You read scenes of a drama series and record what they state about the characters you "
    "are asked about: occupation, personality, assumed identities, skills, family, social "
    "standing, state of mind, health, gender. Every fact quotes the words of its scene that "
    "state it, copied exactly as they are written there. Record only what a scene states or "
    "plainly shows, never a guess.")

REPAIR = ("Your previous answer was not valid JSON for the required schema. Answer again with "
          "only the JSON object, following the same instructions:\n\n")

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class ProposedFact(BaseModel):
    """One fact as a model proposes it (the schema a call sends holds attribute and type to
    the vocabulary's labels: see `answer_schema`)."""

    character: str = Field(description="One of the characters asked about, exactly as listed.")
    scene_id: int = Field(description="The scene whose words state the fact.")
    attribute: str
    value: str = Field(description="The fact itself, briefly.")
    source_text: str = Field(description="The words of that scene that state the fact, "
                             "copied exactly: a line, lines in a row, a caption or a phrase "
                             "of the summary.")
    type: str
    suggested_attribute: str | None = Field(
        None, description="Only with the attribute for other: the attribute the fact needs.")


class ProposedFacts(BaseModel):
    facts: list[ProposedFact]


@dataclass(frozen=True)
class AnswerSchema:
    """A language's answer schema, and the schema of one of its facts (to read an answer
    item by item)."""

    answer: type[ProposedFacts]
    fact: type[ProposedFact]


def _one_of(labels: tuple[str, ...]) -> Any:
    """`Literal[labels]`, for labels known when the module loads."""
    return Literal.__getitem__(labels)


def _answer_schema(vocabulary: FactVocabulary) -> AnswerSchema:
    suffix = vocabulary.code.capitalize()
    fact = create_model(
        f"ProposedFact{suffix}", __base__=ProposedFact,
        attribute=(_one_of(vocabulary.attribute_labels),
                   Field(description="What the fact is about.")),
        type=(_one_of(vocabulary.type_labels), Field(description="How lasting the fact is.")),
    )
    answer = create_model(f"ProposedFacts{suffix}", __base__=ProposedFacts,
                          facts=(list[fact], ...))
    return AnswerSchema(answer, fact)


ANSWER_SCHEMAS = {code: _answer_schema(v) for code, v in FACT_VOCABULARIES.items()}


def answer_schema(lang: str) -> AnswerSchema:
    return ANSWER_SCHEMAS[lang]


# -- prompts -----------------------------------------------------------------------------------


def scene_blocks(scene: Scene, chapter_name: str, budget_tokens: int) -> list[str]:
    """A scene as the model reads it: what describes it, then its lines, in parts of at most
    `budget_tokens` each (a long scene goes on in parts of its own: no line is left out).
    A part is never empty of lines, so a budget below one line still makes progress."""
    header = (f"scene {scene.id} ({chapter_name}, {scene.duration:.0f}s"
              f"{', ' + scene.location if scene.location else ''})")
    described = [f"  {label}: {text}" for label, text in (
        ("summary", scene.narrative_summary), ("dynamics", scene.character_dynamics)) if text]
    described += [f"  caption: {c.content}" for c in scene.captions]
    described += [f"  highlight: {h}" for h in scene.highlights]
    parts = [[header, *described]]
    used = estimate_tokens("\n".join(parts[0]))
    for line in scene.dialogues:
        text = f"  {line.speaker or '?'}: {' '.join(line.content.split())}"
        cost = estimate_tokens(text)
        if used + cost > budget_tokens and len(parts[-1]) > 1:
            parts.append([f"scene {scene.id}, continued"])
            used = estimate_tokens(parts[-1][0])
        parts[-1].append(text)
        used += cost
    return ["\n".join(part) for part in parts]


def _prompt(vocabulary: FactVocabulary, cast: Sequence[str], blocks: Sequence[str]) -> str:
    attributes = "\n".join(f"- {vocabulary.attributes[a]}: {GLOSSES[a]}" for a in Attribute)
    types = "\n".join(f"- {vocabulary.types[t]}: {GLOSSES[t]}" for t in FactType)
    other = vocabulary.attributes[Attribute.OTHER]
    return "\n".join([
        f"Characters to analyse: {', '.join(cast)}",
        f"Write each value in {language_profile(vocabulary.code).name}.",
        "",
        "attribute (one of these labels, exactly as written):", attributes,
        "type (how lasting the fact is; one of these labels, exactly as written):", types,
        "",
        "Rules:",
        "- Only facts about the characters listed, each under its name exactly as listed.",
        "- source_text: copy the words from the fact's own scene exactly (a line, lines in a "
        "row, a caption or a phrase of the summary). A fact whose words are not in its scene "
        "is discarded.",
        "- One fact per attribute and value in a scene.",
        f"- Use {other} only when no other attribute fits, and then give "
        "suggested_attribute.",
        '- Answer {"facts": []} when the scenes state nothing about them.',
        "",
        "Scenes:",
        *blocks,
    ])


def chunk_scenes(dataset: Dataset, scenes: Sequence[Scene], budget_tokens: int
                 ) -> list[list[tuple[Scene, str]]]:
    """Consecutive scenes (or parts of a long one) with their blocks, each chunk's blocks
    within `budget_tokens` as far as a single line allows."""
    chapters = {c.id: c.name for c in dataset.chapters}
    chunks: list[list[tuple[Scene, str]]] = []
    used = budget_tokens + 1
    for scene in scenes:
        for block in scene_blocks(scene, chapters.get(scene.chapter_id, ""), budget_tokens):
            cost = estimate_tokens(block)
            if used + cost > budget_tokens:
                chunks.append([])
                used = 0
            chunks[-1].append((scene, block))
            used += cost
    return chunks


# -- answers -----------------------------------------------------------------------------------


def read_answer(result: LlmResult[Any], schema: AnswerSchema
                ) -> tuple[list[ProposedFact], int] | None:
    """(the facts that validate, how many items did not); None when the text holds no
    answer at all."""
    if isinstance(result.parsed, schema.answer):
        return list(result.parsed.facts), 0
    match = _JSON_OBJECT.search(re.sub(r"```(?:json)?", "", result.text))
    try:
        document = json.loads(match.group(0)) if match else None
    except ValueError:
        return None
    items = document.get("facts") if isinstance(document, dict) else None
    if not isinstance(items, list):
        return None
    facts: list[ProposedFact] = []
    for item in items:
        try:
            facts.append(schema.fact.model_validate(item))
        except ValidationError:
            continue
    return facts, len(items) - len(facts)


@dataclass
class ModelFacts:
    facts: dict[str, list[CharacterFact]]
    dropped_unquoted: int = 0
    rejected: int = 0  # invalid items, and facts about a scene or character not asked about
    chunks: int = 0
    answered: int = 0  # chunks whose answer could be read
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)


class _Asker:
    def __init__(self, llm: StructuredLlm, schema: AnswerSchema, out: ModelFacts,
                 temperature: float | None) -> None:
        self.llm, self.schema, self.out = llm, schema, out
        self.temperature = temperature

    def ask(self, prompt: str, span: str) -> list[ProposedFact] | None:
        """The chunk's facts; None (noted) when the model refused or answered unreadably
        twice."""
        for attempt in (prompt, REPAIR + prompt):
            try:
                result = self.llm.generate(system=SYSTEM, prompt=attempt,
                                           schema=self.schema.answer,
                                           temperature=self.temperature)
            except LlmError as exc:
                self.out.notes.append(f"{span}: the model refused ({exc.message})")
                return None
            self.out.usage += result.usage
            read = read_answer(result, self.schema)
            if read is not None:
                facts, invalid = read
                self.out.rejected += invalid
                return facts
        self.out.notes.append(f"{span}: the model's answer was not readable")
        return None


def extract_with_model(dataset: Dataset, cast: Sequence[str], lang: str, llm: StructuredLlm,
                       *, prompt_budget_tokens: int, temperature: float | None = None
                       ) -> ModelFacts:
    """Facts about each of `cast` found by `llm` (sampled at `temperature`, None: the
    model's own), checked and merged (see the module)."""
    vocabulary = FACT_VOCABULARIES[lang]
    out = ModelFacts(facts={name: [] for name in cast})
    seen = appearances(dataset, cast) if cast else {}
    featured = set().union(*seen.values()) if seen else set()
    scenes = [s for s in footage_order(dataset) if s.id in featured]
    frame = estimate_tokens(SYSTEM + REPAIR + _prompt(vocabulary, cast, []))
    asker = _Asker(llm, answer_schema(lang), out, temperature)
    keys: set[tuple[str, int, str, str]] = set()
    names = [*cast, *speakers(dataset)]  # a quote of these alone states nothing
    for chunk in chunk_scenes(dataset, scenes, max(prompt_budget_tokens - frame, 1)):
        ids = {scene.id for scene, _ in chunk}
        asked = [name for name in cast if seen[name] & ids]
        span = f"scenes {chunk[0][0].id}–{chunk[-1][0].id}"
        out.chunks += 1
        proposed = asker.ask(_prompt(vocabulary, asked, [b for _, b in chunk]), span)
        if proposed is None:
            continue
        out.answered += 1
        for fact in proposed:
            checked = _checked(fact, dataset, set(asked), ids, vocabulary, out, names)
            if checked is None:
                continue
            key = (fact.character, checked.scene_id, checked.attribute, normalise(checked.value))
            if key not in keys:
                keys.add(key)
                out.facts[fact.character].append(checked)
    for facts in out.facts.values():
        facts.sort(key=lambda f: f.scene_id)
    if out.rejected:
        out.notes.append(f"{out.rejected} proposed facts were rejected: outside the "
                         "vocabulary, malformed, or about a scene or character not asked about")
    return out


def _checked(fact: ProposedFact, dataset: Dataset, asked: set[str], ids: set[int],
             vocabulary: FactVocabulary, out: ModelFacts, names: Sequence[str]
             ) -> CharacterFact | None:
    value = fact.value.strip()
    if fact.character not in asked or fact.scene_id not in ids or not value:
        out.rejected += 1
        return None
    quote = quoted_in(fact.source_text, dataset.scenes[fact.scene_id])
    if quote is None or not says_more_than_names(quote, names):
        out.dropped_unquoted += 1
        return None
    is_other = fact.attribute == vocabulary.attributes[Attribute.OTHER]
    suggestion = (fact.suggested_attribute or "").strip() if is_other else ""
    return CharacterFact(scene_id=fact.scene_id, attribute=fact.attribute, value=value,
                         source_text=quote, type=fact.type,
                         suggested_attribute=suggestion or None, source="model")
