"""The one rule for ids that come from outside, and where it guards the repositories."""

from __future__ import annotations

import uuid

import pytest

from tests.support.fakes import fake_deps
from vss.domain.ids import is_valid_id
from vss.errors import NotFound, Unauthenticated
from vss.service import auth


@pytest.mark.parametrize("value", [
    uuid.uuid4().hex, "t_0123456789abcdef", "i_x", "A-b_9", "x" * 128, "_", "___", "__x",
])
def test_ids_we_issue_and_their_kin_are_valid(value: str):
    assert is_valid_id(value)


@pytest.mark.parametrize("value", [
    "", "a/b", "..", ".", "__x__", "____", "x" * 129, "a b", "a.b", "é", "a\x00", "%2e", None, 7,
])
def test_malformed_ids_are_refused(value: object):
    assert not is_valid_id(value)


@pytest.mark.parametrize("instance_id", ["a/b", "__x__", ".."])
def test_authentication_and_admin_lookups_refuse_malformed_ids_before_the_repository(
    instance_id: str
):
    deps = fake_deps()  # its repositories fail like Firestore on such ids
    with pytest.raises(Unauthenticated, match="Unknown instance or invalid API key"):
        auth.authenticate(deps, instance_id, "vss_key")
    with pytest.raises(NotFound):
        auth.revoke_key(deps, instance_id)
