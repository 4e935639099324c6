-- Repeat-purchase rate.
--
-- Among the members who made at least one purchase that counts, how many made two or more;
-- rate in percent, rounded to 2 decimals (0.00 when nobody bought twice, null when nobody
-- bought). One row.
-- Reads marts.agg_member_frequency (one row per purchase count).

select
    coalesce(sum(f.members) filter (where f.purchase_count >= 1), 0)::bigint as buyers,
    coalesce(sum(f.members) filter (where f.purchase_count >= 2), 0)::bigint as repeat_buyers,
    round(
        100.0 * coalesce(sum(f.members) filter (where f.purchase_count >= 2), 0)
        / nullif(sum(f.members) filter (where f.purchase_count >= 1), 0),
        2
    ) as repeat_rate_pct
from marts.agg_member_frequency as f;
