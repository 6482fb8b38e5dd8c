from __future__ import annotations

import math

import pytest
from pydantic import BaseModel, ValidationError

from vss.domain.timecode import Timecode


class _Clip(BaseModel):
    start: Timecode
    end: Timecode | None = None


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("01:02:03.456", 3_723_456),
        ("01:02:03,456", 3_723_456),
        ("02:03.500", 123_500),
        ("00:00:01", 1_000),
        ("00:00:01.5", 1_500),
        ("00:00:00.0005", 1),  # sub-millisecond fractions round half-up
        ("00:00:00.0004", 0),
        ("125:00:00.000", 450_000_000),
        ("  00:00:02.000 ", 2_000),
        ("12.5", 12_500),
        ("7", 7_000),
    ],
)
def test_parses_text_into_whole_milliseconds(text: str, ms: int) -> None:
    assert Timecode.parse(text) == Timecode(ms)


@pytest.mark.parametrize(
    ("seconds", "ms"),
    [(0, 0), (12, 12_000), (1.0005, 1_001), (0.1 + 0.2, 300), (23.096, 23_096)],
)
def test_parses_seconds(seconds: float, ms: int) -> None:
    assert Timecode.parse(seconds).ms == ms


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "1:2:3:4",
        "00:60:00.000",
        "00:00:60.000",
        "00:00:01.",
        "-00:00:01.000",
        -1,
        -0.5,
        math.nan,
        math.inf,
        True,
        None,
        [1],
    ],
)
def test_rejects_what_is_not_a_timecode(value: object) -> None:
    with pytest.raises(ValueError):
        Timecode.parse(value)  # type: ignore[arg-type]


def test_ms_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        Timecode(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "00:00:00.000"),
        (3_723_456, "01:02:03.456"),
        (59_999, "00:00:59.999"),
        (360_000_000, "100:00:00.000"),
        (-1_500, "-00:00:01.500"),
    ],
)
def test_formats_canonically(ms: int, text: str) -> None:
    assert Timecode(ms).format() == text
    assert str(Timecode(ms)) == text


def test_format_round_trips() -> None:
    for ms in (0, 1, 999, 1_000, 61_001, 3_599_999, 3_600_000, 86_400_123):
        assert Timecode.parse(Timecode(ms).format()) == Timecode(ms)


def test_orders_and_does_exact_arithmetic() -> None:
    start, end = Timecode.parse("00:00:37.812"), Timecode.parse("00:01:13.285")
    assert start < end and not end < start
    assert end - start == Timecode(35_473)
    assert (end - start).seconds == pytest.approx(35.473)
    assert start + (end - start) == end
    assert start - end == -(end - start) and (start - end).ms < 0
    assert sorted([end, start, Timecode(0)]) == [Timecode(0), start, end]
    assert {Timecode(5), Timecode.parse(0.005)} == {Timecode(5)}


def test_is_a_pydantic_field_that_serialises_to_the_canonical_string() -> None:
    clip = _Clip.model_validate({"start": "01:02,5", "end": 75.25})
    assert clip.start == Timecode(62_500)
    assert clip.end == Timecode(75_250)
    assert clip.model_dump(mode="json") == {"start": "00:01:02.500", "end": "00:01:15.250"}
    assert _Clip.model_validate_json(clip.model_dump_json()) == clip
    assert _Clip(start=Timecode(1)).start is not None


def test_pydantic_reports_the_reason_and_location() -> None:
    with pytest.raises(ValidationError) as info:
        _Clip.model_validate({"start": "00:00:01.000", "end": "half past"})
    (error,) = info.value.errors()
    assert error["loc"] == ("end",)
    assert error["type"] == "timecode"
    assert "'half past' is not a timecode" in error["msg"]


def test_json_schema_documents_input_and_output() -> None:
    validation = _Clip.model_json_schema()["properties"]["start"]
    assert {option["type"] for option in validation["anyOf"]} == {"string", "number"}
    serialization = _Clip.model_json_schema(mode="serialization")["properties"]["start"]
    assert serialization["type"] == "string"
