-- Invariant: the marts agree with the summaries the database keeps by triggers
-- (sales.member_spending / sales.item_sales plus their not-yet-rolled deltas, as
-- analytics.member_spending adds them): two independent
-- computations of the same spending and popularity, under the same rules (a basket never
-- filled counts in neither: the triggers count a purchase from its first line to its last).
-- Members and items of the purchases a shop writing during the refresh can have changed since
-- are left out (unsettled_purchases(), rules.sql).
with unsettled as {{ unsettled_purchases() }},

unsettled_items as (
    select li.item_id from {{ ref('stg_sales__line_items') }} as li
    where li.transaction_id in (select u.transaction_id from unsettled as u)
    union
    select li.item_id from {{ ref('fct_line_items') }} as li
    where li.transaction_id in (select u.transaction_id from unsettled as u)
),

member_pending as (
    select membership_id, sum(transaction_count) as purchase_count, sum(amount) as total_spent
    from {{ source('sales', 'summary_deltas') }}
    where membership_id is not null
    group by membership_id
),

member_summary_by_id as (
    select
        coalesce(s.membership_id, p.membership_id) as membership_id,
        coalesce(s.transaction_count, 0) + coalesce(p.purchase_count, 0) as purchase_count,
        coalesce(s.total_spent, 0) + coalesce(p.total_spent, 0) as total_spent
    from {{ source('sales', 'member_spending') }} as s
    full join member_pending as p on s.membership_id = p.membership_id
),

member_summary as (
    select m.member_key, s.purchase_count, s.total_spent
    from member_summary_by_id as s
    inner join {{ source('sales', 'members') }} as m on s.membership_id = m.membership_id
    where s.purchase_count <> 0 or s.total_spent <> 0
),

member_mart as (
    select member_key, purchase_count, total_spent
    from {{ ref('dim_members') }}
    where purchase_count <> 0
),

pending as (
    select item_id, sum(purchase_count) as purchase_count, sum(units) as units, sum(amount) as amount
    from {{ source('sales', 'summary_deltas') }}
    where item_id is not null
    group by item_id
),

item_summary as (
    select
        coalesce(s.item_id, p.item_id) as item_id,
        coalesce(s.purchase_count, 0) + coalesce(p.purchase_count, 0) as purchase_count,
        coalesce(s.units_sold, 0) + coalesce(p.units, 0) as units_sold,
        coalesce(s.revenue, 0) + coalesce(p.amount, 0) as revenue
    from {{ source('sales', 'item_sales') }} as s
    full join pending as p on s.item_id = p.item_id
),

item_mart as (
    select item_id, purchase_count, units_sold, revenue
    from {{ ref('dim_items') }}
    where purchase_count <> 0
)

select 'member' as kind, member_key as key from (
    (select * from member_summary except select * from member_mart)
    union all
    (select * from member_mart except select * from member_summary)
) as d
where d.member_key not in (select u.member_key from unsettled as u)
union all
select 'item', item_id from (
    (select * from item_summary where purchase_count <> 0 except select * from item_mart)
    union all
    (select * from item_mart except select * from item_summary where purchase_count <> 0)
) as d
where d.item_id not in (select ui.item_id from unsettled_items as ui)
