-- Top 3 items most frequently bought (the brief's second question).
--
-- Frequently bought: the number of purchases that count (not cancelled) holding the item,
-- whatever the quantity; units_sold is shown but does not decide the rank. Ties with the 3rd
-- are listed; equal rows by item_id. Discontinued items still count.
-- Reads marts.dim_items through its purchase_count index.

with leaders as (
    select
        d.item_id,
        d.item_name,
        d.manufacturer_name,
        d.purchase_count,
        d.units_sold
    from marts.dim_items as d
    where d.purchase_count > 0
    order by d.purchase_count desc
    fetch first 3 rows with ties
)

select
    rank() over (order by l.purchase_count desc) as purchase_rank,
    l.item_id,
    l.item_name,
    l.manufacturer_name,
    l.purchase_count,
    l.units_sold
from leaders as l
order by purchase_rank asc, l.item_id asc;
