-- Linkage: who each person mention is (mention_links), the persons and households they form,
-- every change of identity with its reason, and the review queue whose decisions
-- (must-link / cannot-link) every later run honours.

CREATE TABLE persons (
    person_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    household_role TEXT NOT NULL,
    name TEXT,
    id_number TEXT,
    gender TEXT,
    birth_date TEXT,
    phone TEXT,
    address TEXT,
    region_code TEXT,
    mentions INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX persons_by_household ON persons (household_id);

CREATE TABLE households (
    household_id TEXT PRIMARY KEY,
    head_person_id TEXT,
    address TEXT,
    region_code TEXT,
    township TEXT,
    village TEXT,
    members INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE mention_links (
    mention_id INTEGER PRIMARY KEY REFERENCES mentions(id),
    person_id TEXT NOT NULL,
    score REAL,
    linked_at TEXT NOT NULL
);
CREATE INDEX mention_links_by_person ON mention_links (person_id);

CREATE TABLE identity_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    changed_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    other_id TEXT,
    reason TEXT NOT NULL
);

CREATE TABLE link_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mention_a INTEGER NOT NULL,
    mention_b INTEGER NOT NULL,
    score REAL NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    note TEXT,
    UNIQUE (mention_a, mention_b)
);

-- The blocking keys of every linked mention, so that a new batch is compared only with the
-- mentions that share a key (incremental matching costs what the batch costs).
CREATE TABLE linkage_keys (
    key BIGINT NOT NULL,
    mention_id BIGINT NOT NULL
);
CREATE INDEX linkage_keys_by_key ON linkage_keys (key);

-- How often each value of a term-frequency comparison occurs (a common name counts for less).
CREATE TABLE linkage_frequencies (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (field, value)
);

-- The model of the last full run (JSON), reused by incremental runs and explanations.
CREATE TABLE linkage_model (
    id INTEGER PRIMARY KEY,
    trained_at TEXT NOT NULL,
    spec TEXT NOT NULL,
    model TEXT NOT NULL
);
