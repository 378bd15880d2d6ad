DROP TABLE category_groups;
