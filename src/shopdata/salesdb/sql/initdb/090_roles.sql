-- 090: team access. Least-privilege group roles for the teams that use the sales database.
--
-- Implements access/matrix.yaml (the one machine-readable policy; docs/access.md is rendered
-- from it and tests/access proves, as real login users, that this file does exactly what it
-- says). Runs after the schema files, as the database owner, and is idempotent: roles are
-- cluster-wide and may already exist, every other statement can be repeated.
--
-- People never get privileges of their own: `shopdata db add-user NAME --team TEAM` creates a
-- LOGIN role that is only a member of one of these NOLOGIN team roles.

-- 1. Team roles (cluster-wide, so created only when missing). ---------------------------------
do $roles$
declare
    team text;
begin
    foreach team in array array['logistics', 'analytics', 'sales'] loop
        if not exists (select from pg_catalog.pg_roles where rolname = team) then
            execute format(
                'create role %I nologin nosuperuser nocreatedb nocreaterole '
                'noreplication nobypassrls',
                team
            );
        end if;
    end loop;
end
$roles$;

comment on role logistics is
'Team role: reads what shipping needs, marks transactions completed. See docs/access.md.';
comment on role analytics is
'Team role: reads sales and members without contact data; writes nothing. See docs/access.md.';
comment on role sales is
'Team role: maintains the catalogue (manufacturers, items). See docs/access.md.';

-- 2. Database: PUBLIC gets CONNECT and TEMPORARY by default. Only the teams may connect, and
--    nobody may create temporary objects (analysts must not create objects; the others have no
--    use for them). The database name is not known in advance (POSTGRES_DB, test databases),
--    hence dynamic SQL.
--    The cluster's maintenance databases (`postgres`, `template1`) would otherwise let any
--    login connect and create temporary objects there: PUBLIC loses that too.
do $database$
declare
    other text;
begin
    execute format('revoke all on database %I from public', current_database());
    execute format(
        'grant connect on database %I to logistics, analytics, sales', current_database()
    );
    for other in
        select d.datname from pg_catalog.pg_database as d
        where d.datname in ('postgres', 'template1') and d.datname <> current_database()
    loop
        execute format('revoke connect, temporary on database %I from public', other);
    end loop;
end
$database$;

-- 3. Schemas: PUBLIC loses everything on `public` (PostgreSQL 15+ already withholds CREATE;
--    revoking USAGE too means nothing can be planted or found there). Teams may look up objects
--    in `sales`; nobody but the owner creates anything anywhere.
revoke all on schema public from public;
revoke all on schema sales from public;
grant usage on schema sales to logistics, analytics, sales;

create schema if not exists analytics;
comment on schema analytics is
'Views made for the analytics team (members without contact data). Owned by the database owner.';
revoke all on schema analytics from public;
grant usage on schema analytics to analytics;

-- 4. Functions: PUBLIC may execute every new function by default. Revoke that in the sales
--    schemas (trigger functions need no EXECUTE grant to fire) and for functions created later.
revoke all on all functions in schema sales from public;
alter default privileges revoke execute on functions from public;

-- Large objects are the one kind of object any role can create without a schema privilege.
-- Take that away from PUBLIC in this database (the superuser keeps it).
revoke execute on function pg_catalog.lo_create(oid) from public;
revoke execute on function pg_catalog.lo_creat(integer) from public;
revoke execute on function pg_catalog.lo_from_bytea(oid, bytea) from public;

-- Advisory locks have no privileges of their own: any role could take the key that
-- sales.roll_up_summaries() (and refresh-analytics) run under, hold it from an idle session
-- (no idle-in-transaction timeout applies outside a transaction) and so stop every roll-up:
-- the delta backlog, and with it the analyst queries' time, would grow without bound. Only the
-- owner (and the superuser) take advisory locks in this database.
do $advisory$
declare
    taker regprocedure;
begin
    for taker in
        select p.oid::regprocedure from pg_catalog.pg_proc as p
        where p.pronamespace = 'pg_catalog'::regnamespace
            and p.proname like 'pg%advisory%lock%' and p.proname not like '%unlock%'
    loop
        execute format('revoke execute on function %s from public', taker);
        execute format('grant execute on function %s to current_user', taker);
    end loop;
end
$advisory$;

-- 5. Start from nothing on every sales table, then grant exactly the matrix. ------------------
revoke all on all tables in schema sales from public, logistics, analytics, sales;
revoke all on all sequences in schema sales from public, logistics, analytics, sales;

-- membership_id is personal data: it is <last name>_<first 5 hex of sha256(birthday)>, so
-- whoever reads it can recover the birthday by hashing ~40,000 dates (issue 12). No team reads
-- it; teams join and group on sales.members.member_key, and find a transaction's member through
-- the view sales.transaction_members (section 7).

-- 5a. logistics: what shipping needs; completes transactions (status + completed_at only).
grant select (member_key, first_name, last_name, mobile_no)
on sales.members to logistics;
grant select on sales.manufacturers to logistics;
grant select (item_id, manufacturer_id, name, weight_kg)
on sales.items to logistics;
grant select (
    transaction_id, status, created_at, completed_at, cancelled_at,
    total_weight_kg, total_quantity
)
on sales.transactions to logistics;
grant update (status, completed_at) on sales.transactions to logistics;
grant select (transaction_id, item_id, quantity, unit_weight_kg)
on sales.transaction_items to logistics;

