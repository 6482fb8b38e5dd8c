"""Narration by a structured-output LLM, bounded for long series.

The plan is cut into chunks of consecutive snippets (episode ranges) whose scene excerpts fit
the prompt budget; each chunk is one call (map), told how the previous chunk ended, and the
chunks are merged in story order (reduce). Cost grows linearly with the dataset. Malformed
output is repaired (JSON pulled out of fences or prose) or asked for once more; a snippet the
model still did not deliver falls back to the offline writer and is marked so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, ValidationError

from vss.domain.dataset import Dataset, Scene
from vss.domain.language import (
    ALL_SENTENCE_ENDS,
    ELLIPSIS,
    char_class,
    estimate_tokens,
    language_profile,
    written_in,
)
from vss.domain.payloads import ControlParams, NarrativeFocus, Style
from vss.domain.usage import Usage
from vss.narration.clean import clean_tts_text
from vss.narration.focus import FocusLens
from vss.narration.plan import NarrationPlan, PlannedSnippet
from vss.narration.prompts import render
from vss.ports import LlmResult, M, StructuredLlm

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class DraftSnippet(BaseModel):
    index: int
    narration: str
    source_scene_ids: list[int] = Field(default_factory=list)


class Draft(BaseModel):
    snippets: list[DraftSnippet]


class Rewrite(BaseModel):
    index: int
    narration: str


class Rewrites(BaseModel):
    items: list[Rewrite]


@dataclass
class Written:
    text: str
    scene_ids: list[int]
    engine: str  # "gemini" | "offline-fallback"


@dataclass
class LlmNarration:
    written: dict[int, Written] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)


def scene_excerpt(scene: Scene, chapter_name: str, max_lines: int = 6,
                  singled: bool = False) -> str:
    parts = [f"  scene {scene.id} ({chapter_name}, {scene.duration:.0f}s"
             f"{', ' + scene.location if scene.location else ''}){' [focus]' if singled else ''}"]
    for label, text in (("summary", scene.narrative_summary),
                        ("dynamics", scene.character_dynamics)):
        if text:
            parts.append(f"    {label}: {text}")
    for caption in scene.captions:
        parts.append(f"    caption: {caption.content}")
    for highlight in scene.highlights:
        parts.append(f"    highlight: {highlight}")
    for line in scene.dialogues[:max_lines]:
        parts.append(f"    {line.speaker or '?'}: {line.content}")
    return "\n".join(parts)


def _unit_rule(lang: str, units: int | None = None) -> str:
    unit = language_profile(lang).unit_name
    return f"{units} {unit}" if units is not None else f"the number of {unit} given"


EXCERPT_DETAIL = (6, 2, 0)  # dialogue lines per scene, richest first
BRIEF_CHARS = 80


def brief_excerpt(scene: Scene) -> str:
    """One line for a scene when a snippet covers too many for detail."""
    text = scene.narrative_summary or scene.character_dynamics or next(iter(scene.highlights), "")
    clipped = text if len(text) <= BRIEF_CHARS else text[:BRIEF_CHARS] + "…"
    return f"  scene {scene.id}: {clipped}"


def id_ranges(ids: tuple[int, ...]) -> str:
    """'1-20, 25, 30-31': a snippet over hundreds of scenes names them in a few tokens."""
    runs: list[list[int]] = []
    for scene_id in ids:
        if runs and scene_id == runs[-1][-1] + 1:
            runs[-1].append(scene_id)
        else:
            runs.append([scene_id])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _salience(scene: Scene) -> tuple[int, float, int]:
    return len(scene.highlights), scene.duration, -scene.id


def snippet_block(dataset: Dataset, snippet: PlannedSnippet, lang: str, budget_tokens: int,
                  singled: frozenset[int] = frozenset()) -> str:
    """The snippet's brief and its scenes, as detailed as `budget_tokens` allows: fewer
    dialogue lines first, then one line for each of the most telling scenes. Scenes in
    `singled` are marked as the focus's."""
    header = (f"- snippet {snippet.index}: budget {_unit_rule(lang, snippet.budget_units)}, "
              f"{snippet.function.value.lower()}, scenes {id_ranges(snippet.scene_ids)}")
    chapters = {c.id: c.name for c in dataset.chapters}
    scenes = [dataset.scenes[i] for i in snippet.scene_ids]
    for lines in EXCERPT_DETAIL:
        block = "\n".join([header, *(scene_excerpt(s, chapters.get(s.chapter_id, ""), lines,
                                                    s.id in singled) for s in scenes)])
        if estimate_tokens(block) <= budget_tokens:
            return block
    header += " (too many scenes for detail: the most telling ones, one line each)"
    used, chosen = estimate_tokens(header), set()
    for scene in sorted(scenes, key=_salience, reverse=True):
        cost = estimate_tokens(brief_excerpt(scene))
        if used + cost > budget_tokens:
            break
        used += cost
        chosen.add(scene.id)
    return "\n".join([header, *(brief_excerpt(s) for s in scenes if s.id in chosen)])


