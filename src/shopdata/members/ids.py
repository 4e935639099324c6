"""Membership IDs: the formula, and the policy that keeps every issued ID unique forever.

Formula: ``<stem>_<first 5 hex characters of SHA-256 of the YYYYMMDD birthday>``, where the stem is
the last name without any leading ``= + - @ '`` or whitespace (characters a spreadsheet would read
as a formula, and the quote that defuses one), or ``member`` if nothing is left. An ID therefore
never starts a formula, formula defusing never changes it, and the value checked for uniqueness
is the value delivered: ``=Smith`` and ``'=Smith`` both have the stem ``Smith`` and get
``Smith_232cc`` and ``Smith_232cc_2``.

Policy (deterministic, still readable):
- An email (case-insensitive) identifies a person. An application whose email already holds an ID,
  or repeats an email earlier in the same run, is a duplicate: it gets no second ID.
- The first person to reach a formula ID gets it as is. The n-th different person with the same
  formula ID gets ``<formula ID>_<n>`` (``Williamson_1a2b3_2``). "First" is the order of issue:
  earlier runs before later ones; within a run, files in name order, then line order.
"""

from __future__ import annotations

import hashlib

import polars as pl

# Leading characters the ID stem drops: formula triggers, the defusing quote, whitespace.
STEM_STRIP = "=+-@'\t\r\n "
EMPTY_STEM = "member"

REGISTRY_SCHEMA: dict[str, type[pl.DataType]] = {
    "membership_id": pl.String,
    "email_key": pl.String,
    "base_id": pl.String,
}


def birthday_hash5(birthdays: pl.Series) -> pl.DataFrame:
    """Map each distinct ``YYYYMMDD`` birthday to its 5-hex-character hash (each hashed once)."""
    distinct = birthdays.drop_nulls().unique()
    hashes = [hashlib.sha256(day.encode("ascii")).hexdigest()[:5] for day in distinct.to_list()]
    return pl.DataFrame({"birthday_key": distinct, "hash5": pl.Series(hashes, dtype=pl.String)})


def id_stem(last_name: pl.Expr) -> pl.Expr:
    """The part of the ID taken from the last name: one that can never start a formula."""
    # Few names start with one of these: strip only those (an anchored test is cheap). An empty
    # name does not start with one either, but nothing is left of it: it takes the stem path.
    stem = last_name.str.strip_chars_start(STEM_STRIP)
    return (
        pl.when(~last_name.str.contains(r"^[=+\-@'\s]") & (last_name != ""))
        .then(last_name)
        .when(stem == "")
        .then(pl.lit(EMPTY_STEM))
        .otherwise(stem)
    )


def empty_registry() -> pl.DataFrame:
    """A registry with no issued IDs."""
    return pl.DataFrame(schema=REGISTRY_SCHEMA)


def assign_ids(candidates: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Issue IDs to valid applications, in their current order.

    ``candidates`` needs ``last_name``, ``birthday_key`` (YYYYMMDD) and ``email_key``;
    ``registry`` is every ID issued before (``membership_id, email_key, base_id``). Returns
    ``candidates`` plus ``membership_id`` (null for duplicates), ``base_id`` and ``duplicate_of``
    (the ID the email already holds), row for row in the order of ``candidates``.

    Window functions over a million distinct keys are slow, so they run only on the few rows that
    need them: formula IDs that are already taken or wanted twice in this run.
    """
    hashes = birthday_hash5(candidates["birthday_key"])
    known = registry.select(pl.col("email_key"), pl.col("membership_id").alias("existing_id"))
    frame = (
        candidates.with_row_index("_order")
        .join(hashes, on="birthday_key", how="left", maintain_order="left")
        .with_columns(base_id=id_stem(pl.col("last_name")) + "_" + pl.col("hash5"))
        .join(known, on="email_key", how="left", maintain_order="left")
    )
    new = pl.col("existing_id").is_null() & pl.col("email_key").is_first_distinct()
    frame = frame.with_columns(_new=new)
    taken = registry.group_by("base_id").agg(_taken=pl.len())
    wanted = frame.filter(pl.col("_new")).join(
        taken, on="base_id", how="left", maintain_order="left"
    )
    contested = pl.col("_taken").is_not_null() | pl.col("base_id").is_duplicated()
    sequence = pl.col("_taken").fill_null(0) + pl.int_range(1, pl.len() + 1).over("base_id")
    crowded = (
        wanted.filter(contested)
        .with_columns(_seq=sequence)
        .select(
            "_order",
            membership_id=pl.when(pl.col("_seq") == 1)
            .then(pl.col("base_id"))
            .otherwise(pl.col("base_id") + "_" + pl.col("_seq").cast(pl.String)),
        )
    )
    issued = pl.concat(
        [wanted.filter(~contested).select("_order", membership_id=pl.col("base_id")), crowded]
    )
    frame = frame.join(issued, on="_order", how="left", maintain_order="left")
    # A repeated email in this run is a duplicate of the ID its first application received.
    repeats = frame.filter(~pl.col("_new") & pl.col("existing_id").is_null())
    first_ids = repeats.select("_order", "email_key").join(
        frame.filter(pl.col("_new")).select("email_key", _first_id="membership_id"),
        on="email_key",
    )
    frame = frame.join(first_ids.drop("email_key"), on="_order", how="left", maintain_order="left")
    frame = frame.with_columns(
        duplicate_of=pl.when(pl.col("_new"))
        .then(None)
        .otherwise(pl.coalesce(pl.col("existing_id"), pl.col("_first_id")))
    )
    return frame.drop("_order", "_new", "existing_id", "hash5", "_first_id")
