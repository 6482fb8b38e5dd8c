"""The stage handlers, by stage: what the stage worker is wired with."""

from __future__ import annotations

from vss.domain.tasks import Stage
from vss.engines import dubbing, editing, localization, narration
from vss.stage_handler import StageHandler


def stage_handlers() -> dict[Stage, StageHandler]:
    return {Stage.NARRATION: narration.run, Stage.DUBBING: dubbing.plan,
            Stage.DUBBING_ASSEMBLY: dubbing.assemble, Stage.EDITING: editing.run,
            Stage.LOCALIZATION: localization.run}
