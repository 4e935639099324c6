-- Reference: repeat-purchase rate from the transactions (a purchase has at least one line).
with per_member as (
    select t.membership_id, count(*) as purchases
    from sales.transactions as t
    where t.status <> 'cancelled'
        and exists (select from sales.transaction_items as li where li.transaction_id = t.transaction_id)
    group by t.membership_id
)

select count(*) as buyers, count(*) filter (where purchases >= 2) as repeat_buyers,
    round(100.0 * count(*) filter (where purchases >= 2) / nullif(count(*), 0), 2)
from per_member;
