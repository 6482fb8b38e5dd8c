"""The handlers the workers are wired with: `bootstrap(handlers=stage_handlers())` in the
stage worker, `bootstrap(segment_handler=segment_handler())` in the TTS worker."""

from __future__ import annotations

from vss.domain.tasks import Stage
from vss.engines import dubbing, editing, narration
from vss.stage_handler import SegmentHandler, StageHandler


def stage_handlers() -> dict[Stage, StageHandler]:
    return {Stage.NARRATION: narration.run, Stage.DUBBING: dubbing.plan,
            Stage.DUBBING_ASSEMBLY: dubbing.assemble, Stage.EDITING: editing.run}


def segment_handler() -> SegmentHandler:
    return dubbing.synthesize_segment
