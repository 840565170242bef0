"""esm layer (see DESIGN.md)."""
