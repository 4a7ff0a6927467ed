"""Layer 5, remote: transports and push/pull (issue 6). Nothing here yet: stores are local."""
