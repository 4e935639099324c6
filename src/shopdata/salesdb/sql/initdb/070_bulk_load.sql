-- 070: bulk loading millions of historical transactions without giving up any invariant.
--
-- Row-level foreign-key checks and per-statement trigger maintenance cost tens of microseconds
-- per line item; a history of 30 million lines needs set-based checks instead. Inside ONE
-- database transaction, the table owner calls:
--
--   select sales.begin_bulk_load();   -- locks, records a watermark, drops the FKs and the
--                                     -- secondary indexes, disables the maintenance triggers
--   copy sales.transactions ...       -- new transactions (id > watermark) WITH their totals
--   copy sales.transaction_items ...  -- their line items
--   select sales.finish_bulk_load();  -- verifies everything set-based, updates the summaries,
--                                     -- re-adds FKs and indexes, re-enables the triggers
--
-- finish_bulk_load() raises (and the whole load rolls back) if any new transaction's totals
-- differ from its line items, if a line uses an item discontinued before the sale, or if an
-- existing transaction or line item was touched. A constraint trigger refuses to COMMIT a
-- transaction that began a bulk load without finishing it. Both functions run with the
-- caller's rights: only the tables' owner can ALTER them, so no team role can use this path.

create table sales.bulk_load_state (
    singleton boolean not null default true,
    watermark bigint not null,
    started_at timestamptz not null default now(),
    constraint bulk_load_state_pkey primary key (singleton),
    constraint bulk_load_state_singleton check (singleton)
);

comment on table sales.bulk_load_state is
'Grain: at most one row, and only inside the database transaction of a bulk load (watermark = '
'largest transaction_id before it). Invariant: empty at every commit (a deferred constraint '
'trigger refuses to commit an unfinished bulk load).';

create function sales.bulk_load_must_finish() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    if exists (select from sales.bulk_load_state) then
        raise exception using
            errcode = 'integrity_constraint_violation',
            constraint = 'bulk_load_state_finished',
            message = 'a bulk load was begun but not finished: call sales.finish_bulk_load() '
                'before committing';
    end if;
    return null;
end;
$$;

create constraint trigger bulk_load_state_finished
after insert on sales.bulk_load_state
deferrable initially deferred
for each row execute function sales.bulk_load_must_finish();

create function sales.begin_bulk_load() returns bigint
language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    mark bigint;
begin
    lock table sales.members, sales.items, sales.transactions, sales.transaction_items,
        sales.member_spending, sales.item_sales in share row exclusive mode;
    select coalesce(max(t.transaction_id), 0) into mark from sales.transactions as t;
    insert into sales.bulk_load_state (watermark) values (mark);

    alter table sales.transaction_items
        drop constraint transaction_items_transaction_id_fkey,
        drop constraint transaction_items_item_id_fkey;
    alter table sales.transactions drop constraint transactions_membership_id_fkey;
    drop index sales.transaction_items_item_id_idx;
    drop index sales.transactions_membership_id_idx;
    drop index sales.transactions_pending_created_at_idx;
    alter table sales.transactions disable trigger user;
    alter table sales.transaction_items disable trigger user;
    return mark;
end;
$$;

comment on function sales.begin_bulk_load() is
'Start a bulk load of NEW transactions (see 070_bulk_load.sql); returns the watermark.';

create function sales.finish_bulk_load() returns bigint
language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    mark bigint;
    bad record;
    loaded bigint;
