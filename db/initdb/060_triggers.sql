-- 060: the triggers that make the database, not the loader, guarantee the invariants:
--   * a transaction's totals equal the sums over its line items;
--   * line items change only while their transaction is pending (a finished historical
--     purchase may be written once, while it still has no line items);
--   * no line item for an item already discontinued when the purchase was made;
--   * status moves only pending -> completed | cancelled; only pending purchases are deleted;
--   * sales history is never truncated;
--   * member_spending and item_sales stay exactly equal to a recomputation.
-- Row-volume work is done in statement-level triggers over transition tables (set-based, so
-- a COPY of a million line items costs a few joins, not a million function calls).

-- Line items: checks, then totals and item_sales deltas. ------------------------------------

create function sales.line_items_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    -- The changed rows as signed deltas (+1 for new versions, -1 for old). A static query
    -- cannot name a transition table the trigger does not have (old_rows on INSERT), so the
    -- statements below are run with EXECUTE over this constant, operation-specific source.
    changed text := case tg_op
        when 'INSERT' then
            'select transaction_id, item_id, quantity, unit_price, unit_weight_kg, 1 as sign '
            'from new_rows'
        when 'DELETE' then
            'select transaction_id, item_id, quantity, unit_price, unit_weight_kg, -1 as sign '
            'from old_rows'
        else
            'select transaction_id, item_id, quantity, unit_price, unit_weight_kg, 1 as sign '
            'from new_rows union all '
            'select transaction_id, item_id, quantity, unit_price, unit_weight_kg, -1 as sign '
            'from old_rows'
    end;
    bad record;
begin
    -- Lines of a transaction that is no longer pending are frozen. Inserting the lines of a
    -- finished historical purchase is allowed while it has none yet.
    execute format(
        'select c.transaction_id, c.item_id, t.status from (%s) as c '
        'inner join sales.transactions as t on c.transaction_id = t.transaction_id '
        'where t.status <> ''pending'' and not ($1 = ''INSERT'' and t.total_quantity = 0) '
        'order by c.transaction_id, c.item_id limit 1',
        changed
    ) into bad using tg_op;
    if bad.transaction_id is not null then
        raise exception using
            errcode = 'check_violation',
            constraint = 'transaction_items_frozen_after_pending',
            message = format(
                'line item (transaction_id=%s, item_id=%s): transaction %s is %s, '
                'its line items can no longer change',
                bad.transaction_id, bad.item_id, bad.transaction_id, bad.status
            );
    end if;

    if tg_op in ('INSERT', 'UPDATE') then
        execute
            'select n.transaction_id, n.item_id, i.discontinued_at from new_rows as n '
            'inner join sales.transactions as t on n.transaction_id = t.transaction_id '
            'inner join sales.items as i on n.item_id = i.item_id '
            'where i.discontinued_at <= t.created_at '
            'order by n.transaction_id, n.item_id limit 1'
        into bad;
        if bad.transaction_id is not null then
            raise exception using
                errcode = 'check_violation',
                constraint = 'transaction_items_item_on_sale',
                message = format(
                    'line item (transaction_id=%s, item_id=%s): item %s was discontinued at '
                    '%s, before the transaction was made',
                    bad.transaction_id, bad.item_id, bad.item_id, bad.discontinued_at
                );
        end if;
    end if;

    -- Summary rows are created at zero first and then moved by the delta: an upsert would
    -- check the nonnegative constraints against the bare, possibly negative, delta row.
    execute format(
        'insert into sales.item_sales (item_id) select distinct item_id from (%s) as c '
        'order by item_id on conflict (item_id) do nothing',
        changed
    );

    -- Apply the deltas to the transaction totals and to item_sales in one statement (a
    -- data-modifying CTE always runs to completion). The item_sales part reads the
    -- transactions' status, which the totals update leaves as it is.
    execute format(
        'with delta as ('
        '    select transaction_id, item_id, sign * quantity as quantity,'
        '        sign * quantity * unit_price as price, sign * quantity * unit_weight_kg as weight,'
        '        sign as purchases'
        '    from (%s) as c'
        '), totals as ('
        '    update sales.transactions as t'
        '    set total_price = t.total_price + d.price,'
        '        total_weight_kg = t.total_weight_kg + d.weight,'
        '        total_quantity = t.total_quantity + d.quantity'
        '    from ('
        '        select transaction_id, sum(price) as price, sum(weight) as weight,'
        '            sum(quantity)::integer as quantity'
        '        from delta group by transaction_id'
        '    ) as d'
        '    where t.transaction_id = d.transaction_id'
        '        and (d.price <> 0 or d.weight <> 0 or d.quantity <> 0)'
        ') '
        'update sales.item_sales as s '
        'set purchase_count = s.purchase_count + d.purchases, '
        '    units_sold = s.units_sold + d.quantity, '
        '    revenue = s.revenue + d.price '
        'from ('
        '    select d.item_id, sum(d.purchases) as purchases, sum(d.quantity) as quantity,'
        '        sum(d.price) as price'
        '    from delta as d'
        '    inner join sales.transactions as t on d.transaction_id = t.transaction_id'
        '    where t.status <> ''cancelled'''
        '    group by d.item_id'
        ') as d '
        'where s.item_id = d.item_id',
        changed
    );
    return null;
