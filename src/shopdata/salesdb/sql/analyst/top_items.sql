-- Top 3 items most frequently bought by members.
--
-- Frequently bought = number of purchases: how many transactions that are NOT cancelled
-- contain the item, whatever the quantity (buying 5 at once is one purchase). units_sold (the
-- sum of quantities) is returned next to it as a second measure but does not decide the rank.
-- Ties: every item tied with the 3rd is returned (FETCH FIRST ... WITH TIES), so the answer
-- can hold more than 3 rows; purchase_rank is the SQL rank, and equal rows are listed by
-- item_id. Discontinued items still count (their sales happened).
-- Source: sales.item_sales plus the not-yet-rolled rows of sales.summary_deltas, together
-- exactly equal to the base tables (see sql/salesdb/reference_top_items.sql for the same
-- answer from them). Only the few items with a pending delta and the summary's top 3 (with
-- ties) of the other items can be in the answer: an item outside both is beaten by at least 3
-- others whose counts did not move, so it is neither in the top 3 nor tied with the 3rd. The
-- constant FETCH FIRST lets the planner walk item_sales_rank_idx and stop.
-- The walk skips items with a pending delta through NOT IN, a hashed lookup per row; the
-- NOT EXISTS it replaces became a nested-loop anti-join that rescanned every pending key for
-- every row walked (72 ms of 298 in EXPLAIN ANALYZE, scale 0.02, 40,800 delta rows, loaded
-- machine; pending keys are never null, so NOT IN means exactly "not pending").

with pending as (
    select
        d.item_id,
        sum(d.purchase_count) as purchase_count,
        sum(d.units) as units_sold
    from sales.summary_deltas as d
    where d.item_id is not null
    group by d.item_id
),

candidates as (
    select p.item_id from pending as p
    union
    select leaders.item_id
    from (
        select s.item_id
        from sales.item_sales as s
        where s.item_id not in (select p.item_id from pending as p)
        order by s.purchase_count desc
        fetch first 3 rows with ties
    ) as leaders
),

current_sales as (
    select
        c.item_id,
        coalesce(s.purchase_count, 0) + coalesce(p.purchase_count, 0) as purchase_count,
        coalesce(s.units_sold, 0) + coalesce(p.units_sold, 0) as units_sold
    from candidates as c
    left join sales.item_sales as s on c.item_id = s.item_id
    left join pending as p on c.item_id = p.item_id
),

ranked as (
    select
        cs.item_id,
        cs.purchase_count,
        cs.units_sold,
        rank() over (order by cs.purchase_count desc) as purchase_rank
    from current_sales as cs
    where cs.purchase_count > 0
    order by cs.purchase_count desc
    fetch first 3 rows with ties
)

select
    r.purchase_rank,
    r.item_id,
    i.name as item_name,
    mf.name as manufacturer_name,
    r.purchase_count,
    r.units_sold
from ranked as r
inner join sales.items as i on r.item_id = i.item_id
inner join sales.manufacturers as mf on i.manufacturer_id = mf.manufacturer_id
order by r.purchase_rank asc, r.item_id asc;
