-- Undo V10: the archive column and its partial index.
DROP INDEX projects_active_idx;
ALTER TABLE projects DROP COLUMN archived_at;
