"""Who writes a narration plan: the model (a StructuredLlm) or, with no model configured, the
offline writer. `narrate` picks one with `writer_for` and then runs the same steps for both;
what differs between them lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from vss.domain.dataset import Dataset
from vss.domain.language import SpeechRate
from vss.domain.payloads import NarrationServiceParams, NarrativeFocus, Style
from vss.domain.usage import Usage
from vss.errors import LlmError, VssError
from vss.narration.first_person import RETELLING_LANGUAGES
from vss.narration.fit import Rewriter
from vss.narration.focus import FocusLens
from vss.narration.language import dataset_language
from vss.narration.llm_writer import LlmWriter, Written, style_rule
from vss.narration.offline import write_offline
from vss.narration.plan import NarrationPlan, PlannedSnippet
from vss.narration.prompts import PROMPT_VERSION
from vss.ports import StructuredLlm

OFFLINE = "offline"
_OfflineSnippets = Callable[[list[PlannedSnippet]], list[tuple[str, tuple[int, ...]]]]

__all__ = [
    "OFFLINE",
    "ModelNarrationWriter",
    "NarrationWriter",
    "OfflineNarrationWriter",
    "WrittenSnippets",
    "writer_for",
]


@dataclass
class WrittenSnippets:
    """A plan's snippets as first written, by index, and what the writer wants the reader of
    the script to know about them."""

    written: dict[int, Written]
    notes: list[str] = field(default_factory=list)


class NarrationWriter(Protocol):
    """What `narrate` asks of a writer, model or offline."""

    @property
    def engine(self) -> str:
        """The script's `engine`."""
        ...

    @property
    def lang(self) -> str:
        """The language this writer writes in: the plan is made, paced and voiced in it."""
        ...

    @property
    def prompt_version(self) -> str | None:
        """The prompts' version, for a writer that uses prompts."""
        ...

    @property
    def rewriter(self) -> Rewriter | None:
        """Shorter versions of over-budget snippets; None: they are cut at once."""
        ...

    @property
    def usage(self) -> Usage:
        """What the calls so far cost, rewrites included."""
        ...

    def write(self, plan: NarrationPlan) -> WrittenSnippets:
        """Every planned snippet's text ("" when there is nothing to say)."""
        ...

    def silence_error(self) -> VssError | None:
        """The error to raise when no snippet came out usable, if that is the writer's doing
        rather than the scenes' (which have nothing to narrate from)."""
        ...


def _offline_snippets(dataset: Dataset, plan: NarrationPlan, params: NarrationServiceParams,
                      rate: SpeechRate) -> _OfflineSnippets:
    """The offline writer over a part of the plan. It writes only in the dataset's own
    language: for a plan in another language it has nothing to offer."""
    same_language = dataset_language(dataset) == plan.lang

    def write(snippets: list[PlannedSnippet]) -> list[tuple[str, tuple[int, ...]]]:
        if not same_language:
            return [("", ())] * len(snippets)
        sub = NarrationPlan(plan.lang, plan.target_seconds, tuple(snippets))
        return write_offline(dataset, sub, params.control_params, text_lang=plan.lang,
                             rate=rate)
    return write


