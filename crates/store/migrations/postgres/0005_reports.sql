-- Daily reports (三(三)): the staff checks and occupancy peak of each day kept beyond the
-- retention of door records, the versions of each site's report, and report reminders as
-- alerts (PostgreSQL).

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
    peak    BIGINT NOT NULL CHECK (peak >= 0),
    peak_at BIGINT NOT NULL,
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
    version      BIGINT NOT NULL CHECK (version >= 1),
    figures      TEXT NOT NULL,
    rollup       TEXT,
    remarks_enc  BYTEA NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('submitted', 'acknowledged', 'returned')),
    decided_by   TEXT,
    decided_at   BIGINT,
    comment_enc  BYTEA,
    UNIQUE (site_id, day, version)
);
CREATE INDEX daily_reports_day ON daily_reports (day, site_id);

-- Alerts gain the kind `report` (a report missing at its deadline).
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('case', 'ears', 'report'));

-- Repair: a re-check used to count under `buffer.recheck` as well as under its outcome, so
-- the outcome `recheck` counted twice. From now on each re-check counts once, under its
-- outcome; the old rows keep only the outcome `recheck`: (n − cleared − suspected) / 2.
UPDATE daily_counts SET n = CAST((n - COALESCE((SELECT SUM(c.n) FROM daily_counts c
        WHERE c.site_id = daily_counts.site_id AND c.day = daily_counts.day
        AND c.metric IN ('buffer.cleared', 'buffer.suspected')), 0)) / 2 AS BIGINT)
    WHERE metric = 'buffer.recheck';
