-- Undo V5: the settings table and its rows.
DROP TABLE settings;
