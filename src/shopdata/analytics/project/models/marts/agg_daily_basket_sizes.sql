-- Grain: one row per (UTC day, number of distinct items in the basket) with any purchase;
-- purchases / units / revenue count the purchases that count. Rows of cancelled purchases stay
-- (with zeros): a recomputed day must produce rows, or delete+insert would keep its old ones.
-- The basket-size distribution of any period is a sum over a few rows per day.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='day',
        post_hook="{{ drop_emptied_keys('day', 'created_day') }}",
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['day', 'line_count'], 'unique': True}],
    )
}}

-- depends_on: {{ ref('stg_sales__removed_purchases') }}

select
    p.created_day as day,
    p.line_count,
    count(*) filter (where p.is_counted) as purchases,
    coalesce(sum(p.units) filter (where p.is_counted), 0) as units,
    coalesce(sum(p.revenue) filter (where p.is_counted), 0) as revenue,
    {{ refreshed_now() }} as refreshed_at
from {{ ref('fct_purchases') }} as p
{% if is_incremental() %}
where
    p.created_day in {{ recomputed_keys('created_day') }}
{% endif %}
group by p.created_day, p.line_count
