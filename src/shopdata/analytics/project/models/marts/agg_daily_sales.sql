-- Grain: one row per UTC day on which at least one purchase was made (any status).
-- purchases / revenue / units / line_items count the purchases that count (not cancelled);
-- pending_* is the logistics backlog created that day (pending purchases that count: an empty
-- basket has nothing to ship). Incremental: only the days of the purchases rewritten (or
-- deleted) since this mart's own last run are recomputed, each in full; refreshed_at says when.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='day',
        post_hook="{{ drop_emptied_keys('day', 'created_day') }}",
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['day'], 'unique': True}],
    )
}}

-- depends_on: {{ ref('stg_sales__removed_purchases') }}

select
    p.created_day as day,
    count(*) filter (where p.is_counted) as purchases,
    coalesce(sum(p.revenue) filter (where p.is_counted), 0) as revenue,
    coalesce(sum(p.units) filter (where p.is_counted), 0) as units,
    coalesce(sum(p.line_count) filter (where p.is_counted), 0) as line_items,
    count(*) filter (where p.status = 'pending' and p.is_counted) as pending_purchases,
    coalesce(
        sum(p.weight_kg) filter (where p.status = 'pending' and p.is_counted), 0
    ) as pending_weight_kg,
    count(*) filter (where p.status = 'cancelled') as cancelled_purchases,
    {{ refreshed_now() }} as refreshed_at
from {{ ref('fct_purchases') }} as p
{% if is_incremental() %}
where p.created_day in {{ recomputed_keys('created_day') }}
{% endif %}
group by p.created_day
