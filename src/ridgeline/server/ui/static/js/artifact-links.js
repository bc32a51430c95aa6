// Addresses and byte-limited reads of a run's artifact files, shared by the artifacts, environment and lineage tabs.
import { ApiError, api } from "./api.js";

/** The artifact path with each segment encoded (slashes stay separators). */
export function encodePath(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function downloadUrl(runId, path) {
  return `/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encodePath(path)}`;
}

/** "1.2 MB": sizes in decimal units, as file managers show them. */
export function formatBytes(bytes) {
  if (bytes == null) return "";
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * The first `limit` bytes of a file of `size` bytes as text, through one ranged request (a large log is never
 * downloaded whole). Returns {text, truncated}.
 */
export async function readHead(runId, path, size, limit) {
  if (size === 0) return { text: "", truncated: false };
  const headers = size > limit ? { Range: `bytes=0-${limit - 1}` } : {};
  const response = await fetch(downloadUrl(runId, path), { headers });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(response.status, body?.error);
  }
  const bytes = await response.arrayBuffer();
  // A cut in the middle of a multi-byte character shows as one replacement character, not an error.
  return { text: new TextDecoder("utf-8").decode(bytes), truncated: size > limit };
}

const listings = new Map();

/** The run's file listing ({files, bytes}), asked for once per page however many tabs need it. */
export function listFiles(runId) {
  if (!listings.has(runId)) {
    const request = api("GET", `/runs/${encodeURIComponent(runId)}/artifacts`);
    // A failed listing is asked for again next time rather than remembered.
    request.catch(() => listings.delete(runId));
    listings.set(runId, request);
  }
  return listings.get(runId);
}