class OfflineNarrationWriter:
    """No model: the dataset's own words, in its own language, never rewritten (an
    over-budget snippet is cut)."""

    engine = OFFLINE
    prompt_version = None
    rewriter = None

    def __init__(self, dataset: Dataset, params: NarrationServiceParams, rate: SpeechRate,
                 lens: FocusLens) -> None:
        self.dataset, self.params, self.rate, self.lens = dataset, params, rate, lens
        # Offline, text is paced and voiced as what it is: text in the dataset's language.
        self.lang = dataset_language(dataset)
        self.usage = Usage()

    def write(self, plan: NarrationPlan) -> WrittenSnippets:
        """Every snippet from its scenes' text, with what the offline writer only approximates."""
        offline = _offline_snippets(self.dataset, plan, self.params, self.rate)
        written = {s.index: Written(text, list(ids), OFFLINE) for s, (text, ids)
                   in zip(plan.snippets, offline(list(plan.snippets)), strict=True)}
        return WrittenSnippets(written, self._notes())

    def silence_error(self) -> None:
        """Offline, silence is the scenes' doing."""
        return None

    def _notes(self) -> list[str]:
        """What the offline writer can only approximate."""
        control, lang = self.params.control_params, self.lang
        notes = ["offline writer: no Gemini credentials are configured"]
        if control.narrative_focus == NarrativeFocus.CUSTOM:
            notes += self.lens.notes
        if control.style == Style.CUSTOM:
            notes.append("custom style is followed only by the Gemini writer: offline the "
                         "narration is written in the objective voice")
        for knob, custom in (("narrative_focus", NarrativeFocus.CUSTOM),
                             ("style", Style.CUSTOM)):
            text = getattr(control.custom_prompts, knob, None) if control.custom_prompts else None
            if text and text.strip() and getattr(control, knob) != custom:
                notes.append(f"custom_prompts.{knob} is followed only by the Gemini writer")
        if control.perspective == "first_person" and lang not in RETELLING_LANGUAGES:
            notes.append(f"the offline writer cannot retell {lang} in the first person: the "
                         f"narration is in the third person")
        if lang != self.params.lang.value:
            notes.append(f"the offline writer cannot translate: the narration is in the "
                         f"dataset's language ({lang}), not {self.params.lang.value}")
        return notes


class ModelNarrationWriter:
    """The model writes in the requested language and rewrites what runs long; a snippet it
    does not deliver falls back to the offline writer (when that can write the language)."""

    prompt_version = PROMPT_VERSION

    def __init__(self, llm: StructuredLlm, dataset: Dataset, params: NarrationServiceParams,
                 rate: SpeechRate, lens: FocusLens, *, prompt_budget_tokens: int,
                 known_facts: str = "") -> None:
        self.llm, self.dataset, self.params, self.rate, self.lens = (
            llm, dataset, params, rate, lens)
        self.known_facts = known_facts
        self.lang = params.lang.value
        self.engine = llm.name
        self._writer = LlmWriter(llm, prompt_budget_tokens=prompt_budget_tokens)

    @property
    def usage(self) -> Usage:
        return self._writer.usage

    @property
    def rewriter(self) -> Rewriter:
        return self._rewrite

    def write(self, plan: NarrationPlan) -> WrittenSnippets:
        """The model's drafts, chunk by chunk, with the offline writer for what is missing."""
        fallback = _offline_snippets(self.dataset, plan, self.params, self.rate)
        result = self._writer.write(self.dataset, plan, self.params.control_params, fallback,
                                    self.lens, self.known_facts)
        return WrittenSnippets(result.written, result.notes)

    def silence_error(self) -> VssError | None:
        """In the dataset's language the offline fallback had its chance too, so silence is
        the scenes'; in another language only the model could have written."""
        if dataset_language(self.dataset) == self.lang:
            return None
        return LlmError("The model gave no usable narration and the offline writer cannot "
                        f"write {self.lang}.",
                        details={"model": getattr(self.llm, "model", self.llm.name)})

    def _rewrite(self, late: list[tuple[PlannedSnippet, str]]) -> dict[int, str]:
        return self._writer.rewrite(late, self.lang, style_rule(self.params.control_params))


def writer_for(llm: StructuredLlm | None, dataset: Dataset, params: NarrationServiceParams,
               rate: SpeechRate, lens: FocusLens, *, prompt_budget_tokens: int,
               known_facts: str = "") -> NarrationWriter:
    """The model writer when a model is configured, else the offline writer (which writes
    from the scenes alone: `known_facts` are for the model)."""
    if llm is None:
        return OfflineNarrationWriter(dataset, params, rate, lens)
    return ModelNarrationWriter(llm, dataset, params, rate, lens,
                                prompt_budget_tokens=prompt_budget_tokens,
                                known_facts=known_facts)
