"""The command-line face of the library."""
