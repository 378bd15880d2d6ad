DELETE FROM subscriptions WHERE kind = 'watcher';
