"""One module per stage: a pure core plus a thin persist step."""
