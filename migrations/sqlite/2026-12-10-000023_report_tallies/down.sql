DROP TABLE report_tallies;
