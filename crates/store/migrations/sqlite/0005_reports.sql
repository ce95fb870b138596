-- Daily reports (三(三)): the staff checks and occupancy peak of each day kept beyond the
-- retention of door records, the versions of each site's report, and report reminders as
-- alerts (SQLite).

-- Who made a pre-/post-shift check on a day (one row each, however often they checked).
-- No foreign key on the person: a removed person's checks still count.
CREATE TABLE staff_check_days (
    site_id   TEXT NOT NULL REFERENCES sites (id),
    day       TEXT NOT NULL,
    person_id TEXT NOT NULL,
    phase     TEXT NOT NULL CHECK (phase IN ('pre_shift', 'post_shift')),
    PRIMARY KEY (site_id, day, person_id, phase)
);
INSERT INTO staff_check_days (site_id, day, person_id, phase)
    SELECT DISTINCT site_id, day, person_id, phase FROM screenings
    WHERE person_id IS NOT NULL AND phase IS NOT NULL;

-- The busiest moment of each day in each hall (the live count keeps only today).
CREATE TABLE occupancy_days (
    site_id TEXT NOT NULL REFERENCES sites (id),
    day     TEXT NOT NULL,
    peak    INTEGER NOT NULL CHECK (peak >= 0),
    peak_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, day)
);
INSERT INTO occupancy_days (site_id, day, peak, peak_at)
    SELECT site_id, day, peak, peak_at FROM occupancy;

-- Each submitted version of a site's report for a day, its figures frozen (JSON), and
-- the parent's decision on it. Remarks and comments are free text that may name a person:
-- AES-GCM ciphertexts, like every personal field.
CREATE TABLE daily_reports (
    id           TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL REFERENCES sites (id),
    day          TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    figures      TEXT NOT NULL,
    rollup       TEXT,
    remarks_enc  BLOB NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('submitted', 'acknowledged', 'returned')),
    decided_by   TEXT,
    decided_at   INTEGER,
    comment_enc  BLOB,
    UNIQUE (site_id, day, version)
);
CREATE INDEX daily_reports_day ON daily_reports (day, site_id);

-- Alerts gain the kind `report` (a report missing at its deadline). SQLite cannot change
-- a CHECK in place: alerts and the deliveries that reference them are rebuilt; renaming
-- the new tables carries the foreign keys over.
CREATE TABLE alerts_new (
    id              TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites (id),
    kind            TEXT NOT NULL CHECK (kind IN ('case', 'ears', 'report')),
    case_id         TEXT REFERENCES cases (id),
    dedupe          TEXT NOT NULL UNIQUE,
    raised_at       INTEGER NOT NULL,
    level           INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),
    level_at        INTEGER NOT NULL,
    summary         TEXT NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT
);
INSERT INTO alerts_new SELECT id, site_id, kind, case_id, dedupe, raised_at, level, level_at,
    summary, acknowledged_at, acknowledged_by FROM alerts;
CREATE TABLE deliveries_new (
    id           TEXT PRIMARY KEY,
    webhook_id   TEXT NOT NULL REFERENCES webhooks (id),
    alert_id     TEXT NOT NULL REFERENCES alerts_new (id),
    level        INTEGER NOT NULL,
    body         TEXT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL,
    next_at      INTEGER NOT NULL,
    leased_until INTEGER,
    last_status  INTEGER,
    last_error   TEXT,
    sent_at      INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (webhook_id, alert_id, level)
);
INSERT INTO deliveries_new SELECT id, webhook_id, alert_id, level, body, status, attempts,
    next_at, leased_until, last_status, last_error, sent_at, created_at FROM deliveries;
DROP TABLE deliveries;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX alerts_open ON alerts (acknowledged_at, raised_at);
CREATE INDEX alerts_site ON alerts (site_id, raised_at);
CREATE INDEX deliveries_due ON deliveries (status, next_at);

-- Repair: a re-check used to count under `buffer.recheck` as well as under its outcome, so
-- the outcome `recheck` counted twice. From now on each re-check counts once, under its
-- outcome; the old rows keep only the outcome `recheck`: (n − cleared − suspected) / 2.
UPDATE daily_counts SET n = CAST((n - COALESCE((SELECT SUM(c.n) FROM daily_counts c
        WHERE c.site_id = daily_counts.site_id AND c.day = daily_counts.day
        AND c.metric IN ('buffer.cleared', 'buffer.suspected')), 0)) / 2 AS BIGINT)
    WHERE metric = 'buffer.recheck';