STORY_SHARE = 8  # at most 1/8 of the prompt budget recalls the episodes already narrated
# An episode's gist is its first statement: it ends at a full stop, question or exclamation of
# any language, not at an ellipsis, which trails off into what follows.
_GIST_END = re.compile(f"(?<={char_class(ALL_SENTENCE_ENDS.replace(ELLIPSIS, ''))})")


def _gist(dataset: Dataset, chapter_id: int) -> str:
    """An episode in one line: its name and the first sentence of its longest scene's summary."""
    chapter = next(c for c in dataset.chapters if c.id == chapter_id)
    scenes = [s for s in dataset.scenes.values() if s.chapter_id == chapter_id]
    main = max(scenes, key=lambda s: s.duration, default=None)
    text = (main.narrative_summary or main.character_dynamics or "") if main else ""
    first = _GIST_END.split(text, maxsplit=1)[0][:BRIEF_CHARS]
    return f"  {chapter.name}: {first}" if first else f"  {chapter.name}"


def story_so_far(dataset: Dataset, plan: NarrationPlan, first: PlannedSnippet,
                 budget_tokens: int) -> str:
    """What a chunk's model call must know of the episodes before it (the reduce side of
    chunked writing): one line per earlier episode, the most recent kept when over budget."""
    earlier = [c for s in plan.snippets[:first.index] for c in s.chapter_ids]
    earlier = [c for c in dict.fromkeys(earlier) if c not in first.chapter_ids]
    if not earlier:
        return ""
    lines: list[str] = []
    used = 0
    for chapter_id in reversed(earlier):
        line = _gist(dataset, chapter_id)
        used += estimate_tokens(line)
        if used > budget_tokens:
            break
        lines.append(line)
    return "The story so far (episodes already narrated):\n" + "\n".join(reversed(lines))


def chunk_plan(dataset: Dataset, plan: NarrationPlan, budget_tokens: int,
               singled: frozenset[int] = frozenset()
               ) -> list[list[tuple[PlannedSnippet, str]]]:
    """Consecutive snippets with their blocks, each chunk's blocks within `budget_tokens`."""
    chunks: list[list[tuple[PlannedSnippet, str]]] = []
    used = budget_tokens + 1
    for snippet in plan.snippets:
        block = snippet_block(dataset, snippet, plan.lang, budget_tokens, singled)
        cost = estimate_tokens(block)
        if used + cost > budget_tokens and (not chunks or chunks[-1]):
            chunks.append([])
            used = 0
        chunks[-1].append((snippet, block))
        used += cost
    return chunks


def parse_or_repair(result: LlmResult[M], schema: type[M]) -> M | None:
    if result.parsed is not None:
        return result.parsed
    text = re.sub(r"```(?:json)?", "", result.text)
    match = _JSON_OBJECT.search(text)
    if not match:
        return None
    try:
        return schema.model_validate(json.loads(match.group(0)))
    except (ValueError, ValidationError):
        return None


