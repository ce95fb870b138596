-- The government hotline (二(七)): departments tickets go to, tickets and their timeline,
-- MinHash band keys for near-duplicates, daily term counts for hot issues, the knowledge
-- base, and the administrators' changes to the working calendar (SQLite).

CREATE TABLE hotline_departments (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id),
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (site_id, code)
);

-- Accounts of role `department` and the departments they answer for.
CREATE TABLE hotline_department_users (
    user_id       TEXT NOT NULL REFERENCES users (id),
    department_id TEXT NOT NULL REFERENCES hotline_departments (id),
    PRIMARY KEY (user_id, department_id)
);

-- The last sequence number given on each Beijing day (RX20200129-0007).
CREATE TABLE ticket_numbers (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

-- The number read out on the phone is the day and its sequence (RX20200129-0007).
-- Content and place are what the caller reports and are searched; the caller's name and
-- phone are personal fields: AES-GCM ciphertexts, with an HMAC of the phone to find the
-- same caller again.
CREATE TABLE tickets (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL REFERENCES sites (id),
    seq              INTEGER NOT NULL,
    day              TEXT NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('phone', 'wechat', 'web', 'walk_in')),
    category         TEXT NOT NULL CHECK (category IN ('price_gouging', 'violation',
                         'epidemic_clue', 'prevention_question', 'hardship', 'other')),
    urgent           INTEGER NOT NULL CHECK (urgent IN (0, 1)),
    status           TEXT NOT NULL CHECK (status IN ('new', 'answered', 'transferred',
                         'replied', 'returned', 'accepted', 'followed_up', 'closed', 'merged')),
    content          TEXT NOT NULL,
    place            TEXT NOT NULL,
    caller_name_enc  BLOB,
    caller_phone_enc BLOB,
    caller_phone_mac BLOB,
    parent_id        TEXT REFERENCES tickets (id),
    department_id    TEXT REFERENCES hotline_departments (id),
    due_at           INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    closed_at        INTEGER,
    satisfaction     TEXT CHECK (satisfaction IN ('satisfied', 'basic', 'unsatisfied')),
    escalated_at     INTEGER,
    supervisions     INTEGER NOT NULL DEFAULT 0,
    version          INTEGER NOT NULL,
    UNIQUE (day, seq)
);
CREATE INDEX tickets_site_day ON tickets (site_id, day);
CREATE INDEX tickets_open_due ON tickets (status, due_at);
CREATE INDEX tickets_caller ON tickets (caller_phone_mac, created_at);
CREATE INDEX tickets_parent ON tickets (parent_id);
CREATE INDEX tickets_updated ON tickets (updated_at);

-- The departments a ticket is with: the lead (承办) and co-handlers (协办).
CREATE TABLE ticket_departments (
    ticket_id     TEXT NOT NULL REFERENCES tickets (id),
    department_id TEXT NOT NULL REFERENCES hotline_departments (id),
    lead          INTEGER NOT NULL CHECK (lead IN (0, 1)),
    PRIMARY KEY (ticket_id, department_id)
);
CREATE INDEX ticket_departments_department ON ticket_departments (department_id);

CREATE TABLE ticket_events (
    id            TEXT PRIMARY KEY,
    ticket_id     TEXT NOT NULL REFERENCES tickets (id),
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    department_id TEXT REFERENCES hotline_departments (id),
    detail        TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);

CREATE TABLE ticket_bands (
    key        INTEGER NOT NULL,
    ticket_id  TEXT NOT NULL REFERENCES tickets (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_bands_key ON ticket_bands (key, created_at);

-- Tickets per day sharing each band key: the baseline of a near-duplicate cluster.
CREATE TABLE ticket_band_days (
    site_id TEXT NOT NULL REFERENCES sites (id),
    day     TEXT NOT NULL,
    key     INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (site_id, day, key)
);

CREATE TABLE ticket_term_days (
    site_id TEXT NOT NULL REFERENCES sites (id),
    day     TEXT NOT NULL,
    term    TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (site_id, day, term)
);
CREATE INDEX ticket_term_days_day ON ticket_term_days (day, site_id);

CREATE TABLE hotline_answers (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id),
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    published  INTEGER NOT NULL CHECK (published IN (0, 1)),
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE calendar_overrides (
    day        TEXT PRIMARY KEY,
    workday    INTEGER NOT NULL CHECK (workday IN (0, 1)),
    name       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
