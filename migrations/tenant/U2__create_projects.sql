-- Undo V2: the projects table.
DROP TABLE projects;
