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
  const FIELDS = ["id", "lang", "question", "answer", "category", "department", "source", "url"];

  let entries = [];
  let editing = null; // {id, lang} of the entry in the editor, or null for a new one

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
      body.append(el("tr", {}, el("td", {}, shown(q.created_at)), el("td", {}, q.text), el("td", {}, q.lang), el("td", {}, q.channel), actions));
    }
    labelCells($("unanswered"));
    $("unanswered-empty").hidden = result.data.length > 0;
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
    fill(result.data);
  }

  function newEntry(prefill = {}) {
    editing = null;
    fill({ lang: "ja", ...prefill });
  }

  async function saveEntry(event) {
    event.preventDefault();
    const form = $("editor");
    const entry = {};
    for (const name of FIELDS) entry[name] = form.elements[name].value.trim();
    entry.alternatives = form.elements.alternatives.value.split("\n").map((s) => s.trim()).filter(Boolean);
    for (const name of ["department", "url"]) if (!entry[name]) entry[name] = null;
    const result = editing === null
      ? await api("POST", "/api/v1/faq/entries", entry)
      : await api("PUT", `/api/v1/faq/entries/${encodeURIComponent(editing.lang)}/${encodeURIComponent(editing.id)}`, entry);
    if (!result.ok) return showList($("editor-problems"), "保存できません / Not saved", problemsOf(result.detail));
    editing = { id: result.data.id, lang: result.data.lang };
    fill(result.data);
    $("editor-problems").append(el("p", { class: "ok" }, "保存しました。応答に反映済みです / Saved; the bot answers with it now"));
    await loadEntries();
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
  loadUnanswered();
  loadEntries();
})();
