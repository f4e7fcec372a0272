-- Undo V11: the comments table.
DROP TABLE comments;
