// LINE simulator page: sends what the person does to /simulator/api/send (the server signs it and
// posts it to the real webhook) and polls /simulator/api/messages for the bot's replies.
(function () {
  "use strict";
  const log = document.getElementById("sim-log"); // the scrolling box (role=log) around the list
  const messages = document.getElementById("sim-messages");
  const quick = document.getElementById("sim-quick");
  const form = document.getElementById("sim-form");
  const input = document.getElementById("sim-text");
  const status = document.getElementById("sim-status");
  const lang = document.getElementById("sim-lang");
  let next = 0;
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? { "X-CSRF-Token": meta.content } : {}; // app.csrf: changes carry the page's token

  function add(kind, text) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = text;
    messages.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function showQuick(buttons) {
    quick.replaceChildren();
    for (const b of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.label;
      button.addEventListener("click", function () {
        if (b.type === "postback") {
          if (b.text) add("user", b.text);
          send({ kind: "postback", data: b.data });
        } else if (b.type === "camera" || b.type === "cameraRoll" || b.type === "location") {
          // LINE opens the camera, the photos or the map; the simulator sends a sample photo or place
          const kind = b.type === "location" ? "location" : "image";
          add("system", b.label);
          send({ kind: kind });
        } else {
          add("user", b.text || b.label);
          send({ kind: "text", text: b.text || b.label });
        }
      });
      quick.appendChild(button);
    }
  }

  async function send(payload) {
    quick.replaceChildren();
    payload.language = lang.value;
    try {
      const r = await fetch("/simulator/api/send", {
        method: "POST",
        headers: Object.assign({ "content-type": "application/json" }, csrf),
        body: JSON.stringify(payload),
      });
      const body = await r.json();
      status.textContent = r.ok
        ? "送信しました / Sent (webhook " + body.webhook_status + ")"
        : "送信できませんでした / Not sent: " + JSON.stringify(body.detail);
    } catch (e) {
      status.textContent = "送信できませんでした / Not sent: " + e;
    }
  }

  async function poll() {
    try {
      const r = await fetch("/simulator/api/messages?after=" + next);
      if (r.ok) {
        const body = await r.json();
        for (const m of body.messages) {
          add("bot", m.type === "text" ? m.text : "[" + m.type + "]");
        }
        if (body.messages.length) showQuick(body.messages[body.messages.length - 1].quick_replies);
        next = body.next;
      }
    } finally {
      setTimeout(poll, 400);
    }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    add("user", text);
    input.value = "";
    send({ kind: "text", text: text });
  });
  for (const b of document.querySelectorAll("[data-event]")) {
    b.addEventListener("click", function () {
      const kind = b.getAttribute("data-event");
      add("system", b.textContent);
      send({ kind: kind });
    });
  }
  document.getElementById("sim-reset").addEventListener("click", async function () {
    await fetch("/simulator/api/reset", { method: "POST", headers: csrf });
    messages.replaceChildren();
    quick.replaceChildren();
    next = 0;
    add("system", "新しい利用者として始めます / Starting as a new user");
  });
  poll();
})();