end;
$$;

comment on function sales.line_items_changed() is
'Statement-level: freezes lines of finished purchases, refuses discontinued items, and applies '
'the signed deltas to sales.transactions totals and sales.item_sales.';

-- The plpgsql body refers to new_rows / old_rows only in branches where they exist.
create trigger transaction_items_inserted
after insert on sales.transaction_items
referencing new table as new_rows
for each statement execute function sales.line_items_changed();

create trigger transaction_items_updated
after update on sales.transaction_items
referencing old table as old_rows new table as new_rows
for each statement execute function sales.line_items_changed();

create trigger transaction_items_deleted
after delete on sales.transaction_items
referencing old table as old_rows
for each statement execute function sales.line_items_changed();

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

-- Transactions: insert / update / delete keep member_spending (and item_sales on status
-- changes) exact. -------------------------------------------------------------------------

create function sales.transactions_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    -- As in line_items_changed: the changed rows as signed versions, run with EXECUTE.
    changed text := case tg_op
        when 'INSERT' then
            'select transaction_id, membership_id, status, total_price, 1 as sign from new_rows'
        when 'DELETE' then
            'select transaction_id, membership_id, status, total_price, -1 as sign from old_rows'
        else
            'select transaction_id, membership_id, status, total_price, 1 as sign from new_rows '
            'union all '
            'select transaction_id, membership_id, status, total_price, -1 as sign from old_rows'
    end;
    bad record;
begin
    if tg_op = 'INSERT' then
        select n.transaction_id into bad
        from new_rows as n
        where n.total_price <> 0 or n.total_weight_kg <> 0 or n.total_quantity <> 0
        order by n.transaction_id
        limit 1;
        if found then
            raise exception using
                errcode = 'check_violation',
                constraint = 'transactions_totals_maintained',
                message = format(
                    'transaction %s: a new transaction starts with zero totals; they are '
                    'maintained by the database from its line items',
                    bad.transaction_id
                );
        end if;
    end if;
    if tg_op = 'DELETE' then
        select o.transaction_id, o.status into bad
        from old_rows as o
        where o.status <> 'pending'
        order by o.transaction_id
        limit 1;
        if found then
            raise exception using
                errcode = 'check_violation',
                constraint = 'transactions_history_kept',
                message = format(
                    'transaction %s is %s: only pending transactions can be deleted',
                    bad.transaction_id, bad.status
                );
        end if;
    end if;

    -- Rows at zero first, then the delta (see line_items_changed for why not an upsert).
    execute format(
        'insert into sales.member_spending (membership_id) '
        'select distinct membership_id from (%s) as c '
        'order by membership_id on conflict (membership_id) do nothing',
        changed
    );
    execute format(
        'update sales.member_spending as s '
        'set total_spent = s.total_spent + d.spent, '
        '    transaction_count = s.transaction_count + d.n '
        'from ('
        '    select membership_id, sum(sign * total_price) as spent, sum(sign)::integer as n'
        '    from (%s) as c'
        '    where status <> ''cancelled'''
        '    group by membership_id'
        ') as d '
        'where s.membership_id = d.membership_id and (d.spent <> 0 or d.n <> 0)',
        changed
    );

    if tg_op = 'UPDATE' then
        -- A purchase that becomes cancelled moves its lines out of item_sales (whose rows
        -- exist: the lines were counted when they were added to the pending purchase).
        update sales.item_sales as s
        set purchase_count = s.purchase_count + d.purchases,
            units_sold = s.units_sold + d.quantity,
            revenue = s.revenue + d.price
        from (
            select li.item_id, sum(c.sign) as purchases, sum(c.sign * li.quantity) as quantity,
                sum(c.sign * li.quantity * li.unit_price) as price
            from (
                select n.transaction_id,
                    case when n.status = 'cancelled' then -1 else 1 end as sign
                from new_rows as n
                inner join old_rows as o on n.transaction_id = o.transaction_id
                where (n.status = 'cancelled') <> (o.status = 'cancelled')
            ) as c
            inner join sales.transaction_items as li on c.transaction_id = li.transaction_id
            group by li.item_id
        ) as d
        where s.item_id = d.item_id;
    end if;
    return null;
end;
$$;

comment on function sales.transactions_changed() is
'Statement-level: new transactions start at zero totals, only pending ones are deleted, and '
'member_spending / item_sales follow every change.';

create trigger transactions_inserted
after insert on sales.transactions
referencing new table as new_rows
for each statement execute function sales.transactions_changed();

create trigger transactions_updated
after update on sales.transactions
referencing old table as old_rows new table as new_rows
for each statement execute function sales.transactions_changed();

create trigger transactions_deleted
after delete on sales.transactions
referencing old table as old_rows
for each statement execute function sales.transactions_changed();

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
