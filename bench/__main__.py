"""`python -m bench` runs the pipeline benchmark (the one `make bench` runs)."""

from bench.pipeline import main

main()
