"""The character facts report: names checked against the dataset, facts and metrics, and the
seed's own reports validating against the model."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tests.support.paths import DATA
from vss.analysis.identify import identify_facts
from vss.domain.cast import CHARACTERS_POINTER, speakers
from vss.domain.character_facts import CharacterFact, CharacterFactsReport
from vss.domain.dataset import Dataset
from vss.errors import PayloadInvalid

BUDGET = 20_000


def test_an_unknown_name_points_at_itself_and_lists_the_characters(blueprint: Dataset):
    with pytest.raises(PayloadInvalid) as caught:
        identify_facts(blueprint, ["车小小", "车大大", " "], "zh", None,
                       prompt_budget_tokens=BUDGET)

    details = caught.value.details
    assert [e["pointer"] for e in details["errors"]] == [f"{CHARACTERS_POINTER}/1",
                                                         f"{CHARACTERS_POINTER}/2"]
    assert "'车大大' appears in no scene" in details["errors"][0]["reason"]
    assert details["characters"] == speakers(blueprint)
    assert details["characters"][:3] == ["车小小", "楚昊轩", "宋安娜"]
    assert CHARACTERS_POINTER == "/payload/service_params/characters_to_analyze"


def test_an_unknown_language_is_refused(small: Dataset):
    with pytest.raises(PayloadInvalid) as caught:
        identify_facts(small, ["Mara"], "de", None, prompt_budget_tokens=BUDGET)

    assert caught.value.details["errors"][0]["pointer"] == "/payload/service_params/lang"


def test_without_a_model_the_offline_facts_and_the_metrics(blueprint: Dataset):
    when = datetime(2025, 10, 24, 3, 56, tzinfo=UTC)

    report = identify_facts(blueprint, ["车小小", " 宋安娜", "车小小"], "zh", None,
                            prompt_budget_tokens=BUDGET, source_file="blueprint.json",
                            generated_at=when)

    assert list(report.identified_facts_by_character) == ["车小小", "宋安娜"]
    first = report.identified_facts_by_character["车小小"][0]
    assert (first.scene_id, first.attribute, first.value, first.source_text, first.source) == (
        1, "职业", "海晏集团职员", "车小小 海晏集团职员", "offline")
    assert report.metrics_calculation_results is not None
    assert list(report.metrics_calculation_results) == ["车小小", "宋安娜"]
    assert (report.engine, report.lang, report.usage, report.dropped_unquoted) == (
        "offline", "zh", None, 0)
    assert (report.generation_date, report.source_file) == (when, "blueprint.json")
    again = CharacterFactsReport.model_validate_json(report.model_dump_json())
    assert again == report


def test_no_names_means_every_character(small: Dataset):
    report = identify_facts(small, [], "en", None, prompt_budget_tokens=BUDGET)

    assert list(report.identified_facts_by_character) == ["Mara", "Tom", "Grandfather"]


def test_the_seeds_report_validates():
    seed = json.loads((DATA / "upstream_character_facts_example.json").read_text())

    report = CharacterFactsReport.model_validate(seed)

    facts = report.identified_facts_by_character["车小小"]
    assert report.metrics_calculation_results is None
    assert facts[0].source is None and facts[0].attribute == "职业"
    assert next(f.suggested_attribute for f in facts if f.attribute == "其他") == "真实身份"
    dumped = report.model_dump(mode="json", exclude_none=True)
    assert dumped["identified_facts_by_character"] == seed["identified_facts_by_character"]


def test_only_other_suggests_an_attribute():
    with pytest.raises(ValidationError, match="only with the attribute other"):
        CharacterFact(scene_id=1, attribute="职业", value="职员", source_text="职员",
                      type="状态性", suggested_attribute="工作")
    assert CharacterFact(scene_id=1, attribute="other", value="v", source_text="q",
                         type="situational", suggested_attribute="true identity")
