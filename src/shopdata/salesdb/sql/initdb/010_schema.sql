-- 010: the `sales` schema and its enumerated types.
-- Every sales object lives in one schema so that team roles (090_roles.sql) can be granted
-- per schema and analysts can set `search_path = sales`.

create schema if not exists sales;

comment on schema sales is
'Sales of the web shop: members, catalogue, transactions and their line items, plus summaries '
'kept exactly consistent by triggers. Grain and invariants are documented per table.';

-- Membership status, for analysts (who is an active customer).
create type sales.membership_status as enum ('active', 'suspended', 'closed');

comment on type sales.membership_status is
'active: may buy; suspended: temporarily blocked; closed: left the programme (history kept).';

-- Transaction lifecycle: pending -> completed (logistics shipped it) or pending -> cancelled.
create type sales.transaction_status as enum ('pending', 'completed', 'cancelled');

comment on type sales.transaction_status is
'pending: paid, not yet shipped; completed: shipped by logistics (completed_at set); '
'cancelled: never counts in spending or item popularity (cancelled_at set).';
