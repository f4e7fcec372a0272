-- Undo V1: the users table.
DROP TABLE users;
