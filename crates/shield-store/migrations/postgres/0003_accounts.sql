-- Accounts, invitations, sign-in credentials, sessions and candidates' sensitive details.
-- Keep in step with ../sqlite. Secrets are never stored in the clear: invitation and session
-- tokens as SHA-256 hashes, passwords as Argon2id PHC strings, recovery codes as Argon2id, and
-- TOTP seeds, home addresses and emergency contacts sealed with XChaCha20-Poly1305.
CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    role            TEXT NOT NULL CHECK (role IN ('candidate', 'delegate', 'force_contact', 'coordinator', 'admin')),
    display_name    TEXT NOT NULL,
    email           TEXT NOT NULL UNIQUE,
    candidate_id    BIGINT UNIQUE REFERENCES candidates (id),
    status          TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
    created_at_ms   BIGINT NOT NULL,
    enrolled_at_ms  BIGINT,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until_ms BIGINT
);

-- The forces a force-contact account serves (from the contacts roster, by email).
CREATE TABLE user_forces (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    force_code TEXT NOT NULL REFERENCES forces (code),
    PRIMARY KEY (user_id, force_code)
);

CREATE TABLE delegations (
    candidate_id     BIGINT NOT NULL REFERENCES candidates (id),
    delegate_user_id BIGINT NOT NULL REFERENCES users (id),
    grants           TEXT NOT NULL,
    created_at_ms    BIGINT NOT NULL,
    revoked_at_ms    BIGINT,
    PRIMARY KEY (candidate_id, delegate_user_id)
);

CREATE TABLE invitations (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    token_hash    BYTEA NOT NULL UNIQUE,
    created_by    BIGINT REFERENCES users (id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT,
    revoked_at_ms BIGINT
);
CREATE INDEX invitations_user ON invitations (user_id);

CREATE TABLE password_credentials (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id),
    phc           TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE totp_credentials (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id),
    sealed_secret BYTEA NOT NULL,
    -- The last 30-second step accepted: a code for this step or an earlier one is a replay.
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at_ms BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE passkeys (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    credential_id   BYTEA NOT NULL UNIQUE,
    passkey         TEXT NOT NULL,
    name            TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    last_used_at_ms BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- Sessions, keyed by the SHA-256 of the cookie's token (a database dump yields no session).
-- `user_id` is NULL while a sign-in is half done (password accepted, second factor pending).
CREATE TABLE sessions (
    token_hash          BYTEA PRIMARY KEY,
    user_id             BIGINT REFERENCES users (id),
    pending_user_id     BIGINT REFERENCES users (id),
    csrf_token          TEXT NOT NULL,
    created_at_ms       BIGINT NOT NULL,
    last_seen_ms        BIGINT NOT NULL,
    authenticated_at_ms BIGINT,
    expires_at_ms       BIGINT NOT NULL,
    state               TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE candidate_profiles (
    candidate_id      BIGINT PRIMARY KEY REFERENCES candidates (id),
    home_address      BYTEA,
    emergency_contact BYTEA,
    confirmed_at_ms   BIGINT,
    updated_at_ms     BIGINT NOT NULL
);
