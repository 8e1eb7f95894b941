"""Report-style exports from the app: the "Export figure" dialog, and the helpers with which
the panels describe what they show as report figures (drawn by :mod:`core.figures`)."""
