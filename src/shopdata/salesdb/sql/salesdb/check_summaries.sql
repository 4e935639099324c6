-- Every difference between the trigger-maintained summaries and a recomputation from the base
-- tables. Zero rows = consistent. `shopdata db check` and the tests run it.
-- A summary's stored value is its row plus its not-yet-rolled rows in sales.summary_deltas
-- (050_summaries.sql). A NaN anywhere in a summary, a delta or a transaction total is reported
-- even when the recomputation is NaN too (PostgreSQL compares NaN as equal to NaN).

with member_deltas as (
    select
        d.membership_id,
        sum(d.amount) as total_spent,
        sum(d.transaction_count) as transaction_count
    from sales.summary_deltas as d
    where d.membership_id is not null
    group by d.membership_id
),

item_deltas as (
    select
        d.item_id,
        sum(d.purchase_count) as purchase_count,
        sum(d.units) as units_sold,
        sum(d.amount) as revenue
    from sales.summary_deltas as d
    where d.item_id is not null
    group by d.item_id
),

member_stored as (
    select
        coalesce(s.membership_id, d.membership_id) as membership_id,
        coalesce(s.total_spent, 0) + coalesce(d.total_spent, 0) as total_spent,
        coalesce(s.transaction_count, 0)
        + coalesce(d.transaction_count, 0) as transaction_count
    from sales.member_spending as s
    full join member_deltas as d on s.membership_id = d.membership_id
),

item_stored as (
    select
        coalesce(s.item_id, d.item_id) as item_id,
        coalesce(s.purchase_count, 0) + coalesce(d.purchase_count, 0) as purchase_count,
        coalesce(s.units_sold, 0) + coalesce(d.units_sold, 0) as units_sold,
        coalesce(s.revenue, 0) + coalesce(d.revenue, 0) as revenue
    from sales.item_sales as s
    full join item_deltas as d on s.item_id = d.item_id
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

-- A purchase counts in transaction_count only while it holds a line item (an empty basket is
-- no purchase, docs/analytics.md "Rules"): counted from the lines themselves, not from
-- total_quantity, which total_diff checks separately.
member_truth as (
    select
        t.membership_id,
        sum(t.total_price) as total_spent,
        count(tt.transaction_id)::integer as transaction_count
    from sales.transactions as t
    left join total_truth as tt on t.transaction_id = tt.transaction_id
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

member_diff as (
    select
        'member_spending' as summary_name,
        coalesce(s.membership_id, mt.membership_id) as row_key,
        format('%s/%s', s.total_spent, s.transaction_count) as stored_value,
        format('%s/%s', mt.total_spent, mt.transaction_count) as recomputed_value
    from member_stored as s
    full join member_truth as mt on s.membership_id = mt.membership_id
    where
        coalesce(s.total_spent, 0) <> coalesce(mt.total_spent, 0)
        or coalesce(s.transaction_count, 0) <> coalesce(mt.transaction_count, 0)
        or s.total_spent = 'NaN'
),

item_diff as (
    select
        'item_sales' as summary_name,
        coalesce(s.item_id, it.item_id)::text as row_key,
        format('%s/%s/%s', s.purchase_count, s.units_sold, s.revenue) as stored_value,
        format('%s/%s/%s', it.purchase_count, it.units_sold, it.revenue) as recomputed_value
    from item_stored as s
    full join item_truth as it on s.item_id = it.item_id
    where
        coalesce(s.purchase_count, 0) <> coalesce(it.purchase_count, 0)
        or coalesce(s.units_sold, 0) <> coalesce(it.units_sold, 0)
        or coalesce(s.revenue, 0) <> coalesce(it.revenue, 0)
        or s.revenue = 'NaN'
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
        or t.total_price = 'NaN'
        or t.total_weight_kg = 'NaN'
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
