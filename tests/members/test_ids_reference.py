"""``assign_ids`` against a plain-Python reference of the policy documented in members/ids.py.

The reference reads the policy literally, one application at a time: an email already holding an
ID, or repeating an earlier email of the run, is a duplicate of that ID; otherwise the n-th
person to reach a formula ID ``<last_name>_<sha256(birthday)[:5]>`` gets it as is (n = 1) or
with ``_<n>``, counting earlier runs first. Hypothesis draws two runs from tiny pools of names,
birthdays and emails so that every collision happens often; the first run's IDs are the second
run's registry. A large run checks that the order of issue survives Polars' parallel joins.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from shopdata.members.ids import assign_ids, empty_registry

Application = tuple[str, str, str]  # last_name, birthday_key, email_key
Issued = tuple[str | None, str, str | None]  # membership_id, base_id, duplicate_of


def reference(
    run: list[Application], registry: list[tuple[str, str, str]]
) -> tuple[list[Issued], list[tuple[str, str, str]]]:
    """The policy, literally; returns the rows and the registry after the run."""
    taken = Counter(base for _, _, base in registry)
    holder = {email: membership_id for membership_id, email, _ in registry}
    first_in_run: dict[str, str] = {}
    rows: list[Issued] = []
    issued: list[tuple[str, str, str]] = []
    for last, birthday, email in run:
        base = f"{last}_{hashlib.sha256(birthday.encode()).hexdigest()[:5]}"
        if email in holder:
            rows.append((None, base, holder[email]))
        elif email in first_in_run:
            rows.append((None, base, first_in_run[email]))
        else:
            taken[base] += 1
            membership_id = base if taken[base] == 1 else f"{base}_{taken[base]}"
            first_in_run[email] = membership_id
            rows.append((membership_id, base, None))
            issued.append((membership_id, email, base))
    return rows, registry + issued


def actual(run: list[Application], registry: list[tuple[str, str, str]]) -> list[Issued]:
    candidates = pl.DataFrame(
        run, schema=["last_name", "birthday_key", "email_key"], orient="row"
    ).cast(pl.String)
    known = (
        pl.DataFrame(registry, schema=["membership_id", "email_key", "base_id"], orient="row")
        if registry
        else empty_registry()
    ).cast(pl.String)
    result = assign_ids(candidates, known)
    assert result.columns == [
        "last_name",
        "birthday_key",
        "email_key",
        "base_id",
        "membership_id",
        "duplicate_of",
    ]
    assert result.select("last_name", "birthday_key", "email_key").rows() == run
    return result.select("membership_id", "base_id", "duplicate_of").rows()


APPLICATIONS = st.lists(
    st.tuples(
        st.sampled_from(["Lee", "Tan", "O'Neil"]),
        st.sampled_from(["19900101", "19540310", "20000229"]),
        st.sampled_from(["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com", "f@x.com"]),
    ),
    max_size=12,
)


@given(APPLICATIONS, APPLICATIONS)
def test_two_runs_issue_exactly_what_the_policy_says(
    first: list[Application], second: list[Application]
) -> None:
    expected_first, registry = reference(first, [])
    assert actual(first, []) == expected_first
    expected_second, _ = reference(second, registry)
    assert actual(second, registry) == expected_second


def test_a_large_run_keeps_the_order_of_issue() -> None:
    """60,000 applications, 3,000 formula IDs, 20 % repeated emails: rows stay in input order."""
    run = [
        (
            f"Name{i % 97}",
            f"19{(i % 31) + 50:02d}0{(i % 9) + 1}1{i % 10}",
            f"p{(i * 7) % 48_000}@x.com",
        )
        for i in range(60_000)
    ]
    prior = run[:5_000]
    _, registry = reference(prior, [])
    expected, _ = reference(run[5_000:], registry)
    assert actual(run[5_000:], registry) == expected
