// Thumbnails for the zoomed-in map: at most `inFlight` downloads at once, decoded once and shrunk
// to the largest size the map draws (an ImageBitmap: ~37 kB at 96 px instead of ~260 kB for the
// 256 px picture), kept in a least-recently-used cache of `capacity` bitmaps.
//
// Each frame the renderer says which thumbnails it wants now (`want`): the queue is replaced, not
// appended to, so a fast pan never leaves a backlog of pictures that have scrolled away.

export default class ThumbCache {
  constructor({ urlOf, onLoad, capacity = 400, inFlight = 6, side = 96 }) {
    this.urlOf = urlOf;
    this.onLoad = onLoad;
    this.capacity = capacity;
    this.inFlight = inFlight;
    this.side = side;
    this.bitmaps = new Map(); // id -> ImageBitmap, oldest use first (Map keeps insertion order)
    this.loading = new Set();
    this.failed = new Set();
    this.queue = [];
    this.stats = { requested: 0, loaded: 0, evicted: 0, failed: 0, maxLoading: 0 };
    this.closed = false;
  }

  // The bitmap for `id` if decoded (marking it recently used), else null.
  get(id) {
    const bitmap = this.bitmaps.get(id);
    if (!bitmap) return null;
    this.bitmaps.delete(id);
    this.bitmaps.set(id, bitmap);
    return bitmap;
  }

  // The thumbnails wanted now, most important first: fetch the missing ones, a few at a time.
  want(ids) {
    this.queue = ids.filter((id) => !this.bitmaps.has(id) && !this.loading.has(id) && !this.failed.has(id));
    this.pump();
  }

  pump() {
    while (!this.closed && this.loading.size < this.inFlight && this.queue.length) {
      this.fetch(this.queue.shift());
    }
  }

  async fetch(id) {
    this.loading.add(id);
    this.stats.requested++;
    this.stats.maxLoading = Math.max(this.stats.maxLoading, this.loading.size);
    try {
      const image = new Image();
      image.decoding = "async";
      image.src = this.urlOf(id);
      await image.decode();
      const shrink = this.side / Math.max(image.naturalWidth, image.naturalHeight, 1);
      const bitmap = await createImageBitmap(image, shrink < 1 ? {
        resizeWidth: Math.max(1, Math.round(image.naturalWidth * shrink)),
        resizeHeight: Math.max(1, Math.round(image.naturalHeight * shrink)),
        resizeQuality: "medium",
      } : {});
      if (this.closed) {
        bitmap.close();
        return;
      }
      this.bitmaps.set(id, bitmap);
      this.stats.loaded++;
      this.evict();
      this.onLoad();
    } catch {
      // A missing or withheld picture (404/410) or an undecodable one: the point stays a point.
      this.failed.add(id);
      this.stats.failed++;
    } finally {
      this.loading.delete(id);
      this.pump();
    }
  }

  evict() {
    while (this.bitmaps.size > this.capacity) {
      const [oldest, bitmap] = this.bitmaps.entries().next().value;
      this.bitmaps.delete(oldest);
      bitmap.close();
      this.stats.evicted++;
    }
  }

  close() {
    this.closed = true;
    this.queue = [];
    for (const bitmap of this.bitmaps.values()) bitmap.close();
    this.bitmaps.clear();
  }

  snapshot() {
    return { ...this.stats, cached: this.bitmaps.size, loading: this.loading.size, capacity: this.capacity, inFlight: this.inFlight };
  }
}
