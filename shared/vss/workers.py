"""What the two workers run, wired with real adapters: the stage handlers for the stage
worker, the segment handler with its speech engines and audio tools for the TTS worker.

Kept apart from `vss.bootstrap` so that the other functions (the API, the upload check...)
never import the engines, the speech engines or the audio libraries they need.
"""

from __future__ import annotations

from vss.adapters.tts import audio_tools_from_settings, tts_providers_from_settings
from vss.config import Settings
from vss.domain.tasks import Stage
from vss.engines import dubbing
from vss.engines.registry import stage_handlers
from vss.stage_handler import SegmentHandler, StageHandler


def stage_worker_handlers() -> dict[Stage, StageHandler]:
    return stage_handlers()


def tts_worker_handler(settings: Settings) -> SegmentHandler:
    return dubbing.segment_handler_with(tts_providers_from_settings(settings),
                                        audio_tools_from_settings(settings))
