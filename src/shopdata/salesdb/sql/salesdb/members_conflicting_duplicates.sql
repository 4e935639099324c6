-- load-members: the first staged membership_id that appears again with different details
-- (the pipeline promises unique IDs; identical repeats are harmless and are loaded once).
-- Returns membership_id, where it first appears, where it differs.

with numbered as (
    select
        s.membership_id,
        s.first_name,
        s.last_name,
        s.email,
        s.mobile_no,
        s.date_of_birth,
        s.above_18,
        s._source,
        s._line,
        format('%s line %s', s._source, s._line) as place,
        row_number() over (partition by s.membership_id order by s._source, s._line) as nth
    from members_in as s
),

firsts as (
    select
        n.membership_id,
        n.first_name,
        n.last_name,
        n.email,
        n.mobile_no,
        n.date_of_birth,
        n.above_18,
        n.place
    from numbered as n
    where n.nth = 1
)

select
    n.membership_id,
    f.place as first_place,
    n.place as differing_place
from numbered as n
inner join firsts as f on n.membership_id = f.membership_id
where
    n.nth > 1
    and (n.first_name, n.last_name, n.email, n.mobile_no, n.date_of_birth, n.above_18)
    is distinct from (f.first_name, f.last_name, f.email, f.mobile_no, f.date_of_birth, f.above_18)
order by n._source asc, n._line asc
limit 1;
