-- Top 10 members by spending (the brief's first question).
--
-- Spending: the sum of the prices charged over the member's purchases that count (every
-- status but cancelled). Ties: every member tied with the 10th is listed (FETCH FIRST ... WITH
-- TIES), ranked 1, 2, 2, 4, ...; equal rows by member_key. Members who spent nothing are never
-- listed. Keyed by member_key: the marts hold no names, contact data or membership_id.
-- Reads marts.dim_members through its total_spent index (stops after the ties).

with leaders as (
    select
        d.member_key,
        d.total_spent,
        d.purchase_count
    from marts.dim_members as d
    where d.total_spent > 0
    order by d.total_spent desc
    fetch first 10 rows with ties
)

select
    rank() over (order by l.total_spent desc) as spending_rank,
    l.member_key,
    l.total_spent,
    l.purchase_count
from leaders as l
order by spending_rank asc, l.member_key asc;
