-- A person's LOGIN role: member of exactly one team, no privileges of its own.
-- {verifier} is a SCRAM-SHA-256 verifier computed by the client: the password never reaches the server.
create role {name} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls
connection limit {connection_limit}
password {verifier}
in role {team}
