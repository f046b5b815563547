"""Candidate discovery adapters, one module per provider, behind the `Source` protocol."""
