"""Which language a text is in (zh or en): the offline writer can only write in its dataset's
language, and a model's draft in the wrong language is treated as no draft."""

from __future__ import annotations

from vss.domain.dataset import Dataset


def text_language(text: str) -> str:
    """'zh' when most of the text's non-space characters are hanzi, else 'en'."""
    han = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    return "zh" if han * 2 > len(text.replace(" ", "")) else "en"


def dataset_language(dataset: Dataset) -> str:
    """The language of the dataset's own words (summaries, dynamics, first lines of dialogue)."""
    return text_language("".join((s.character_dynamics or s.narrative_summary or "")
                                 + "".join(d.content for d in s.dialogues[:3])
                                 for s in list(dataset.scenes.values())[:50]))
