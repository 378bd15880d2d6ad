-- Email notifications: who asked for no more mail, the instance's secrets
-- (the key that signs unsubscribe links), and which answered reports their
-- reporter was reminded to check.

-- scope: a report id, or '*' for every message.
CREATE TABLE mail_opt_outs (
    email TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (email, scope)
);

CREATE TABLE secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE report_reminders (
    report_id TEXT NOT NULL REFERENCES reports(id),
    cycle INTEGER NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (report_id, cycle)
);

CREATE INDEX reports_check_due ON reports (check_due_at) WHERE check_due_at IS NOT NULL;
