// The API client: one function per endpoint the UI uses. Errors carry the server's message.

async function asJson(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.detail || `request failed (${response.status})`);
  }
  return body;
}

function options({ weights, filters, k = 12, page = 0, prose = false }) {
  const clean = Object.fromEntries(Object.entries(filters || {}).filter(([, v]) => v !== "" && v != null));
  const out = { weights, k, page };
  if (Object.keys(clean).length) out.filters = clean;
  if (prose) out.prose = true; // a sentence or two per result, written from its reasons only
  return out;
}

export function filtersFromForm(form) {
  const list = (text) => (text ? text.split(",").map((s) => s.trim()).filter(Boolean) : undefined);
  return {
    date_from: form.dateFrom === "" ? undefined : Number(form.dateFrom),
    date_to: form.dateTo === "" ? undefined : Number(form.dateTo),
    sources: list(form.source),
    licenses: list(form.license),
    classifications: list(form.type),
  };
}

export async function recommendById(artworkId, query) {
  const response = await fetch("/v1/recommendations", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ artwork_id: artworkId, ...options(query) }),
  });
  return asJson(response);
}

export async function recommendByImage(file, query) {
  const form = new FormData();
  const { weights, filters, k, page, prose } = options(query);
  form.append("image", file);
  if (prose) form.append("prose", "true");
  form.append("weights", JSON.stringify(weights));
  if (filters) form.append("filters", JSON.stringify(filters));
  form.append("k", String(k));
  form.append("page", String(page));
  return asJson(await fetch("/v1/recommendations", { method: "POST", body: form }));
}

export async function searchArtworks(text) {
  return asJson(await fetch(`/v1/search?q=${encodeURIComponent(text)}&limit=12`));
}

export async function randomArtwork() {
  return asJson(await fetch("/v1/artworks/random"));
}

export async function getArtwork(id) {
  return asJson(await fetch(`/v1/artworks/${id}`));
}

export async function getMap(affinity) {
  // Titles and artists ride along (one request per build and affinity, cached by ETag): the hover label.
  return asJson(await fetch(`/v1/map?affinity=${encodeURIComponent(affinity)}&fields=title,artist`));
}

export async function connect(from, to) {
  return asJson(await fetch(`/v1/connect?from=${from}&to=${to}`));
}

export async function studyPair(artworkId) {
  const response = await fetch("/v1/study/pairs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ artwork_id: artworkId, k: 6 }),
  });
  return asJson(response);
}

export async function studyVote(pairId, choice) {
  const response = await fetch("/v1/study/votes", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pair_id: pairId, choice }),
  });
  return asJson(response);
}
