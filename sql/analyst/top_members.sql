-- Top 10 members by spending.
--
-- Spending: the sum of total_price over the member's transactions that are NOT cancelled
-- (pending = paid but not yet shipped, and completed, both count). Prices are those charged at
-- the time of sale (line items keep them), so later catalogue price changes do not move it.
-- Ties: every member tied with the 10th is returned (FETCH FIRST ... WITH TIES), so the answer
-- can hold more than 10 rows; spending_rank is the SQL rank (1, 2, 2, 4, ...), and rows of
-- equal spending are listed by membership_id. Members who spent nothing are never listed.
-- Source: sales.member_spending, kept exactly equal to that sum by triggers (see
-- sql/salesdb/reference_top_members.sql for the same answer from the base tables).

with ranked as (
    select
        s.membership_id,
        s.total_spent,
        s.transaction_count,
        rank() over (order by s.total_spent desc) as spending_rank
    from sales.member_spending as s
    where s.total_spent > 0
    order by s.total_spent desc
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
