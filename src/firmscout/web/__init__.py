"""Reading the web: the guarded fetcher, the page cache and what pages say about a company."""
