"""Layer 2, jobs: methods, option typing, job keys, manifests, the Job read API, workdirs."""