class LlmWriter:
    def __init__(self, llm: StructuredLlm, *, prompt_budget_tokens: int) -> None:
        self.llm = llm
        self.budget = prompt_budget_tokens
        self.usage = Usage()

    def ask(self, system: str, prompt: str, schema: type[M]) -> M | None:
        """The model's answer as `schema`: repaired if it can be, asked for once more if not;
        None if the second answer is no better. Every call is counted in `usage`."""
        result = self.llm.generate(system=system, prompt=prompt, schema=schema)
        self.usage += result.usage
        parsed = parse_or_repair(result, schema)
        if parsed is None:  # one more try, told what went wrong
            retry = self.llm.generate(system=system, prompt=render("repair", original=prompt),
                                      schema=schema)
            self.usage += retry.usage
            parsed = parse_or_repair(retry, schema)
        return parsed

    def write(self, dataset: Dataset, plan: NarrationPlan, params: ControlParams,
              offline: Callable[[list[PlannedSnippet]], list[tuple[str, tuple[int, ...]]]],
              lens: FocusLens | None = None, known_facts: str = "") -> LlmNarration:
        out = LlmNarration()
        lang_name = language_profile(plan.lang).name
        system = render("narration_system", lang_name=lang_name, title=dataset.title)
        singled = frozenset(lens.singled_out()) if lens else frozenset()
        previous = ""
        for blocks in chunk_plan(dataset, plan, self.budget, singled):
            chunk = [snippet for snippet, _ in blocks]
            prompt = render(
                "narration", lang_name=lang_name, title=dataset.title,
                style_rule=style_rule(params), focus_rule=focus_rule(params, lens),
                perspective_rule=_perspective_rule(params),
                character_rule=_character_rule(params),
                custom_rules="\n".join(filter(None, (_custom_rules(params), known_facts))),
                unit_rule=_unit_rule(plan.lang), previous_rule=_previous_rule(previous),
                story_so_far=story_so_far(dataset, plan, chunk[0], self.budget // STORY_SHARE),
                snippets="\n".join(block for _, block in blocks),
            )
            draft = self.ask(system, prompt, Draft)
            delivered = {d.index: d for d in (draft.snippets if draft else [])}
            missing = []
            for snippet in chunk:
                got = delivered.get(snippet.index)
                text = usable_text(got.narration, plan.lang) if got else ""
                if not text:
                    missing.append(snippet)
                    continue
                ids = [i for i in (got.source_scene_ids if got else []) if i in snippet.scene_ids]
                out.written[snippet.index] = Written(text, ids or list(snippet.scene_ids),
                                                     self.llm.name)
            if missing:
                out.notes.append(f"offline fallback for snippets {[s.index for s in missing]}")
                for snippet, (text, cited) in zip(missing, offline(missing), strict=True):
                    out.written[snippet.index] = Written(text, list(cited), "offline-fallback")
            previous = out.written[chunk[-1].index].text
        out.usage = self.usage
        return out

    def rewrite(self, over: list[tuple[PlannedSnippet, str]], lang: str, voice: str,
                term_rule: str = "") -> dict[int, str]:
        """Shorter versions of over-budget snippets in `lang` (one call for all of them),
        keeping `voice` (a style rule) and `term_rule` (how names are rendered)."""
        items = "\n".join(
            f"- index {s.index}, at most {_unit_rule(lang, s.budget_units)}: {text}"
            for s, text in over)
        lang_name = language_profile(lang).name
        prompt = render("rewrite", lang_name=lang_name, style_rule=voice,
                        unit_rule=_unit_rule(lang), term_rule=term_rule, items=items)
        system = render("rewrite_system", lang_name=lang_name)
        answer = self.ask(system, prompt, Rewrites)
        wanted = {s.index for s, _ in over}
        usable = {r.index: usable_text(r.narration, lang)
                  for r in (answer.items if answer else []) if r.index in wanted}
        return {index: text for index, text in usable.items() if text}


def usable_text(text: str, lang: str) -> str:
    """The TTS-clean text, or "" when it is not in the narration's language (a voice for one
    language cannot read another)."""
    clean = clean_tts_text(text)
    return clean if clean and written_in(clean, lang) else ""


def _perspective_rule(params: ControlParams) -> str:
    if params.perspective == "first_person":
        return (f"Perspective: first person, spoken as {params.perspective_character} "
                f"(\"I\"/\"我\"), who knows only what they witnessed.")
    return "Perspective: third-person narrator."


def _character_rule(params: ControlParams) -> str:
    focus = params.character_focus
    if focus.mode == "all" or not focus.characters:
        return "Give every character their due."
    return f"Centre the narration on: {', '.join(focus.characters)}."


def style_rule(params: ControlParams) -> str:
    """The voice of `params.style` (prompts/style_<style>.txt)."""
    custom = (params.custom_prompts.style if params.custom_prompts else None) or ""
    return render(f"style_{params.style.value}", custom=custom)


def focus_rule(params: ControlParams, lens: FocusLens | None) -> str:
    """What `params.narrative_focus` dwells on (prompts/focus_<focus>.txt), naming the couple
    or the protagonist the dataset gives it."""
    custom = (params.custom_prompts.narrative_focus if params.custom_prompts else None) or ""
    cast = list(lens.cast) if lens else []
    return render(f"focus_{params.narrative_focus.value}", custom=custom,
                  couple=" and ".join(cast) or "the main couple",
                  protagonist=cast[0] if cast else "the protagonist")


def _custom_rules(params: ControlParams) -> str:
    """Custom prompts for a knob not set to `custom` (those are the knob's own rule)."""
    prompts = params.custom_prompts.model_dump(exclude_none=True) if params.custom_prompts \
        else {}
    own = {"narrative_focus": params.narrative_focus == NarrativeFocus.CUSTOM,
           "style": params.style == Style.CUSTOM}
    return "\n".join(f"Editor's instruction ({k}): {v}" for k, v in sorted(prompts.items())
                     if isinstance(v, str) and v.strip() and not own.get(k))


def _previous_rule(previous: str) -> str:
    return f"The previous snippet ended: \"{previous[-200:]}\" Continue from it." if previous \
        else "This is the opening of the video: start with a hook."
