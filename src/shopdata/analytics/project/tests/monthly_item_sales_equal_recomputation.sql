-- Invariant: agg_monthly_item_sales (incremental) equals a recomputation from the base tables,
-- but for the months of the purchases a shop writing during the refresh can have changed since
-- (unsettled_purchases(), rules.sql).
with unsettled as {{ unsettled_purchases() }},

expected as (
    select
        date_trunc('month', p.created_day)::date as month,
        li.item_id,
        count(*) filter (where p.is_counted) as purchase_count,
        coalesce(sum(li.quantity) filter (where p.is_counted), 0) as units_sold,
        coalesce(sum(li.revenue) filter (where p.is_counted), 0) as revenue
    from {{ ref('stg_sales__line_items') }} as li
    inner join {{ ref('stg_sales__purchases') }} as p on li.transaction_id = p.transaction_id
    group by 1, 2
),

actual as (
    select month, item_id, purchase_count, units_sold, revenue
    from {{ ref('agg_monthly_item_sales') }}
)

select d.* from (
    (select 'differs from recomputation' as problem, * from expected
     except select 'differs from recomputation', * from actual)
    union all
    (select 'not in recomputation' as problem, * from actual
     except select 'not in recomputation', * from expected)
) as d
where d.month not in (select u.created_month from unsettled as u)
