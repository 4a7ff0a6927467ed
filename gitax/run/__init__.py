"""Layer 3, run: executing jobs (fork, capture, ingest) and driving build scripts."""
