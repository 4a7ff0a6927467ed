"""Layer 4, git: dulwich integration (commit ids, work tree state). Only repo.py imports dulwich."""
