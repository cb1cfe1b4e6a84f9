"""Studio: create images with AI."""
