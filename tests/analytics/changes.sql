-- Changes after the first build, for the incremental run: a new purchase today, the pending
-- purchase 9 shipped, the pending 12 cancelled, a line added to the pending 10, the toaster
-- sold again (at its price), and a member who had never bought buys: 20, and a first line in
-- her empty basket 14, which becomes a purchase.
insert into sales.transactions (transaction_id, membership_id, created_at) values
(20, 'Eng_00005', now() - interval '1 hour');
insert into sales.transaction_items (transaction_id, item_id, quantity, unit_price, unit_weight_kg)
values (20, 2, 3, 35.00, 2.000), (20, 4, 1, 15.00, 0.800), (10, 4, 2, 15.00, 0.800),
(14, 5, 2, 1.00, 0.050);
update sales.transactions set status = 'completed', completed_at = now() - interval '1 minute'
where transaction_id = 9;
update sales.transactions set status = 'cancelled', cancelled_at = now() - interval '1 minute'
where transaction_id = 12;
