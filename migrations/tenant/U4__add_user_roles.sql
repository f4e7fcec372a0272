-- Undo V4: the role column and its type.
ALTER TABLE users DROP COLUMN role;
DROP TYPE user_role;
