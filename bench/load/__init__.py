"""Load benchmarks: API throughput under a real load generator, pipeline throughput by worker count."""
