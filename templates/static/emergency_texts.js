// /emergency/templates: edit a template's text per language, approve or reject an edit, mark a text
// reviewed. Each button calls the JSON API (notifier.emergency_api) and the page is drawn again.
"use strict";

(() => {
  const { el, api } = window.Console;
  const problem = document.getElementById("texts-problem");
  const base = "/api/v1/emergency-templates";

  function show(detail) {
    problem.replaceChildren();
    const items = Array.isArray(detail) ? detail.map((p) => p.message || p.msg || String(p)) : [String(detail)];
    problem.append(el("ul", {}, ...items.map((text) => el("li", {}, text))));
    problem.scrollIntoView({ block: "nearest" });
  }

  async function act(method, path, body, section) {
    const answer = await api(method, path, body);
    if (!answer.ok) return show(answer.detail);
    const page = `/emergency/templates?id=${encodeURIComponent(section.dataset.template)}`;
    const here = location.pathname + location.search === page;
    location.hash = `lang-${section.dataset.lang}`;
    if (here) location.reload();
    else location.assign(`${page}#lang-${section.dataset.lang}`);
  }

  const choice = document.getElementById("template-choice");
  choice.addEventListener("change", () => choice.form.submit());

  for (const section of document.querySelectorAll("section.template-language")) {
    const { template, lang } = section.dataset;
    const textPath = `${base}/${encodeURIComponent(template)}/texts/${encodeURIComponent(lang)}`;
    const pending = section.querySelector(".pending");
    const revisionPath = pending ? `${base}/${encodeURIComponent(template)}/revisions/${pending.dataset.revision}` : "";

    const form = section.querySelector("form.edit-text");
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const body = { title: form.elements.title.value, body: form.elements.body.value, draft: form.elements.draft.checked };
        act("PUT", textPath, body, section);
      });
    }
    const reviewed = section.querySelector("button.mark-reviewed");
    if (reviewed) {
      reviewed.addEventListener("click", () => {
        const revision = reviewed.dataset.revision ? Number(reviewed.dataset.revision) : null;
        act("POST", `${textPath}/reviewed`, { revision }, section);
      });
    }
    const approve = section.querySelector("button.approve");
    if (approve) approve.addEventListener("click", () => act("POST", `${revisionPath}/approve`, undefined, section));
    const reject = section.querySelector("button.reject");
    if (reject) {
      reject.addEventListener("click", () => {
        const reason = section.querySelector("input.reason").value.trim();
        if (!reason) return show("差し戻しの理由を入力してください / Enter the reason to reject");
        act("POST", `${revisionPath}/reject`, { reason }, section);
      });
    }
  }
})();
