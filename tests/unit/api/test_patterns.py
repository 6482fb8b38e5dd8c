"""The patterns the OpenAPI document publishes give the same answers as the rules they describe."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vss.domain.ids import ID_PATTERN, is_valid_id
from vss.domain.paths import MAX_PATH, RELATIVE_PATH_PATTERN, check_relative_path
from vss.errors import VssError


def ecma(pattern: str) -> re.Pattern[str]:
    """`pattern` as JSON Schema reads it: ECMA-262 `$` is the end of the text, Python's `\\Z`
    (Python's `$` also matches before a final line break)."""
    return re.compile(pattern.replace("$", r"\Z"))


def path_is_clean(path: str) -> bool:
    try:
        check_relative_path(path)
    except VssError:
        return False
    return True


def documented_path(path: str) -> bool:
    return len(path) <= MAX_PATH and ecma(RELATIVE_PATH_PATTERN).search(path) is not None


_SEGMENT = st.one_of(st.sampled_from(["uploads", "tasks", ".", "..", "", "%2e", "%2F", "a%zz",
                                      "C:", "\\", "a\x00", "x\n", "é"]),
                     st.text(max_size=6))
_PATHS = st.lists(_SEGMENT, max_size=5).map("/".join)


@settings(max_examples=400, derandomize=True)
@given(_PATHS)
@example("uploads/f/x.json")
@example("tasks/t/a/b.wav")
@example("uploads/f/..")
@example("uploads/f/.\n")
@example("uploads/../x")
@example("uploads/f/%41.json")
@example("/uploads/f/x")
@example("uploads/f")
@example("uploads/f/x/")
@example("uploads/" + "f" * 600 + "/x")
def test_the_relative_path_pattern_is_check_relative_path(path: str):
    assert documented_path(path) == path_is_clean(path), path


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet=st.sampled_from("aZ9_-./ \né%"), max_size=130))
@example("__x__")
@example("abc\n")
@example("x" * 128)
@example("x" * 129)
def test_the_id_pattern_is_is_valid_id(value: str):
    assert (ecma(ID_PATTERN).search(value) is not None) == is_valid_id(value), value


@pytest.mark.parametrize("pattern", [ID_PATTERN, RELATIVE_PATH_PATTERN])
def test_patterns_use_only_what_ecma_262_and_python_share(pattern: str):
    assert pattern.startswith("^") and pattern.endswith("$")
    assert "(?P" not in pattern and "\\Z" not in pattern and "(?i" not in pattern
