-- Ingest: batches of files, their receipts, accepted rows (records), the persons each row
-- names (mentions) and the problems found (rejects). Dates are ISO-8601 text.
CREATE TABLE batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    origin TEXT NOT NULL
);

CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    file_name TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    size_bytes INTEGER NOT NULL,
    format TEXT NOT NULL,
    encoding TEXT NOT NULL,
    mappings TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    rows_accepted INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    rows_skipped INTEGER NOT NULL,
    receipt TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);

CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(id),
    sheet TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    department TEXT NOT NULL,
    mapping TEXT NOT NULL,
    event_kind TEXT NOT NULL,
    event_date TEXT,
    attributes TEXT NOT NULL,
    UNIQUE (file_id, sheet, row_number)
);

CREATE TABLE mentions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(id),
    sheet TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    role TEXT NOT NULL,
    name TEXT,
    name_raw TEXT,
    id_number TEXT,
    id_raw TEXT NOT NULL,
    id_status TEXT NOT NULL,
    gender TEXT,
    birth_date TEXT,
    age INTEGER,
    phone TEXT,
    address TEXT,
    province TEXT,
    city TEXT,
    county TEXT,
    township TEXT,
    village TEXT,
    region_code TEXT,
    relation TEXT
);
CREATE INDEX mentions_by_row ON mentions (file_id, sheet, row_number);

CREATE TABLE rejects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(id),
    sheet TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    value TEXT NOT NULL,
    reason TEXT NOT NULL,
    severity TEXT NOT NULL
);
CREATE INDEX rejects_by_file ON rejects (file_id);
