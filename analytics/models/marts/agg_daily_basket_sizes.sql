-- Grain: one row per (UTC day, number of distinct items in the basket) over the purchases that
-- count; the basket-size distribution of any period is a sum over a few rows per day.
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
    count(*) as purchases,
    sum(p.units) as units,
    sum(p.revenue) as revenue
from {{ ref('fct_purchases') }} as p
where
    p.is_counted
    {% if is_incremental() %}
    and p.created_day in (
        select r.created_day from {{ ref('fct_purchases') }} as r
        where r.refreshed_at = {{ refreshed_now() }}
    )
    {% endif %}
group by p.created_day, p.line_count
