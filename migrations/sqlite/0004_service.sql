-- Service: what each connector has pulled (watermark, fields seen, last delivery), the pulls
-- behind each stored "file" of an API or database connector, and every scheduled job run with
-- its steps.

CREATE TABLE connector_state (
    connector TEXT PRIMARY KEY,
    watermark TEXT,
    fields TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_pull_at TEXT,
    last_delivery_at TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE pulls (
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    connector TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    watermark_before TEXT,
    watermark_after TEXT,
    pages INTEGER NOT NULL,
    pulled_at TEXT NOT NULL
);
CREATE INDEX pulls_by_connector ON pulls (connector);

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    cause TEXT NOT NULL,
    scheduled_for TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    error TEXT
);
CREATE INDEX job_runs_by_job ON job_runs (job, id);

CREATE TABLE job_run_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES job_runs(id),
    step_index INTEGER NOT NULL,
    step TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    rows_stored INTEGER NOT NULL,
    error TEXT,
    notes TEXT NOT NULL
);
CREATE INDEX job_run_steps_by_run ON job_run_steps (run_id);
