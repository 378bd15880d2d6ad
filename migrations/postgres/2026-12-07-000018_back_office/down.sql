DROP TABLE back_office_updates;
DROP TABLE hook_pending;
DROP TABLE webhooks;
DROP TABLE deliveries;
DROP TABLE handovers;
DROP TABLE endpoints;
DELETE FROM api_keys WHERE kind = 'back_office';
ALTER TABLE api_keys DROP CONSTRAINT api_keys_kind_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_kind_check CHECK (kind IN ('open311', 'api'));
