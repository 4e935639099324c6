-- Grain: one row per purchase (transaction), every status; is_counted says whether it counts.
-- Incremental: a run rewrites only the purchases that can have changed since the last one:
-- new ones (a higher transaction_id), those whose status moved (completed_at / cancelled_at
-- after the newest change already seen), and every purchase still pending now or at the last
-- run (their line items may change). refreshed_at marks the rows this run wrote; the daily
-- aggregates recompute exactly the days those rows belong to.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='transaction_id',
        post_hook="{{ drop_removed_purchases() }}",
        indexes=[
            {'columns': ['transaction_id'], 'unique': True},
            {'columns': ['created_day']},
            {'columns': ['completed_day']},
            {'columns': ['refreshed_at']},
            {'columns': ['member_key']},
        ],
    )
}}

-- depends_on: {{ ref('stg_sales__removed_purchases') }}
-- (post-hook: purchases deleted from the source since the last run leave the mart)

with changed as (
    select p.*
    from {{ ref('stg_sales__purchases') }} as p
    {% if is_incremental() %}
    where
        p.transaction_id > (select coalesce(max(transaction_id), 0) from {{ this }})
        or p.changed_at > (select coalesce(max(changed_at), '-infinity') from {{ this }})
        or p.status = 'pending'
        or p.transaction_id in (select transaction_id from {{ this }} where status = 'pending')
    {% endif %}
),

lines as (
    select li.transaction_id, count(*)::integer as line_count
    from {{ ref('stg_sales__line_items') }} as li
    where li.transaction_id in (select transaction_id from changed)
    group by li.transaction_id
)

select
    c.transaction_id,
    c.member_key,
    c.status,
    c.is_counted,
    c.created_at,
    c.created_day,
    date_trunc('month', c.created_day)::date as created_month,
    c.completed_at,
    c.completed_day,
    c.cancelled_at,
    c.revenue,
    c.units,
    c.weight_kg,
    coalesce(l.line_count, 0) as line_count,
    c.changed_at,
    {{ refreshed_now() }} as refreshed_at
from changed as c
left join lines as l on c.transaction_id = l.transaction_id
