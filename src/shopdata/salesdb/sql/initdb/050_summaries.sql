-- 050: summaries the analyst queries read, maintained by the triggers in 060_triggers.sql.
-- They make "top members" and "top items" index lookups instead of aggregations over tens of
-- millions of rows. Counted transactions: every status except cancelled, and only while the
-- transaction holds a line item (an empty basket is no purchase, docs/analytics.md "Rules").
--
-- Writers never update a summary row: each change appends signed rows to
-- sales.summary_deltas (no hot row, no lock shared between purchases), and
-- sales.roll_up_summaries() moves committed deltas into the summaries in one statement. The
-- exact value is always summary + not-yet-rolled deltas, which is what the analyst queries and
-- `db check` read; the roll-up only keeps the delta table short (docs/salesdb.md).

create table sales.member_spending (
    membership_id text not null,
    total_spent numeric(16, 2) not null default 0,
    transaction_count integer not null default 0,
    constraint member_spending_pkey primary key (membership_id),
    constraint member_spending_membership_id_fkey foreign key (membership_id)
    references sales.members (membership_id) on delete cascade,
    constraint member_spending_nonnegative check (total_spent >= 0 and transaction_count >= 0),
    -- NaN passes `>= 0` in PostgreSQL (it sorts above every number), hence its own check.
    constraint member_spending_is_number check (total_spent <> 'NaN')
);

comment on table sales.member_spending is
'Grain: one row per member who has (or had) a transaction. Invariant: total_spent = sum of '
'total_price over the member''s transactions that are not cancelled and transaction_count = '
'how many of them hold at least one line item (an empty basket is no purchase); the exact '
'value is this row plus the member''s rows in sales.summary_deltas.';

create index member_spending_rank_idx on sales.member_spending (
    total_spent desc, membership_id
);

create table sales.item_sales (
    item_id bigint not null,
    purchase_count bigint not null default 0,
    units_sold bigint not null default 0,
    revenue numeric(16, 2) not null default 0,
    constraint item_sales_pkey primary key (item_id),
    constraint item_sales_item_id_fkey foreign key (item_id)
    references sales.items (item_id) on delete cascade,
    constraint item_sales_nonnegative check (
        purchase_count >= 0 and units_sold >= 0 and revenue >= 0
    ),
    constraint item_sales_is_number check (revenue <> 'NaN')
);

comment on table sales.item_sales is
'Grain: one row per item that has (or had) a line item. Invariant: over the line items of '
'transactions that are not cancelled, purchase_count = number of such transactions holding '
'the item, units_sold = sum of quantity, revenue = sum of quantity * unit_price; the exact '
'value is this row plus the item''s rows in sales.summary_deltas.';

create index item_sales_rank_idx on sales.item_sales (purchase_count desc, item_id);

create table sales.summary_deltas (
    membership_id text,
    item_id bigint,
    transaction_count integer not null default 0,
    purchase_count integer not null default 0,
    units integer not null default 0,
    amount numeric(16, 2) not null default 0,
    constraint summary_deltas_has_key check (membership_id is not null or item_id is not null),
    constraint summary_deltas_is_number check (amount <> 'NaN')
) with (
    autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 2000,
    autovacuum_vacuum_insert_scale_factor = 0
);

comment on table sales.summary_deltas is
'Grain: one signed change to the summaries, appended by the triggers in the database '
'transaction that made it. A row with membership_id adds transaction_count and amount to that '
'member''s member_spending (transaction_count, total_spent); a row with item_id adds '
'purchase_count, units and amount to that item''s item_sales (purchase_count, units_sold, '
'revenue). Invariant: summary row + the key''s deltas = recomputation from the base tables; '
'rows are only appended by the triggers and only removed by sales.roll_up_summaries(), in the '
'statement that adds them to the summaries. Deliberately without index or foreign key '
'(appending must stay as cheap as possible).';

create function sales.roll_up_summaries() returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    moved bigint;
begin
    -- One roll-up at a time (a second caller has nothing to do meanwhile).
    if not pg_try_advisory_xact_lock(hashtext('sales.roll_up_summaries')) then
        return 0;
    end if;
    -- Delete and apply in ONE statement: every reader sees each committed delta either still in
    -- the table or already in the summary, never both and never neither. Summary rows are only
    -- ever written here, by a bulk load and by a repair, which lock the summaries first, so the
    -- update-else-insert below cannot race. A member or item seen for the first time gets its
    -- row even when its deltas cancel out (the grain: everyone who had a transaction), unless it
    -- has been deleted since (possible only when nothing of it is left to count).
    with moved as (
        delete from sales.summary_deltas
        returning membership_id, item_id, transaction_count, purchase_count, units, amount
    ),

    member_delta as (
        select m.membership_id, sum(m.transaction_count)::integer as transaction_count,
            sum(m.amount) as amount
        from moved as m
        where m.membership_id is not null
        group by m.membership_id
    ),

    item_delta as (
        select m.item_id, sum(m.purchase_count) as purchase_count, sum(m.units) as units,
            sum(m.amount) as amount
        from moved as m
        where m.item_id is not null
        group by m.item_id
    ),

    member_updated as (
        update sales.member_spending as s
        set total_spent = s.total_spent + d.amount,
            transaction_count = s.transaction_count + d.transaction_count
        from member_delta as d
        where s.membership_id = d.membership_id
            and (d.amount <> 0 or d.transaction_count <> 0)
    ),

    member_inserted as (
        insert into sales.member_spending (membership_id, total_spent, transaction_count)
        select d.membership_id, d.amount, d.transaction_count
        from member_delta as d
        where not exists (
            select from sales.member_spending as s where s.membership_id = d.membership_id
        )
            and exists (select from sales.members as m where m.membership_id = d.membership_id)
        order by d.membership_id
    ),

    item_updated as (
        update sales.item_sales as s
        set purchase_count = s.purchase_count + d.purchase_count,
            units_sold = s.units_sold + d.units,
            revenue = s.revenue + d.amount
        from item_delta as d
        where s.item_id = d.item_id
            and (d.purchase_count <> 0 or d.units <> 0 or d.amount <> 0)
    ),

    item_inserted as (
        insert into sales.item_sales (item_id, purchase_count, units_sold, revenue)
        select d.item_id, d.purchase_count, d.units, d.amount
        from item_delta as d
        where not exists (select from sales.item_sales as s where s.item_id = d.item_id)
            and exists (select from sales.items as i where i.item_id = d.item_id)
        order by d.item_id
    )

    select count(*) into moved from moved;
    return moved;
end;
$$;

comment on function sales.roll_up_summaries() is
'Move every committed row of sales.summary_deltas into member_spending / item_sales in one '
'statement; returns how many delta rows it moved (0 when another roll-up is running).';
