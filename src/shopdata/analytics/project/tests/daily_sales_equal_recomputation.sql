-- Invariant: the incremental day summaries equal a recomputation from the base tables (through
-- staging): agg_daily_sales, agg_daily_shipments and agg_daily_basket_sizes. The days of the
-- purchases a shop writing during the refresh can have changed since are left out
-- (unsettled_purchases(), rules.sql): their creation day, and their completion day for shipments.
with unsettled as {{ unsettled_purchases() }},

purchases as (
    select
        p.*,
        (select count(*) from {{ ref('stg_sales__line_items') }} as li
         where li.transaction_id = p.transaction_id) as line_count
    from {{ ref('stg_sales__purchases') }} as p
),

sales_expected as (
    select
        created_day as day,
        count(*) filter (where is_counted) as purchases,
        coalesce(sum(revenue) filter (where is_counted), 0) as revenue,
        coalesce(sum(units) filter (where is_counted), 0) as units,
        coalesce(sum(line_count) filter (where is_counted), 0) as line_items,
        count(*) filter (where status = 'pending' and is_counted) as pending_purchases,
        coalesce(sum(weight_kg) filter (where status = 'pending' and is_counted), 0)
            as pending_weight_kg,
        count(*) filter (where status = 'cancelled') as cancelled_purchases
    from purchases
    group by created_day
),

sales_actual as (
    select day, purchases, revenue, units, line_items, pending_purchases, pending_weight_kg,
        cancelled_purchases
    from {{ ref('agg_daily_sales') }}
),

shipped_expected as (
    select completed_day as day, count(*) as n, sum(units) as units, sum(weight_kg) as w
    from purchases where status = 'completed' and is_counted group by completed_day
),

shipped_actual as (
    select day, purchases_shipped as n, units_shipped as units, weight_kg_shipped as w
    from {{ ref('agg_daily_shipments') }}
),

baskets_expected as (
    select created_day as day, line_count, count(*) filter (where is_counted) as n,
        coalesce(sum(units) filter (where is_counted), 0) as units,
        coalesce(sum(revenue) filter (where is_counted), 0) as revenue
    from purchases group by created_day, line_count
),

baskets_actual as (
    select day, line_count, purchases as n, units, revenue
    from {{ ref('agg_daily_basket_sizes') }}
)

select 'agg_daily_sales' as summary, day::text as differing_key from (
    (select * from sales_expected except select * from sales_actual)
    union all
    (select * from sales_actual except select * from sales_expected)
) as d
where d.day not in (select u.created_day from unsettled as u)
union all
select 'agg_daily_shipments', day::text from (
    (select * from shipped_expected except select * from shipped_actual)
    union all
    (select * from shipped_actual except select * from shipped_expected)
) as d
where d.day not in (select u.completed_day from unsettled as u where u.completed_day is not null)
union all
select 'agg_daily_basket_sizes', day::text || '/' || line_count::text from (
    (select * from baskets_expected except select * from baskets_actual)
    union all
    (select * from baskets_actual except select * from baskets_expected)
) as d
where d.day not in (select u.created_day from unsettled as u)
