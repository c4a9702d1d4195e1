-- Rows an sql connector pulled inside its overlap window (the span before the watermark the next
-- pull reads again, for rows committed late with an earlier timestamp). A row read again is
-- recognised by its hash and not stored twice; entries older than the window are deleted with
-- each pull.
CREATE TABLE pull_rows_seen (
    connector TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    mark TEXT NOT NULL,
    PRIMARY KEY (connector, row_hash)
);
CREATE INDEX pull_rows_seen_by_mark ON pull_rows_seen (connector, mark);
