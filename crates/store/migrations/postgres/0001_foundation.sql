-- Foundation: organisation, idempotency keys, forwarded events (PostgreSQL).
-- Times are Unix milliseconds (UTC); ids are UUIDv7 text, as on SQLite, so every
-- query is written once.

CREATE TABLE sites (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('district', 'traffic_branch', 'town', 'village')),
    parent_id  TEXT REFERENCES sites (id),
    address    TEXT NOT NULL DEFAULT '',
    capacity   BIGINT NOT NULL CHECK (capacity > 0),
    created_at BIGINT NOT NULL
);
CREATE INDEX sites_parent ON sites (parent_id);

CREATE TABLE units (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id),
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    is_bureau  BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (site_id, code)
);

CREATE TABLE windows (
    id      TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    number  BIGINT NOT NULL CHECK (number > 0),
    UNIQUE (site_id, number)
);
CREATE INDEX windows_unit ON windows (unit_id);

CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites (id),
    kind        TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX events_received ON events (received_at);
