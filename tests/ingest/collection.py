"""Build a local collection folder (images + records.jsonl) with good and hostile items."""

from __future__ import annotations

import json
from pathlib import Path

import imagegen


def write_collection(
    folder: Path, good: int = 6, hostile: bool = True, size: tuple[int, int] = (96, 64)
) -> dict:
    """Returns a summary of what was written: record ids by kind."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    kinds: dict[str, list[str]] = {"good": [], "bad_image": [], "bad_record": [], "duplicate": [], "near": []}

    def add(record_id: str, data: bytes | None, kind: str, name: str | None = None, **fields: object) -> None:
        filename = name or f"{record_id}.jpg"
        if data is not None:
            (images / filename).write_bytes(data)
        record = {"id": record_id, "image": f"images/{filename}", "title": f"Work {record_id}"}
        record.update({"artist": "Berthe Morisot (French, 1841–1895)", "date": "c. 1875", "license": "CC0"})
        record.update(fields)
        lines.append(json.dumps(record))
        kinds[kind].append(record_id)

    for i in range(good):
        add(f"g{i}", imagegen.jpeg(i, size), "good", subjects="harbour; boats", museum_room=f"room {i}")
    if hostile:
        add("cmyk", imagegen.cmyk_jpeg(50), "good")
        add("png16", imagegen.png16(51), "good", name="png16.png")
        add("gif", imagegen.animated_gif(52), "good", name="anim.gif")
        add("rot", imagegen.rotated_jpeg(53), "good")
        add("zero", b"", "bad_image")
        add("text", b"hello, I am not a picture" * 20, "bad_image")
        add("trunc", imagegen.truncated_jpeg(54), "bad_image")
        add("bomb", imagegen.bomb_png(), "bad_image", name="bomb.png")
        add("missing", None, "bad_image", name="nowhere.jpg")
        lines.append(json.dumps({"id": "escape", "image": "../../../../etc/hostname", "title": "escape"}))
        kinds["bad_image"].append("escape")
        lines.append(json.dumps({"title": "no id here", "image": "images/g0.jpg"}))
        kinds["bad_record"].append("#no-id")
        lines.append('{"id": "broken", "title": ')
        kinds["bad_record"].append("#broken-json")
        add("dup", imagegen.jpeg(0, size), "duplicate", name="copy_of_g0.jpg")
        near = imagegen.encode(
            imagegen.picture(1, size).resize((size[0] // 2, size[1] // 2)), "JPEG", quality=70
        )
        add("near", near, "near", name="small_g1.jpg")
        add("nc", imagegen.jpeg(60, size), "good", license="CC BY-NC 4.0")
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return kinds
