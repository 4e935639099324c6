-- Known rows for the access proof, written by the owner (as the loader would).
-- Membership IDs are real: <last name>_<first 5 hex of sha256(YYYYMMDD of the birthday)>, so
-- the birthday probe (test_birthday_probe.py) has something to find.
-- Transactions: 1 pending (logistics completes it), 2 completed (history), 3 cancelled.
-- Items: "Kettle" and "Toaster" sold; "Lamp" never sold (sales may delete it).
-- Manufacturers: "Acme" makes everything; "Idle Works" makes nothing (sales may delete it).
insert into sales.members (
    membership_id, first_name, last_name, email, mobile_no, date_of_birth, above_18
) values
('tan_f205a', 'Mei', 'Tan', 'mei.tan@example.com', '91234567', '1990-04-01', true),
('lee_cfcef', 'Jun', 'Lee', 'jun.lee@example.org', '81234567', '1985-12-24', true),
('ong_69aba', 'Ana', 'Ong', 'ana@example.net', '61234567', '2001-07-15', true);

insert into sales.manufacturers (name) values ('Acme'), ('Idle Works');

insert into sales.items (manufacturer_id, name, cost, weight_kg)
select m.manufacturer_id, v.name, v.cost, v.weight_kg
from sales.manufacturers as m
cross join (
    values ('Kettle', 25.50, 1.200), ('Toaster', 40.00, 2.500), ('Lamp', 15.00, 0.800)
) as v (name, cost, weight_kg)
where m.name = 'Acme';

insert into sales.transactions (membership_id, created_at)
values ('tan_f205a', now() - interval '1 day');
insert into sales.transactions (membership_id, status, created_at, completed_at)
values ('lee_cfcef', 'completed', now() - interval '3 days', now() - interval '2 days');
insert into sales.transactions (membership_id, status, created_at, cancelled_at)
values ('ong_69aba', 'cancelled', now() - interval '3 days', now() - interval '2 days');

insert into sales.transaction_items (
    transaction_id, item_id, quantity, unit_price, unit_weight_kg
)
select t.transaction_id, i.item_id, v.quantity, i.cost, i.weight_kg
from (
    values (1, 'Kettle', 2), (1, 'Toaster', 1), (2, 'Kettle', 1), (3, 'Toaster', 4)
) as v (transaction_id, item_name, quantity)
inner join sales.transactions as t on v.transaction_id = t.transaction_id
inner join sales.items as i on v.item_name = i.name;

-- Move the triggers' summary deltas into member_spending / item_sales (what the periodic
-- roll-up does), then leave one net-zero pair of deltas so that sales.summary_deltas has rows
-- for the proof too (a line added to the pending purchase and taken out again).
select sales.roll_up_summaries();
insert into sales.transaction_items (transaction_id, item_id, quantity, unit_price, unit_weight_kg)
select 1, i.item_id, 1, i.cost, i.weight_kg from sales.items as i where i.name = 'Lamp';
delete from sales.transaction_items as li
using sales.items as i
where li.transaction_id = 1 and li.item_id = i.item_id and i.name = 'Lamp';
