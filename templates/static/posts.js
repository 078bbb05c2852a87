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
    awaiting_approval: "承認待ち / Awaiting approval",
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
    cancelled: "取消 / Cancelled",
  };
  const LABELS = Object.fromEntries(data.channels.map((c) => [c.name, c.label]));
  const TOPICS = Object.fromEntries(data.topics.map((t) => [t.id, `${t.labels.ja} / ${t.labels.en}`]));

  // The post being edited ({id, state}), or null while composing a new one.
  let editing = null;

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
      channel_texts: {},
    };
    const problems = [];
    if (form.querySelector("input[name=when]:checked").value === "at") {
      const local = value("scheduled_at");
      if (!local) {
        problems.push({ field: "scheduled_at", message: "配信日時: 日時を入力してください / When: enter a date and time" });
      } else {
        post.scheduled_at = `${local.length === 16 ? local + ":00" : local}+09:00`;
      }
    }
    const titleEn = value("title_en");
    const bodyEn = form.elements.body_en.value.trim();
    if (titleEn || bodyEn) post.variants.en = { title: titleEn, body: bodyEn };
    for (const box of form.querySelectorAll("#channel-texts textarea")) {
      const text = box.value.trim();
      if (text && post.channels.includes(box.dataset.channel)) post.channel_texts[box.dataset.channel] = text;
    }
    if (post.channels.length === 0) {
      problems.push({ field: "channels", message: "配信先: 1 つ以上選んでください / Channels: choose at least 1 channel" });
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

  function inputFor(field) {
    if (field.startsWith("channel_texts.")) return $(`text_${field.slice("channel_texts.".length)}`);
    return FIELD_INPUTS[field] ? $(FIELD_INPUTS[field]) : null;
  }

  // Problems from the server (or from collect) name their field in words, Japanese first.
  function showProblems(detail) {
    const box = $("compose-problems");
    box.replaceChildren();
    document.querySelectorAll("#compose [aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    if (!detail || (Array.isArray(detail) && detail.length === 0)) return;
    const items = Array.isArray(detail) ? detail : [{ field: "", message: String(detail) }];
    const list = el("ul", { class: "problems" });
    for (const p of items) {
      list.append(el("li", {}, p.message));
      const input = p.field ? inputFor(p.field) : null;
      if (input) input.setAttribute("aria-invalid", "true");
      if (p.field && p.field.startsWith("variants.en")) $("variant-en").open = true;
      if (p.field && p.field.startsWith("channel_texts.")) $("channel-texts").open = true;
    }
    box.append(el("p", { class: "error" }, "受け付けられません / Not accepted"), list);
  }

  function showWarnings(box, warnings) {
    box.replaceChildren(...(warnings || []).map((w) => el("p", { class: "warning" }, w.message)));
  }

  function renderPreview(result) {
    const box = $("preview");
    box.replaceChildren();
    showWarnings($("preview-warnings"), result.warnings);
    for (const [name, channel] of Object.entries(result.channels)) {
      const card = el("article", { class: "preview-card", "data-channel": name });
      const status = channel.ok ? "" : " — 上限超過 / over the limit";
      const note = channel.mode === "demo" ? " (デモ / demo)" : channel.configured ? "" : " (未設定 / not configured)";
      card.append(el("h3", {}, `${channel.label}${note}${status}`));
      Object.entries(channel.languages).forEach(([lang, messages], part) => {
        // a thread: the Japanese post, then each language as a reply to the post before it
        const role = channel.layout === "thread" ? (part ? ` — 返信 ${part} / reply ${part}` : " — 投稿 / post") : "";
        if (Object.keys(channel.languages).length > 1) card.append(el("h4", {}, `${LANGUAGE_NAMES[lang] || lang}${role}`));
        messages.forEach((m, i) => {
          const count = `${m.count.toLocaleString()} / ${channel.limit.toLocaleString()} ${channel.unit}`;
          const label = messages.length > 1 ? `${i + 1}: ${count}` : count;
          card.append(
            el("pre", { class: "message", lang }, m.text),
            el("p", { class: m.ok ? "count" : "count error" }, label)
          );
        });
      });
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

  // How many residents a LINE push to the chosen topic reaches: 0 is warned about at once.
  async function checkAudience() {
    const topic = $("topic").value;
    const box = $("audience");
    box.className = "audience";
    if (!topic) {
      box.textContent = "";
      return;
    }
    const result = await api("GET", `/api/v1/posts/audience?${new URLSearchParams({ topic })}`);
    if (!result.ok || $("topic").value !== topic) return;
    const n = result.data.subscribers;
    if (n === 0) {
      box.className = "audience warning";
      box.textContent =
        "このトピックの購読者は 0 人です。LINE では 0 人の市民に届きます / 0 residents will receive this on LINE: nobody subscribes to this topic";
    } else {
      box.textContent = `LINE では購読者 ${n.toLocaleString()} 人に届きます / ${n.toLocaleString()} residents will receive this on LINE`;
    }
  }

  function describe(saved, action) {
    const when = saved.scheduled_at ? shown(saved.scheduled_at) : null;
    if (action === "draft") {
      return when
        ? `No. ${saved.id} を下書き保存しました(${when} 予定)/ Saved post ${saved.id} as a draft for ${when}`
        : `No. ${saved.id} を下書き保存しました(日時なし: 予約したときに配信)/ Saved post ${saved.id} as a draft without a time (sent when scheduled)`;
    }
    if (saved.state === "awaiting_approval") {
      return `No. ${saved.id} は承認待ちです。別の承認者が承認すると配信されます / Post ${saved.id} waits for approval: it goes out once another approver approves it`;
    }
    if (saved.approval && saved.approval.state === "emergency") {
      return `No. ${saved.id} を緊急投稿として今すぐ配信します(事後確認が必要です)/ Post ${saved.id} goes out now as an emergency (to be reviewed afterwards)`;
    }
    if (action === "saved") return `No. ${saved.id} の変更を保存しました / Saved the changes to post ${saved.id}`;
    return `No. ${saved.id} を ${when} に予約しました / Post ${saved.id} scheduled for ${when}`;
  }

  async function withButtons(work) {
    const buttons = document.querySelectorAll("#compose button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      return await work();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  function finished(saved, action) {
    showProblems(null);
    $("compose-result").textContent = describe(saved, action);
    showWarnings($("preview-warnings"), []);
    const warnings = (saved.warnings || []).map((w) => w.message).join(" ");
    if (warnings) $("compose-result").textContent += ` — ${warnings}`;
    stopEditing();
    return loadPosts();
  }

  // New post: save as a draft or schedule. Editing: save (draft or scheduled post), or schedule a draft.
  async function submitPost(action) {
    $("compose-result").textContent = "";
    const { post, problems } = collect();
    if (problems.length) return showProblems(problems);
    await withButtons(async () => {
      if (!editing) {
        const result = await api("POST", "/api/v1/posts", { ...post, draft: action === "draft" });
        if (!result.ok) return showProblems(result.detail);
        return finished(result.data, action === "draft" ? "draft" : "scheduled");
      }
      const id = editing.id;
      const put = await api("PUT", `/api/v1/posts/${id}`, post);
      if (!put.ok) return showProblems(put.detail);
      if (action !== "schedule" || editing.state !== "draft") return finished(put.data, editing.state === "draft" ? "draft" : "saved");
      const body = { scheduled_at: post.scheduled_at };
      const scheduled = await api("POST", `/api/v1/posts/${id}/schedule`, body);
      if (!scheduled.ok) return showProblems(scheduled.detail);
      return finished(scheduled.data, "scheduled");
    });
  }

  function fill(post) {
    const form = $("compose");
    form.reset();
    form.elements.title.value = post.title;
    form.elements.body.value = post.body;
    form.elements.link.value = post.link || "";
    form.elements.topic.value = post.topic || "";
    form.querySelector(`input[name=urgency][value=${post.urgency}]`).checked = true;
    for (const box of form.querySelectorAll("input[name=channels]")) {
      box.checked = post.channels.includes(box.value) && !box.disabled;
    }
    const at = post.scheduled_at ? post.scheduled_at.slice(0, 16) : "";
    form.elements.scheduled_at.value = at;
    form.querySelector(`input[name=when][value=${at ? "at" : "now"}]`).checked = true;
    const en = post.variants.en;
    form.elements.title_en.value = en ? en.title : "";
    form.elements.body_en.value = en ? en.body : "";
    $("variant-en").open = Boolean(en);
    const texts = post.channel_texts || {};
    for (const box of form.querySelectorAll("#channel-texts textarea")) box.value = texts[box.dataset.channel] || "";
    $("channel-texts").open = Object.keys(texts).length > 0;
  }

  function startEditing(post) {
    editing = { id: post.id, state: post.state };
    fill(post);
    const draft = post.state === "draft";
    $("editing").hidden = false;
    $("editing").textContent = draft
      ? `下書き No. ${post.id} を編集中 / Editing draft ${post.id}`
      : `予約済み No. ${post.id} を編集中(配信が始まるまで変更できます)/ Editing scheduled post ${post.id} (until a delivery starts)`;
    $("draft-button").hidden = !draft;
    $("schedule-button").hidden = !draft;
    $("save-button").hidden = draft;
    $("stop-edit-button").hidden = false;
    $("compose-result").textContent = "";
    showProblems(null);
    $("preview-section").hidden = true;
    checkAudience();
    $("compose-h").focus();
  }

  function stopEditing() {
    editing = null;
    $("compose").reset();
    $("editing").hidden = true;
    $("draft-button").hidden = false;
    $("schedule-button").hidden = false;
    $("save-button").hidden = true;
    $("stop-edit-button").hidden = true;
    $("preview-section").hidden = true;
    $("audience").textContent = "";
  }

  // ---- list ------------------------------------------------------------------------------------

  let oldestId = null;
  let paged = false; // more pages loaded: the automatic refresh would drop them

  function deliveryItem(d) {
    let text = `${LABELS[d.channel] || d.channel}: ${DELIVERY_STATES[d.state] || d.state}`;
    if (d.recipients !== null && d.recipients !== undefined) {
      text += ` — ${d.recipients.toLocaleString()} 人 / ${d.recipients.toLocaleString()} residents`;
    }
    const cls = d.recipients === 0 ? " no-recipients" : "";
    const item = el("li", { class: `delivery state-${d.state}${cls}`, "data-channel": d.channel }, text);
    if (d.recipients === 0) item.append(" ", el("strong", { class: "warning" }, "届いた市民はいません / reached nobody"));
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

  function button(label, onclick, cls = "") {
    return el("button", { type: "button", class: cls, onclick }, label);
  }

  function postRow(post) {
    const title = el("td", {}, post.title);
    if (post.urgency === "emergency") title.prepend(el("strong", { class: "error" }, "緊急 / Emergency"), " ");
    if (post.topic) title.append(el("br"), el("small", {}, `トピック / topic: ${TOPICS[post.topic] || post.topic}`));
    const own = Object.keys(post.channel_texts || {});
    if (own.length) {
      const names = own.map((c) => LABELS[c] || c).join(", ");
      title.append(el("br"), el("small", {}, `チャネル別の本文 / own text: ${names}`));
    }
    const deliveries = el("ul", { class: "deliveries" });
    if (post.deliveries.length === 0) {
      deliveries.append(el("li", {}, post.channels.map((c) => LABELS[c] || c).join(", ")));
    }
    for (const d of post.deliveries) deliveries.append(deliveryItem(d));
    const actions = el("td", { class: "actions" });
    const started = post.deliveries.some((d) => d.state !== "pending");
    const open = ["draft", "awaiting_approval", "scheduled"].includes(post.state) && !started;
    if (data.canEdit && post.state === "draft") {
      const label = data.approvalRequired
        ? "承認を依頼 / Submit for approval"
        : post.scheduled_at
          ? "予約 / Schedule"
          : "今すぐ配信 / Send now";
      actions.append(button(label, () => schedule(post)), " ");
    }
    if (data.canEdit && open) actions.append(button("編集 / Edit", () => startEditing(post), "secondary"), " ");
    if (data.canEdit) actions.append(button("複製 / Duplicate", () => duplicate(post), "secondary"), " ");
    if (data.canEdit && open) actions.append(button("取消 / Cancel", () => cancel(post), "secondary"));
    approvalNotes(post, title);
    if (data.canApprove && post.state === "awaiting_approval" && !ownPost(post)) {
      actions.prepend(button("承認 / Approve", () => approve(post)), " ", button("差し戻し / Reject", () => reject(post), "secondary"), " ");
    }
    const when = post.scheduled_at ? shown(post.scheduled_at) : "未定(予約したとき)/ when scheduled";
    return el(
      "tr",
      { "data-post-id": String(post.id) },
      el("td", {}, String(post.id)),
      title,
      el("td", {}, when),
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
      const detail = Array.isArray(result.detail) ? result.detail.map((p) => p.message).join("; ") : result.detail;
      $("list-error").textContent = `操作できません / Not done: ${detail}`;
      return null;
    }
    $("list-error").textContent = "";
    await loadPosts();
    return result.data;
  }

  function schedule(post) {
    return act("POST", `/api/v1/posts/${post.id}/schedule`);
  }

  async function duplicate(post) {
    const copy = await act("POST", `/api/v1/posts/${post.id}/duplicate`);
    if (copy && data.canEdit) startEditing(copy);
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

  // ---- approval (APPROVAL_REQUIRED; the API refuses what a role may not do) ----------------------

  const APPROVAL_WORDS = {
    not_submitted: "未依頼 / not submitted",
    awaiting_approval: "承認待ち / awaiting approval",
    approved: "承認済み / approved",
    rejected: "差し戻し / rejected",
    emergency: "緊急公開 / emergency",
  };

  function ownPost(post) {
    return [post.author, post.approval.submitted_by].includes(data.me);
  }

  function approvalNotes(post, cell) {
    const a = post.approval;
    if (!a || a.state === "not_required") return;
    let line = APPROVAL_WORDS[a.state] || a.state;
    if (a.state === "approved" || a.state === "emergency") line += `: ${a.approved_by}(${shown(a.approved_at)})`;
    if (a.state === "awaiting_approval") {
      line += ` — ${a.submitted_by} 以外の承認者を待っています / waits for an approver other than ${a.submitted_by}`;
    }
    cell.append(el("br"), el("small", { class: `approval approval-${a.state}` }, line));
    if (a.state === "rejected" && a.reason) {
      cell.append(el("br"), el("small", { class: "error" }, `差し戻しの理由 / Why rejected (${a.rejected_by}): ${a.reason}`));
    }
    if (a.state === "emergency" && a.reason) cell.append(el("br"), el("small", {}, `緊急の理由 / Why: ${a.reason}`));
  }

  async function approve(post) {
    const done = await act("POST", `/api/v1/posts/${post.id}/approve`);
    if (done) await loadApprovals();
  }

  async function reject(post) {
    const reason = window.prompt("差し戻しの理由(作成者に表示されます)/ Why (shown to the author)", "");
    if (!reason || !reason.trim()) return;
    const done = await act("POST", `/api/v1/posts/${post.id}/reject`, { reason: reason.trim() });
    if (done) await loadApprovals();
  }

  async function reviewed(post) {
    const done = await act("POST", `/api/v1/posts/${post.id}/reviewed`);
    if (done) await loadApprovals();
  }

  async function showPreviewOf(post) {
    const result = await api("GET", `/api/v1/posts/${post.id}/preview`);
    if (result.ok && $("preview")) renderPreview(result.data);
  }

  function queueItem(post, kind) {
    const a = post.approval;
    const since = kind === "waiting" ? a.submitted_at : a.approved_at;
    const who = kind === "waiting" ? a.submitted_by : a.approved_by;
    const item = el(
      "li",
      { "data-post-id": String(post.id), class: post.waited_too_long ? "late" : "" },
      `No. ${post.id}「${post.title}」 — ${who}、${shown(since)}`,
      " "
    );
    if (post.waited_too_long) item.append(el("strong", { class: "error" }, "長く待っています / waiting long"), " ");
    if (kind === "to_review" && a.reason) item.append(el("small", {}, `(${a.reason})`), " ");
    item.append(button("プレビュー / Preview", () => showPreviewOf(post), "secondary"), " ");
    if (post.can_act && kind === "waiting") {
      item.append(button("承認 / Approve", () => approve(post)), " ", button("差し戻し / Reject", () => reject(post), "secondary"));
    } else if (post.can_act) {
      item.append(button("確認済みにする / Mark reviewed", () => reviewed(post)));
    } else {
      item.append(el("small", { class: "muted" }, kind === "waiting" ? "別の承認者を待っています / waits for another approver" : "別の人の確認を待っています / waits for someone else"));
    }
    return item;
  }

  async function loadApprovals() {
    if (!$("approvals")) return;
    const result = await api("GET", "/api/v1/posts/approvals");
    if (!result.ok) return;
    const q = result.data;
    $("waiting-list").replaceChildren(...q.waiting.map((p) => queueItem(p, "waiting")));
    $("review-list").replaceChildren(...q.to_review.map((p) => queueItem(p, "to_review")));
    $("waiting-empty").hidden = q.waiting.length > 0;
    $("review-empty").hidden = q.to_review.length > 0;
    const late = q.waiting.filter((p) => p.waited_too_long).length;
    $("approval-late").hidden = late === 0;
    $("approval-late").textContent = late
      ? `${late} 件が ${q.warning_minutes} 分以上承認を待っています / ${late} post(s) have waited more than ${q.warning_minutes} min for approval`
      : "";
  }

  async function publishEmergency() {
    const { post, problems } = collect();
    if (problems.length) return showProblems(problems);
    if (post.urgency !== "emergency") {
      return showProblems("緊急(emergency)を選んでください / choose the emergency urgency first");
    }
    const reason = window.prompt("承認を待たずに公開する理由(記録され、事後に別の人が確認します)/ Why publish without a second person (recorded; someone else reviews it afterwards)", "");
    if (!reason || !reason.trim()) return;
    await withButtons(async () => {
      const result = await api("POST", "/api/v1/posts", { ...post, emergency_reason: reason.trim() });
      if (!result.ok) return showProblems(result.detail);
      await finished(result.data, "scheduled");
      return loadApprovals();
    });
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
    $("draft-button").addEventListener("click", () => submitPost("draft"));
    $("save-button").addEventListener("click", () => submitPost("save"));
    $("stop-edit-button").addEventListener("click", stopEditing);
    $("compose").addEventListener("submit", (event) => {
      event.preventDefault();
      submitPost("schedule");
    });
    $("scheduled_at").addEventListener("input", () => {
      document.querySelector("input[name=when][value=at]").checked = true;
    });
    $("topic").addEventListener("change", checkAudience);
    if ($("emergency-button")) $("emergency-button").addEventListener("click", publishEmergency);
  }
  $("state-filter").addEventListener("change", () => loadPosts());
  $("refresh-button").addEventListener("click", () => Promise.all([loadPosts(), loadStatus()]));
  $("more-button").addEventListener("click", () => loadPosts(true));

  const refresh = () => {
    if (document.visibilityState === "visible" && !paged) loadPosts();
    loadStatus();
    loadApprovals();
  };
  loadPosts();
  loadStatus();
  loadApprovals();
  window.setInterval(refresh, REFRESH_MS);
})();
