-- 060: the triggers that make the database, not the loader, guarantee the invariants:
--   * a transaction's totals equal the sums over its line items;
--   * line items change only while their transaction is pending (a finished historical
--     purchase may be written with its lines by the database transaction that inserts it);
--   * no line item for an item already discontinued when the purchase was made;
--   * status moves only pending -> completed | cancelled; only pending purchases are deleted;
--   * an item is removed from sale now or later, never retroactively;
--   * sales history is never truncated;
--   * member_spending and item_sales (plus sales.summary_deltas) stay exactly equal to a
--     recomputation; a purchase with no line item (a basket never filled) is no purchase: it
--     counts from its first line until its last line is removed (docs/analytics.md, "Rules").
--
-- Concurrency. Every write to a line item takes the row lock of its purchase (the totals
-- UPDATE in line_item_changed) and reads the purchase's status from the version it locked,
-- i.e. the latest committed one. A cancellation or completion takes the same lock, so a line
-- write and a status change on one purchase are serialised: the line sees the new status and
-- is refused, or the status change waits for the line's commit and then reads its lines.
-- The line-item trigger fires before the foreign-key checks (its name sorts first), so an
-- INSERT locks the purchase before the foreign-key check takes its KEY SHARE lock on it (the
-- other order deadlocks with a purchase being deleted). Lock order for the shop's operations
-- (docs/salesdb.md, "Concurrency"): purchase row first, then its line items; use
-- shopdata.salesdb.purchases, which does so and retries deadlocks and serialisation failures.
--
-- Cost. The triggers use static SQL only (plans cached per session) and never update a summary
-- row: they append signed deltas to sales.summary_deltas (see 050_summaries.sql), so a flash
-- sale of one item does not serialise every purchase on that item's summary row.

-- Line items: lock and check the purchase, keep its totals, append the summary deltas. --------

-- A purchase inserted as completed or cancelled (a historical one from a loader) may receive
-- its line items in the same database transaction. The set of such purchases lives in a
-- per-session temporary table emptied at every commit (savepoints roll it back with the rows).
create function sales.note_finished_insert(p_transaction_id bigint) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if to_regclass('pg_temp.sales_finished_here') is null then
        create temporary table sales_finished_here (
            transaction_id bigint primary key
        ) on commit delete rows;
    end if;
    insert into pg_temp.sales_finished_here (transaction_id) values (p_transaction_id)
    on conflict (transaction_id) do nothing;
end;
$$;

create function sales.finished_here(p_transaction_id bigint) returns boolean
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    if to_regclass('pg_temp.sales_finished_here') is null then
        return false;
    end if;
    return exists (
        select from pg_temp.sales_finished_here as f where f.transaction_id = p_transaction_id
    );
end;
$$;

