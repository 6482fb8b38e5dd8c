"""Which language a dataset is in: the offline writer can only write in its dataset's
language. How a single text's language is told is the language profile's rule
(`vss.domain.language.text_language`)."""

from __future__ import annotations

from vss.domain.dataset import Dataset
from vss.domain.language import text_language


def dataset_language(dataset: Dataset) -> str:
    """The language of the dataset's own words (summaries, dynamics, first lines of dialogue)."""
    return text_language("".join((s.character_dynamics or s.narrative_summary or "")
                                 + "".join(d.content for d in s.dialogues[:3])
                                 for s in list(dataset.scenes.values())[:50]))
