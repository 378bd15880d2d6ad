-- Accounts: what lets a person log in. A user without an account row (a
-- resident known only from their filings, a staff member not yet set up)
-- cannot log in.
CREATE TABLE accounts (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id),
    -- Argon2id PHC string; NULL until a password is set
    password_hash TEXT,
    email_verified_at TIMESTAMP,
    -- base32 TOTP secret, and when its first code was confirmed
    totp_secret TEXT,
    totp_enrolled_at TIMESTAMP,
    -- the last time step accepted, so a code is used once
    totp_last_step BIGINT,
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Server-side sessions, by the SHA-256 of the cookie's value.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- 'password': the second factor is still owed (staff); 'full': logged in
    stage TEXT NOT NULL CHECK (stage IN ('password', 'full')),
    -- key of the session's CSRF tokens (hex)
    csrf_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    ip TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One-time tokens sent by email. The link carries the id signed with the
-- installation's mail key, so the table alone cannot make a working link.
CREATE TABLE account_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Rate-limit counters: hits of a key (e.g. 'login-ip:203.0.113.7') in a
-- fixed window, shared by every instance.
CREATE TABLE rate_counters (
    key TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- Every staff and admin action: who, what, when, on what, before and after.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users(id),
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT,
    before TEXT,
    after TEXT,
    ip TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

-- API tokens name what they may do ('*' for everything their user may).
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '*';
