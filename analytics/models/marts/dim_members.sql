-- Grain: one row per member (member_key; no names, contact data, birthday or membership_id).
-- Purchase figures count the purchases that count (not cancelled); a member who never bought
-- has purchase_count 0, total_spent 0 and null purchase dates. Rebuilt in full from
-- fct_purchases (one pass over it).
{{
    config(
        indexes=[
            {'columns': ['member_key'], 'unique': True},
            {'columns': ['total_spent']},
        ],
    )
}}

with bought as (
    select
        p.member_key,
        count(*) as purchase_count,
        sum(p.revenue) as total_spent,
        sum(p.units) as units,
        min(p.created_at) as first_purchase_at,
        max(p.created_at) as last_purchase_at
    from {{ ref('fct_purchases') }} as p
    where p.is_counted
    group by p.member_key
)

select
    m.member_key,
    m.status,
    m.above_18,
    m.joined_at,
    m.joined_day,
    date_trunc('month', m.joined_day)::date as joined_month,
    coalesce(b.purchase_count, 0) as purchase_count,
    coalesce(b.total_spent, 0) as total_spent,
    coalesce(b.units, 0) as units,
    b.first_purchase_at,
    {{ utc_day('b.first_purchase_at') }} as first_purchase_day,
    b.last_purchase_at,
    {{ utc_day('b.last_purchase_at') }} as last_purchase_day
from {{ ref('stg_sales__members') }} as m
left join bought as b on m.member_key = b.member_key
