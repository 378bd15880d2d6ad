DROP TABLE pending_supports;
DROP INDEX outbox_recipient;
