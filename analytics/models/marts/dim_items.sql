-- Grain: one row per catalogue item, with its lifetime sales over the purchases that count
-- (summed from agg_monthly_item_sales, a few rows per item). Never sold: purchase_count 0.
{{
    config(
        indexes=[
            {'columns': ['item_id'], 'unique': True},
            {'columns': ['purchase_count']},
            {'columns': ['revenue']},
        ],
    )
}}

with sold as (
    select
        s.item_id,
        sum(s.purchase_count) as purchase_count,
        sum(s.units_sold) as units_sold,
        sum(s.revenue) as revenue,
        min(s.first_sold_day) as first_sold_day,
        max(s.last_sold_day) as last_sold_day
    from {{ ref('agg_monthly_item_sales') }} as s
    group by s.item_id
)

select
    i.item_id,
    i.item_name,
    i.manufacturer_id,
    i.manufacturer_name,
    i.current_price,
    i.weight_kg,
    i.listed_at,
    i.discontinued_at,
    coalesce(s.purchase_count, 0) as purchase_count,
    coalesce(s.units_sold, 0) as units_sold,
    coalesce(s.revenue, 0) as revenue,
    s.first_sold_day,
    s.last_sold_day
from {{ ref('stg_sales__items') }} as i
left join sold as s on i.item_id = s.item_id
