DROP TABLE report_media_links;
DROP TABLE back_office_updates;
DROP TABLE hook_pending;
DROP TABLE webhooks;
DROP TABLE deliveries;
DROP TABLE handovers;
DROP TABLE endpoints;
DELETE FROM api_keys WHERE kind = 'back_office';
