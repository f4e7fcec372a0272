-- Undo V3: the designs table.
DROP TABLE designs;
