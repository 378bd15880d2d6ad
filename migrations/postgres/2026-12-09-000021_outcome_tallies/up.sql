-- The statistics' additive tallies, per filing day and department code
-- ('' for reports without one): a year's public statistics sum a few thousand of
-- these rows instead of reading every report. A day's rows are worked out
-- anew from the reports filed that day whenever one of them changed.
CREATE TABLE outcome_days (
    day DATE NOT NULL,
    department TEXT NOT NULL,
    reports BIGINT NOT NULL,
    answered BIGINT NOT NULL,
    overdue BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    disputed BIGINT NOT NULL,
    ratings BIGINT NOT NULL,
    rating_sum BIGINT NOT NULL,
    -- Minutes from filing to the first answer: "minutes:count,…".
    answer_minutes TEXT NOT NULL,
    PRIMARY KEY (day, department)
);

-- What the public statistics page shows, as last worked out from the
-- tallies, and up to when changes were taken in.
CREATE TABLE stats_snapshots (
    name TEXT PRIMARY KEY NOT NULL,
    refreshed_at TIMESTAMP NOT NULL,
    body TEXT NOT NULL
);

-- Deadline marks since a time: which days' tallies a refresh works out anew.
CREATE INDEX sla_marks_recorded ON sla_marks (recorded_at);
