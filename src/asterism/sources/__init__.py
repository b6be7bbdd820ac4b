"""sources stage of the Asterism pipeline."""
