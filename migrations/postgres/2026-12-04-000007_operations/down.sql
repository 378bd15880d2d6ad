DROP TABLE idempotency_keys;
DROP TABLE job_leases;
DROP TABLE retired_secrets;
