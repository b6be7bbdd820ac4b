"""Recognise a photographed work: locate the picture, shortlist by a global descriptor, verify geometrically."""
