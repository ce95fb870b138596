-- Organisation details, people, working groups, accounts, sessions, tokens, audit (SQLite).
-- Personal fields are AES-GCM ciphertexts (BLOB) with HMAC lookup hashes; never plain.

ALTER TABLE sites ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '08:30-12:00,14:30-17:30';
ALTER TABLE sites ADD COLUMN threshold INTEGER NOT NULL DEFAULT 373 CHECK (threshold BETWEEN 360 AND 400);

CREATE TABLE checkpoints (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id),
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    is_main    INTEGER NOT NULL CHECK (is_main IN (0, 1)),
    created_at INTEGER NOT NULL,
    UNIQUE (site_id, code)
);
CREATE UNIQUE INDEX checkpoints_one_main ON checkpoints (site_id) WHERE is_main = 1;

CREATE TABLE people (
    id            TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES sites (id),
    unit_id       TEXT REFERENCES units (id),
    kind          TEXT NOT NULL CHECK (kind IN ('staff', 'volunteer')),
    job           TEXT NOT NULL DEFAULT '',
    name_enc      BLOB NOT NULL,
    phone_enc     BLOB,
    phone_mac     BLOB,
    id_number_enc BLOB,
    id_number_mac BLOB,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX people_site ON people (site_id);
CREATE INDEX people_phone ON people (phone_mac);
-- Unique per site only: a site cannot learn whether a number is registered elsewhere.
CREATE UNIQUE INDEX people_id_number ON people (site_id, id_number_mac);

CREATE TABLE org_groups (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id),
    kind       TEXT NOT NULL CHECK (kind IN ('leadership', 'support', 'service', 'web', 'hotline', 'procurement')),
    duties     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, kind)
);

CREATE TABLE group_members (
    group_id  TEXT NOT NULL REFERENCES org_groups (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    position  TEXT NOT NULL CHECK (position IN ('head', 'executive_deputy', 'deputy', 'member')),
    PRIMARY KEY (group_id, person_id)
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL,
    site_id             TEXT NOT NULL REFERENCES sites (id),
    password_hash       TEXT NOT NULL,
    must_change         INTEGER NOT NULL CHECK (must_change IN (0, 1)),
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    token_hash   BLOB NOT NULL UNIQUE,
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    username TEXT NOT NULL,
    addr     TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at);
CREATE INDEX login_failures_addr ON login_failures (addr, at);

CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    site    TEXT NOT NULL,
    addr    TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail  TEXT NOT NULL,
    hash    TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's head: the last sequence number and hash. Every append updates this one row,
-- which serialises appends.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
