-- First statement of `shopdata db repair-summaries`: stop every writer of the base tables and
-- the summaries until the repair commits (readers carry on and see the old values until then).
lock table
sales.transactions,
sales.transaction_items,
sales.member_spending,
sales.item_sales,
sales.summary_deltas
in share row exclusive mode;
