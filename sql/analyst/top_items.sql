-- Top 3 items most frequently bought by members.
--
-- Frequently bought = number of purchases: how many transactions that are NOT cancelled
-- contain the item, whatever the quantity (buying 5 at once is one purchase). units_sold (the
-- sum of quantities) is returned next to it as a second measure but does not decide the rank.
-- Ties: every item tied with the 3rd is returned (FETCH FIRST ... WITH TIES), so the answer
-- can hold more than 3 rows; purchase_rank is the SQL rank, and equal rows are listed by
-- item_id. Discontinued items still count (their sales happened).
-- Source: sales.item_sales, kept exactly equal by triggers (see
-- sql/salesdb/reference_top_items.sql for the same answer from the base tables).

with ranked as (
    select
        s.item_id,
        s.purchase_count,
        s.units_sold,
        rank() over (order by s.purchase_count desc) as purchase_rank
    from sales.item_sales as s
    where s.purchase_count > 0
    order by s.purchase_count desc
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
