"""Planning a dubbing task: one `SegmentRequest` per narration line, each self-contained so a
TTS worker can synthesise it alone (the fan-out sends one per message).

The slot a segment must fit is its footage budget from the narration script's pacing:
`pacing.budget_seconds` (the speech time the writer aimed at, never more than the footage),
else `pacing.footage_seconds`; a script without pacing (the seed's) has no footage to fit, so
its slot is the line's estimated speech time and fitting only keeps it from overrunning that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vss.domain.artifacts import NarrationScript, NarrationSnippet
from vss.domain.dataset import Dataset
from vss.domain.language import LANGUAGES, text_language
from vss.domain.payloads import DubbingServiceParams
from vss.dubbing.speakers import NARRATOR, UNKNOWN, split_speakers
from vss.dubbing.templates import (
    TemplateCatalog,
    VoiceRef,
    VoiceTemplate,
    lang_of_language_code,
    load_templates,
    resolve_voice,
)
from vss.narration.pacing import speech_seconds

__all__ = ["SegmentRequest", "SpeechPart", "characters_of", "plan_segments", "segment_lang"]


class SpeechPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    speaker: str
    text: str


class SegmentRequest(BaseModel):
    """Everything needed to synthesise one segment, and nothing task-wide."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0)
    text: str = Field(min_length=1)
    lang: str
    source_scene_ids: list[int]
    slot_seconds: float = Field(gt=0, description="Speech time the segment must fit.")
    slot_source: Literal["budget", "footage", "estimate"]
    footage_seconds: float | None = None
    template: str
    engine: Literal["google", "offline"]
    voice: VoiceRef = Field(description="The narrator's voice.")
    voices: dict[str, VoiceRef] = Field(
        default_factory=dict, description="Voice of each character who speaks in the line.")
    characters: list[str] = Field(default_factory=list, description="Known character names.")
    speaker: str = Field(NARRATOR, description="Who narrates: 'narrator', or the character "
                         "a first-person narration speaks as.")
    parts: list[SpeechPart]
    tempo: float = Field(1.0, ge=0.5, le=2.0, description="The task's tempo multiplier.")
    director: bool = False
    basename: str = Field(pattern=r"^[\w.-]+\.wav$")

    def voice_of(self, speaker: str) -> VoiceRef:
        return self.voices.get(speaker) or self.voice


def characters_of(dataset: Dataset) -> list[str]:
    """The dataset's speaking characters, most lines first (longer names first on a tie, so
    a full name is preferred to a part of it when attributing a quote)."""
    lines: dict[str, int] = {}
    for scene in dataset.scenes.values():
        for dialogue in scene.dialogues:
            name = (dialogue.speaker or "").strip()
            if name and name.lower() not in ("unknown", "narrator", "旁白", "未知"):
                lines[name] = lines.get(name, 0) + 1
    return sorted(lines, key=lambda name: (-lines[name], -len(name), name))


def segment_lang(script: NarrationScript, params: DubbingServiceParams,
                 template: VoiceTemplate, text: str) -> str:
    """target_lang when the task names it, else its language_code, else the script's
    language, else the template's; a language with no profile falls back to the text's."""
    chosen: str | None = None
    if "target_lang" in params.model_fields_set:
        chosen = params.target_lang.value
    chosen = chosen or lang_of_language_code(params.language_code) or script.lang \
        or template.lang
    return chosen if chosen in LANGUAGES else text_language(text)


def _slot(snippet: NarrationSnippet, lang: str, tempo: float
          ) -> tuple[float, Literal["budget", "footage", "estimate"], float | None]:
    pacing = snippet.pacing
    if pacing is not None and pacing.budget_seconds > 0:
        return pacing.budget_seconds, "budget", pacing.footage_seconds
    if pacing is not None and pacing.footage_seconds > 0:
        return pacing.footage_seconds, "footage", pacing.footage_seconds
    estimate = speech_seconds(snippet.narration, lang) / tempo
    return max(round(estimate, 3), 0.5), "estimate", None


def _perspective(script: NarrationScript) -> str | None:
    control = script.config_snapshot.get("control_params")
    if isinstance(control, dict) and control.get("perspective") == "first_person":
        name = control.get("perspective_character")
        return str(name) if name else None
    return None


def _character_voices(params: DubbingServiceParams) -> dict[str, str]:
    """`service_params.character_voices` {name: voice id}, when the edge sends one."""
    return {name: voice for name, voice in (params.character_voices or {}).items() if voice}


def _cast(template: VoiceTemplate, speakers: Sequence[str],
          chosen: dict[str, str]) -> dict[str, VoiceRef]:
    """Each speaker's voice: one the task chose, else the template's cast in order of first
    appearance (cycling when there are more speakers than voices)."""
    pool = [v for v in template.cast if v.voice != template.narrator.voice] or \
        [template.narrator]
    voices: dict[str, VoiceRef] = {}
    for i, speaker in enumerate(speakers):
        base = pool[i % len(pool)]
        if speaker in chosen:
            base = base.model_copy(update={"voice": chosen[speaker], "gender": None})
        voices[speaker] = base
    return voices


def plan_segments(script: NarrationScript, params: DubbingServiceParams,
                  templates: TemplateCatalog | None = None,
                  characters: Sequence[str] = ()) -> list[SegmentRequest]:
    """One request per narration line, in order. `characters` are the dataset's character
    names (optional): quoted lines are attributed to them."""
    catalog = templates or load_templates()
    # An alias ("default") names a template per language: the language decides which.
    named = catalog.get(params.template_name)
    template = catalog.get(params.template_name,
                           segment_lang(script, params, named,
                                        script.narration_script[0].narration))
    tempo = params.speaking_rate or 1.0
    tempo = min(max(tempo, 0.5), 2.0)
    perspective = _perspective(script)
    known = list(dict.fromkeys([*([perspective] if perspective else []), *characters]))
    chosen = _character_voices(params)

    langs = [segment_lang(script, params, template, s.narration)
             for s in script.narration_script]
    parts = [split_speakers(s.narration, lang, known, perspective or NARRATOR)
             for s, lang in zip(script.narration_script, langs, strict=True)]
    order = [p.speaker for line in parts for p in line if p.speaker not in
             (NARRATOR, perspective)]
    speakers = list(dict.fromkeys([*order, UNKNOWN]))
    cast = _cast(template, speakers, chosen)

    requests = []
    for index, (snippet, lang, line) in enumerate(
            zip(script.narration_script, langs, parts, strict=True)):
        slot, source, footage = _slot(snippet, lang, tempo)
        narrator = resolve_voice(template, params, lang)
        if perspective and perspective in chosen:
            narrator = narrator.model_copy(update={"voice": chosen[perspective]})
        voices = {p.speaker: resolve_voice(template, params, lang, cast[p.speaker])
                  for p in line if p.speaker in cast}
        requests.append(SegmentRequest(
            index=index, text=snippet.narration, lang=lang,
            source_scene_ids=snippet.source_scene_ids, slot_seconds=slot, slot_source=source,
            footage_seconds=footage, template=template.name, engine=template.engine,
            voice=narrator, voices=voices, characters=known, speaker=perspective or NARRATOR,
            parts=[SpeechPart(speaker=p.speaker, text=p.text) for p in line], tempo=tempo,
            director=template.director, basename=f"narration_{index:03d}.wav",
        ))
    return requests
