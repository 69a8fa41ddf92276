// Saves the answer in progress to the server a moment after each change, so a reload loses
// nothing. The page's state is the draft's "saving" / "saved" / "failed" status.
import { apiRequest } from "./api.js";

export class DraftSaver {
  constructor({ onState, delay = 500 }) {
    this.onState = onState;
    this.delay = delay;
    this.timer = null;
    this.itemId = null;
    this.pending = null;
    this.inflight = null;
  }

  url(itemId) {
    return `/api/items/${itemId}/draft/`;
  }

  async load(itemId) {
    const response = await apiRequest("GET", this.url(itemId));
    return response.status === 200 ? response.data : null;
  }

  schedule(itemId, payloadFn) {
    this.itemId = itemId;
    this.pending = payloadFn;
    clearTimeout(this.timer);
    this.onState("pending");
    this.timer = setTimeout(() => this.flush(), this.delay);
  }

  async flush() {
    clearTimeout(this.timer);
    if (!this.pending) return;
    const body = this.pending();
    const itemId = this.itemId;
    this.pending = null;
    this.onState("saving");
    this.inflight = apiRequest("PUT", this.url(itemId), body);
    const response = await this.inflight;
    this.inflight = null;
    if (this.pending) return; // a newer change is waiting; its own save reports the state
    this.onState(response.ok ? "saved" : "failed");
  }

  // On leaving the page: send what is pending with keepalive so the request outlives the page.
  flushOnExit(csrfToken) {
    if (!this.pending) return;
    const body = JSON.stringify(this.pending());
    this.pending = null;
    fetch(this.url(this.itemId), {
      method: "PUT",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body,
    });
  }

  cancel() {
    clearTimeout(this.timer);
    this.pending = null;
  }

  // Drop what is pending and wait for a save already on its way, so that it cannot land after
  // the answer is submitted (the server discards the draft on submit).
  async settle() {
    this.cancel();
    if (this.inflight) await this.inflight.catch(() => null);
  }
}
