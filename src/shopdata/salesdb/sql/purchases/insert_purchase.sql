-- A new pending purchase of one member; returns its transaction_id. $1: membership_id.
insert into sales.transactions (membership_id)
values ($1)
returning transaction_id;
