"""Storage of the compiled report: set-based loads of one report's data."""
