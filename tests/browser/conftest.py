"""Browser tests use the case fixtures too (a family ready to submit, the policy)."""

from tests.cases.conftest import enrol, make_family, policy, proof_items  # noqa: F401
