-- 020: members, loaded from the membership pipeline's successful output.

create table sales.members (
    membership_id text not null,
    first_name text not null,
    last_name text not null,
    email text not null,
    mobile_no text not null,
    date_of_birth date not null,
    above_18 boolean not null,
    status sales.membership_status not null default 'active',
    status_changed_at timestamptz not null default now(),
    joined_at timestamptz not null default now(),
    member_key bigint not null generated always as identity,
    constraint members_pkey primary key (membership_id),
    constraint members_member_key_key unique (member_key),
    constraint members_membership_id_format check (
        membership_id ~ '^[^[:space:]].*_[0-9a-f]{5}(_[1-9][0-9]*)?$'
    ),
    constraint members_first_name_trimmed check (first_name = btrim(first_name)),
    constraint members_last_name_not_blank check (btrim(last_name) <> ''),
    constraint members_email_format check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    constraint members_mobile_no_8_digits check (mobile_no ~ '^[0-9]{8}$'),
    constraint members_status_changed_after_join check (status_changed_at >= joined_at)
);

comment on table sales.members is
'Grain: one row per member (membership_id from the pipeline, natural key). '
'Invariants: every column not null; mobile_no is 8 digits; membership_id is '
'<last name>_<5 hex digits>[_<n>] (the pipeline adds _<n> for the n-th person sharing an '
'ID); a member with transactions can never be deleted (closing a membership is '
'status = closed).';

comment on column sales.members.above_18 is
'As decided by the pipeline on its reference date; kept, not recomputed.';
comment on column sales.members.joined_at is 'When the member was first loaded.';
comment on column sales.members.member_key is
'Surrogate key for the teams: membership_id is a function of the birthday (its 5 hex digits '
'are the start of sha256(YYYYMMDD)), so teams that may not see birthdays see only this. '
'Handed out by the database, never reused; carries no personal data.';
