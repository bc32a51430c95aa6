// The native API from the browser: JSON in, JSON out, errors thrown with the server's message. Every request that
// changes something carries the session's CSRF token (from <meta name="csrf-token">, see base.html): with accounts
// on, the server refuses a change made with the session cookie alone.

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `request failed with status ${status}`);
    this.status = status;
    this.code = error?.code;
    this.field = error?.field;
    this.details = error?.details;
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** The CSRF token of this page's session, or null (local mode, logged out, or a login that is not a session). */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || null;
}

/** `headers` with the CSRF header added when `method` changes something and the page has a session. */
export function withCsrf(method, headers = {}) {
  const token = csrfToken();
  if (token && !SAFE.has(method.toUpperCase())) return { ...headers, "X-CSRF-Token": token };
  return headers;
}

export async function api(method, path, body = undefined) {
  const init = { method, headers: withCsrf(method, { Accept: "application/json" }) };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/api/v1${path}`, init);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return data;
}

/** A client-made batch id, so a retried request is applied once. */
export function batchId() {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Set tags on runs through the batch endpoint (the same path the SDK uses). */
export async function setTags(runIds, tags) {
  for (const runId of runIds) {
    await api("POST", `/runs/${encodeURIComponent(runId)}/batches`, { batch_id: batchId(), tags });
  }
}
