"""A media timecode held as integer milliseconds.

Datasets write timecodes as ``HH:MM:SS.mmm`` strings; doing arithmetic on those (or on floats)
drifts. `Timecode` parses once into whole milliseconds, orders and subtracts exactly, and formats
back to ``HH:MM:SS.mmm``. It is a pydantic field type: it validates from a timecode string or a
number of seconds and serialises to the canonical string.

Accepted input: ``HH:MM:SS.mmm``, ``HH:MM:SS,mmm`` (SRT), ``MM:SS.mmm``, ``HH:MM:SS`` (no
fraction), a numeric string of seconds (``"12.5"``) and an int/float of seconds. Fractions longer
than three digits round half-up to the millisecond.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

__all__ = ["Timecode", "format_ms"]

_CLOCK = re.compile(
    r"^(?:(?P<h>\d+):)?(?P<m>\d{1,2}):(?P<s>\d{1,2})(?:[.,](?P<frac>\d{1,9}))?$",
)
_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
# The form `format` writes, which datasets and scripts nearly always use: read without the
# general pattern's optional parts and named groups (a script's report parses one per clip).
_CANONICAL = re.compile(r"(\d\d):([0-5]\d):([0-5]\d)\.(\d\d\d)")
# What the JSON schema promises for input: every form `parse` accepts (it also trims spaces).
_INPUT_PATTERN = r"^\s*(?:(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,9})?|\d+(?:\.\d+)?)\s*$"


@dataclass(frozen=True, order=True, slots=True)
class Timecode:
    """A point (or, after subtraction, a span) of media time in whole milliseconds.

    Parsing never produces a negative value; subtraction may (``end - start`` of a bad range),
    which is how callers detect it.
    """

    ms: int

    def __post_init__(self) -> None:
        if isinstance(self.ms, bool) or not isinstance(self.ms, int):
            raise TypeError(f"Timecode.ms must be an int, got {type(self.ms).__name__}")

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def parse(cls, value: str | int | float | Timecode) -> Timecode:
        """Parse a timecode string or a number of seconds; raise ValueError when it is not one."""
        if isinstance(value, str):  # first: what datasets and scripts hold
            return cls._parse_text(value.strip())
        if isinstance(value, Timecode):
            return value
        if isinstance(value, bool):
            raise ValueError("a timecode cannot be a boolean")
        if isinstance(value, int | float):
            return cls.from_seconds(value)
        raise ValueError(f"a timecode must be a string or a number, not {type(value).__name__}")

    @classmethod
    def from_seconds(cls, seconds: int | float | Decimal) -> Timecode:
        """Round a non-negative number of seconds to the nearest millisecond (half-up)."""
        if isinstance(seconds, float) and not math.isfinite(seconds):
            raise ValueError(f"a timecode must be finite, got {seconds}")
        exact = Decimal(repr(seconds)) if isinstance(seconds, float) else Decimal(seconds)
        if exact < 0:
            raise ValueError(f"a timecode cannot be negative, got {seconds}")
        ms = (exact * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return cls(int(ms))

    @classmethod
    def _parse_text(cls, text: str) -> Timecode:
        canonical = _CANONICAL.fullmatch(text)
        if canonical is not None:
            hours, minutes, secs, millis = map(int, canonical.groups())
            return cls(((hours * 60 + minutes) * 60 + secs) * 1000 + millis)
        if _SECONDS.match(text):
            return cls.from_seconds(Decimal(text))
        match = _CLOCK.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a timecode (expected HH:MM:SS.mmm)")
        hours = int(match["h"] or 0)
        minutes, secs = int(match["m"]), int(match["s"])
        if secs >= 60 or (match["h"] is not None and minutes >= 60):
            raise ValueError(f"{text!r} is not a timecode (minutes and seconds must be < 60)")
        whole = (hours * 3600 + minutes * 60 + secs) * 1000
        digits = match["frac"] or ""
        if len(digits) <= 3:  # whole milliseconds already (the usual case): nothing to round
            return cls(whole + int(digits.ljust(3, "0")))
        try:
            fraction = Decimal("0." + digits)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits digits only
            raise ValueError(f"{text!r} is not a timecode") from exc
        frac_ms = (fraction * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return cls(whole + int(frac_ms))

    # -- views ----------------------------------------------------------------------------------

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def format(self) -> str:
        """The canonical ``HH:MM:SS.mmm`` form (hours widen past 99; negatives get a ``-``)."""
        return format_ms(self.ms)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"Timecode({self.format()!r})"

    # -- arithmetic -----------------------------------------------------------------------------

    def __add__(self, other: object) -> Timecode:
        if not isinstance(other, Timecode):
            return NotImplemented
        return Timecode(self.ms + other.ms)

    def __sub__(self, other: object) -> Timecode:
        if not isinstance(other, Timecode):
            return NotImplemented
        return Timecode(self.ms - other.ms)

    def __neg__(self) -> Timecode:
        return Timecode(-self.ms)

    # -- pydantic -------------------------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate,
            json_schema_input_schema=core_schema.union_schema(
                [
                    core_schema.str_schema(pattern=_INPUT_PATTERN),
                    core_schema.float_schema(ge=0),
                ]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                Timecode.format, return_schema=core_schema.str_schema()
            ),
        )


def _validate(value: Any) -> Timecode:
    try:
        return Timecode.parse(value)
    except ValueError as exc:
        raise PydanticCustomError("timecode", "{reason}", {"reason": str(exc)}) from None


def format_ms(ms: int) -> str:
    """`Timecode(ms).format()` without the object, for writers of many timecodes."""
    sign = "-" if ms < 0 else ""
    rest, millis = divmod(abs(ms), 1000)
    rest, secs = divmod(rest, 60)
    hours, minutes = divmod(rest, 60)
    # One %-format (parsed once, in C): an f-string with a format spec per field took half as
    # long again, and the editing core writes two timecodes per clip.
    return "%s%02d:%02d:%02d.%03d" % (sign, hours, minutes, secs, millis)  # noqa: UP031
