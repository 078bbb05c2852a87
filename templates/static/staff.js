// /staff: the admin's list of staff accounts (app.staff_admin). Every change goes through the JSON API,
// which checks the admin role itself; user data only ever goes in as text.
"use strict";

(() => {
  const { el, shown, api, labelCells } = window.Console;
  const table = document.getElementById("staff");
  const errorBox = document.getElementById("staff-error");
  const linkBox = document.getElementById("link-box");
  const linkField = document.getElementById("link");
  const ROLES = {
    admin: "管理者 / admin",
    approver: "承認者 / approver",
    editor: "編集者 / editor",
    viewer: "閲覧者 / viewer",
  };

  function problem(detail) {
    errorBox.hidden = !detail;
    errorBox.textContent = detail ? (typeof detail === "string" ? detail : JSON.stringify(detail)) : "";
  }

  function showLink(url) {
    linkField.value = url;
    linkBox.hidden = false;
    linkField.select();
  }

  async function act(path, body) {
    const answer = await api("POST", path, body);
    problem(answer.ok ? "" : answer.detail);
    if (answer.ok && answer.data.set_password_url) showLink(answer.data.set_password_url);
    await load();
  }

  function row(user) {
    const select = el("select", { "aria-label": `${user.username} の役割 / role of ${user.username}` });
    for (const [value, label] of Object.entries(ROLES)) {
      const option = el("option", { value }, label);
      if (value === user.role) option.selected = true;
      select.append(option);
    }
    const base = `/api/v1/staff/${user.id}`;
    const actions = el(
      "td",
      {},
      el("button", { type: "button", class: "secondary", onclick: () => act(`${base}/role`, { role: select.value }) },
        `役割を変更 / Change role`),
      " ",
      user.disabled
        ? el("button", { type: "button", onclick: () => act(`${base}/enable`) }, "有効にする / Enable")
        : el("button", { type: "button", class: "danger", onclick: () => act(`${base}/disable`) }, "無効にする / Disable"),
      " ",
      el("button", { type: "button", class: "secondary", onclick: () => act(`${base}/sign-out`) },
        "強制ログアウト / Sign out everywhere"),
      " ",
      user.disabled
        ? null
        : el("button", { type: "button", class: "secondary", onclick: () => act(`${base}/password-link`) },
          "設定リンクを再発行 / New set-password link"),
    );
    return el(
      "tr",
      { "data-username": user.username },
      el("th", { scope: "row" }, user.username),
      el("td", {}, select),
      el("td", { class: "state" }, user.disabled ? "無効 / disabled" : "有効 / enabled"),
      el("td", {}, shown(user.last_login_at)),
      el("td", {}, String(user.sessions)),
      actions,
    );
  }

  async function load() {
    const answer = await api("GET", "/api/v1/staff");
    if (!answer.ok) {
      problem(answer.detail);
      return;
    }
    const body = table.tBodies[0];
    body.replaceChildren(...answer.data.staff.map(row));
    labelCells(table);
  }

  document.getElementById("new-staff").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const answer = await api("POST", "/api/v1/staff", {
      username: form.username.value.trim(),
      role: form.role.value,
    });
    problem(answer.ok ? "" : answer.detail);
    if (answer.ok) {
      showLink(answer.data.set_password_url);
      form.reset();
    }
    await load();
  });

  load();
})();
