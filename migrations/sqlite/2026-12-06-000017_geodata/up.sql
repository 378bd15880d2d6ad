-- The address registry: one row per house, keyed by its street (folded:
-- lower case, ё as е) and its house number in the registry's form.
CREATE TABLE addresses (
    key TEXT PRIMARY KEY NOT NULL,
    street TEXT NOT NULL,
    street_en TEXT,
    house TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    imported_at TIMESTAMP NOT NULL
);

-- City objects (assets): lamp posts, benches, bins, stops… by their type
-- and the register's own id; an owner department routes their reports.
CREATE TABLE city_objects (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    properties TEXT NOT NULL,
    department_id TEXT REFERENCES departments (id),
    imported_at TIMESTAMP NOT NULL,
    UNIQUE (kind, code)
);
CREATE INDEX city_objects_near ON city_objects (kind, lat, lon);

-- The object types a category concerns (codes, comma-separated).
ALTER TABLE categories ADD COLUMN object_types TEXT NOT NULL DEFAULT '';
-- The object a report is about, when the resident picked one.
CREATE TABLE report_objects (
    report_id TEXT PRIMARY KEY NOT NULL REFERENCES reports (id),
    object_id TEXT NOT NULL REFERENCES city_objects (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX report_objects_by_object ON report_objects (object_id, created_at);

-- Search over reports: each report's terms (stems of its description,
-- answers and address) with their weight.
CREATE TABLE search_terms (
    term TEXT NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports (id),
    weight INTEGER NOT NULL,
    PRIMARY KEY (term, report_id)
) WITHOUT ROWID;
-- Each indexed report's terms, so that indexing it again removes exactly
-- those (one row per report rather than an index entry per term).
CREATE TABLE search_docs (
    report_id TEXT PRIMARY KEY NOT NULL REFERENCES reports (id),
    terms TEXT NOT NULL
);
-- Reports whose words changed (filed, answered, edited) wait here for the
-- indexer, which writes their terms in batches.
CREATE TABLE search_pending (
    report_id TEXT PRIMARY KEY NOT NULL REFERENCES reports (id)
);

-- Reports filed before search existed are indexed by the scanner, newest
-- first, below this number; the registry's version moves with imports.
INSERT INTO counters (name, value)
    SELECT 'search_backfill_below', COALESCE(MAX(number), 0) + 1 FROM reports;
INSERT INTO counters (name, value) VALUES ('geodata_version', 1);
