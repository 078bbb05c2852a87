// /reports: the list and the map of damage reports side by side, filters, a report's detail with its
// photos and history, the status change and the correction of category and place, merging duplicates
// into the report shown (and undoing it), confirming or dismissing a collected post.
// Data from /api/v1/reports (user data only as text).
"use strict";

(() => {
  const { el, api } = window.Console;
  const SUITA = [34.7595, 135.5168];
  const STATUS = {
    new: "新規 / New", checking: "確認中 / Being checked", handled: "対応済み / Handled",
    duplicate: "重複 / Duplicate", not_actionable: "対応不要 / Not actionable",
  };
  const COLORS = { new: "#d7191c", checking: "#fdae61", handled: "#1a9641", duplicate: "#777", not_actionable: "#777" };
  const list = document.getElementById("report-list");
  const count = document.getElementById("report-count");
  const filters = document.getElementById("report-filters");
  const mapBox = document.getElementById("report-map");
  let map = null;
  let layer = null;
  let current = null;

  function number(id) {
    return "R-" + String(id).padStart(6, "0");
  }

  function setupMap() {
    if (!window.L) return;  // the list works without the map
    map = L.map(mapBox).setView(SUITA, 13);
    const tiles = mapBox.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, { attribution: mapBox.dataset.attribution, maxZoom: 18 }).addTo(map);
    }
    layer = L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 40 }) : L.layerGroup();
    layer.addTo(map);
  }

  function query() {
    const params = new URLSearchParams();
    for (const name of ["category", "status", "source"]) {
      const value = filters.elements[name].value;
      if (value) params.set(name, value);
    }
    const since = filters.elements.since.value;
    if (since) params.set("since", new Date(since).toISOString());
    // duplicates are hidden unless asked for (or the status filter asks for them)
    if (!filters.elements.duplicates.checked && params.get("status") !== "duplicate") params.set("duplicates", "false");
    return params.toString();
  }

  async function load() {
    const q = query();
    document.getElementById("report-csv").href = "/api/v1/reports.csv" + (q ? "?" + q : "");
    document.getElementById("report-geojson").href = "/api/v1/reports.geojson" + (q ? "?" + q : "");
    const answer = await api("GET", "/api/v1/reports" + (q ? "?" + q : ""));
    if (!answer.ok) {
      count.textContent = String(answer.detail);
      return;
    }
    const reports = answer.data.reports;
    count.textContent = `${reports.length} 件 / reports`;
    list.replaceChildren(...reports.map(item));
    if (layer) {
      layer.clearLayers();
      for (const r of reports) {
        if (r.lat === null || r.lon === null) continue;
        const marker = L.circleMarker([r.lat, r.lon], {
          radius: 9, color: "#222", weight: 1, fillColor: COLORS[r.status] || "#333", fillOpacity: 0.9,
        });
        marker.bindTooltip(`${number(r.id)} ${r.category_label}`);
        marker.on("click", () => show(r.id));
        layer.addLayer(marker);
      }
    }
  }

  function item(r) {
    const unconfirmed = r.confirmed ? null : el("span", { class: "badge" }, "要確認 / To confirm");
    const where = r.address || (r.lat !== null ? `${r.lat.toFixed(5)}, ${r.lon.toFixed(5)}` : "場所なし / no place");
    const button = el("button", { type: "button", class: "link", onclick: () => show(r.id) }, number(r.id));
    const merged = r.duplicate_count ? el("span", { class: "badge" }, `重複 ${r.duplicate_count} 件 / ${r.duplicate_count} duplicate(s)`) : null;
    return el(
      "li", { class: "report-item status-" + r.status, "data-id": String(r.id) },
      button, " ", r.category_label, " — ", STATUS[r.status] || r.status, " ", unconfirmed, " ", merged,
      el("br"), el("small", {}, `${r.created_at.slice(0, 16).replace("T", " ")} UTC · ${r.source} · ${where}`),
    );
  }

  async function show(id) {
    const answer = await api("GET", "/api/v1/reports/" + id);
    if (!answer.ok) return;
    const r = answer.data;
    current = r;
    const fields = document.getElementById("detail-fields");
    const rows = [
      ["番号 / Number", number(r.id)],
      ["種類 / Category", r.category_label],
      ["状態 / Status", STATUS[r.status] || r.status],
      ["受付 / Source", r.source + (r.author ? ` (${r.author})` : "")],
      ["報告者番号 / Reporter", r.reporter === null ? "—" : String(r.reporter)],
      ["場所 / Place", r.address || (r.lat !== null ? `${r.lat}, ${r.lon}` : "—")],
      ["状況 / Note", r.note || "—"],
      ["重複先 / Duplicate of", r.duplicate_of ? number(r.duplicate_of) : "—"],
    ];
    fields.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    if (r.link) fields.append(el("dt", {}, "投稿 / Post"), el("dd", {}, el("a", { href: r.link, rel: "noopener noreferrer" }, r.link)));
    document.getElementById("detail-photos").replaceChildren(...photos(r.photos, ""));
    showDuplicates(r);
    document.getElementById("detail-review").hidden = r.confirmed;
    if (mergeForm) {
      mergeForm.hidden = r.status === "duplicate";  // a duplicate cannot be a main report
      document.getElementById("merge-message").textContent = "";
    }
    document.getElementById("detail-history").replaceChildren(
      ...r.history.map((h) =>
        el("li", {}, `${h.at.slice(0, 16).replace("T", " ")} UTC ${h.actor}: ${h.from ? STATUS[h.from] + " → " : ""}${STATUS[h.to]}${h.note ? " — " + h.note : ""}`),
      ),
    );
    const section = document.getElementById("report-detail");
    section.hidden = false;
    section.scrollIntoView({ block: "nearest" });
    if (map && r.lat !== null) map.setView([r.lat, r.lon], Math.max(map.getZoom(), 15));
    if (correct) {
      correct.elements.category.value = r.category;
      correct.elements.lat.value = r.lat === null ? "" : String(r.lat);
      correct.elements.lon.value = r.lon === null ? "" : String(r.lon);
      correct.elements.address.value = r.address || "";
      document.getElementById("correct-message").textContent = "";
    }
  }

  function photos(list, prefix) {
    return list.map((p, i) =>
      p.url
        ? el("a", { href: p.url }, el("img", { src: p.thumbnail_url, alt: `${prefix}写真 ${i + 1} / Photo ${i + 1}` }))
        : el("span", { class: "badge" }, `写真 ${i + 1}: 取得中 / fetching (${p.state})`),
    );
  }

  // the combined view: each merged report with its time, source, note and photos
  function showDuplicates(r) {
    const box = document.getElementById("detail-duplicates-box");
    box.hidden = r.duplicates.length === 0;
    document.getElementById("duplicate-count").textContent = `${r.duplicate_count} 件 / reports`;
    document.getElementById("unmerge-message").textContent = "";
    document.getElementById("detail-duplicates").replaceChildren(
      ...r.duplicates.map((d) => {
        const undo = mergeForm
          ? el("button", { type: "button", onclick: () => unmerge(r.id, d.id) }, `統合を解除 / Unmerge ${number(d.id)}`)
          : null;
        return el(
          "li", { class: "report-duplicate", "data-id": String(d.id) },
          el("button", { type: "button", class: "link", onclick: () => show(d.id) }, number(d.id)), " ",
          `${d.created_at.slice(0, 16).replace("T", " ")} UTC · ${d.source}${d.author ? " (" + d.author + ")" : ""} · ${d.category_label}`,
          el("br"), d.note || "—", " ", ...photos(d.photos, number(d.id) + " "), " ", undo,
        );
      }),
    );
  }

  async function unmerge(mainId, id) {
    const answer = await api("POST", `/api/v1/reports/${mainId}/unmerge`, { duplicates: [id] });
    const message = document.getElementById("unmerge-message");
    if (!answer.ok) {
      message.textContent = String(answer.detail);
      return;
    }
    await load();
    await show(mainId);
    document.getElementById("unmerge-message").textContent = `${number(id)} の統合を解除しました / Unmerged`;
  }

  async function review(action) {
    if (!current) return;
    const answer = await api("POST", `/api/v1/reports/${current.id}/${action}`, {});
    const message = document.getElementById("review-message");
    if (!answer.ok) {
      message.textContent = String(answer.detail);
      return;
    }
    await load();
    await show(current.id);
  }

  const confirmButton = document.getElementById("confirm-report");
  if (confirmButton) {
    confirmButton.addEventListener("click", () => review("confirm"));
    document.getElementById("dismiss-report").addEventListener("click", () => review("dismiss"));
  }

  // "R-000012, 15 16" → [12, 15, 16]; null when something else was typed
  function reportIds(text) {
    const parts = text.split(/[\s,、]+/).filter((p) => p);
    const ids = parts.map((p) => (/^(R-?)?\d{1,9}$/i.test(p) ? Number(p.replace(/^R-?/i, "")) : NaN));
    return ids.length && ids.every((n) => Number.isInteger(n) && n > 0) ? ids : null;
  }

  const mergeForm = document.getElementById("merge-form");
  if (mergeForm) {
    mergeForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!current) return;
      const message = document.getElementById("merge-message");
      const ids = reportIds(mergeForm.elements.duplicates.value);
      if (!ids) {
        message.textContent = "報告番号を R-000012 や 12 の形で入力してください / Give report numbers such as R-000012 or 12";
        return;
      }
      const body = { duplicates: ids, note: mergeForm.elements.note.value || null };
      const answer = await api("POST", `/api/v1/reports/${current.id}/merge`, body);
      if (!answer.ok) {
        message.textContent = String(answer.detail);
        return;
      }
      mergeForm.reset();
      await load();
      await show(current.id);
      document.getElementById("merge-message").textContent = `${ids.length} 件を統合しました / Merged`;
    });
  }

  // only what the editor changed is sent: the server records old → new in the history
  function corrections(f, r) {
    const body = {};
    if (f.category.value !== r.category) body.category = f.category.value;
    const lat = f.lat.value.trim();
    const lon = f.lon.value.trim();
    if ((lat || lon) && (Number(lat) !== r.lat || Number(lon) !== r.lon)) {
      body.lat = lat === "" ? null : Number(lat);
      body.lon = lon === "" ? null : Number(lon);
    }
    if (f.address.value.trim() !== (r.address || "")) body.address = f.address.value.trim();
    return body;
  }

  const correct = document.getElementById("correct-form");
  if (correct) {
    correct.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!current) return;
      const message = document.getElementById("correct-message");
      const body = corrections(correct.elements, current);
      if (Object.keys(body).length === 0) {
        message.textContent = "変更する内容がありません / Nothing to change";
        return;
      }
      const answer = await api("PATCH", `/api/v1/reports/${current.id}`, body);
      message.textContent = answer.ok ? "訂正しました / Corrected" : String(answer.detail);
      if (answer.ok) {
        await load();
        await show(current.id);
        message.textContent = "訂正しました / Corrected";
      }
    });
  }

  const form = document.getElementById("status-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!current) return;
      const body = { status: form.elements.status.value, note: form.elements.note.value || null };
      if (form.elements.duplicate_of.value) body.duplicate_of = Number(form.elements.duplicate_of.value);
      const answer = await api("POST", `/api/v1/reports/${current.id}/status`, body);
      const message = document.getElementById("status-message");
      message.textContent = answer.ok ? "変更しました / Changed" : String(answer.detail);
      if (answer.ok) {
        form.elements.note.value = "";
        await load();
        await show(current.id);
      }
    });
  }

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  setupMap();
  load();
})();
