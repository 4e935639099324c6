-- Churned members: bought before, but not in the last 90 days, per membership status.
--
-- Churned: the member's last purchase that counts was made on a UTC day more than 90 days
-- before today (UTC). Members who never bought are not churned (they never started).
-- share_pct: churned / members of that status who ever bought, rounded to 2 decimals; a status
-- whose buyers all bought recently has 0 churned and 0.00, not null.
-- Reads marts.agg_member_recency (one row per last-purchase day and status).

select
    r.status,
    coalesce(
        sum(r.members) filter (
            where r.last_purchase_day < (now() at time zone 'UTC')::date - 90
        ),
        0
    ) as churned,
    sum(r.members) as buyers,
    round(
        100.0 * coalesce(
            sum(r.members) filter (
                where r.last_purchase_day < (now() at time zone 'UTC')::date - 90
            ),
            0
        ) / sum(r.members),
        2
    ) as share_pct
from marts.agg_member_recency as r
where r.last_purchase_day is not null
group by r.status
order by r.status;
