// /kpi: import a history CSV through the API (editor role); the page reloads to show the figures.
"use strict";

(() => {
  const { el, api } = window.Console;
  const form = document.getElementById("kpi-import");
  const box = document.getElementById("kpi-import-result");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    box.replaceChildren();
    if (!form.elements.file.files.length) {
      box.append(el("p", { class: "error" }, "CSV ファイルを選んでください / Choose a CSV file"));
      return;
    }
    const body = new FormData();
    body.append("file", form.elements.file.files[0]);
    body.append("replace", form.elements.replace.checked ? "true" : "false");
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const result = await api("POST", "/api/v1/kpi/import", body);
      if (!result.ok) {
        const errors = result.detail && result.detail.errors ? result.detail.errors : [String(result.detail)];
        box.append(
          el("p", { class: "error" }, "取り込めませんでした(何も保存していません)/ Not imported (nothing was stored)"),
          el("ul", { class: "problems" }, ...errors.map((e) => el("li", {}, e)))
        );
        return;
      }
      const r = result.data;
      box.append(
        el(
          "p",
          { class: "ok" },
          `取り込みました: 追加 ${r.added} 件、置き換え ${r.replaced} 件、変更なし ${r.unchanged} 件 / ` +
            `Imported: ${r.added} added, ${r.replaced} replaced, ${r.unchanged} unchanged`
        ),
        el("p", {}, el("a", { href: "/kpi" }, "グラフと表を更新する / Show the updated report"))
      );
    } finally {
      button.disabled = false;
    }
  });
})();
