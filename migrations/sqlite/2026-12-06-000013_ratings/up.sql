-- Residents rate the city's answer from 1 to 5 when they confirm or
-- refute it, with a comment if they like: the reporter's and each
-- follower's latest per answer cycle counts. Kept beside the report's
-- department at the time, for the department statistics.
CREATE TABLE ratings (
    report_id TEXT NOT NULL REFERENCES reports (id),
    cycle INTEGER NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    department_id TEXT REFERENCES departments (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (report_id, cycle, user_id)
);
CREATE INDEX ratings_by_department ON ratings (department_id, created_at);
