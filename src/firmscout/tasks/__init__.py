"""The task service: use cases on discovery tasks and accounts, called by the API and the CLI alike."""
