"""Layer 5, remote: one Transport interface (memory, path, ssh, S3) and push/pull."""
