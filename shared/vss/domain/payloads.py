"""Task payloads as the edge sends them (DESIGN.md §4), one model per task type.

Field names are the seed's; known variants the edge sends are accepted as aliases. Unknown
top-level fields are refused so a typo is reported instead of silently ignored; `service_params`
stays open because edge versions add engine-specific knobs there (the seed's edge sends
`rag_top_k` and `debug`): an unknown key is kept as opaque JSON when its value is a scalar or a
list of scalars and the key is 1 to 375 characters (Firestore stores every key: at most 1,500
bytes, none empty); anything else is a 400 pointing at the key. The API document says the same
(`additionalProperties`, `propertyNames`), so a client can tell in advance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from vss.domain.artifacts import DeliveryFormat
from vss.domain.language import language_profile
from vss.domain.pointers import validated
from vss.domain.tasks import Stage, TaskType
from vss.errors import PayloadInvalid

Scalar = str | int | float | bool | None
# An edge's asset id: one URL path segment (`/api/v1/assets/{asset_id}/`).
ASSET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
DEFAULT_RAG_TOP_K = 20
MAX_RAG_TOP_K = 200
# 375 characters of at most 4 UTF-8 bytes each fit Firestore's 1,500-byte field names.
ExtraKey = Annotated[str, StringConstraints(min_length=1, max_length=375)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    # An edge's extra knobs, kept as they came (module docstring).
    __pydantic_extra__: dict[ExtraKey, Scalar | list[Scalar]] = Field(init=False)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> JsonDict:
        schema: JsonDict = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        target["propertyNames"] = {"minLength": 1, "maxLength": 375}
        return schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"
    FR = "fr"


class Scope(_Open):
    type: Literal["full", "episode_range", "scene_selection"] = "full"
    # The spellings `vss.narration.scope` reads: "3-7", 4, [3, 7], {"start": 3, "end": 7}.
    value: Scalar | list[Scalar] | dict[ExtraKey, Scalar | list[Scalar]] = None


FOCUS_MODES = {"all": "all", "none": "all", "focus": "focus", "include": "focus",
               "prioritize": "focus", "specific": "focus", "only": "only", "exclusive": "only"}


def _any_case(words: Iterable[str]) -> str:
    """A pattern for `words` in any letter case: JSON Schema patterns have no `i` flag."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in w) for w in words)
    return f"^(?:{'|'.join(spelled)})$"


class CharacterFocus(_Open):
    """`all` ignores `characters`; `focus` (the edge's `specific`) weights their scenes; `only`
    keeps just those."""

    # The schema admits every spelling `_known_spellings` maps, as the validator does.
    mode: Annotated[Literal["all", "focus", "only"], WithJsonSchema(
        {"type": "string", "pattern": _any_case(FOCUS_MODES)}, mode="validation")] = "all"
    characters: list[str] = Field(default_factory=list)

    @field_validator("mode", mode="before")
    @classmethod
    def _known_spellings(cls, value: object) -> object:
        return FOCUS_MODES.get(str(value).lower(), value) if isinstance(value, str) else value


class NarrativeFocus(StrEnum):
    """What the narration dwells on (`vss.narration.focus` says how each is read)."""

    GENERAL = "general"
    ROMANTIC_PROGRESSION = "romantic_progression"
    BUSINESS_SUCCESS = "business_success"
    SUSPENSE_REVEAL = "suspense_reveal"
    CHARACTER_GROWTH = "character_growth"
    REVENGE_PLOT = "revenge_plot"
    CUSTOM = "custom"  # described in custom_prompts.narrative_focus


class Style(StrEnum):
    """The narrator's voice (`vss.narration.voice` offline, prompts/style_*.txt with Gemini)."""

    HUMOROUS = "humorous"
    SERIOUS = "serious"
    SUSPENSE = "suspense"
    SARCASTIC = "sarcastic"
    EMOTIONAL = "emotional"
    HEALING = "healing"
    OBJECTIVE = "objective"
    CUSTOM = "custom"  # described in custom_prompts.style


# Other spellings of a value, as earlier clients wrote them.
STYLE_ALIASES = {"neutral": Style.OBJECTIVE.value}


def _choice(value: object, aliases: dict[str, str] | None = None) -> object:
    """An enum value as the edge may write it: any case, spaces or hyphens for underscores."""
    if not isinstance(value, str):
        return value
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    return (aliases or {}).get(key, key)


