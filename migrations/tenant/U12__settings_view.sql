-- Undo V12: the summary view.
DROP VIEW project_summary;
