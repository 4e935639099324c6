-- Remove a person's login role (it owns nothing; membership goes with it).
drop role if exists {name}
