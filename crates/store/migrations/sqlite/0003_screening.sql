-- Entrance screening: door records, buffer-zone re-checks, occupancy, daily counters,
-- self-registrations, suspected-case records, and accounts linked to staff (SQLite).
-- Health answers and personal fields are AES-GCM ciphertexts (BLOB); never plain.
-- `day` is the Beijing date (YYYY-MM-DD) a record counts for.

ALTER TABLE users ADD COLUMN person_id TEXT REFERENCES people (id);

CREATE TABLE registrations (
    id            TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES sites (id),
    checkpoint_id TEXT NOT NULL REFERENCES checkpoints (id),
    day           TEXT NOT NULL,
    number        TEXT NOT NULL,
    at            INTEGER NOT NULL,
    name_enc      BLOB,
    phone_enc     BLOB,
    phone_mac     BLOB,
    UNIQUE (site_id, day, number)
);
CREATE INDEX registrations_at ON registrations (at);

CREATE TABLE screenings (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL REFERENCES sites (id),
    checkpoint_id    TEXT NOT NULL REFERENCES checkpoints (id),
    at               INTEGER NOT NULL,
    day              TEXT NOT NULL,
    subject_kind     TEXT NOT NULL CHECK (subject_kind IN ('citizen', 'window_staff', 'bureau_staff', 'other')),
    temperature      INTEGER NOT NULL CHECK (temperature BETWEEN 340 AND 430),
    mask             INTEGER NOT NULL CHECK (mask IN (0, 1)),
    decision         TEXT NOT NULL CHECK (decision IN ('admit', 'refuse_no_mask', 'buffer', 'wait')),
    phase            TEXT CHECK (phase IN ('pre_shift', 'post_shift')),
    person_id        TEXT REFERENCES people (id),
    registration_id  TEXT REFERENCES registrations (id),
    recorded_by      TEXT NOT NULL,
    buffer_state     TEXT CHECK (buffer_state IN ('waiting', 'cleared', 'suspected')),
    rechecks         INTEGER NOT NULL DEFAULT 0,
    last_measured_at INTEGER NOT NULL,
    case_id          TEXT
);
CREATE INDEX screenings_site_at ON screenings (site_id, at);
CREATE INDEX screenings_at ON screenings (at);
CREATE INDEX screenings_waiting ON screenings (site_id, buffer_state) WHERE buffer_state = 'waiting';
CREATE INDEX screenings_staff ON screenings (day, person_id) WHERE person_id IS NOT NULL;

CREATE TABLE rechecks (
    id           TEXT PRIMARY KEY,
    screening_id TEXT NOT NULL REFERENCES screenings (id),
    attempt      INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    temperature  INTEGER NOT NULL CHECK (temperature BETWEEN 340 AND 430),
    health_enc   BLOB NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('cleared', 'recheck', 'suspected')),
    recorded_by  TEXT NOT NULL,
    UNIQUE (screening_id, attempt)
);

CREATE TABLE door_events (
    id            TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES sites (id),
    checkpoint_id TEXT NOT NULL REFERENCES checkpoints (id),
    at            INTEGER NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    recorded_by   TEXT NOT NULL
);
CREATE INDEX door_events_at ON door_events (at);

-- People inside now, per site, for the Beijing day `day` (a new day starts at zero).
CREATE TABLE occupancy (
    site_id    TEXT PRIMARY KEY REFERENCES sites (id),
    day        TEXT NOT NULL,
    inside     INTEGER NOT NULL CHECK (inside >= 0),
    peak       INTEGER NOT NULL CHECK (peak >= 0),
    peak_at    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Counters kept by the writer as records arrive; they outlive purged records.
CREATE TABLE daily_counts (
    site_id TEXT NOT NULL REFERENCES sites (id),
    day     TEXT NOT NULL,
    metric  TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (site_id, day, metric)
);

-- A suspected-case record opened from the buffer zone; the case ledger builds on it.
CREATE TABLE cases (
    id           TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL REFERENCES sites (id),
    opened_at    INTEGER NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('buffer', 'staff_check', 'manual')),
    screening_id TEXT REFERENCES screenings (id),
    subject_kind TEXT NOT NULL,
    status       TEXT NOT NULL,
    details_enc  BLOB NOT NULL,
    opened_by    TEXT NOT NULL
);
CREATE INDEX cases_site ON cases (site_id, opened_at);
