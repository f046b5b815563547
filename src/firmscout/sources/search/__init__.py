"""Web search providers behind one interface (`base.SearchProvider`), built from settings by `registry`."""
