"""ingest stage of the Asterism pipeline."""
