// Small fetch wrapper for the Quorum API, using the session cookie and the CSRF token.
export function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function apiRequest(method, url, body) {
  const options = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
  };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const text = await response.text();
  // Error pages (404, 500) may be HTML: only JSON answers carry data.
  const isJson = (response.headers.get("Content-Type") || "").includes("json");
  const data = text && isJson ? JSON.parse(text) : null;
  return { status: response.status, ok: response.ok, data };
}
