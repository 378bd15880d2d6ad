DROP TABLE canned_answers;
