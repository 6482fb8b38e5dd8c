"""Task payloads as the edge sends them (DESIGN.md §4), one model per task type.

Field names are the seed's; known variants the edge sends are accepted as aliases. Unknown
top-level fields are refused so a typo is reported instead of silently ignored; `service_params`
stays open because edge versions add engine-specific knobs there.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from vss.domain.tasks import TaskType


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


class Scope(_Open):
    type: Literal["full", "episode_range", "scene_selection"] = "full"
    value: Any = None


FOCUS_MODES = {"all": "all", "none": "all", "focus": "focus", "include": "focus",
               "prioritize": "focus", "only": "only", "exclusive": "only"}


def _any_case(words: Iterable[str]) -> str:
    """A pattern for `words` in any letter case: JSON Schema patterns have no `i` flag."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in w) for w in words)
    return f"^(?:{'|'.join(spelled)})$"


class CharacterFocus(_Open):
    """`all` ignores `characters`; `focus` weights their scenes; `only` keeps just those."""

    # The schema admits every spelling `_known_spellings` maps, as the validator does.
    mode: Annotated[Literal["all", "focus", "only"], WithJsonSchema(
        {"type": "string", "pattern": _any_case(FOCUS_MODES)}, mode="validation")] = "all"
    characters: list[str] = Field(default_factory=list)

    @field_validator("mode", mode="before")
    @classmethod
    def _known_spellings(cls, value: object) -> object:
        return FOCUS_MODES.get(str(value).lower(), value) if isinstance(value, str) else value


# `_speaker_for_first_person` in JSON Schema, so the published schema refuses what it refuses.
_FIRST_PERSON_NEEDS_A_SPEAKER: JsonDict = {
    "if": {"required": ["perspective"], "properties": {"perspective": {"const": "first_person"}}},
    "then": {"required": ["perspective_character"],
             "properties": {"perspective_character": {"type": "string", "minLength": 1}}},
}


class ControlParams(_Open):
    """How the narration is written (DESIGN.md §4); see vss.narration for each knob's effect."""

    model_config = ConfigDict(json_schema_extra=_FIRST_PERSON_NEEDS_A_SPEAKER)
    narrative_focus: str = "general"
    style: str = "humorous"
    perspective: Literal["third_person", "first_person"] = "third_person"
    perspective_character: str | None = None
    scope: Scope = Field(default_factory=Scope)
    character_focus: CharacterFocus = Field(default_factory=CharacterFocus)
    target_duration_minutes: float = Field(3.0, gt=0, le=240)
    custom_prompts: dict[str, str] | None = None

    @model_validator(mode="after")
    def _speaker_for_first_person(self) -> ControlParams:
        if self.perspective == "first_person" and not self.perspective_character:
            raise ValueError("perspective 'first_person' needs perspective_character")
        return self


class NarrationServiceParams(_Open):
    lang: Lang = Lang.ZH
    model: str | None = None
    speaking_rate: float | None = Field(None, gt=0.25, le=4.0)
    control_params: ControlParams = Field(default_factory=ControlParams)


class DubbingServiceParams(_Open):
    """The edge sends `speaking_rate` with Gemini templates and `speed` otherwise: both are
    tempo multipliers here (unlike narration's speech rate). `language_code` (cmn-CN, en-US,
    fr-FR) names the language when `target_lang` is absent."""

    template_name: str = "default"
    target_lang: Lang = Field(Lang.ZH, validation_alias=AliasChoices("target_lang", "lang"))
    voice_name: str | None = None
    speaking_rate: float | None = Field(
        None, gt=0.25, le=4.0, validation_alias=AliasChoices("speaking_rate", "speed"))
    language_code: str | None = Field(None, max_length=35)
    model_name: str | None = Field(None, max_length=100)


class EditingAudioParams(_Open):
    """How each clip's source audio is mixed with the narration (see vss.editing.audio)."""

    dialogue_mode: Literal["narration_only", "ducked"] = Field(
        "narration_only", description="Clips with speech in them: the source is muted so two "
        "voices never talk at once, or ducked.")
    ambient_mode: Literal["narration_only", "ducked"] = Field(
        "ducked", description="Clips without speech (establishing, action, reactions): the "
        "source stays under the narration, ducked.")
    duck_db: float = Field(-18.0, ge=-60, le=0, description="Gain of ducked source audio.")
    key_lines: bool = Field(True, description="Play a line the narration quotes in its "
                            "original audio, narration paused, after the segment.")
    key_line_max_seconds: float = Field(6.0, gt=0, le=30)


class EditingServiceParams(_Open):
    lang: Lang | None = None
    fps: float = Field(25.0, gt=0, le=120, description="Frame rate of the source episodes.")
    min_clip_seconds: float = Field(1.5, gt=0, le=60)
    max_clip_seconds: float = Field(5.0, gt=0, le=600)
    min_cited_share: float = Field(0.9, ge=0, le=1, description="Share of each segment's "
                                   "time that should come from the scenes it cites.")
    allow_reuse: bool = Field(False, description="Let a source range appear twice.")
    ranking: Literal["auto", "gemini", "deterministic"] = Field(
        "auto", description="auto: Gemini when a model is configured, else deterministic.")
    model: str | None = None
    max_segment_seconds: float = Field(600.0, gt=0, le=3600, description="Longest narration "
                                       "segment accepted; longer is taken for a bad input.")
    audio: EditingAudioParams = Field(default_factory=EditingAudioParams)


class GenerateNarrationPayload(_Strict):
    blueprint_path: str = Field(validation_alias=AliasChoices("blueprint_path", "dataset_path"))
    asset_name: str | None = None
    asset_id: str | None = None
    service_params: NarrationServiceParams = Field(default_factory=NarrationServiceParams)


class GenerateDubbingPayload(_Strict):
    input_narration_path: str = Field(
        validation_alias=AliasChoices("input_narration_path", "narration_script_path")
    )
    blueprint_path: str | None = None
    service_params: DubbingServiceParams = Field(default_factory=DubbingServiceParams)


class GenerateEditingPayload(_Strict):
    input_dubbing_path: str = Field(
        validation_alias=AliasChoices("input_dubbing_path", "dubbing_script_path")
    )
    blueprint_path: str
    service_params: EditingServiceParams = Field(default_factory=EditingServiceParams)


class GenerateCommentaryPayload(_Strict):
    """The whole job in one task: each stage's parameters under its own key, the same models
    as the single-stage tasks; `stop_at` ends the task after that step."""

    blueprint_path: str = Field(validation_alias=AliasChoices("blueprint_path", "dataset_path"))
    asset_name: str | None = None
    asset_id: str | None = None
    stop_at: Literal["narration", "dubbing", "editing"] = "editing"
    narration: NarrationServiceParams = Field(default_factory=NarrationServiceParams)
    dubbing: DubbingServiceParams = Field(default_factory=DubbingServiceParams)
    editing: EditingServiceParams = Field(default_factory=EditingServiceParams)


PAYLOADS: dict[TaskType, type[_Strict]] = {
    TaskType.GENERATE_NARRATION: GenerateNarrationPayload,
    TaskType.GENERATE_DUBBING: GenerateDubbingPayload,
    TaskType.GENERATE_EDITING_SCRIPT: GenerateEditingPayload,
    TaskType.GENERATE_COMMENTARY: GenerateCommentaryPayload,
}


def input_paths(payload: BaseModel) -> dict[str, str]:
    """The payload's `*_path` fields that name a file the task reads."""
    return {
        name: value
        for name, value in payload.model_dump().items()
        if name.endswith("_path") and isinstance(value, str)
    }
