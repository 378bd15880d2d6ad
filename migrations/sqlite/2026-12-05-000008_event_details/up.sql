-- What a history event says besides the person's own words, as data (JSON):
-- the routing rule of a filing, the department of an assignment, a pause's
-- reason and resume date, the original of a duplicate, an SLA mark's stage
-- and moment. Pages and the API put it in words in each language and in
-- the city's time zone; `note` keeps only what a person wrote.
ALTER TABLE report_events ADD COLUMN details TEXT;
