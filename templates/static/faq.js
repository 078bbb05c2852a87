// Staff FAQ page: a thin client of /api/v1/faq (the server checks everything again).
"use strict";

(() => {
  const data = JSON.parse(document.getElementById("console-data").textContent);
  const $ = (id) => document.getElementById(id);
  const { el, shown, api, labelCells, LANGUAGE_NAMES } = window.Console;

  const DECISIONS = {
    answer: "回答します / Answers",
    suggest: "候補を示します / Offers choices",
    fallback: "問い合わせ先を案内します / Points to the city's contacts",
  };
  const FIELDS = ["id", "lang", "question", "label", "answer", "category", "department", "source", "url"];

  let entries = [];
  let editing = null; // {id, lang} of the entry in the editor, or null for a new one
  let fromGroup = null; // ids of the unanswered questions a new entry is made from, or null

  function problemsOf(detail) {
    if (detail && Array.isArray(detail.errors)) return detail.errors;
    if (Array.isArray(detail)) return detail.map((p) => `${(p.loc || []).join(".")}: ${p.msg}`);
    return [String(detail)];
  }

  function showList(box, title, items) {
    box.replaceChildren();
    if (!items.length) return;
    box.append(el("p", { class: "error" }, title), el("ul", { class: "problems" }, ...items.map((t) => el("li", {}, t))));
  }

  // ---- try a question ---------------------------------------------------------------------------

  async function tryQuestion(question, lang) {
    const box = $("try-result");
    box.replaceChildren();
    const params = new URLSearchParams({ q: question, lang, k: "3", log: "false" });
    const result = await api("GET", `/api/v1/faq/search?${params}`);
    if (!result.ok) return showList(box, "試せません / Cannot try it", problemsOf(result.detail));
    const d = result.data;
    box.append(
      el("p", {}, el("strong", { class: `decision decision-${d.decision}` }, DECISIONS[d.decision]), ` (score ${d.score.toFixed(2)})`)
    );
    if (d.answer) {
      box.append(el("p", {}, `ID: ${d.entry_id}`), el("pre", { class: "message" }, d.answer));
    }
    if (d.suggestions.length && d.decision !== "answer") {
      const list = el("ol", { class: "suggestions" });
      for (const s of d.suggestions) {
        list.append(
          el("li", {}, `${s.question} (${s.entry_id}, ${s.score.toFixed(2)}) `,
            el("button", { type: "button", class: "small secondary", onclick: () => openEntry(s.entry_id, lang) }, "開く / Open"))
        );
      }
      box.append(el("p", {}, "候補 / Choices:"), list);
    }
  }

  // ---- unanswered -------------------------------------------------------------------------------

  async function loadUnanswered() {
    const result = await api("GET", "/api/v1/faq/unanswered?limit=100");
    const body = document.querySelector("#unanswered tbody");
    body.replaceChildren();
    if (!result.ok) return;
    for (const q of result.data) {
      const actions = el("td", {},
        el("button", { type: "button", class: "small secondary", "aria-label": `この質問を試す / Try it: ${q.text}`, onclick: () => {
          $("try-q").value = q.text;
          $("try-lang").value = q.lang;
          tryQuestion(q.text, q.lang);
          $("try-q").focus();
        } }, "この質問を試す / Try it"));
      if (data.canEdit) {
        actions.append(" ", el("button", { type: "button", class: "small secondary", onclick: () => newEntry({ question: q.text, lang: q.lang }) }, "項目を作る / New entry"));
      }
      body.append(el("tr", {}, el("td", {}, shown(q.last_seen)), el("td", {}, q.text), el("td", {}, q.lang), el("td", {}, q.channel), actions));
    }
    labelCells($("unanswered"));
    $("unanswered-empty").hidden = result.data.length > 0;
  }

  // ---- the improvement loop: groups, 👎, picks, monthly report ---------------------------------------

  function fillTable(id, rows) {
    const body = document.querySelector(`#${id} tbody`);
    body.replaceChildren(...rows);
    labelCells($(id));
    const empty = $(`${id}-empty`);
    if (empty) empty.hidden = rows.length > 0;
  }

  function addToEntryForm(group) {
    const input = el("input", { list: "entry-ids", "aria-label": "追加先の項目 ID / Entry ID to add to", class: "small" });
    const form = el("form", { class: "inline add-to" }, input, " ",
      el("button", { type: "submit", class: "small secondary" }, "追加 / Add"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const [id, lang] = [input.value.trim(), group.lang];
      const result = await api("POST", "/api/v1/faq/unanswered/groups/apply", { ids: group.ids, entry_id: id, lang });
      if (!result.ok) return showList($("groups-result"), "追加できません / Not added", problemsOf(result.detail));
      $("groups-result").replaceChildren(el("p", { class: "ok" }, `「${id}」の言い換えに追加しました。すぐに答えます / Added to ${id}; the bot answers them now`));
      await Promise.all([loadGroups(), loadEntries(), loadUnanswered()]);
    });
    return form;
  }

  async function loadGroups() {
    const result = await api("GET", "/api/v1/faq/unanswered/groups?limit=50");
    if (!result.ok) return;
    fillTable("groups", result.data.map((g) => {
      const actions = el("td", {});
      if (data.canEdit) {
        actions.append(
          el("button", { type: "button", class: "small", onclick: () => newEntry({ question: g.examples[0], alternatives: g.examples, lang: g.lang }, g.ids) },
            "新しい項目にする / New entry from group"),
          " ", addToEntryForm(g));
      }
      return el("tr", { "data-group": g.ids.join(",") },
        el("td", {}, String(g.count)),
        el("td", {}, el("ul", { class: "examples" }, ...g.examples.map((t) => el("li", {}, t)))),
        el("td", {}, g.lang), el("td", {}, shown(g.first_seen)), el("td", {}, shown(g.last_seen)), actions);
    }));
  }

  async function loadFeedback() {
    const result = await api("GET", "/api/v1/faq/feedback");
    if (!result.ok) return;
    fillTable("feedback", result.data.map((f) => el("tr", {},
      el("td", {}, `${f.question || ""} (${f.entry_id})`), el("td", {}, String(f.helpful)), el("td", {}, String(f.not_helpful)),
      el("td", {}, el("ul", { class: "examples" }, ...f.questions.map((q) => el("li", {}, q)))))));
  }

  async function loadPicks() {
    const result = await api("GET", "/api/v1/faq/picks");
    if (!result.ok) return;
    fillTable("picks", result.data.map((p) => {
      const actions = el("td", {});
      if (data.canEdit && !p.already_alternative) {
        actions.append(el("button", { type: "button", class: "small secondary", onclick: async () => {
          const path = `/api/v1/faq/entries/${encodeURIComponent(p.lang)}/${encodeURIComponent(p.entry_id)}/alternatives`;
          const result = await api("POST", path, { texts: [p.question] });
          if (result.ok) await Promise.all([loadPicks(), loadEntries()]);
        } }, "言い換えに追加 / Add as phrasing"));
      } else if (p.already_alternative) {
        actions.append("追加済み / Added");
      }
      return el("tr", {}, el("td", {}, p.question), el("td", {}, `${p.entry_question || ""} (${p.entry_id})`),
        el("td", {}, String(p.count)), el("td", {}, shown(p.last_seen)), actions);
    }));
  }

  const REPORT_ROWS = [
    ["questions", "質問数 / Questions"], ["answered_rate", "回答率 / Answered"], ["suggested_rate", "候補提示率 / Suggested"],
    ["fallback_rate", "問い合わせ案内率 / Fallback"], ["small_talk", "あいさつ等 / Small talk"],
  ];

  async function loadReport(month) {
    const result = await api("GET", `/api/v1/faq/report?month=${encodeURIComponent(month)}`);
    if (!result.ok) return;
    const r = result.data;
    const value = (key, numbers) => (key.endsWith("_rate") ? `${(numbers[key] * 100).toFixed(1)} %` : String(numbers[key]));
    $("report-this").textContent = r.month;
    $("report-prev").textContent = r.previous_month;
    const rows = REPORT_ROWS.map(([key, name]) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, value(key, r.numbers)), el("td", {}, value(key, r.previous))));
    for (const v of r.votes.slice(0, 10)) rows.push(el("tr", {}, el("th", { scope: "row" }, `👍/👎 ${v.entry_id}`), el("td", {}, `${v.helpful} / ${v.not_helpful}`), el("td", {}, "")));
    for (const g of r.unanswered_groups) rows.push(el("tr", {}, el("th", { scope: "row" }, `未回答 / Unanswered: ${g.examples[0]}`), el("td", {}, String(g.count)), el("td", {}, "")));
    fillTable("report", rows);
    $("report-csv").href = `/api/v1/faq/report.csv?month=${encodeURIComponent(month)}`;
  }

  // ---- entries ----------------------------------------------------------------------------------

  async function loadEntries() {
    const result = await api("GET", "/api/v1/faq/entries");
    if (!result.ok) return;
    entries = result.data;
    renderEntries();
  }

  function renderEntries() {
    const needle = $("entry-filter").value.trim().toLowerCase();
    const lang = $("entry-lang").value;
    const shownEntries = entries.filter((e) => {
      if (lang && e.lang !== lang) return false;
      if (!needle) return true;
      const hay = [e.id, e.question, e.answer, e.department || "", ...e.alternatives].join("\n").toLowerCase();
      return hay.includes(needle);
    });
    const body = document.querySelector("#entries tbody");
    body.replaceChildren();
    for (const e of shownEntries) {
      body.append(
        el("tr", { "data-entry": `${e.lang}/${e.id}` },
          el("td", {}, e.id), el("td", {}, e.lang), el("td", {}, e.question), el("td", {}, e.department || "—"),
          el("td", {}, shown(e.updated_at)),
          el("td", {}, el("button", { type: "button", class: "small secondary", onclick: () => openEntry(e.id, e.lang) },
            data.canEdit ? "編集 / Edit" : "表示 / View")))
      );
    }
    labelCells($("entries"));
    $("entries-count").textContent = `${shownEntries.length} / ${entries.length} 件 / entries`;
    const ids = $("entry-ids");
    ids.replaceChildren(...[...new Set(entries.map((e) => e.id))].map((id) => el("option", { value: id })));
  }

  function fill(entry) {
    const form = $("editor");
    for (const name of FIELDS) form.elements[name].value = entry[name] || (name === "lang" ? "ja" : "");
    form.elements.alternatives.value = (entry.alternatives || []).join("\n");
    for (const input of form.elements) {
      if (input.tagName !== "BUTTON") input.readOnly = !data.canEdit;
    }
    form.elements.id.readOnly = form.elements.id.readOnly || editing !== null;
    form.elements.lang.disabled = !data.canEdit || editing !== null;
    showList($("editor-problems"), "", []);
    if ($("delete-entry")) $("delete-entry").hidden = editing === null;
    $("editor-section").hidden = false;
    $("editor-h").textContent = editing === null ? "新しい項目 / New entry" : `項目の編集 / Edit entry: ${editing.id} (${LANGUAGE_NAMES[editing.lang]})`;
    form.elements[editing === null ? "id" : "question"].focus();
  }

  async function openEntry(id, lang) {
    const result = await api("GET", `/api/v1/faq/entries/${encodeURIComponent(lang)}/${encodeURIComponent(id)}`);
    if (!result.ok) return showList($("try-result"), "開けません / Cannot open it", problemsOf(result.detail));
    editing = { id, lang };
    fromGroup = null;
    fill(result.data);
  }

  function newEntry(prefill = {}, groupIds = null) {
    editing = null;
    fromGroup = groupIds;
    fill({ lang: "ja", ...prefill });
  }

  async function saveEntry(event) {
    event.preventDefault();
    const form = $("editor");
    const entry = {};
    for (const name of FIELDS) entry[name] = form.elements[name].value.trim();
    entry.alternatives = form.elements.alternatives.value.split("\n").map((s) => s.trim()).filter(Boolean);
    for (const name of ["department", "url"]) if (!entry[name]) entry[name] = null;
    const result = editing === null && fromGroup !== null
      ? await api("POST", "/api/v1/faq/unanswered/groups/apply", { ids: fromGroup, entry })
      : editing === null
      ? await api("POST", "/api/v1/faq/entries", entry)
      : await api("PUT", `/api/v1/faq/entries/${encodeURIComponent(editing.lang)}/${encodeURIComponent(editing.id)}`, entry);
    if (!result.ok) return showList($("editor-problems"), "保存できません / Not saved", problemsOf(result.detail));
    editing = { id: result.data.id, lang: result.data.lang };
    const grouped = fromGroup !== null;
    fromGroup = null;
    fill(result.data);
    $("editor-problems").append(el("p", { class: "ok" }, "保存しました。応答に反映済みです / Saved; the bot answers with it now"));
    await Promise.all([loadEntries(), grouped ? loadGroups() : null, grouped ? loadUnanswered() : null]);
  }

  async function deleteEntry() {
    if (editing === null) return;
    if (!window.confirm(`「${editing.id}」(${editing.lang}) を削除しますか？ / Delete this entry?`)) return;
    const result = await api("DELETE", `/api/v1/faq/entries/${encodeURIComponent(editing.lang)}/${encodeURIComponent(editing.id)}`);
    if (!result.ok) return showList($("editor-problems"), "削除できません / Not deleted", problemsOf(result.detail));
    editing = null;
    $("editor-section").hidden = true;
    await loadEntries();
  }

  // ---- import -----------------------------------------------------------------------------------

  async function importFile(event) {
    event.preventDefault();
    const form = $("import");
    const file = form.elements.file.files[0];
    const box = $("import-result");
    if (!file) return showList(box, "ファイルを選んでください / Choose a file", []);
    const body = new FormData();
    body.append("file", file);
    const encoding = form.elements.encoding.value;
    const result = await api("POST", `/api/v1/faq/import${encoding ? `?encoding=${encoding}` : ""}`, body);
    if (!result.ok) return showList(box, "何も取り込んでいません / Nothing was imported", problemsOf(result.detail));
    box.replaceChildren(el("p", { class: "ok" }, `${result.data.imported} 件を取り込みました / Imported ${result.data.imported} entries`));
    form.reset();
    await loadEntries();
  }

  // ---- wiring -----------------------------------------------------------------------------------

  $("try").addEventListener("submit", (event) => {
    event.preventDefault();
    tryQuestion($("try-q").value, $("try-lang").value);
  });
  $("entry-filter").addEventListener("input", renderEntries);
  $("entry-lang").addEventListener("change", renderEntries);
  if (data.canEdit) {
    $("new-entry").addEventListener("click", () => newEntry());
    $("editor").addEventListener("submit", saveEntry);
    $("delete-entry").addEventListener("click", deleteEntry);
    $("close-editor").addEventListener("click", () => ($("editor-section").hidden = true));
    $("import").addEventListener("submit", importFile);
  }
  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadReport($("report-month").value);
  });
  const now = new Date(Date.now() + 9 * 3600 * 1000); // the report's months are in Japan time
  $("report-month").value = now.toISOString().slice(0, 7);
  loadUnanswered();
  loadEntries();
  loadGroups();
  loadFeedback();
  loadPicks();
  loadReport($("report-month").value);
})();
