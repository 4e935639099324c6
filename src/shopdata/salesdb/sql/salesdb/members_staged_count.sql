-- load-members: how many distinct members this run staged.

select count(distinct s.membership_id) as staged_members
from members_in as s;
