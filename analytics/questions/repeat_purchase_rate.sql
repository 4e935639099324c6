-- Repeat-purchase rate.
--
-- Among the members who made at least one purchase that counts, how many made two or more;
-- rate in percent, rounded to 2 decimals (null when nobody bought). One row.
-- Reads marts.agg_member_frequency (one row per purchase count).

select
    coalesce(sum(f.members) filter (where f.purchase_count >= 1), 0) as buyers,
    coalesce(sum(f.members) filter (where f.purchase_count >= 2), 0) as repeat_buyers,
    round(
        100.0 * sum(f.members) filter (where f.purchase_count >= 2)
        / nullif(sum(f.members) filter (where f.purchase_count >= 1), 0),
        2
    ) as repeat_rate_pct
from marts.agg_member_frequency as f;
