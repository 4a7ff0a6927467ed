"""Layer 1, the store: objects, the object database, the job index. Knows nothing of jobs."""
