-- Undo V8: tags and their links to projects.
DROP TABLE project_tags;
DROP TABLE tags;
