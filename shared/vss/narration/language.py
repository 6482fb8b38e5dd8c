"""Which language a dataset's own text is in: the offline writer can only write in that one."""

from __future__ import annotations

from vss.domain.dataset import Dataset


def dataset_language(dataset: Dataset) -> str:
    """'zh' when the dataset's own text is mostly Chinese, else 'en'."""
    sample = "".join((s.character_dynamics or s.narrative_summary or "")
                     + "".join(d.content for d in s.dialogues[:3])
                     for s in list(dataset.scenes.values())[:50])
    han = sum(1 for ch in sample if "\u3400" <= ch <= "\u9fff")
    return "zh" if han * 2 > len(sample.replace(" ", "")) else "en"
