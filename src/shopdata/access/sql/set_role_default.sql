-- A team session default copied onto the login role (ALTER ROLE ... SET is not inherited).
alter role {name} set {setting} = {value}
