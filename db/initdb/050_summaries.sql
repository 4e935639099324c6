-- 050: summaries the analyst queries read, maintained by the triggers in 060_triggers.sql.
-- They make "top members" and "top items" index lookups instead of aggregations over tens of
-- millions of rows. Counted transactions: every status except cancelled.

create table sales.member_spending (
    membership_id text not null,
    total_spent numeric(16, 2) not null default 0,
    transaction_count integer not null default 0,
    constraint member_spending_pkey primary key (membership_id),
    constraint member_spending_membership_id_fkey foreign key (membership_id)
    references sales.members (membership_id) on delete cascade,
    constraint member_spending_nonnegative check (total_spent >= 0 and transaction_count >= 0)
);

comment on table sales.member_spending is
'Grain: one row per member who has (or had) a transaction. Invariant: total_spent = sum of '
'total_price and transaction_count = count of the member''s transactions that are not '
'cancelled; kept exactly by triggers on sales.transactions, never written directly.';

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
    )
);

comment on table sales.item_sales is
'Grain: one row per item that has (or had) a line item. Invariant: over the line items of '
'transactions that are not cancelled, purchase_count = number of such transactions holding '
'the item, units_sold = sum of quantity, revenue = sum of quantity * unit_price; kept exactly '
'by triggers on sales.transaction_items and sales.transactions, never written directly.';

create index item_sales_rank_idx on sales.item_sales (purchase_count desc, item_id);
