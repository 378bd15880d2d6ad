-- A resident's reports of the day, counted at every filing.
CREATE INDEX reports_reporter_day ON reports (reporter_id, created_at);

-- Reports filed without an account, held until their filer confirms them
-- through the emailed link: not published, not routed, until then.
CREATE TABLE pending_reports (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    -- the language of the filer's emails
    locale TEXT NOT NULL,
    -- the report as filed (the JSON body)
    report TEXT NOT NULL,
    -- its photos, cleaned and stored: [{hash, width, height, bytes}]
    photos TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    report_id TEXT REFERENCES reports(id)
);
CREATE INDEX pending_reports_email ON pending_reports (email, created_at);