-- ONE row trigger per line write, after the write (so only for rows really written: an INSERT
-- ... ON CONFLICT fires BEFORE INSERT triggers for rows it then skips (DO NOTHING) or turns into
-- an UPDATE (DO UPDATE, which fires the UPDATE triggers); accounting before the write counted
-- lines that were never written). Per line image (an INSERT applies the new line with sign +1,
-- a DELETE the old line with -1, an UPDATE both, in turn) ONE statement locks the purchase row
-- and moves its totals: the UPDATE takes the row lock (FOR NO KEY UPDATE strength) and, in READ
-- COMMITTED, waits for a concurrent writer of that purchase and then works on (and returns) the
-- latest committed version, so the status checked after it is the current one; a refusal
-- raises and rolls the whole statement back, totals included. The trigger's name sorts before
-- the foreign keys' "RI_ConstraintTrigger..." (AFTER ROW triggers fire in name order), so the
-- purchase row is locked before the line's foreign-key check takes its KEY SHARE lock on it
-- (the other order deadlocked with a purchase being deleted, see the header).
-- Until issue 13 goal 2 this was two triggers (a BEFORE one locking with SELECT ... FOR NO KEY
-- UPDATE, an AFTER one updating the totals): one trigger call and one statement fewer per line.
-- A purchase counts in its member's transaction_count from its first line to its last: the
-- totals UPDATE returns the new total_quantity, and since every line has quantity > 0, adding a
-- line that leaves it equal to the line's quantity was the first line (0 -> >0) and removing
-- one that leaves it 0 was the last (>0 -> 0); the delta row appended anyway carries the +1 /
-- -1, with no statement of its own (RETURNING old.total_quantity would say the same, but OLD
-- is the line's record in a PL/pgSQL trigger).
create function sales.line_item_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    passes integer := case tg_op when 'UPDATE' then 2 else 1 end;
    line sales.transaction_items;
    adding boolean;
    sign integer;
    purchase record;
    first_or_last integer;
begin
    for pass in 1..passes loop
        adding := tg_op = 'INSERT' or pass = 2;
        if adding then
            line := new;
            sign := 1;
        else
            line := old;
            sign := -1;
        end if;

        update sales.transactions as t
        set total_price = t.total_price + sign * line.quantity * line.unit_price,
            total_weight_kg = t.total_weight_kg + sign * line.quantity * line.unit_weight_kg,
            total_quantity = t.total_quantity + sign * line.quantity
        from sales.items as i
        where t.transaction_id = line.transaction_id and i.item_id = line.item_id
        returning t.status, t.created_at, t.membership_id, t.total_quantity, i.discontinued_at
        into purchase;
        if not found then
            -- A line added to no such purchase or item: the foreign-key check (after this
            -- trigger) reports it. A line removed whose purchase is gone: both were deleted by
            -- ONE statement (WITH l AS (DELETE FROM transaction_items ...) DELETE FROM
            -- transactions ...; AFTER ROW triggers fire when the whole statement has run). Only a
            -- pending purchase can be deleted, so the line counted in item_sales and leaves it;
            -- the member's side leaves with the purchase's full total (transaction_deleted).
            -- Skipping it left item_sales over-counting (found by issue 13's outside tester).
            if not adding and not exists (
                select from sales.transactions as t where t.transaction_id = line.transaction_id
            ) then
                insert into sales.summary_deltas (item_id, purchase_count, units, amount)
                values (line.item_id, -1, -line.quantity, -line.quantity * line.unit_price);
            end if;
            continue;
        end if;

        if purchase.status <> 'pending'
            and not (tg_op = 'INSERT' and sales.finished_here(line.transaction_id)) then
            raise exception using
                errcode = 'check_violation',
                constraint = 'transaction_items_frozen_after_pending',
                message = format(
                    'line item (transaction_id=%s, item_id=%s): transaction %s is %s, '
                    'its line items can no longer change',
                    line.transaction_id, line.item_id, line.transaction_id, purchase.status
                );
        end if;

        if adding and purchase.discontinued_at <= purchase.created_at then
            raise exception using
                errcode = 'check_violation',
                constraint = 'transaction_items_item_on_sale',
                message = format(
                    'line item (transaction_id=%s, item_id=%s): item %s was discontinued '
                    'at %s, before the transaction was made',
                    line.transaction_id, line.item_id, line.item_id, purchase.discontinued_at
                );
        end if;

        if purchase.status <> 'cancelled' then
            -- +1 for the first line in, -1 for the last line out, else 0 (see above).
            first_or_last := case
                when purchase.total_quantity = case when adding then line.quantity else 0 end
                    then sign
                else 0
            end;
            insert into sales.summary_deltas (
                membership_id, item_id, transaction_count, purchase_count, units, amount
            )
            values (
                purchase.membership_id, line.item_id, first_or_last, sign, sign * line.quantity,
                sign * line.quantity * line.unit_price
            );
        else
            -- The line of a cancelled (historical) purchase counts nowhere, but the item gets
            -- its summary row like every item that has a line.
            insert into sales.summary_deltas (item_id) values (line.item_id);
        end if;
    end loop;
    return null;
end;
$$;

comment on function sales.line_item_changed() is
'Row-level, after the write (so only for rows really written, ON CONFLICT included) and before '
'the foreign-key checks: locks the purchase while moving its totals, freezes lines of finished '
'purchases, refuses discontinued items, appends summary deltas.';

-- Quoted: the upper-case L sorts before the R of "RI_ConstraintTrigger_..." (see above).
create trigger "Line_items_changed"
after insert or update or delete on sales.transaction_items
for each row execute function sales.line_item_changed();

-- Transactions: guards. ------------------------------------------------------------------

create function sales.reject_direct_total_write() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    raise exception using
        errcode = 'check_violation',
        constraint = 'transactions_totals_maintained',
        message = format(
            'transaction %s: total_price, total_weight_kg and total_quantity are maintained by '
            'the database from its line items and cannot be written directly',
            new.transaction_id
        );
end;
$$;

-- Fires only for writes issued by a client (trigger depth 0), not for the maintenance update.
create trigger transactions_totals_guard
before update of total_price, total_weight_kg, total_quantity on sales.transactions
for each row
when (
    pg_trigger_depth() = 0
    and (old.total_price, old.total_weight_kg, old.total_quantity)
    is distinct from (new.total_price, new.total_weight_kg, new.total_quantity)
)
execute function sales.reject_direct_total_write();

create function sales.check_status_change() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if old.status <> 'pending' then
        raise exception using
            errcode = 'check_violation',
            constraint = 'transactions_status_lifecycle',
            message = format(
                'transaction %s: status cannot change from %s to %s '
                '(only pending -> completed or pending -> cancelled)',
                new.transaction_id, old.status, new.status
            );
    end if;
    if new.status = 'completed' and new.total_quantity = 0 then
        raise exception using
            errcode = 'check_violation',
            constraint = 'transactions_status_lifecycle',
            message = format(
                'transaction %s: cannot be completed without line items', new.transaction_id
            );
    end if;
    return new;
end;
$$;

create trigger transactions_status_lifecycle
before update of status on sales.transactions
for each row
when (old.status is distinct from new.status)
execute function sales.check_status_change();

-- Transactions: insert / update / delete append member (and item) deltas. -------------------

-- After the insert, so only for rows really inserted: an INSERT ... ON CONFLICT DO NOTHING
-- (an idempotent client re-sending a purchase it may already have stored) fires BEFORE INSERT
-- triggers for the row it then skips. As a BEFORE trigger this counted the skipped purchase
-- once more in its member's transaction_count, and marked an existing completed purchase as
-- "inserted finished by this database transaction", which let that transaction add lines to
-- it (found by the outside tester of issue 13; tests/salesdb/test_purchase_upsert.py).
create function sales.transaction_inserting() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if new.total_price <> 0 or new.total_weight_kg <> 0 or new.total_quantity <> 0 then
        raise exception using
            errcode = 'check_violation',
            constraint = 'transactions_totals_maintained',
            message = format(
                'transaction %s: a new transaction starts with zero totals; they are '
                'maintained by the database from its line items',
                new.transaction_id
            );
    end if;
    if new.status <> 'pending' then
        perform sales.note_finished_insert(new.transaction_id);
    end if;
    -- A new purchase has no line yet, so it counts nowhere (its first line will count it, see
    -- line_item_changed), but its member gets a summary row (at zero).
    insert into sales.summary_deltas (membership_id) values (new.membership_id);
    return null;
end;
$$;

create trigger transactions_inserting
after insert on sales.transactions
for each row execute function sales.transaction_inserting();

-- After a status or member change (the row lock is held): the purchase leaves or joins its
-- member's spending, and a cancellation takes its lines out of item_sales. A purchase with no
-- line counts nowhere, so changing an empty one appends nothing. The lines are read
-- with a fresh snapshot, after every line writer of this purchase has committed (they hold the
-- same row lock while they write).
create function sales.transaction_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    was_counted boolean := old.status <> 'cancelled' and old.total_quantity > 0;
    is_counted boolean := new.status <> 'cancelled' and new.total_quantity > 0;
begin
    if was_counted then
        insert into sales.summary_deltas (membership_id, transaction_count, amount)
        values (old.membership_id, -1, -old.total_price);
    end if;
    if is_counted then
        insert into sales.summary_deltas (membership_id, transaction_count, amount)
        values (new.membership_id, 1, new.total_price);
    end if;
    if was_counted <> is_counted then
        insert into sales.summary_deltas (item_id, purchase_count, units, amount)
        select li.item_id, s.sign, s.sign * li.quantity, s.sign * li.quantity * li.unit_price
        from sales.transaction_items as li
        cross join (select case when is_counted then 1 else -1 end as sign) as s
        where li.transaction_id = new.transaction_id;
    end if;
    return null;
end;
$$;

create trigger transactions_changed
after update on sales.transactions
for each row
when (
    old.status is distinct from new.status
    or old.membership_id is distinct from new.membership_id
)
execute function sales.transaction_changed();

-- After the foreign-key check (RI triggers fire first: their names sort before ours), so that
-- deleting a purchase that still has lines reports the foreign key. A purchase emptied first
-- stopped counting with its last line; only one deleted together with its lines (one
-- statement, whose line triggers then find no purchase) still counts here.
create function sales.transaction_deleted() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if old.status <> 'pending' then
        raise exception using
            errcode = 'check_violation',
            constraint = 'transactions_history_kept',
            message = format(
                'transaction %s is %s: only pending transactions can be deleted',
                old.transaction_id, old.status
            );
    end if;
    if old.total_quantity > 0 then
        insert into sales.summary_deltas (membership_id, transaction_count, amount)
        values (old.membership_id, -1, -old.total_price);
    end if;
    return null;
end;
$$;

create trigger transactions_deleted
after delete on sales.transactions
for each row execute function sales.transaction_deleted();

-- History is never truncated. ---------------------------------------------------------------

create function sales.reject_truncate() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    raise exception using
        errcode = 'check_violation',
        constraint = 'sales_history_kept',
        message = format('%s.%s holds sales history and cannot be truncated',
            tg_table_schema, tg_table_name);
end;
$$;

create trigger transactions_no_truncate
before truncate on sales.transactions
for each statement execute function sales.reject_truncate();

create trigger transaction_items_no_truncate
before truncate on sales.transaction_items
for each statement execute function sales.reject_truncate();

-- Small row-level bookkeeping (not on the bulk path). -----------------------------------

create function sales.touch_item() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create function sales.keep_sold_item() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if exists (select from sales.transaction_items as li where li.item_id = old.item_id) then
        raise exception using
            errcode = 'foreign_key_violation',
            constraint = 'transaction_items_item_id_fkey',
            message = format(
                'item %s has been sold and cannot be deleted: set discontinued_at to remove '
                'it from sale',
                old.item_id
            );
    end if;
    return old;
end;
$$;

-- Removal from sale takes effect now or later: a discontinued_at in the past would make
-- purchases already made look like sales after removal. Relisting (null) is allowed. now() is
-- the start of the updating transaction, so a transaction held open for an hour could still
-- set an hour-old time: purchases made meanwhile are checked too.
create function sales.check_discontinued_at() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    sold record;
begin
    if new.discontinued_at < now() then
        raise exception using
            errcode = 'check_violation',
            constraint = 'items_discontinued_not_retroactive',
            message = format(
                'item %s: discontinued_at %s is in the past; removing an item from sale takes '
                'effect now or later, never retroactively',
                new.item_id, new.discontinued_at
            );
    end if;
    select t.transaction_id, t.created_at into sold
    from sales.transaction_items as li
    inner join sales.transactions as t on li.transaction_id = t.transaction_id
    where li.item_id = new.item_id and t.created_at >= new.discontinued_at
    order by t.created_at
    limit 1;
    if found then
        raise exception using
            errcode = 'check_violation',
            constraint = 'items_discontinued_not_retroactive',
            message = format(
                'item %s: discontinued_at %s is before its sale in transaction %s at %s; '
                'removing an item from sale takes effect now or later, never retroactively',
                new.item_id, new.discontinued_at, sold.transaction_id, sold.created_at
            );
    end if;
    return new;
end;
$$;

create trigger items_discontinued_not_retroactive
before update of discontinued_at on sales.items
for each row
when (
    new.discontinued_at is distinct from old.discontinued_at
    and new.discontinued_at is not null
)
execute function sales.check_discontinued_at();

create trigger items_keep_sold
before delete on sales.items
for each row execute function sales.keep_sold_item();

create trigger items_touch
before update on sales.items
for each row execute function sales.touch_item();

create function sales.touch_member_status() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    new.status_changed_at := now();
    return new;
end;
$$;

create trigger members_status_touch
before update of status on sales.members
for each row
when (old.status is distinct from new.status)
execute function sales.touch_member_status();
