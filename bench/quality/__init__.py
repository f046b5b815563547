"""Discovery-quality benchmark: labelled queries on three corpora, methods side by side. See __main__."""
