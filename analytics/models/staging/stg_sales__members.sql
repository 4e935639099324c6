-- Members without any contact data, birthday or membership_id: member_key is their key from
-- here on. membership_id is read only to join purchases to members (stg_sales__purchases).
select
    m.member_key,
    m.status::text as status,
    m.above_18,
    m.joined_at,
    {{ utc_day('m.joined_at') }} as joined_day,
    m.status_changed_at
from {{ source('sales', 'members') }} as m
