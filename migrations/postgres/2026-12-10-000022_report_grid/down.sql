DROP INDEX reports_cell;
