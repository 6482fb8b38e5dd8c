"""What the dataset counts about each character: scenes, lines, screen time, who they share
scenes with, where they first and last appear, and one importance score.

importance = 0.35 × lines / the most lines of any character
           + 0.35 × scenes / the most scenes of any character
           + 0.15 × screen time / the most screen time of any character
           + 0.15 × episodes appeared in / the dataset's episodes
rounded to 4 places: 1.0 for a lead who speaks and appears most in every episode, near 0 for a
passer-by. Lines and scenes weigh most because they are what the dataset states outright;
screen time is only an upper bound (see `CharacterMetrics`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from vss.domain.cast import appearances, footage_order, speakers
from vss.domain.character_facts import CharacterMetrics
from vss.domain.dataset import Dataset

WEIGHTS = {"lines": 0.35, "scenes": 0.35, "screen_time": 0.15, "episodes": 0.15}


def metrics(dataset: Dataset, names: Iterable[str] = ()) -> dict[str, CharacterMetrics]:
    """Metrics of every speaker and of `names` (characters who may never speak), most
    important first. A name that appears in no scene is left out."""
    cast = list(dict.fromkeys([*speakers(dataset), *names]))
    seen = {name: ids for name, ids in appearances(dataset, cast).items() if ids}
    lines = Counter(d.speaker for s in dataset.scenes.values() for d in s.dialogues)
    position = {scene.id: index for index, scene in enumerate(footage_order(dataset))}
    time = {name: sum(dataset.scenes[i].duration for i in ids) for name, ids in seen.items()}
    episodes = {name: {dataset.scenes[i].chapter_id for i in ids} for name, ids in seen.items()}
    most = {
        "lines": max((lines[n] for n in seen), default=0),
        "scenes": max(map(len, seen.values()), default=0),
        "screen_time": max(time.values(), default=0.0),
        "episodes": len(dataset.chapters),
    }
    result = []
    for name, ids in seen.items():
        ordered = sorted(ids, key=position.__getitem__)
        first, last = dataset.scenes[ordered[0]], dataset.scenes[ordered[-1]]
        shares = {"lines": lines[name], "scenes": len(ids), "screen_time": time[name],
                  "episodes": len(episodes[name])}
        shared = Counter({other: len(ids & theirs) for other, theirs in seen.items()
                          if other != name and ids & theirs})
        result.append(CharacterMetrics(
            name=name, scenes=len(ids), lines=lines[name],
            screen_time_seconds=round(time[name], 3),
            co_appearances=dict(sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))),
            first_scene_id=first.id, last_scene_id=last.id,
            first_episode=first.chapter_id, last_episode=last.chapter_id,
            importance=round(sum(WEIGHTS[k] * shares[k] / most[k] for k in WEIGHTS if most[k]),
                             4),
        ))
    result.sort(key=lambda m: (-m.importance, m.name))
    return {m.name: m for m in result}
