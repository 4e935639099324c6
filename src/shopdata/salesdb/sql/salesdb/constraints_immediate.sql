-- A loader's transaction: check the deferred foreign keys (transactions -> members) at every
-- statement, as the others are, so that an unknown key fails the INSERT that moves the staged
-- rows and the loader can name the file line behind it (a deferred check fails only at COMMIT,
-- with no row to point at).

set constraints all immediate;
