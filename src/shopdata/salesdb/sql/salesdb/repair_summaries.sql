-- `shopdata db repair-summaries`, after repair_summaries_lock.sql and a run of
-- check_summaries.sql (which reports what is about to change), in the same transaction:
-- recompute every summary and every transaction's totals from the base tables and write the
-- rows that differ (a NaN differs from every number). The deltas are folded in by discarding
-- them: the recomputation already holds what they stood for.

-- 1. Transaction totals. Their guard refuses direct writes, so it is off for this statement
--    only (ALTER TABLE is transactional: nobody else ever sees it off).
alter table sales.transactions disable trigger transactions_totals_guard;

with truth as (
    select
        t.transaction_id,
        coalesce(sum(li.quantity * li.unit_price), 0) as total_price,
        coalesce(sum(li.quantity * li.unit_weight_kg), 0) as total_weight_kg,
        coalesce(sum(li.quantity), 0)::integer as total_quantity
    from sales.transactions as t
    left join sales.transaction_items as li on t.transaction_id = li.transaction_id
    group by t.transaction_id
)

update sales.transactions as t
set
    total_price = truth.total_price,
    total_weight_kg = truth.total_weight_kg,
    total_quantity = truth.total_quantity
from truth
where
    t.transaction_id = truth.transaction_id
    and (t.total_price, t.total_weight_kg, t.total_quantity)
    is distinct from (truth.total_price, truth.total_weight_kg, truth.total_quantity);

alter table sales.transactions enable trigger transactions_totals_guard;

-- 2. The deltas are part of the stored values being replaced.
delete from sales.summary_deltas;

-- 3. member_spending: one row per member with a transaction (rows of members whose last
--    transaction was deleted stay, at zero). A transaction counts while it holds a line item
--    (total_quantity > 0, exact since step 1): an empty basket is no purchase.
with truth as (
    select
        t.membership_id,
        coalesce(sum(t.total_price) filter (where t.status <> 'cancelled'), 0) as total_spent,
        (
            count(*) filter (where t.status <> 'cancelled' and t.total_quantity > 0)
        )::integer as transaction_count
    from sales.transactions as t
    group by t.membership_id
),

fixed as (
    select
        s.membership_id,
        coalesce(truth.total_spent, 0) as total_spent,
        coalesce(truth.transaction_count, 0) as transaction_count
    from sales.member_spending as s
    left join truth on s.membership_id = truth.membership_id
    where
        (s.total_spent, s.transaction_count)
        is distinct from (coalesce(truth.total_spent, 0), coalesce(truth.transaction_count, 0))
)

update sales.member_spending as s
set total_spent = fixed.total_spent, transaction_count = fixed.transaction_count
from fixed
where s.membership_id = fixed.membership_id;

insert into sales.member_spending (membership_id, total_spent, transaction_count)
select
    t.membership_id,
    coalesce(sum(t.total_price) filter (where t.status <> 'cancelled'), 0) as total_spent,
    (
        count(*) filter (where t.status <> 'cancelled' and t.total_quantity > 0)
    )::integer as transaction_count
from sales.transactions as t
where
    not exists (
        select from sales.member_spending as s
        where s.membership_id = t.membership_id
    )
group by t.membership_id
order by t.membership_id;

-- 4. item_sales: one row per item with a line item, counting purchases that are not cancelled.
with truth as (
    select
        li.item_id,
        count(*) filter (where t.status <> 'cancelled') as purchase_count,
        coalesce(sum(li.quantity) filter (where t.status <> 'cancelled'), 0) as units_sold,
        coalesce(
            sum(li.quantity * li.unit_price) filter (where t.status <> 'cancelled'), 0
        ) as revenue
    from sales.transaction_items as li
    inner join sales.transactions as t on li.transaction_id = t.transaction_id
    group by li.item_id
),

fixed as (
    select
        s.item_id,
        coalesce(truth.purchase_count, 0) as purchase_count,
        coalesce(truth.units_sold, 0) as units_sold,
        coalesce(truth.revenue, 0) as revenue
    from sales.item_sales as s
    left join truth on s.item_id = truth.item_id
    where
        (s.purchase_count, s.units_sold, s.revenue)
        is distinct from (
            coalesce(truth.purchase_count, 0),
            coalesce(truth.units_sold, 0),
            coalesce(truth.revenue, 0)
        )
)

update sales.item_sales as s
set
    purchase_count = fixed.purchase_count,
    units_sold = fixed.units_sold,
    revenue = fixed.revenue
from fixed
where s.item_id = fixed.item_id;

insert into sales.item_sales (item_id, purchase_count, units_sold, revenue)
select
    li.item_id,
    count(*) filter (where t.status <> 'cancelled') as purchase_count,
    coalesce(sum(li.quantity) filter (where t.status <> 'cancelled'), 0) as units_sold,
    coalesce(
        sum(li.quantity * li.unit_price) filter (where t.status <> 'cancelled'), 0
    ) as revenue
from sales.transaction_items as li
inner join sales.transactions as t on li.transaction_id = t.transaction_id
where
    not exists (
        select from sales.item_sales as s
        where s.item_id = li.item_id
    )
group by li.item_id
order by li.item_id;
