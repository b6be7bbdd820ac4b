"""images stage of the Asterism pipeline."""
