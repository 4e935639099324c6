-- One row per transaction (a purchase), with the member's key instead of membership_id.
-- Rules: a purchase counts unless cancelled (pending = paid, not shipped yet) or empty (no line
-- item: a basket never filled); its revenue is total_price, the sum of quantity * unit_price
-- charged at the time of sale (the database keeps it equal to its line items); days are UTC
-- calendar days.
with transactions as (
    select
        t.*,
        {{ has_lines('t.transaction_id') }} as has_lines
    from {{ source('sales', 'transactions') }} as t
)

select
    t.transaction_id,
    m.member_key,
    t.status::text as status,
    t.has_lines,
    {{ is_counted('t.status', 't.has_lines') }} as is_counted,
    t.created_at,
    {{ utc_day('t.created_at') }} as created_day,
    t.completed_at,
    {{ utc_day('t.completed_at') }} as completed_day,
    t.cancelled_at,
    t.total_price as revenue,
    t.total_quantity as units,
    t.total_weight_kg as weight_kg,
    greatest(t.created_at, t.completed_at, t.cancelled_at) as changed_at
from transactions as t
inner join {{ source('sales', 'members') }} as m on t.membership_id = m.membership_id
