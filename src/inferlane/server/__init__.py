"""The HTTP edge, the admin server and the process lifecycle."""
