"""The company database as a service: cleaning, file readers, the built-in seed and the importer."""
