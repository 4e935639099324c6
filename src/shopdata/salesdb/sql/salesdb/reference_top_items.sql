-- Reference for analyst/top_items.sql: the same definition computed from the base tables
-- (plain aggregation over every line item, no summary).

with purchases as (
    select
        li.item_id,
        count(*) as purchase_count,
        sum(li.quantity) as units_sold
    from sales.transaction_items as li
    inner join sales.transactions as t on li.transaction_id = t.transaction_id
    where t.status <> 'cancelled'
    group by li.item_id
),

ranked as (
    select
        p.item_id,
        p.purchase_count,
        p.units_sold,
        rank() over (order by p.purchase_count desc) as purchase_rank
    from purchases as p
    order by p.purchase_count desc
    fetch first 3 rows with ties
)

select
    r.purchase_rank,
    r.item_id,
    i.name as item_name,
    mf.name as manufacturer_name,
    r.purchase_count,
    r.units_sold::bigint as units_sold
from ranked as r
inner join sales.items as i on r.item_id = i.item_id
inner join sales.manufacturers as mf on i.manufacturer_id = mf.manufacturer_id
order by r.purchase_rank asc, r.item_id asc;
