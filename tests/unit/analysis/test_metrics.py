"""Metrics per character, counted off the dataset."""

from __future__ import annotations

import pytest

from tests.support.synthetic import story
from vss.analysis.metrics import metrics
from vss.domain.cast import appearances, speakers
from vss.domain.dataset import Dataset, parse_dataset


def test_metrics_of_the_small_dataset(small: Dataset):
    found = metrics(small)

    assert list(found) == ["Mara", "Tom", "Grandfather"]  # most important first
    mara, tom = found["Mara"], found["Tom"]
    # Mara speaks in scenes 1 and 4 and the summaries of 2 and 3 name her.
    assert (mara.scenes, mara.lines) == (4, 2)
    assert mara.screen_time_seconds == pytest.approx(sum(s.duration
                                                         for s in small.scenes.values()))
    assert mara.co_appearances == {"Tom": 2, "Grandfather": 1}
    assert (mara.first_scene_id, mara.last_scene_id) == (1, 4)
    assert (mara.first_episode, mara.last_episode) == (1, 2)
    assert mara.importance == 1.0
    # The documented formula, by hand: Tom has as many lines as Mara, half her scenes, and
    # appears in both episodes.
    expected = (0.35 * 2 / 2 + 0.35 * 2 / 4
                + 0.15 * tom.screen_time_seconds / mara.screen_time_seconds + 0.15 * 2 / 2)
    assert tom.importance == round(expected, 4)


def test_metrics_of_the_blueprint(blueprint: Dataset):
    found = metrics(blueprint)
    lines = [d for s in blueprint.scenes.values() for d in s.dialogues if d.speaker]

    assert next(iter(found)) == "车小小"
    assert set(found) == set(speakers(blueprint))
    assert sum(m.lines for m in found.values()) == len(lines)
    che = found["车小小"]
    assert che.lines == 364
    assert (che.first_scene_id, che.first_episode) == (1, 1)
    assert che.co_appearances["楚昊轩"] == found["楚昊轩"].co_appearances["车小小"]
    assert all(0 <= m.importance <= 1 for m in found.values())
    assert all(m.scenes >= 1 and m.first_episode <= m.last_episode for m in found.values())


def test_a_longer_name_is_not_also_the_name_inside_it():
    dataset = parse_dataset(story(
        {"lines": [("车小小", "我来了")]},
        {"summary": "车小小妈妈在店里忙着", "lines": [("车小小妈妈", "欢迎光临")]},
        {"summary": "Tomas waits for Tom."},
    ))

    seen = appearances(dataset, ["车小小", "车小小妈妈", "Tom", "Tomas"])

    assert seen == {"车小小": {1}, "车小小妈妈": {2}, "Tom": {3}, "Tomas": {3}}


def test_a_character_who_never_speaks_can_be_asked_for():
    dataset = parse_dataset(story({"summary": "Lin watches Mara.", "lines": [("Mara", "Hi.")]}))

    found = metrics(dataset, ["Lin", "Nobody"])

    assert set(found) == {"Mara", "Lin"}
    assert (found["Lin"].lines, found["Lin"].scenes) == (0, 1)
