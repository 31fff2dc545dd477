"""`chiso bench …`: benchmarks that time chiso against a vectorised pandas version of the same
computation, on the same data, in the same process (DESIGN §7)."""
