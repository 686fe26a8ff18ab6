"""Protocol translation around the upstream call (completions ⇄ chat)."""
