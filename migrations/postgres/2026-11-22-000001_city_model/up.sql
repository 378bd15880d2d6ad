-- The city's data model. Portable types only (see README "Database"): ids are
-- UUID text, timestamps are TIMESTAMP in UTC, enums are TEXT with a CHECK,
-- coordinates are DOUBLE, JSON is TEXT. Keep in step with the SQLite twin.
CREATE TABLE calendars (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    -- ISO weekday numbers (1 = Monday … 7 = Sunday), comma separated
    weekly_days_off TEXT NOT NULL,
    work_starts TEXT NOT NULL,
    work_ends TEXT NOT NULL
);

CREATE TABLE calendar_days (
    calendar_id TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    day DATE NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'day_off', 'working', 'shortened')),
    note TEXT NOT NULL,
    PRIMARY KEY (calendar_id, day)
);

CREATE TABLE sla_policies (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    calendar_id TEXT NOT NULL REFERENCES calendars(id),
    moderation_days INTEGER NOT NULL CHECK (moderation_days >= 0),
    answer_days INTEGER NOT NULL CHECK (answer_days > 0),
    fix_days INTEGER CHECK (fix_days IS NULL OR fix_days > 0),
    resident_check_days INTEGER NOT NULL CHECK (resident_check_days > 0),
    -- percentages of a target at which warnings go out, comma separated
    warn_percents TEXT NOT NULL
);

CREATE TABLE departments (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL,
    parent_id TEXT REFERENCES departments(id),
    email TEXT,
    calendar_id TEXT NOT NULL REFERENCES calendars(id),
    is_triage BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX departments_parent ON departments (parent_id);

CREATE TABLE categories (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    group_code TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL,
    description_ru TEXT NOT NULL,
    description_en TEXT NOT NULL,
    -- Open311 service-definition attributes, JSON array
    attributes TEXT NOT NULL,
    -- NULL: reports of this category go to the triage department
    default_department_id TEXT REFERENCES departments(id),
    sla_policy_id TEXT NOT NULL REFERENCES sla_policies(id),
    duplicate_radius_m DOUBLE PRECISION NOT NULL CHECK (duplicate_radius_m > 0),
    active BOOLEAN NOT NULL,
    sort_order INTEGER NOT NULL
);

CREATE TABLE service_areas (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- GeoJSON Polygon or MultiPolygon, WGS 84
    geometry TEXT NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL
);
CREATE INDEX service_areas_bbox ON service_areas (min_lat, max_lat, min_lon, max_lon);

-- Departments in an area. With a category: that category's reports here go to
-- that department (an override). Without: the department serves the area, and
-- takes the reports that would go to it or to one of its ancestors.
CREATE TABLE service_area_routes (
    id TEXT PRIMARY KEY NOT NULL,
    service_area_id TEXT NOT NULL REFERENCES service_areas(id) ON DELETE CASCADE,
    category_id TEXT REFERENCES categories(id),
    department_id TEXT NOT NULL REFERENCES departments(id)
);
CREATE UNIQUE INDEX service_area_routes_unique ON service_area_routes (service_area_id, COALESCE(category_id, ''));

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    phone TEXT,
    role TEXT NOT NULL CHECK (role IN ('resident', 'crew', 'supervisor', 'admin')),
    department_id TEXT REFERENCES departments(id),
    locale TEXT NOT NULL CHECK (locale IN ('ru', 'en')),
    created_at TIMESTAMP NOT NULL,
    CHECK (role IN ('resident', 'admin') OR department_id IS NOT NULL)
);
CREATE INDEX users_department ON users (department_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the key, hex; the key itself is never stored
    key_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('open311', 'api')),
    user_id TEXT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
-- Report numbers come from a sequence here: concurrent filings then never
-- wait on one another for a number (a rolled-back filing leaves a gap).
CREATE SEQUENCE report_numbers;
-- Bumped whenever departments, categories or service areas change, so every
-- instance knows to rebuild its routing index.
INSERT INTO counters (name, value) VALUES ('catalog_version', 1);

CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    number BIGINT NOT NULL UNIQUE,
    category_id TEXT NOT NULL REFERENCES categories(id),
    lat DOUBLE PRECISION NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon DOUBLE PRECISION NOT NULL CHECK (lon BETWEEN -180 AND 180),
    address TEXT,
    description TEXT NOT NULL,
    -- answers to the category's questions: JSON object {code: value}
    answers TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('api', 'open311', 'web', 'demo')),
    support_count INTEGER NOT NULL CHECK (support_count >= 1),
    status TEXT NOT NULL CHECK (status IN ('moderation', 'assigned', 'in_progress', 'paused', 'resolved',
        'confirmed', 'closed', 'rejected', 'duplicate', 'returned', 'reopened')),
    service_area_id TEXT REFERENCES service_areas(id),
    department_id TEXT REFERENCES departments(id),
    routing_rule TEXT NOT NULL,
    assignee_id TEXT REFERENCES users(id),
    reporter_id TEXT REFERENCES users(id),
    reporter_name_public BOOLEAN NOT NULL,
    duplicate_of TEXT REFERENCES reports(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    moderation_due_at TIMESTAMP,
    answer_due_at TIMESTAMP,
    resolved_at TIMESTAMP,
    closed_at TIMESTAMP
);
CREATE INDEX reports_status ON reports (status, lat, lon);
CREATE INDEX reports_department ON reports (department_id, status);
CREATE INDEX reports_category ON reports (category_id, lat, lon);
CREATE INDEX reports_updated ON reports (updated_at);
CREATE INDEX reports_created ON reports (created_at);
CREATE INDEX reports_location ON reports (lat, lon);
CREATE INDEX reports_reporter ON reports (reporter_id);

CREATE TABLE report_events (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports(id),
    actor_id TEXT REFERENCES users(id),
    actor_role TEXT NOT NULL CHECK (actor_role IN ('resident', 'crew', 'supervisor', 'admin', 'system')),
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT,
    public BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX report_events_report ON report_events (report_id, created_at);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports(id),
    event_id TEXT REFERENCES report_events(id),
    position INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    mime TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_report ON attachments (report_id, position);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL CHECK (kind IN ('reporter', 'follower', 'staff')),
    created_at TIMESTAMP NOT NULL,
    unsubscribed_at TIMESTAMP,
    UNIQUE (report_id, user_id)
);
CREATE INDEX subscriptions_user ON subscriptions (user_id);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT REFERENCES report_events(id),
    recipient TEXT NOT NULL,
    template TEXT NOT NULL,
    locale TEXT NOT NULL CHECK (locale IN ('ru', 'en')),
    payload TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE ledger_entries (
    seq BIGINT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports(id),
    report_number BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('resolved', 'confirmed', 'refuted', 'auto_confirmed', 'reopened', 'closed')),
    actor TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    answer_digest TEXT,
    photo_digests TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE INDEX ledger_entries_report ON ledger_entries (report_id);
