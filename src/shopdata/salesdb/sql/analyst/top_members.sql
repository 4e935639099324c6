-- Top 10 members by spending.
--
-- Spending: the sum of total_price over the member's transactions that are NOT cancelled
-- (pending = paid but not yet shipped, and completed, both count). Prices are those charged at
-- the time of sale (line items keep them), so later catalogue price changes do not move it.
-- Ties: every member tied with the 10th is returned (FETCH FIRST ... WITH TIES), so the answer
-- can hold more than 10 rows; spending_rank is the SQL rank (1, 2, 2, 4, ...), and rows of
-- equal spending are listed by membership_id. Members who spent nothing are never listed.
-- transaction_count: the member's purchases that are not cancelled and hold a line item (an
-- empty basket is no purchase: the triggers count one from its first line to its last, as the
-- marts do).
-- Source: sales.member_spending plus the not-yet-rolled rows of sales.summary_deltas, together
-- exactly equal to that sum (see sql/salesdb/reference_top_members.sql for the same answer
-- from the base tables). Only the members with a pending delta and the summary's top 10 (with
-- ties) of the other members can be in the answer: a member outside both is beaten by at least
-- 10 others whose spending did not move, so it is neither in the top 10 nor tied with the 10th.
-- The constant FETCH FIRST lets the planner walk member_spending_rank_idx and stop (a computed
-- row count made it sort the whole table: 40 ms at 100,000 members).
-- The walk skips members with a pending delta through NOT IN, a hashed lookup per row; the
-- NOT EXISTS it replaces became a nested-loop anti-join that rescanned every pending key for
-- every row walked (72 ms of 298 in EXPLAIN ANALYZE, scale 0.02, 40,800 delta rows, loaded
-- machine; pending keys are never null, so NOT IN means exactly "not pending").

with pending as (
    select
        d.membership_id,
        sum(d.amount) as total_spent,
        sum(d.transaction_count) as transaction_count
    from sales.summary_deltas as d
    where d.membership_id is not null
    group by d.membership_id
),

candidates as (
    select p.membership_id from pending as p
    union
    select leaders.membership_id
    from (
        select s.membership_id
        from sales.member_spending as s
        where s.membership_id not in (select p.membership_id from pending as p)
        order by s.total_spent desc
        fetch first 10 rows with ties
    ) as leaders
),

current_spending as (
    select
        c.membership_id,
        coalesce(s.total_spent, 0) + coalesce(p.total_spent, 0) as total_spent,
        coalesce(s.transaction_count, 0)
        + coalesce(p.transaction_count, 0) as transaction_count
    from candidates as c
    left join sales.member_spending as s on c.membership_id = s.membership_id
    left join pending as p on c.membership_id = p.membership_id
),

ranked as (
    select
        cs.membership_id,
        cs.total_spent,
        cs.transaction_count,
        rank() over (order by cs.total_spent desc) as spending_rank
    from current_spending as cs
    where cs.total_spent > 0
    order by cs.total_spent desc
    fetch first 10 rows with ties
)

select
    r.spending_rank,
    r.membership_id,
    m.first_name,
    m.last_name,
    r.total_spent,
    r.transaction_count
from ranked as r
inner join sales.members as m on r.membership_id = m.membership_id
order by r.spending_rank asc, r.membership_id asc;
