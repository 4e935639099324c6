-- Grain: one row per (UTC day, number of distinct items in the basket) with any purchase;
-- purchases / units / revenue count the purchases that count. Rows of cancelled purchases stay
-- (with zeros): a recomputed day must produce rows, or delete+insert would keep its old ones.
-- The basket-size distribution of any period is a sum over a few rows per day.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='day',
        indexes=[{'columns': ['day', 'line_count'], 'unique': True}],
    )
}}

select
    p.created_day as day,
    p.line_count,
    count(*) filter (where p.is_counted) as purchases,
    coalesce(sum(p.units) filter (where p.is_counted), 0) as units,
    coalesce(sum(p.revenue) filter (where p.is_counted), 0) as revenue
from {{ ref('fct_purchases') }} as p
{% if is_incremental() %}
where
    p.created_day in (
        select r.created_day from {{ ref('fct_purchases') }} as r
        where r.refreshed_at = {{ refreshed_now() }}
    )
{% endif %}
group by p.created_day, p.line_count
