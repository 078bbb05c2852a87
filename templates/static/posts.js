// Staff console for posts: a thin client of /api/v1/posts (the server checks everything again).
"use strict";

(() => {
  const data = JSON.parse(document.getElementById("console-data").textContent);
  const $ = (id) => document.getElementById(id);
  const { el, shown, api, labelCells, LANGUAGE_NAMES } = window.Console;
  const REFRESH_MS = 10000;
  const PAGE = 20;

  const POST_STATES = {
    draft: "下書き / Draft",
    scheduled: "予約済み / Scheduled",
    sending: "配信中 / Sending",
    done: "完了 / Done",
    cancelled: "取消 / Cancelled",
  };
  const DELIVERY_STATES = {
    pending: "待機中 / Pending",
    sending: "送信中 / Sending",
    sent: "送信済み / Sent",
    failed: "失敗 / Failed",
    unknown: "要確認 / Check needed",
  };
  const LABELS = Object.fromEntries(data.channels.map((c) => [c.name, c.label]));
  const TOPICS = Object.fromEntries(data.topics.map((t) => [t.id, `${t.labels.ja} / ${t.labels.en}`]));

  // ---- compose ---------------------------------------------------------------------------------

  function collect() {
    const form = $("compose");
    const value = (name) => form.elements[name].value.trim();
    const post = {
      title: value("title"),
      body: form.elements.body.value.trim(),
      link: value("link") || null,
      topic: value("topic") || null,
      urgency: form.querySelector("input[name=urgency]:checked").value,
      channels: [...form.querySelectorAll("input[name=channels]:checked")].map((i) => i.value),
      scheduled_at: null,
      variants: {},
    };
    const problems = [];
    if (form.querySelector("input[name=when]:checked").value === "at") {
      const local = value("scheduled_at");
      if (!local) problems.push({ field: "scheduled_at", message: "日時を入力してください / enter a date and time" });
      else post.scheduled_at = `${local.length === 16 ? local + ":00" : local}+09:00`;
    }
    const titleEn = value("title_en");
    const bodyEn = form.elements.body_en.value.trim();
    if (titleEn || bodyEn) post.variants.en = { title: titleEn, body: bodyEn };
    if (post.channels.length === 0) {
      problems.push({ field: "channels", message: "配信先を選んでください / choose at least one channel" });
    }
    return { post, problems };
  }

  const FIELD_INPUTS = {
    title: "title",
    body: "body",
    link: "link",
    topic: "topic",
    scheduled_at: "scheduled_at",
    "variants.en.title": "title_en",
    "variants.en.body": "body_en",
  };

  function showProblems(detail) {
    const box = $("compose-problems");
    box.replaceChildren();
    document.querySelectorAll("#compose [aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    if (!detail || (Array.isArray(detail) && detail.length === 0)) return;
    const items = Array.isArray(detail) ? detail : [{ field: "", message: String(detail) }];
    const list = el("ul", { class: "problems" });
    for (const p of items) {
      list.append(el("li", {}, p.field ? `${p.field}: ${p.message}` : p.message));
      const input = FIELD_INPUTS[p.field] && $(FIELD_INPUTS[p.field]);
      if (input) input.setAttribute("aria-invalid", "true");
      if (p.field && p.field.startsWith("variants.en")) $("variant-en").open = true;
    }
    box.append(el("p", { class: "error" }, "受け付けられません / Not accepted"), list);
  }

  function renderPreview(result) {
    const box = $("preview");
    box.replaceChildren();
    for (const [name, channel] of Object.entries(result.channels)) {
      const card = el("article", { class: "preview-card", "data-channel": name });
      const status = channel.ok ? "" : " — 上限超過 / over the limit";
      const note = channel.configured ? "" : " (未設定 / not configured)";
      card.append(el("h3", {}, `${channel.label}${note}${status}`));
      for (const [lang, messages] of Object.entries(channel.languages)) {
        if (Object.keys(channel.languages).length > 1) card.append(el("h4", {}, LANGUAGE_NAMES[lang] || lang));
        messages.forEach((m, i) => {
          const count = `${m.count.toLocaleString()} / ${channel.limit.toLocaleString()} ${channel.unit}`;
          const label = messages.length > 1 ? `${i + 1}: ${count}` : count;
          card.append(
            el("pre", { class: "message", lang }, m.text),
            el("p", { class: m.ok ? "count" : "count error" }, label)
          );
        });
      }
      box.append(card);
    }
    $("preview-section").hidden = false;
  }

  async function previewPost() {
    const { post, problems } = collect();
    if (problems.length) return showProblems(problems);
    const result = await api("POST", "/api/v1/posts/preview", post);
    if (!result.ok) return showProblems(result.detail);
    showProblems(result.data.problems);
    renderPreview(result.data);
  }

  async function submitPost(draft) {
    $("compose-result").textContent = "";
    const { post, problems } = collect();
    if (problems.length) return showProblems(problems);
    const buttons = document.querySelectorAll("#compose button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      const result = await api("POST", "/api/v1/posts", { ...post, draft });
      if (!result.ok) return showProblems(result.detail);
      showProblems(null);
      const saved = result.data;
      $("compose-result").textContent = draft
        ? `No. ${saved.id} を下書き保存しました / Saved post ${saved.id} as a draft`
        : `No. ${saved.id} を ${shown(saved.scheduled_at)} に予約しました / Post ${saved.id} scheduled for ${shown(saved.scheduled_at)}`;
      $("compose").reset();
      $("preview-section").hidden = true;
      await loadPosts();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  // ---- list ------------------------------------------------------------------------------------

  let oldestId = null;
  let paged = false; // more pages loaded: the automatic refresh would drop them

  function deliveryItem(d) {
    const text = `${LABELS[d.channel] || d.channel}: ${DELIVERY_STATES[d.state] || d.state}`;
    const item = el("li", { class: `delivery state-${d.state}`, "data-channel": d.channel }, text);
    if (d.overdue) item.append(" ", el("strong", { class: "error" }, "遅延 / overdue"));
    if (d.platform_id) item.append(" ", el("small", {}, `(${d.platform_id})`));
    if (d.error) item.append(el("br"), el("small", { class: d.state === "sent" ? "" : "error" }, d.error));
    if (data.canEdit && (d.state === "unknown" || d.state === "failed")) {
      const decide = (outcome, label) =>
        el("button", { type: "button", class: "small", onclick: () => resolve(d, outcome) }, label);
      const unknown = d.state === "unknown";
      item.append(
        el("br"),
        ...(unknown ? [decide("sent", "投稿を確認した / It was posted"), " "] : []),
        decide("resend", "再送する / Send again"),
        ...(unknown ? [" ", decide("failed", "失敗とする / Mark failed")] : [])
      );
    }
    return item;
  }

  function postRow(post) {
    const title = el("td", {}, post.title);
    if (post.urgency === "emergency") title.prepend(el("strong", { class: "error" }, "緊急 / Emergency"), " ");
    if (post.topic) title.append(el("br"), el("small", {}, `トピック / topic: ${TOPICS[post.topic] || post.topic}`));
    const deliveries = el("ul", { class: "deliveries" });
    if (post.deliveries.length === 0) {
      deliveries.append(el("li", {}, post.channels.map((c) => LABELS[c] || c).join(", ")));
    }
    for (const d of post.deliveries) deliveries.append(deliveryItem(d));
    const actions = el("td", { class: "actions" });
    if (data.canEdit && post.state === "draft") {
      actions.append(el("button", { type: "button", onclick: () => schedule(post) }, "予約 / Schedule"), " ");
    }
    const started = post.deliveries.some((d) => d.state !== "pending");
    if (data.canEdit && (post.state === "draft" || post.state === "scheduled") && !started) {
      actions.append(el("button", { type: "button", class: "secondary", onclick: () => cancel(post) }, "取消 / Cancel"));
    }
    return el(
      "tr",
      { "data-post-id": String(post.id) },
      el("td", {}, String(post.id)),
      title,
      el("td", {}, shown(post.scheduled_at)),
      el("td", { class: `state state-${post.state}` }, POST_STATES[post.state] || post.state),
      el("td", {}, deliveries),
      actions
    );
  }

  async function loadPosts(more = false) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    const state = $("state-filter").value;
    if (state) params.set("state", state);
    if (more && oldestId !== null) params.set("before_id", String(oldestId));
    const result = await api("GET", `/api/v1/posts?${params}`);
    if (!result.ok) {
      $("list-error").textContent = `一覧を取得できません / Cannot load the posts: ${result.detail}`;
      return;
    }
    $("list-error").textContent = "";
    const posts = result.data.posts;
    const body = document.querySelector("#posts tbody");
    if (!more) body.replaceChildren();
    paged = more;
    for (const post of posts) body.append(postRow(post));
    labelCells($("posts"));
    if (posts.length) oldestId = posts[posts.length - 1].id;
    $("posts-empty").hidden = body.children.length > 0;
    $("more-button").hidden = posts.length < PAGE;
  }

  async function act(method, path, body) {
    const result = await api(method, path, body);
    if (!result.ok) {
      const detail = Array.isArray(result.detail)
        ? result.detail.map((p) => `${p.field}: ${p.message}`).join("; ")
        : result.detail;
      $("list-error").textContent = `操作できません / Not done: ${detail}`;
      return;
    }
    await loadPosts();
  }

  function schedule(post) {
    return act("POST", `/api/v1/posts/${post.id}/schedule`);
  }

  function cancel(post) {
    if (!window.confirm(`No. ${post.id}「${post.title}」を取り消しますか？ / Cancel post ${post.id}?`)) return;
    return act("POST", `/api/v1/posts/${post.id}/cancel`);
  }

  function resolve(delivery, outcome) {
    const body = { outcome };
    if (outcome === "sent") {
      const id = window.prompt("投稿の ID(わかれば) / The post's ID on the platform (if known)", "");
      if (id === null) return;
      if (id.trim()) body.platform_id = id.trim();
    }
    return act("POST", `/api/v1/deliveries/${delivery.id}/resolve`, body);
  }

  // ---- worker status ---------------------------------------------------------------------------

  async function loadStatus() {
    const box = $("worker-status");
    const result = await api("GET", "/api/v1/notifier/status");
    if (!result.ok) {
      box.textContent = `配信ワーカーの状態を取得できません / Cannot read the workers' state: ${result.detail}`;
      box.className = "error";
      return;
    }
    const s = result.data;
    const alive = `配信ワーカー稼働中: ${s.workers_alive} / Workers running: ${s.workers_alive}`;
    box.className = s.ok ? "ok" : "error";
    box.textContent = s.ok ? alive : `${alive} — 要確認 / needs attention: ${s.problems.join("; ")}`;
  }

  // ---- wiring ----------------------------------------------------------------------------------

  if (data.canEdit) {
    $("preview-button").addEventListener("click", previewPost);
    $("draft-button").addEventListener("click", () => submitPost(true));
    $("compose").addEventListener("submit", (event) => {
      event.preventDefault();
      submitPost(false);
    });
    $("scheduled_at").addEventListener("input", () => {
      document.querySelector("input[name=when][value=at]").checked = true;
    });
  }
  $("state-filter").addEventListener("change", () => loadPosts());
  $("refresh-button").addEventListener("click", () => Promise.all([loadPosts(), loadStatus()]));
  $("more-button").addEventListener("click", () => loadPosts(true));

  const refresh = () => {
    if (document.visibilityState === "visible" && !paged) loadPosts();
    loadStatus();
  };
  loadPosts();
  loadStatus();
  window.setInterval(refresh, REFRESH_MS);
})();
