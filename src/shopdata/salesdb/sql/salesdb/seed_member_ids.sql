-- seed: every member who can buy (active ones), in a stable order for reproducible draws.

select m.membership_id
from sales.members as m
where m.status = 'active'
order by m.membership_id asc;
