"""Image providers behind one async protocol and one error taxonomy."""
