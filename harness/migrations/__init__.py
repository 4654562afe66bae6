"""The migration harness: legacy snapshots, the runner, the verifiers."""
