-- Every difference between the trigger-maintained summaries and a recomputation from the base
-- tables. Zero rows = consistent. `shopdata db check` and the tests run it.

with member_truth as (
    select
        t.membership_id,
        sum(t.total_price) as total_spent,
        count(*)::integer as transaction_count
    from sales.transactions as t
    where t.status <> 'cancelled'
    group by t.membership_id
),

item_truth as (
    select
        li.item_id,
        count(*) as purchase_count,
        sum(li.quantity)::bigint as units_sold,
        sum(li.quantity * li.unit_price) as revenue
    from sales.transaction_items as li
    inner join sales.transactions as t on li.transaction_id = t.transaction_id
    where t.status <> 'cancelled'
    group by li.item_id
),

total_truth as (
    select
        li.transaction_id,
        sum(li.quantity * li.unit_price) as total_price,
        sum(li.quantity * li.unit_weight_kg) as total_weight_kg,
        sum(li.quantity)::integer as total_quantity
    from sales.transaction_items as li
    group by li.transaction_id
),

member_diff as (
    select
        'member_spending' as summary_name,
        coalesce(s.membership_id, mt.membership_id) as row_key,
        format('%s/%s', s.total_spent, s.transaction_count) as stored_value,
        format('%s/%s', mt.total_spent, mt.transaction_count) as recomputed_value
    from sales.member_spending as s
    full join member_truth as mt on s.membership_id = mt.membership_id
    where
        coalesce(s.total_spent, 0) <> coalesce(mt.total_spent, 0)
        or coalesce(s.transaction_count, 0) <> coalesce(mt.transaction_count, 0)
),

item_diff as (
    select
        'item_sales' as summary_name,
        coalesce(s.item_id, it.item_id)::text as row_key,
        format('%s/%s/%s', s.purchase_count, s.units_sold, s.revenue) as stored_value,
        format('%s/%s/%s', it.purchase_count, it.units_sold, it.revenue) as recomputed_value
    from sales.item_sales as s
    full join item_truth as it on s.item_id = it.item_id
    where
        coalesce(s.purchase_count, 0) <> coalesce(it.purchase_count, 0)
        or coalesce(s.units_sold, 0) <> coalesce(it.units_sold, 0)
        or coalesce(s.revenue, 0) <> coalesce(it.revenue, 0)
),

total_diff as (
    select
        'transactions' as summary_name,
        t.transaction_id::text as row_key,
        format('%s/%s/%s', t.total_price, t.total_weight_kg, t.total_quantity) as stored_value,
        format(
            '%s/%s/%s',
            coalesce(tt.total_price, 0),
            coalesce(tt.total_weight_kg, 0),
            coalesce(tt.total_quantity, 0)
        ) as recomputed_value
    from sales.transactions as t
    left join total_truth as tt on t.transaction_id = tt.transaction_id
    where
        t.total_price <> coalesce(tt.total_price, 0)
        or t.total_weight_kg <> coalesce(tt.total_weight_kg, 0)
        or t.total_quantity <> coalesce(tt.total_quantity, 0)
)

select
    d.summary_name,
    d.row_key,
    d.stored_value,
    d.recomputed_value
from (
    select * from member_diff
    union all
    select * from item_diff
    union all
    select * from total_diff
) as d
order by d.summary_name asc, d.row_key asc;
