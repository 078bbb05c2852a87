// /audit: the audit log with filters, each change's before/after, and the CSV of the same filters
// (app.audit_page). User data only ever goes in as text.
"use strict";

(() => {
  const { el, shown, api, labelCells } = window.Console;
  const form = document.getElementById("filters");
  const table = document.getElementById("audit");
  const empty = document.getElementById("audit-empty");
  const errorBox = document.getElementById("audit-error");
  const csvLink = document.getElementById("csv-link");

  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (String(value).trim()) params.set(key, String(value).trim());
    }
    return params.toString();
  }

  function text(value) {
    if (value === null || value === undefined) return "—";
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function diff(event) {
    const list = el("ul", { class: "diff" });
    for (const [field, [before, after]] of Object.entries(event.changes || {})) {
      list.append(el("li", {}, `${field}: `, el("del", {}, text(before)), " → ", el("ins", {}, text(after))));
    }
    if (event.note) list.append(el("li", {}, event.note));
    return list;
  }

  function row(event) {
    return el(
      "tr",
      { "data-action": event.action },
      el("td", {}, String(event.id)),
      el("td", {}, shown(event.at)),
      el("td", {}, `${event.actor || "—"}(${event.actor_role})`),
      el("td", {}, event.action),
      el("td", {}, `${event.object_type} ${event.object_id}`),
      el("td", {}, diff(event)),
      el("td", {}, event.client),
    );
  }

  async function load() {
    const q = query();
    csvLink.href = `/api/v1/audit.csv${q ? `?${q}` : ""}`;
    const answer = await api("GET", `/api/v1/audit${q ? `?${q}` : ""}`);
    errorBox.hidden = answer.ok;
    if (!answer.ok) {
      errorBox.textContent = typeof answer.detail === "string" ? answer.detail : JSON.stringify(answer.detail);
      return;
    }
    table.tBodies[0].replaceChildren(...answer.data.events.map(row));
    empty.hidden = answer.data.events.length > 0;
    labelCells(table);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  load();
})();
