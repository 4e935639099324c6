-- Reference: repeat-purchase rate from the transactions.
with per_member as (
    select membership_id, count(*) as purchases
    from sales.transactions
    where status <> 'cancelled'
    group by membership_id
)

select count(*) as buyers, count(*) filter (where purchases >= 2) as repeat_buyers,
    round(100.0 * count(*) filter (where purchases >= 2) / nullif(count(*), 0), 2)
from per_member;
