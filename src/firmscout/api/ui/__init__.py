"""The web app served at `/`: server-rendered pages over the same task service as the API."""
