// /emergency: fill an emergency template's slots, preview every language on every channel, send.
"use strict";

(() => {
  const { el, api } = window.Console;
  const form = document.getElementById("emergency");
  const select = document.getElementById("template");
  const fields = document.getElementById("slot-fields");
  const review = document.getElementById("review");
  const preview = document.getElementById("preview");
  const problems = document.getElementById("problems");
  const result = document.getElementById("result");
  const names = JSON.parse(preview.dataset.names);
  const PLACES = new Set(["area", "shelters", "river", "place"]);

  function slotsOf() {
    const option = select.selectedOptions[0];
    return option.dataset.slots ? option.dataset.slots.split(",") : [];
  }

  function drawFields() {
    fields.replaceChildren();
    for (const slot of slotsOf()) {
      fields.append(el("label", { for: `slot-${slot}` }, slot), el("input", { id: `slot-${slot}`, name: slot }));
      if (PLACES.has(slot)) {
        const id = `kana-${slot}`;
        fields.append(el("label", { for: id }, `${slot}: よみ(ひらがな)/ reading (hiragana)`), el("input", { id, name: id }));
      }
    }
    const unreviewed = select.selectedOptions[0].dataset.unreviewed;
    review.textContent = unreviewed
      ? `未レビューの言語 / Not reviewed yet: ${unreviewed.split(",").map((l) => names[l] || l).join("、")}`
      : "";
  }

  // Place slots: several names separated by 、 or a comma, with readings in the same order.
  function slotValue(slot) {
    const value = document.getElementById(`slot-${slot}`).value.trim();
    if (!PLACES.has(slot)) return value;
    const kana = document.getElementById(`kana-${slot}`).value.trim();
    const split = (text) => text.split(/[、,]/).map((part) => part.trim()).filter(Boolean);
    const readings = split(kana);
    const places = split(value).map((name, i) => (readings[i] ? { name, kana: readings[i] } : name));
    return slot === "shelters" ? places : places[0] || "";
  }

  function post() {
    const slots = {};
    for (const slot of slotsOf()) slots[slot] = slotValue(slot);
    return {
      title: "",
      body: "",
      link: null,
      topic: document.getElementById("topic").value,
      urgency: "emergency",
      channels: ["line"],
      scheduled_at: null,
      template: { id: select.value, slots },
    };
  }

  function showProblems(detail) {
    problems.replaceChildren();
    const items = Array.isArray(detail) ? detail : [{ message: String(detail) }];
    if (items.length) problems.append(el("ul", {}, ...items.map((p) => el("li", {}, p.message))));
  }

  async function doPreview() {
    result.textContent = "";
    const answer = await api("POST", "/api/v1/posts/preview", post());
    preview.replaceChildren();
    if (!answer.ok) return showProblems(answer.detail);
    showProblems(answer.data.problems);
    for (const channel of Object.values(answer.data.channels)) {
      for (const [lang, messages] of Object.entries(channel.languages)) {
        for (const message of messages) {
          preview.append(
            el("article", { class: "preview-item", "data-lang": lang },
              el("h3", {}, `${channel.label} · ${names[lang] || lang} (${message.count} / ${channel.limit} ${channel.unit})`),
              el("pre", { lang }, message.text)),
          );
        }
      }
    }
    if (answer.data.subscribers !== null) {
      preview.prepend(el("p", {}, `LINE の購読者 / LINE subscribers: ${answer.data.subscribers}`));
    }
  }

  async function doSend() {
    const answer = await api("POST", "/api/v1/posts", post());
    if (!answer.ok) return showProblems(answer.detail);
    showProblems([]);
    result.textContent = `配信を登録しました / Scheduled: No. ${answer.data.id} (${Object.keys(answer.data.variants).length + 1} 言語 / languages)`;
  }

  select.addEventListener("change", drawFields);
  document.getElementById("preview-button").addEventListener("click", doPreview);
  const send = document.getElementById("send-button");
  if (send) send.addEventListener("click", doSend);
  form.addEventListener("submit", (event) => event.preventDefault());
  drawFields();
})();