-- 5b. analytics: everything but members' contact data, birthday and membership_id; no writes.
grant select (
    member_key, first_name, last_name, above_18, status, status_changed_at, joined_at
)
on sales.members to analytics;
grant select on
sales.manufacturers, sales.items, sales.transaction_items, sales.item_sales
to analytics;
grant select (
    transaction_id, status, created_at, completed_at, cancelled_at,
    total_price, total_weight_kg, total_quantity
)
on sales.transactions to analytics;
-- The not-yet-rolled summary changes, without membership_id: the item side completes item_sales;
-- the member side reaches analysts through analytics.member_spending (section 7).
grant select (item_id, transaction_count, purchase_count, units, amount)
on sales.summary_deltas to analytics;

-- 5c. sales: the catalogue; item popularity without money; no members, no transactions.
grant select on sales.manufacturers to sales;
grant insert (name), update (name), delete on sales.manufacturers to sales;
grant select on sales.items to sales;
grant insert (manufacturer_id, name, cost, weight_kg, listed_at) on sales.items to sales;
grant update (manufacturer_id, name, cost, weight_kg, discontinued_at) on sales.items to sales;
grant delete on sales.items to sales;
grant select (transaction_id, item_id, quantity) on sales.transaction_items to sales;
grant select (item_id, purchase_count, units_sold) on sales.item_sales to sales;
grant select (item_id, purchase_count, units) on sales.summary_deltas to sales;

-- 6. Row-level security, in the one place where a team's right depends on the row: logistics
--    may complete a *pending* transaction and nothing else. Column grants already limit it to
--    status and completed_at, and the schema's lifecycle trigger stops a status from leaving
--    completed or cancelled; but with a status left unchanged, completed_at of a shipped
--    purchase could still be rewritten. The policy lets logistics update pending rows only and
--    requires the result to be completed, at a time not in the future. Everyone else who may
--    read transactions sees every row. The owner (loader, triggers: SECURITY DEFINER) is not
--    subject to RLS, so loading and summaries are unaffected.
alter table sales.transactions enable row level security;

drop policy if exists transactions_read on sales.transactions;
create policy transactions_read on sales.transactions
for select to logistics, analytics
using (true);

drop policy if exists transactions_logistics_complete on sales.transactions;
create policy transactions_logistics_complete on sales.transactions
for update to logistics
using (status = 'pending')
with check (status = 'completed' and completed_at <= now());

-- 7. Views that carry member_key instead of membership_id. They run with their owner's rights
--    (not security_invoker), so teams read them without any grant on membership_id,
--    date_of_birth or email. Dropped first: column lists changed (membership_id -> member_key).
drop view if exists analytics.member_profiles;
create view analytics.member_profiles as
select
    m.member_key,
    m.status,
    m.above_18,
    m.joined_at,
    extract(year from m.date_of_birth)::integer as birth_year,
    split_part(m.email, '@', 2) as email_domain
from sales.members as m;

comment on view analytics.member_profiles is
'Members without names, email address, mobile number, birthday or membership_id: member_key, '
'birth year and email domain only. For the analytics team.';
revoke all on analytics.member_profiles from public;
grant select on analytics.member_profiles to analytics;

drop view if exists analytics.member_spending;
create view analytics.member_spending as
with pending as (
    select
        d.membership_id,
        sum(d.amount) as total_spent,
        sum(d.transaction_count) as transaction_count
    from sales.summary_deltas as d
    where d.membership_id is not null
    group by d.membership_id
),

current_spending as (
    select
        coalesce(s.membership_id, p.membership_id) as membership_id,
        coalesce(s.total_spent, 0) + coalesce(p.total_spent, 0) as total_spent,
        coalesce(s.transaction_count, 0)
        + coalesce(p.transaction_count, 0) as transaction_count
    from sales.member_spending as s
    full join pending as p on s.membership_id = p.membership_id
)

select
    m.member_key,
    c.total_spent,
    c.transaction_count
from current_spending as c
inner join sales.members as m on c.membership_id = m.membership_id;

comment on view analytics.member_spending is
'Each member''s exact spending keyed by member_key instead of membership_id: '
'sales.member_spending plus the not-yet-rolled rows of sales.summary_deltas; '
'transaction_count counts the purchases that are not cancelled and hold a line item. '
'For the analytics team.';
revoke all on analytics.member_spending from public;
grant select on analytics.member_spending to analytics;

drop view if exists sales.transaction_members;
create view sales.transaction_members as
select
    t.transaction_id,
    m.member_key
from sales.transactions as t
inner join sales.members as m on t.membership_id = m.membership_id;

comment on view sales.transaction_members is
'Who bought: transaction_id -> member_key, so that teams can join transactions to members '
'without membership_id (a function of the birthday).';
revoke all on sales.transaction_members from public;
grant select on sales.transaction_members to logistics, analytics;

-- 8. Tables created later: nobody gets anything until the matrix says so (tests/access fails
--    on any table missing from it). A blanket read grant for analysts would hand them any new
--    column that holds membership_id, so there is none (and earlier runs' grants are undone).
alter default privileges in schema sales revoke all on tables from public, analytics;
alter default privileges in schema analytics revoke all on tables from public, analytics;
