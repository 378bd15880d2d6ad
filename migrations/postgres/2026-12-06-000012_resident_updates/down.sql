DELETE FROM subscriptions WHERE kind = 'watcher';
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_kind_check;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_kind_check
    CHECK (kind IN ('reporter', 'follower', 'staff'));
