// /demo: what the demo channels' fake platforms received, drawn as residents would see each post.
"use strict";

(() => {
  const data = JSON.parse(document.getElementById("demo-data").textContent);
  const $ = (id) => document.getElementById(id);
  const { el, api } = window.Console;
  const REFRESH_MS = 5000;
  // How each platform shows the city's account above a post
  const ACCOUNTS = {
    line: "吹田市 (LINE 公式アカウント / LINE Official Account)",
    x: "吹田市 @suita_city",
    facebook: "吹田市 (Facebook ページ / Page)",
    mastodon: "吹田市 @suita",
    bluesky: "吹田市 @suita-city.bsky.social",
  };

  // "2026-12-01T09:00:05+09:00" -> "2026-12-01 09:00:05 JST"
  const when = (iso) => `${iso.slice(0, 19).replace("T", " ")} JST`;

  function card(item) {
    const label = data.labels[item.channel] || item.channel;
    const time = el("time", { datetime: item.received_at }, when(item.received_at));
    if (item.channel === "line") {
      return el(
        "li",
        { class: "demo-item demo-line" },
        el("p", { class: "demo-head" }, `${label} · `, time),
        el("div", { class: "line-chat" }, el("p", { class: "line-bubble" }, item.text))
      );
    }
    return el(
      "li",
      { class: `demo-item demo-sns demo-${item.channel}` },
      el("p", { class: "demo-head" }, el("strong", {}, label), ` · ${ACCOUNTS[item.channel] || ""} · `, time),
      el("p", { class: "demo-text" }, item.text)
    );
  }

  async function load() {
    const result = await api("GET", "/api/v1/demo/deliveries");
    if (!result.ok) {
      $("demo-status").textContent = `読み込めません / Cannot load: ${result.detail}`;
      return;
    }
    $("demo-status").textContent = "";
    const feed = $("demo-feed");
    feed.replaceChildren(...result.data.map(card));
    $("demo-empty").hidden = result.data.length > 0;
  }

  $("demo-refresh").addEventListener("click", load);
  load();
  window.setInterval(() => {
    if (document.visibilityState === "visible") load();
  }, REFRESH_MS);
})();
