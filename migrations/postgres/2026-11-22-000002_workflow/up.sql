-- The workflow and SLA deadlines. Keep in step with the SQLite twin.

-- Targets per stage in a unit of their own, and the escalation levels (as
-- percentages of a target: level 1 goes to the department's supervisors,
-- level 2 to the city's).
ALTER TABLE sla_policies ADD COLUMN moderation_unit TEXT NOT NULL DEFAULT 'working_days'
    CHECK (moderation_unit IN ('working_days', 'working_hours', 'calendar_days'));
ALTER TABLE sla_policies ADD COLUMN answer_unit TEXT NOT NULL DEFAULT 'working_days'
    CHECK (answer_unit IN ('working_days', 'working_hours', 'calendar_days'));
ALTER TABLE sla_policies ADD COLUMN fix_unit TEXT NOT NULL DEFAULT 'working_days'
    CHECK (fix_unit IN ('working_days', 'working_hours', 'calendar_days'));
ALTER TABLE sla_policies ADD COLUMN escalation_percents TEXT NOT NULL DEFAULT '100,150';

-- Where a report's clocks stand. A cycle starts at filing and again at each
-- reopening; next_sla_at is the next moment the SLA scanner must look at it.
ALTER TABLE reports ADD COLUMN cycle INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN cycle_started_at TIMESTAMP;
ALTER TABLE reports ADD COLUMN moderated_at TIMESTAMP;
ALTER TABLE reports ADD COLUMN responded_at TIMESTAMP;
ALTER TABLE reports ADD COLUMN fix_due_at TIMESTAMP;
ALTER TABLE reports ADD COLUMN check_due_at TIMESTAMP;
ALTER TABLE reports ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN next_sla_at TIMESTAMP;
CREATE INDEX reports_next_sla ON reports (next_sla_at) WHERE next_sla_at IS NOT NULL;

-- Pauses: the clock stops from started_at to ended_at (NULL while paused).
CREATE TABLE report_pauses (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports(id),
    cycle INTEGER NOT NULL,
    -- the status the report returns to when the pause ends
    from_status TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('waiting_for_resident', 'seasonal_work', 'third_party', 'procurement')),
    note TEXT,
    resume_on DATE NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    started_by TEXT REFERENCES users(id)
);
CREATE INDEX report_pauses_report ON report_pauses (report_id, started_at);

-- Warnings, breaches and escalations recorded: each at most once per
-- report, cycle and stage, whatever the number of scanners.
CREATE TABLE sla_marks (
    report_id TEXT NOT NULL REFERENCES reports(id),
    cycle INTEGER NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('moderation', 'answer', 'fix')),
    mark TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (report_id, cycle, stage, mark)
);
