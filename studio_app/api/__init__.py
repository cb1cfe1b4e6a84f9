"""HTTP routes mounted on the Reflex server (via rx.App(api_transformer=...))."""
