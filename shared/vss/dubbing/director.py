"""The model's two jobs in dubbing, both through the StructuredLlm port and both optional:

- the audio director (templates with `director: true`): a delivery note per line for
  Gemini-TTS voices (emotion, pace, emphasis). Notes go in the request's style prompt, which
  the voice follows and never speaks, so the words spoken are always the script's;
- the rewrite used when a line is too long for its slot: the same content in fewer units.

A model that fails or answers badly costs the segment its notes (or the rewrite falls back to
a cut), never the segment itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import BaseModel, Field

from vss.domain.language import language_profile, speech_units
from vss.dubbing.plan import SegmentRequest, SpeechPart
from vss.dubbing.synthesis import Director, Rewrite
from vss.errors import VssError
from vss.ports import StructuredLlm

__all__ = ["llm_director", "llm_rewriter"]

log = logging.getLogger(__name__)
MAX_NOTE_CHARS = 160

DIRECTOR_SYSTEM = (
    "You are the audio director of a short-drama commentary channel. For each numbered line a "
    "voice actor will read, write one short delivery instruction: emotion, pace, emphasis, "
    "pauses. Never rewrite, translate or repeat the line's words; instructions only, in "
    "English, at most 20 words each."
)
REWRITE_SYSTEM = (
    "You shorten narration lines for a voice-over so they fit their footage. Keep the facts, "
    "names and tone; drop detail, not meaning. Answer in the line's language."
)


class LineNote(BaseModel):
    line: int = Field(ge=1)
    note: str


class DeliveryNotes(BaseModel):
    notes: list[LineNote]


class ShorterLine(BaseModel):
    text: str


def llm_director(llm: StructuredLlm) -> Director:
    def direct(request: SegmentRequest, parts: Sequence[SpeechPart]) -> list[str | None]:
        lines = "\n".join(f"{i}. [{p.speaker}] {p.text}" for i, p in enumerate(parts, 1))
        prompt = (f"Language: {request.lang}. Template: {request.template}.\n"
                  f"Lines:\n{lines}\n\nReturn one note per line number.")
        try:
            result = llm.generate(system=DIRECTOR_SYSTEM, prompt=prompt, schema=DeliveryNotes)
        except VssError as exc:
            log.warning("audio director failed; lines keep the template's style",
                        extra={"segment": request.index, "code": exc.code})
            return [None] * len(parts)
        notes: list[str | None] = [None] * len(parts)
        for item in result.parsed.notes if result.parsed else []:
            note = " ".join(item.note.split())[:MAX_NOTE_CHARS]
            # A note that repeats the line would be an instruction to say it differently.
            if 1 <= item.line <= len(parts) and note and parts[item.line - 1].text not in note:
                notes[item.line - 1] = note
        return notes

    return direct


def llm_rewriter(llm: StructuredLlm) -> Rewrite:
    def rewrite(text: str, seconds: float, lang: str) -> str:
        profile = language_profile(lang)
        units = max(1, int(seconds * profile.units_per_second))
        prompt = (f"Shorten this {profile.name} line to at most {units} {profile.unit_name} "
                  f"(it now has {speech_units(text, lang)}):\n{text}")
        try:
            result = llm.generate(system=REWRITE_SYSTEM, prompt=prompt, schema=ShorterLine)
        except VssError:
            return text
        return result.parsed.text.strip() if result.parsed else text

    return rewrite
