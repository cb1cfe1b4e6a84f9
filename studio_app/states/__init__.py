"""Reflex states: thin, one per screen concern, over studio_app.services."""
