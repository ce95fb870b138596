-- Suspected cases (二(四)): the ledger's outcome and response times, the timeline, the
-- immediate-report alerts with their escalation, robot webhooks and their delivery log,
-- and upward reports to the district command office.
ALTER TABLE cases ADD COLUMN outcome TEXT CHECK (outcome IN ('excluded', 'confirmed', 'unknown'));
ALTER TABLE cases ADD COLUMN outcome_on TEXT;
ALTER TABLE cases ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE cases ADD COLUMN reported_at INTEGER;
CREATE INDEX cases_status ON cases (status, opened_at);

-- Every change of a case: who, when, what (the detail is sealed: it may name a person).
CREATE TABLE case_events (
    id         TEXT PRIMARY KEY,
    case_id    TEXT NOT NULL REFERENCES cases (id),
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    detail_enc BLOB NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, at);

-- An alert to the leadership group: a case opened, or a fever-rate breakout. The summary
-- (JSON) names site, time and symptoms, never a person.
CREATE TABLE alerts (
    id              TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites (id),
    kind            TEXT NOT NULL CHECK (kind IN ('case', 'ears')),
    case_id         TEXT REFERENCES cases (id),
    dedupe          TEXT NOT NULL UNIQUE,
    raised_at       INTEGER NOT NULL,
    level           INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),
    level_at        INTEGER NOT NULL,
    summary         TEXT NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT
);
CREATE INDEX alerts_open ON alerts (acknowledged_at, raised_at);
CREATE INDEX alerts_site ON alerts (site_id, raised_at);

CREATE TABLE upward_reports (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    site_id     TEXT NOT NULL REFERENCES sites (id),
    at          INTEGER NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('phone', 'document', 'wechat', 'system', 'other')),
    reported_by TEXT NOT NULL,
    content_enc BLOB NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX upward_reports_case ON upward_reports (case_id, at);
CREATE INDEX upward_reports_site ON upward_reports (site_id, at);

-- Group-robot webhooks of a site (the URL carries the robot's key: sealed).
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id),
    format     TEXT NOT NULL CHECK (format IN ('wecom', 'dingtalk')),
    label      TEXT NOT NULL,
    url_enc    BLOB NOT NULL,
    secret_enc BLOB,
    created_at INTEGER NOT NULL,
    active     INTEGER NOT NULL CHECK (active IN (0, 1))
);
CREATE INDEX webhooks_site ON webhooks (site_id);

-- One message to one robot, retried with back-off until sent or failed.
CREATE TABLE deliveries (
    id           TEXT PRIMARY KEY,
    webhook_id   TEXT NOT NULL REFERENCES webhooks (id),
    alert_id     TEXT NOT NULL REFERENCES alerts (id),
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
CREATE INDEX deliveries_due ON deliveries (status, next_at);