begin
    select s.watermark into mark from sales.bulk_load_state as s;
    if not found then
        raise exception 'no bulk load in progress: call sales.begin_bulk_load() first';
    end if;

    -- Memory for this transaction only: the checks aggregate tens of millions of line items
    -- by transaction, and spilling those hash tables to disk costs more than the RAM.
    perform set_config('work_mem', '1GB', true);
    perform set_config('maintenance_work_mem', '1GB', true);
    perform set_config('hash_mem_multiplier', '2', true);

    -- Fresh statistics first: without them the planner sees empty tables and picks nested
    -- loops over millions of rows.
    analyze sales.transactions, sales.transaction_items;

    -- 1. One pass over the new line items (joined to the small items table): the totals
    --    supplied with each new transaction equal the sums over its lines, and no line uses an
    --    item discontinued at or before the purchase.
    select t.transaction_id, t.created_at, t.total_price, t.total_weight_kg, t.total_quantity,
        coalesce(s.price, 0) as price, coalesce(s.weight, 0) as weight,
        coalesce(s.quantity, 0) as quantity, s.first_discontinued_at
    into bad
    from sales.transactions as t
    left join (
        select li.transaction_id, sum(li.quantity * li.unit_price) as price,
            sum(li.quantity * li.unit_weight_kg) as weight, sum(li.quantity) as quantity,
            min(i.discontinued_at) as first_discontinued_at
        from sales.transaction_items as li
        inner join sales.items as i on li.item_id = i.item_id
        where li.transaction_id > mark
        group by li.transaction_id
    ) as s on t.transaction_id = s.transaction_id
    where t.transaction_id > mark
        and (
            (t.total_price, t.total_weight_kg, t.total_quantity::numeric)
            is distinct from (coalesce(s.price, 0), coalesce(s.weight, 0), coalesce(s.quantity, 0))
            or s.first_discontinued_at <= t.created_at
        )
    order by t.transaction_id
    limit 1;
    if found and bad.first_discontinued_at <= bad.created_at then
        select li.transaction_id, li.item_id, i.discontinued_at into bad
        from sales.transaction_items as li
        inner join sales.items as i on li.item_id = i.item_id
        where li.transaction_id = bad.transaction_id and i.discontinued_at <= bad.created_at
        order by li.item_id
        limit 1;
        raise exception using
            errcode = 'check_violation',
            constraint = 'transaction_items_item_on_sale',
            message = format(
                'line item (transaction_id=%s, item_id=%s): item %s was discontinued at %s, '
                'before the transaction was made',
                bad.transaction_id, bad.item_id, bad.item_id, bad.discontinued_at
            );
    elsif found then
        raise exception using
            errcode = 'check_violation',
            constraint = 'transactions_totals_maintained',
            message = format(
                'bulk load: transaction %s has totals %s / %s kg / %s units but its line items '
                'sum to %s / %s kg / %s units',
                bad.transaction_id, bad.total_price, bad.total_weight_kg, bad.total_quantity,
                bad.price, bad.weight, bad.quantity
            );
    end if;

    -- 2. History that existed before the load was not touched (only checked when there was).
    if mark > 0 then
        select li.transaction_id, li.item_id into bad
        from sales.transaction_items as li
        where li.transaction_id <= mark and li.xmin = pg_current_xact_id()::xid
        limit 1;
        if found then
            raise exception using
                errcode = 'check_violation',
                constraint = 'transaction_items_frozen_after_pending',
                message = format(
                    'bulk load: line item (transaction_id=%s, item_id=%s) belongs to a '
                    'transaction that existed before the load; bulk loads only add new ones',
                    bad.transaction_id, bad.item_id
                );
        end if;
        select t.transaction_id into bad
        from sales.transactions as t
        where t.transaction_id <= mark and t.xmin = pg_current_xact_id()::xid
        limit 1;
        if found then
            raise exception using
                errcode = 'check_violation',
                constraint = 'transactions_history_kept',
                message = format(
                    'bulk load: transaction %s existed before the load and was changed',
                    bad.transaction_id
                );
        end if;
    end if;

    -- 3. Summaries: the new transactions only add (no negative delta can trip the
    --    nonnegative checks), so one upsert per summary. Item sales are all new lines per item
    --    minus the lines of the few cancelled new transactions, which avoids joining every
    --    line to its transaction. A new transaction without line (total_quantity 0, checked
    --    against its lines above) is no purchase: its member gets a row but no count.
    insert into sales.member_spending as s (membership_id, total_spent, transaction_count)
    select t.membership_id, sum(t.total_price),
        (count(*) filter (where t.total_quantity > 0))::integer
    from sales.transactions as t
    where t.transaction_id > mark and t.status <> 'cancelled'
    group by t.membership_id
    on conflict (membership_id) do update
        set total_spent = s.total_spent + excluded.total_spent,
            transaction_count = s.transaction_count + excluded.transaction_count;

    insert into sales.item_sales as s (item_id, purchase_count, units_sold, revenue)
    select c.item_id, sum(c.purchases), sum(c.units), sum(c.revenue)
    from (
        select li.item_id, 1 as purchases, li.quantity as units,
            li.quantity * li.unit_price as revenue
        from sales.transaction_items as li
        where li.transaction_id > mark
        union all
        select li.item_id, -1, -li.quantity, -li.quantity * li.unit_price
        from sales.transactions as t
        inner join sales.transaction_items as li on t.transaction_id = li.transaction_id
        where t.transaction_id > mark and t.status = 'cancelled'
    ) as c
    group by c.item_id
    on conflict (item_id) do update
        set purchase_count = s.purchase_count + excluded.purchase_count,
            units_sold = s.units_sold + excluded.units_sold,
            revenue = s.revenue + excluded.revenue;

    -- 4. Indexes and foreign keys back, each validated by one set-based scan.
    create index transactions_membership_id_idx on sales.transactions (membership_id);
    create index transactions_pending_created_at_idx on sales.transactions (created_at)
    where status = 'pending';
    create index transaction_items_item_id_idx on sales.transaction_items (item_id);
    alter table sales.transactions add constraint transactions_membership_id_fkey
    foreign key (membership_id) references sales.members (membership_id)
    on update restrict on delete restrict
    deferrable initially deferred;  -- as 040_transactions.sql declares it
    alter table sales.transaction_items
        add constraint transaction_items_transaction_id_fkey
        foreign key (transaction_id) references sales.transactions (transaction_id),
        add constraint transaction_items_item_id_fkey
        foreign key (item_id) references sales.items (item_id);
    alter table sales.transactions enable trigger user;
    alter table sales.transaction_items enable trigger user;

    select count(*) into loaded from sales.transactions as t where t.transaction_id > mark;
    delete from sales.bulk_load_state;
    return loaded;
end;
$$;

comment on function sales.finish_bulk_load() is
'Verify and index a bulk load begun by sales.begin_bulk_load(); returns transactions added.';
