-- Area alerts: new reports in a district (area_id) or within radius_m of a
-- point, of the listed categories (ids, comma-separated; empty: all), sent
-- at once or daily, to an address that confirmed by its link.
CREATE TABLE area_alerts (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    locale TEXT NOT NULL,
    area_id TEXT REFERENCES service_areas (id),
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    radius_m DOUBLE PRECISION,
    categories TEXT NOT NULL,
    frequency TEXT NOT NULL CHECK (frequency IN ('instant', 'daily')),
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    unsubscribed_at TIMESTAMP
);
CREATE INDEX area_alerts_by_email ON area_alerts (email, created_at);

-- Each alert hears of a report once: its match, and when it was sent.
CREATE TABLE alert_matches (
    alert_id TEXT NOT NULL REFERENCES area_alerts (id),
    report_id TEXT NOT NULL REFERENCES reports (id),
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    PRIMARY KEY (alert_id, report_id)
);
CREATE INDEX alert_matches_unsent ON alert_matches (sent_at, alert_id);
CREATE INDEX reports_moderated ON reports (moderated_at);
