"""Data that outlives the machine: export a home to plain files, restore it anywhere, move its store.

``export_home`` writes a folder that needs neither this code nor this machine
to be read (Parquet, JSON, TOML, the pictures as files); ``restore_home``
makes a serving home of it again, on SQLite or PostgreSQL, without
re-embedding; ``migrate_store`` moves a home's SQLite store into PostgreSQL
in place. The export's layout (``manifest.json`` says all of it again, with
a size and SHA-256 per file):

    manifest.json                   format and version, counts, each part's files and meaning, checksums
    settings.toml                   the settings the data was shaped by (weights, licences, graph k, ...)
    records/<table>.parquet         the property store: artworks, images, problems, checkpoints,
                                    preference_pairs — every column, ids kept
    vectors/formal.parquet          image_features: one formal vector per image (sha256), labels, palette
    vectors/<affinity>.parquet      embeddings of one affinity (conceptual, historical, space-<name>):
                                    artwork_id, ref (source:source_id), model, input_hash, document, vector
    graph/artworks.parquet          the affinity graph's Artwork nodes (id)
    graph/<TYPE>.parquet            typed similarity edges FORMAL_SIM, CONCEPT_SIM, HISTORICAL_SIM: src, dst, weight
    graph/state.json                what the graph stage last wrote (a build after restore has nothing to do)
    knowledge/entities.parquet      the knowledge graph's entities: key, kind, label
    knowledge/links.parquet         its relations: type, src_artwork or src_entity, dst
    knowledge/node_vectors.parquet  the historical model (node2vec vector per node; version in the manifest)
    inputs/<name>.csv               the PainterPalette file the build read
    images/ab/cd/<sha256>.<ext>     with --images: the originals, content-addressed as in the home,
    thumbs/<size>/ab/cd/<sha256>.jpg  and their thumbnails

A vector column is ``list<float32>``; JSON columns hold JSON text; times are
UTC. The vector files are in the shape ``asterism vectors import`` reads
(``vector`` with ``ref`` or ``sha256``), so a space can be carried into
another collection as it is.
"""

from __future__ import annotations

from asterism.portable.export import ExportRefused, ExportReport, export_home
from asterism.portable.manifest import DamagedExport
from asterism.portable.migrate import MigrateRefused, MigrateReport, migrate_store
from asterism.portable.restore import RestoreRefused, RestoreReport, restore_home

__all__ = [
    "DamagedExport",
    "ExportRefused",
    "ExportReport",
    "MigrateRefused",
    "MigrateReport",
    "RestoreRefused",
    "RestoreReport",
    "export_home",
    "migrate_store",
    "restore_home",
]
