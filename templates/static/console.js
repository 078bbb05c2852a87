// Helpers shared by the staff pages (posts.js, faq.js). User data only ever goes in as text, never HTML.
"use strict";

window.Console = (() => {
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  // "2026-12-01T09:00:00+09:00" -> "2026-12-01 09:00" (the API answers in Japan time).
  function shown(iso) {
    return iso ? iso.slice(0, 16).replace("T", " ") : "—";
  }

  // The page's CSRF token (app.csrf): every request that changes something carries it.
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // fetch() the JSON API: {ok, status, data} or {ok: false, status, detail}. `body` is sent as JSON,
  // or as is when it is FormData.
  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") options.headers["X-CSRF-Token"] = csrfToken();
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (err) {
      return { ok: false, status: 0, detail: "サーバーに接続できません / Cannot reach the server" };
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (err) {
      payload = null;
    }
    if (response.ok) return { ok: true, status: response.status, data: payload };
    let detail = payload && payload.detail !== undefined ? payload.detail : `HTTP ${response.status}`;
    if (response.status === 401) {
      detail = "ログインの有効期限が切れました。再度ログインしてください / Your session ended: sign in again";
    }
    return { ok: false, status: response.status, detail };
  }

  // Narrow screens show each row of a table.stack as "header: value" lines (site.css): every body cell
  // gets its column's header text as data-label. Call after filling the table's body.
  function labelCells(table) {
    const headers = [...table.tHead.rows[0].cells].map((th) => th.textContent.trim());
    for (const row of table.tBodies[0].rows) {
      [...row.cells].forEach((cell, i) => {
        if (cell.tagName === "TD" && headers[i]) cell.dataset.label = headers[i];
      });
    }
  }

  const LANGUAGE_NAMES = { ja: "日本語 / Japanese", en: "英語 / English" };

  return { el, shown, api, csrfToken, labelCells, LANGUAGE_NAMES };
})();
