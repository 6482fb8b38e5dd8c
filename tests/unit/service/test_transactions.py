"""A Firestore transaction that cannot commit is a "try later", never a crash (the client
library is not faked here: `transact` is given the transactional function it would run)."""

from __future__ import annotations

from unittest import mock

import pytest
from google.api_core import exceptions as gexc

from vss.adapters.firestore_repos import TRANSACTION_ATTEMPTS, transact
from vss.errors import RetryableError


def _raising(error: Exception) -> mock.Mock:
    return mock.Mock(side_effect=error)


@pytest.mark.parametrize("error", [
    ValueError(f"Failed to commit transaction in {TRANSACTION_ATTEMPTS} attempts."),
    gexc.Aborted("too much contention"), gexc.ServiceUnavailable("down"),
])
def test_a_transaction_that_cannot_commit_is_retryable(error: Exception):
    db = mock.Mock()  # a third-party client: mocked, not faked
    with pytest.raises(RetryableError) as caught:
        transact(db, _raising(error), "task t1")
    assert caught.value.details["document"] == "task t1"
    db.transaction.assert_called_once_with(max_attempts=TRANSACTION_ATTEMPTS)


def test_other_errors_pass_through():
    with pytest.raises(ValueError, match="not a contention"):
        transact(mock.Mock(), _raising(ValueError("not a contention")), "task t1")
