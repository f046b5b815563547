"""Benchmarks: commands that print figures (never asserted in tests). See docs/benchmarks.md."""
