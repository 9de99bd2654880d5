"""Reserved for later issues (see DESIGN.md "Layout")."""
