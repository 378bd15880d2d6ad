-- The groups the categories are listed under, named in both languages: the
-- filing form shows a category under its group's name, and a search for
-- the group's name finds its categories. A category whose group has no row
-- is listed under the group's code.
CREATE TABLE category_groups (
    code TEXT PRIMARY KEY NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0
);
