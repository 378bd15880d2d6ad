-- Each report's part of its filing day's tally (its outcome counted alone):
-- when reports change, their parts are worked out anew and their days summed
-- again from these rows, instead of working out every report filed those
-- days. A day's rows are summed through the index.
CREATE TABLE report_tallies (
    report_id TEXT PRIMARY KEY NOT NULL,
    day DATE NOT NULL,
    department TEXT NOT NULL,
    answered INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    on_time INTEGER NOT NULL,
    reopened INTEGER NOT NULL,
    disputed INTEGER NOT NULL,
    ratings INTEGER NOT NULL,
    rating_sum INTEGER NOT NULL,
    -- Minutes from filing to the first answer, when answered.
    answer_minutes INTEGER
);
CREATE INDEX report_tallies_day ON report_tallies (day, department);

-- The day tallies so far were worked out without these rows: the next
-- refresh works every day out anew (the page meanwhile sums the year live).
DELETE FROM stats_snapshots;
DELETE FROM outcome_days;
