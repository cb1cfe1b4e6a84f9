"""Where image bytes live."""
