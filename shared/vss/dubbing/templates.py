"""Voice templates as data: `voices/templates.json`, validated when it is loaded.

A template names who narrates (one voice on Cloud Text-to-Speech or on the offline engines)
and a cast of other voices for the characters the narration quotes or speaks as. Adding a
voice is an edit of the JSON file, not of code. The edge names a template in
`service_params.template_name`; `check_dubbing_params` refuses an unknown one at task creation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vss.domain.payloads import DubbingServiceParams
from vss.domain.pointers import pointer_errors
from vss.errors import BadRequest, PayloadInvalid

__all__ = ["LANGUAGE_CODES", "CloneSource", "TemplateCatalog", "VoiceRef", "VoiceTemplate",
           "check_dubbing_params", "lang_of_language_code", "load_templates",
           "reference_audio", "resolve_voice"]

TEMPLATE_FILE = "templates.json"
TEMPLATE_POINTER = "/payload/service_params/template_name"

# The BCP-47 code Cloud TTS is asked for, per narration language (the edge's convention).
LANGUAGE_CODES: Mapping[str, str] = {"zh": "cmn-CN", "en": "en-US", "fr": "fr-FR"}
_LANG_OF_PREFIX = {"cmn": "zh", "zh": "zh", "yue": "zh", "en": "en", "fr": "fr"}


def lang_of_language_code(code: str | None) -> str | None:
    """'zh' for cmn-CN, 'en' for en-GB, …; None for a code of no narration language."""
    if not code:
        return None
    return _LANG_OF_PREFIX.get(code.split("-", 1)[0].lower())


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CloneSource(_Frozen):
    """The recording an instant custom voice is cloned from (a file beside templates.json)."""

    reference_audio: str = Field(pattern=r"^[\w.-]+\.wav$")
    transcript: str = Field(min_length=1)


class VoiceRef(_Frozen):
    """One voice on one engine. Cloud voices: `voice` is a Cloud TTS voice name
    (cmn-CN-Chirp3-HD-Kore, en-US-Wavenet-D) or, with `model`, a Gemini-TTS speaker (Puck).
    Offline voices: a Kokoro voice id (espeak-ng, the last fallback, picks by language)."""

    voice: str | None = None
    model: str | None = None
    language_code: str | None = None
    prompt: str | None = Field(None, description="Style instruction (Gemini-TTS only).")
    clone: CloneSource | None = None
    gender: Literal["female", "male"] | None = None


class VoiceTemplate(_Frozen):
    name: str = ""
    description: str
    lang: str = Field(description="The language the template is made for.")
    engine: Literal["google", "offline"]
    narrator: VoiceRef
    cast: tuple[VoiceRef, ...] = ()
    # Gemini templates take the edge's voice_name / model_name / language_code.
    voice_name_from_request: bool = False
    # Gemini writes delivery notes per line (vss.dubbing.director); words never change.
    director: bool = False


class TemplateCatalog(_Frozen):
    aliases: dict[str, dict[str, str]] = Field(default_factory=dict)
    templates: dict[str, VoiceTemplate]

    @model_validator(mode="before")
    @classmethod
    def _name_each_template(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("templates"), dict):
            data = {**data, "templates": {
                name: {**body, "name": name} if isinstance(body, dict) else body
                for name, body in data["templates"].items()}}
        return data

    @model_validator(mode="after")
    def _aliases_name_templates(self) -> TemplateCatalog:
        for alias, by_lang in self.aliases.items():
            if alias in self.templates:
                raise ValueError(f"alias {alias!r} hides a template of the same name")
            unknown = set(by_lang.values()) - set(self.templates)
            if unknown:
                raise ValueError(f"alias {alias!r} names unknown templates {sorted(unknown)}")
        for template in self.templates.values():
            for voice in (template.narrator, *template.cast):
                if voice.clone is not None and not _voice_file(voice.clone.reference_audio):
                    raise ValueError(f"{template.name}: no file {voice.clone.reference_audio}")
        return self

    def names(self) -> list[str]:
        return sorted([*self.templates, *self.aliases])

    def get(self, name: str, lang: str | None = None) -> VoiceTemplate:
        """The template `name` (an alias resolved for `lang`); `BadRequest` listing the known
        names when there is none."""
        if name in self.templates:
            return self.templates[name]
        by_lang = self.aliases.get(name)
        if by_lang is not None:
            target = by_lang.get(lang or "") or next(iter(by_lang.values()))
            return self.templates[target]
        raise BadRequest(
            f"Unknown voice template {name!r}.",
            details={"errors": [{"pointer": TEMPLATE_POINTER,
                                 "reason": f"not one of {self.names()}"}],
                     "known": self.names()},
        )


def _voice_file(name: str) -> bool:
    return resources.files(__package__).joinpath("voices", name).is_file()


def reference_audio(clone: CloneSource) -> bytes:
    """The reference recording of a cloned voice."""
    return resources.files(__package__).joinpath("voices", clone.reference_audio).read_bytes()


def parse_catalog(raw: str | bytes) -> TemplateCatalog:
    try:
        return TemplateCatalog.model_validate(json.loads(raw))
    except (ValidationError, ValueError) as exc:
        errors = pointer_errors(exc) if isinstance(exc, ValidationError) else str(exc)
        raise PayloadInvalid("The voice templates are invalid.",
                             details={"errors": errors}) from None


@lru_cache(maxsize=1)
def load_templates() -> TemplateCatalog:
    """The packaged templates, read once per process."""
    return parse_catalog(
        resources.files(__package__).joinpath("voices", TEMPLATE_FILE).read_bytes())


def check_dubbing_params(params: DubbingServiceParams,
                         catalog: TemplateCatalog | None = None) -> None:
    """Raise `BadRequest` (pointer at /payload/service_params/template_name, the known names
    in details) when the template does not exist."""
    (catalog or load_templates()).get(params.template_name)


def resolve_voice(template: VoiceTemplate, params: DubbingServiceParams, lang: str,
                  voice: VoiceRef | None = None) -> VoiceRef:
    """`voice` (default: the narrator) as the task asked for it: a Gemini template takes the
    request's model and, for its narrator, its voice_name; every cloud voice speaks the
    segment's language code."""
    voice = voice or template.narrator
    changes: dict[str, Any] = {}
    if template.engine == "google":
        code = voice.language_code
        if lang_of_language_code(code) != lang:
            code = LANGUAGE_CODES.get(lang, code)
        if params.language_code and lang_of_language_code(params.language_code) == lang:
            code = params.language_code
        changes["language_code"] = code
        old = voice.language_code
        if voice.voice and voice.model is None and old and code and code != old \
                and voice.voice.startswith(old + "-"):
            # A Cloud TTS voice name starts with its language: cmn-CN-Chirp3-HD-Kore.
            changes["voice"] = code + voice.voice[len(old):]
    if template.voice_name_from_request:
        if params.model_name:
            changes["model"] = params.model_name
        if params.voice_name and voice is template.narrator:
            changes["voice"] = params.voice_name
    return voice.model_copy(update=changes) if changes else voice
