-- Risk: one flag per household at risk (re-running updates or reopens it, never duplicates it),
-- the evidence proving it (source records, by rule) and the history of its case: opened,
-- evidence added, level changed, reopened, assigned, referred, every status transition.
-- Business dates (evaluation and action dates) are ISO dates; timestamps are RFC 3339.

CREATE TABLE risk_flags (
    flag_id INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id TEXT NOT NULL UNIQUE,
    level TEXT NOT NULL,
    level_rank INTEGER NOT NULL,
    score INTEGER NOT NULL,
    rules TEXT NOT NULL,
    reasons TEXT NOT NULL,
    reasons_json TEXT NOT NULL,
    covered INTEGER NOT NULL,
    person_ids TEXT NOT NULL,
    region_code TEXT,
    county TEXT,
    township TEXT,
    village TEXT,
    responsible_unit TEXT NOT NULL,
    assignee TEXT,
    status TEXT NOT NULL,
    rule_set_version TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    due_date TEXT NOT NULL,
    closed_on TEXT,
    dismiss_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX risk_flags_by_status ON risk_flags (status, due_date);

CREATE TABLE risk_evidence (
    flag_id INTEGER NOT NULL REFERENCES risk_flags(flag_id),
    record_id INTEGER NOT NULL REFERENCES records(id),
    rule TEXT NOT NULL,
    person_id TEXT,
    added_on TEXT NOT NULL,
    PRIMARY KEY (flag_id, record_id, rule)
);

CREATE TABLE case_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flag_id INTEGER NOT NULL REFERENCES risk_flags(flag_id),
    at TEXT NOT NULL,
    on_date TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    from_unit TEXT,
    to_unit TEXT,
    level TEXT,
    actor TEXT,
    note TEXT
);
CREATE INDEX case_history_by_flag ON case_history (flag_id);
CREATE INDEX case_history_by_date ON case_history (on_date);
