-- Canned answers: a department's ready texts for answers, rejections and
-- pauses (`actions`: the moves' names, comma-separated), with the
-- placeholders {number}, {address} and {deadline}. No department: every
-- department's staff see it.
CREATE TABLE canned_answers (
    id TEXT PRIMARY KEY NOT NULL,
    department_id TEXT REFERENCES departments (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    actions TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX canned_answers_by_department ON canned_answers (department_id);