def _spellings(words: Iterable[str]) -> JsonDict:
    """The JSON Schema of what `_choice` accepts for `words`: the values, or any spelling of
    them in any case, with spaces or hyphens for underscores, spaces around."""
    values: list[Any] = list(words)
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else "[-_ ]" if c == "_"
                       else c for c in w) for w in values)
    return {"anyOf": [{"enum": values},
                      {"type": "string", "pattern": rf"^\s*(?:{'|'.join(spelled)})\s*$"}]}


class CustomPrompts(_Open):
    """Free-text instructions for `custom` focus or style. The Gemini writer follows them; the
    offline writer can only approximate them (and says so)."""

    narrative_focus: str | None = None
    style: str | None = None


# (Any: JsonDict's lists are invariant, and these are nested in lists.)
_SAID: dict[str, Any] = {"type": "string", "pattern": r"\S"}  # some text besides spaces
_CUSTOM: dict[str, Any] = {"type": "string", "pattern": r"^\s*[cC][uU][sS][tT][oO][mM]\s*$"}
# The validators of ControlParams in JSON Schema, so the published schema refuses what they
# refuse: first person needs a speaker (not a blank one), custom needs its description.
_CONTROL_RULES: dict[str, Any] = {"allOf": [
    {"if": {"required": ["perspective"],
            "properties": {"perspective": {"const": "first_person"}}},
     "then": {"required": ["perspective_character"],
              "properties": {"perspective_character": _SAID}}},
    *({"if": {"required": [knob], "properties": {knob: _CUSTOM}},
       "then": {"required": ["custom_prompts"], "properties": {"custom_prompts": {
           "type": "object", "required": [knob], "properties": {knob: _SAID}}}}}
      for knob in ("narrative_focus", "style")),
]}


