"""Job transport. Never imports the pipeline: the handler is injected by the composition root."""
