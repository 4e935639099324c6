-- First statement of `shopdata db repair-summaries`: stop every writer of the base tables and
-- the summaries until the repair commits (readers carry on and see the old values until then).
--
-- transaction_items is deliberately not locked. A line statement locks transaction_items
-- first and transactions second (its AFTER ROW trigger updates the purchase's totals), while a
-- purchase being inserted locks transactions first and transaction_items second; a repair
-- locking both deadlocked with one or the other. Every line change is accounted by that
-- trigger, which needs ROW EXCLUSIVE on transactions before the change can commit, so holding
-- transactions suffices: a line written but not yet accounted is invisible to the
-- recomputation, and its accounting after the repair adds to the repaired values. The summary
-- tables follow in the order the roll-up locks them (deltas, member_spending, item_sales).
lock table
sales.transactions,
sales.summary_deltas,
sales.member_spending,
sales.item_sales
in share row exclusive mode;
