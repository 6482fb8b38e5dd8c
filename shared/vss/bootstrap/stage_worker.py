"""The stage worker's composition root: the stage handlers, each bound to its configuration."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from vss.bootstrap import cloud_ports
from vss.bootstrap.models import embedder_factory, gemini_factory
from vss.config import Settings
from vss.deps import Deps
from vss.domain.language import SpeechRate
from vss.domain.tasks import Stage
from vss.handler_config import NarrationConfig
from vss.handlers import analysis, dubbing, editing, localization, narration
from vss.ports import EmbedderFactory, LlmFactory
from vss.stage_handler import StageHandler


def for_stage_worker(settings: Settings, base: Deps | None = None, *,
                     llm_for: LlmFactory | None = None,
                     embedder_for: EmbedderFactory | None = None) -> Deps:
    """The stage handlers, each bound to its configuration, and the model factories (the
    writers', the story indexes' embeddings)."""
    deps = base or cloud_ports(settings)
    return replace(deps, llm_for=llm_for or gemini_factory(settings),
                   embedder_for=embedder_for or embedder_factory(settings),
                   handlers=stage_handlers(settings))


def stage_handlers(settings: Settings) -> dict[Stage, StageHandler]:
    writing = narration_config(settings)
    return {
        Stage.NARRATION: partial(narration.run, config=writing),
        Stage.DUBBING: dubbing.plan,
        Stage.DUBBING_ASSEMBLY: partial(dubbing.assemble, prices=settings.tts_prices),
        Stage.EDITING: editing.run,
        Stage.LOCALIZATION: partial(localization.run, config=writing),
        Stage.CHARACTER_FACTS: partial(analysis.identify_characters, config=writing),
        Stage.STORY_INDEX: analysis.deploy_story_index,
    }


def narration_config(settings: Settings) -> NarrationConfig:
    return NarrationConfig(
        rate=SpeechRate(settings.zh_chars_per_second, settings.en_words_per_second,
                        settings.fr_words_per_second),
        prompt_budget_tokens=settings.narration_prompt_budget_tokens,
        max_rewrites=settings.narration_max_rewrites,
    )
