ALTER TABLE api_keys DROP COLUMN scopes;
DROP TABLE audit_log;
DROP TABLE rate_counters;
DROP TABLE account_tokens;
DROP TABLE sessions;
DROP TABLE accounts;
