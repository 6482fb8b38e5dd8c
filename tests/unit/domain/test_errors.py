"""The one error tree: every error has a code of the seed's families, a nature, one body."""

from __future__ import annotations

import re

import pytest

from vss import errors
from vss.errors import PermanentError, RetryableError, VssError, error_body, for_http_status


def _all_errors() -> list[type[VssError]]:
    found: list[type[VssError]] = []
    pending: list[type[VssError]] = [VssError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_is_retryable_or_permanent_with_a_family_code():
    for cls in _all_errors():
        if cls is VssError:
            continue
        assert issubclass(cls, RetryableError) != issubclass(cls, PermanentError), cls
        assert cls.retryable == issubclass(cls, RetryableError), cls
        assert 1000 <= cls.code < 5000, cls


def test_codes_name_one_kind_of_error():
    leaves = [c for c in _all_errors() if c not in (VssError, RetryableError, PermanentError,
                                                  errors.UnexpectedError)]
    codes = [c.code for c in leaves]
    assert len(codes) == len(set(codes)), sorted(codes)


def test_every_error_class_lives_in_the_errors_module():
    assert {c.__module__ for c in _all_errors()} == {"vss.errors"}


def test_one_body_shape():
    assert errors.NotFound("gone", details={"id": "x"}).to_dict() == error_body(
        1004, "gone", {"id": "x"})
    assert error_body(1001, "bad") == {"code": 1001, "message": "bad", "details": {}}


@pytest.mark.parametrize(("status", "code"), [
    (400, 1001), (401, 1002), (404, 1004), (405, 1008), (413, 1005), (415, 1006), (418, 1001),
    (500, 4000),
])
def test_bare_http_statuses_map_to_the_tree(status: int, code: int):
    assert for_http_status(status, "x").code == code


def test_no_module_writes_an_error_code_as_a_literal():
    """Codes are named by their class (`NotFound.code`), never written as numbers elsewhere."""
    from tests.support.paths import ROOT

    literal = re.compile(r"""(\bcode\s*=\s*|["']code["']\s*:\s*)[1-4]\d{3}\b""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("shared", "functions")
        for path in (ROOT / folder).rglob("*.py") if path.name != "errors.py"
        for number, line in enumerate(path.read_text().splitlines(), 1) if literal.search(line)
    ]
    assert offenders == []