class ControlParams(_Open):
    """How the narration is written (DESIGN.md §4); see vss.narration for each knob's effect."""

    model_config = ConfigDict(json_schema_extra=_CONTROL_RULES)
    narrative_focus: Annotated[NarrativeFocus, WithJsonSchema(
        _spellings(NarrativeFocus), mode="validation")] = NarrativeFocus.GENERAL
    style: Annotated[Style, WithJsonSchema(
        _spellings([*Style, *STYLE_ALIASES]), mode="validation")] = Style.HUMOROUS
    perspective: Literal["third_person", "first_person"] = "third_person"
    perspective_character: str | None = None
    scope: Scope = Field(default_factory=Scope)
    character_focus: CharacterFocus = Field(default_factory=CharacterFocus)
    target_duration_minutes: float = Field(3.0, gt=0, le=240)
    custom_prompts: CustomPrompts | None = Field(None, validate_default=True)

    @field_validator("narrative_focus", mode="before")
    @classmethod
    def _focus_spelling(cls, value: object) -> object:
        return _choice(value)

    @field_validator("style", mode="before")
    @classmethod
    def _style_spelling(cls, value: object) -> object:
        return _choice(value, STYLE_ALIASES)

    @field_validator("perspective_character", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """The edge sends "" with the third person."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("custom_prompts")
    @classmethod
    def _custom_is_described(cls, value: CustomPrompts | None,
                             info: ValidationInfo) -> CustomPrompts | None:
        for knob, custom in (("narrative_focus", NarrativeFocus.CUSTOM),
                             ("style", Style.CUSTOM)):
            text = getattr(value, knob, None) if value is not None else None
            if info.data.get(knob) == custom and not (text and text.strip()):
                raise ValueError(f"{knob} 'custom' needs its description in "
                                 f"custom_prompts.{knob}")
        return value

    @model_validator(mode="after")
    def _speaker_for_first_person(self) -> ControlParams:
        if self.perspective == "first_person" and not self.perspective_character:
            raise ValueError("perspective 'first_person' needs perspective_character")
        return self


def check_speaking_rate(rate: float | None, lang: object) -> float | None:
    """`rate` if it is a plausible speech rate for `lang` (units per second), else ValueError
    naming the range. `lang` None (itself invalid) leaves the check to that field's error."""
    if rate is None or not isinstance(lang, Lang):
        return rate
    profile = language_profile(lang.value)
    low, high = profile.plausible_rates
    if not low <= rate <= high:
        raise ValueError(
            f"{rate:g} is not a plausible {profile.name} speech rate: speaking_rate is "
            f"{profile.unit_name} per second ({low:g} to {high:g}; typical "
            f"{profile.units_per_second:g}), not a tempo multiplier")
    return rate


def _plausible_rates(field: str, default: Lang | None = None) -> JsonDict:
    """`check_speaking_rate` in JSON Schema: speaking_rate within the plausible rates of the
    language `field` names (of `default` when `field` is absent)."""
    rules: list[Any] = []
    for lang in Lang:
        low, high = language_profile(lang.value).plausible_rates
        named: dict[str, Any] = {"required": [field], "properties": {field: {"const": lang.value}}}
        when = {"anyOf": [named, {"not": {"required": [field]}}]} if lang == default else named
        rules.append({"if": when, "then": {"properties": {"speaking_rate": {"anyOf": [
            {"type": "null"}, {"type": "number", "minimum": low, "maximum": high}]}}}})
    return {"allOf": rules}


class NarrationServiceParams(_Open):
    """`speaking_rate` is the narration's speech rate in `lang`'s units per second (Chinese
    characters, English or French words); the configured rate when absent.
    `overflow_tolerance` is a fraction of each snippet's slot: -0.15 leaves 15% of it silent,
    +0.15 lets the narration run 15% over it."""

    model_config = ConfigDict(json_schema_extra=_plausible_rates("lang", Lang.ZH))
    lang: Lang = Lang.ZH
    model: str | None = None
    speaking_rate: float | None = Field(None, description="Units per second in `lang`.")
    overflow_tolerance: float = Field(0.0, ge=-0.5, le=0.5)
    rag_top_k: int | None = Field(
        None, ge=1, description="With a story index (the payload's "
        "`asset_id` deployed by DEPLOY_RAG_CORPUS): the scenes retrieved for the narration's "
        f"focus, characters and custom prompts (default {DEFAULT_RAG_TOP_K}; at most "
        f"{MAX_RAG_TOP_K} are used).")
    debug: bool = Field(False, description="Accepted and ignored: every script carries its "
                        "pacing per snippet and its notes.")
    control_params: ControlParams = Field(default_factory=ControlParams)

    @field_validator("speaking_rate")
    @classmethod
    def _plausible_rate(cls, value: float | None, info: ValidationInfo) -> float | None:
        return check_speaking_rate(value, info.data.get("lang"))


class LocalizationServiceParams(_Open):
    """`lang` is the master script's language, `target_lang` the one to write; `speaking_rate`
    and `overflow_tolerance` as in narration, in `target_lang`'s units."""

    model_config = ConfigDict(json_schema_extra=_plausible_rates("target_lang", Lang.EN))
    lang: Lang = Lang.ZH
    target_lang: Lang = Field(Lang.EN, description="The language to write; English when "
                              "absent.")
    model: str | None = None
    speaking_rate: float | None = Field(None, description="Units per second in `target_lang`.")
    overflow_tolerance: float = Field(0.0, ge=-0.5, le=0.5)

    @field_validator("speaking_rate")
    @classmethod
    def _plausible_rate(cls, value: float | None, info: ValidationInfo) -> float | None:
        return check_speaking_rate(value, info.data.get("target_lang"))


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
    character_voices: dict[ExtraKey, str] | None = Field(
        None, description="A voice per character, by name: `{\"车小小\": \"jf_nezumi\"}`; "
        "characters not named here get the template's cast.")


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
    delivery: DeliveryFormat = Field(
        default_factory=DeliveryFormat, description="The sequence format of the timeline "
        "exports: fps (default: `fps`), width and height (default 1920x1080).")


class GenerateNarrationPayload(_Strict):
    blueprint_path: str = Field(validation_alias=AliasChoices("blueprint_path", "dataset_path"))
    asset_name: str | None = None
    asset_id: str | None = None
    story_index_path: str | None = Field(
        None, description="The story index manifest the narration retrieves from. Set at "
        "creation from `asset_id`'s current index when omitted (none: no retrieval); pinned, "
        "so a redeploy while the narration runs does not change what it reads.")
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
    story_index_path: str | None = Field(None, description="As in GENERATE_NARRATION.")
    stop_at: Literal["narration", "dubbing", "editing"] = "editing"
    narration: NarrationServiceParams = Field(default_factory=NarrationServiceParams)
    dubbing: DubbingServiceParams = Field(default_factory=DubbingServiceParams)
    editing: EditingServiceParams = Field(default_factory=EditingServiceParams)

    def stage_payload(self, stage: Stage, chained: Mapping[str, str]) -> BaseModel:
        """The payload of the single-stage task `stage` runs as: the stage's parameters, the
        dataset, and `chained` (input field -> the file an earlier stage produced). Raises
        PayloadInvalid with pointers into this payload."""
        raw: dict[str, Any] = {
            "blueprint_path": self.blueprint_path,
            "service_params": getattr(self, COMMENTARY_PARAMS[stage]).model_dump(mode="json"),
            **chained,
        }
        if stage == Stage.NARRATION:
            raw |= {"asset_name": self.asset_name, "asset_id": self.asset_id,
                    "story_index_path": self.story_index_path}
        try:
            return validated(STAGE_PAYLOADS[stage], raw, PayloadInvalid,
                             f"The {stage.value} stage's inputs are invalid.", "/payload")
        except PayloadInvalid as exc:
            point_at_stage_params(stage, exc.details)
            raise


# Where a commentary task keeps each stage's parameters.
COMMENTARY_PARAMS: dict[Stage, str] = {
    Stage.NARRATION: "narration", Stage.DUBBING: "dubbing", Stage.DUBBING_ASSEMBLY: "dubbing",
    Stage.EDITING: "editing",
}


def point_at_stage_params(stage: Stage, details: Any) -> None:
    """An error about a stage's `service_params` (/payload/service_params/...), raised in a
    commentary task: point it, in place, at where the commentary payload keeps them."""
    if not isinstance(details, dict):
        return
    key = f"/payload/{COMMENTARY_PARAMS[stage]}"
    for error in details.get("errors", []):
        if isinstance(error, dict) and isinstance(error.get("pointer"), str):
            error["pointer"] = error["pointer"].replace("/payload/service_params", key, 1)


class CharacterIdentifierParams(_Open):
    characters_to_analyze: list[Annotated[str, StringConstraints(min_length=1,
                                                                 max_length=100)]] = Field(
        default_factory=list, max_length=50,
        description="Names as the dataset spells them; none: everyone who speaks.")
    lang: Lang | None = Field(None, description="The report's language (its attribute and "
                              "type labels, and the values); the dataset's own when absent.")
    model: str | None = None
    temp: float | None = Field(None, ge=0, le=2, description="Sampling temperature.")


class CharacterIdentifierPayload(_Strict):
    input_file_path: str = Field(description="The dataset.")
    service_params: CharacterIdentifierParams = Field(
        default_factory=CharacterIdentifierParams)


class DeployRagCorpusPayload(_Strict):
    blueprint_input_path: str = Field(description="The dataset.")
    facts_input_path: str | None = Field(
        None, description="Character facts (a CHARACTER_IDENTIFIER result's "
        "`output_file_path`, or an upload of the same shape).")
    asset_id: str = Field(
        min_length=1, max_length=128, pattern=ASSET_ID_PATTERN,
        description="The edge's asset: one index per tenant and asset, replaced by the next "
        "deploy.")


class LocalizeNarrationPayload(_Strict):
    master_script_path: str = Field(description="The narration script to localise.")
    blueprint_path: str = Field(description="The dataset the script narrates: its scenes "
                                "give the footage slots and the glossary.")
    service_params: LocalizationServiceParams = Field(
        default_factory=LocalizationServiceParams)


# The payload model each stage reads (a commentary task's stages read the same).
STAGE_PAYLOADS: dict[Stage, type[_Strict]] = {
    Stage.NARRATION: GenerateNarrationPayload,
    Stage.DUBBING: GenerateDubbingPayload,
    Stage.DUBBING_ASSEMBLY: GenerateDubbingPayload,
    Stage.EDITING: GenerateEditingPayload,
    Stage.LOCALIZATION: LocalizeNarrationPayload,
    Stage.CHARACTER_FACTS: CharacterIdentifierPayload,
    Stage.STORY_INDEX: DeployRagCorpusPayload,
}

PAYLOADS: dict[TaskType, type[_Strict]] = {
    TaskType.GENERATE_NARRATION: GenerateNarrationPayload,
    TaskType.GENERATE_DUBBING: GenerateDubbingPayload,
    TaskType.GENERATE_EDITING_SCRIPT: GenerateEditingPayload,
    TaskType.GENERATE_COMMENTARY: GenerateCommentaryPayload,
    TaskType.LOCALIZE_NARRATION: LocalizeNarrationPayload,
    TaskType.CHARACTER_IDENTIFIER: CharacterIdentifierPayload,
    TaskType.DEPLOY_RAG_CORPUS: DeployRagCorpusPayload,
}


def input_paths(payload: BaseModel) -> dict[str, str]:
    """The payload's `*_path` fields that name a file the task reads."""
    return {
        name: value
        for name, value in payload.model_dump().items()
        if name.endswith("_path") and isinstance(value, str)
    }
