"""The production HTTP servers that run the app (waitress, granian) and the supervision of
several server processes over one loaded build."""
