-- After a bulk load: fresh planner statistics for every sales table.

analyze sales.members, sales.manufacturers, sales.items, sales.transactions,
sales.transaction_items, sales.member_spending, sales.item_sales;
