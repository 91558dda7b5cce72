// Review queue: keyboard decisions (j/k move, a approve, r reject, u undo, n next batch).
// Decisions go to POST /decisions with the session's CSRF token; they are sent one after the
// other (an undo must follow the decision it cancels), while the selection moves on at once.
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("status");
  const dialog = document.getElementById("reject-dialog");
  const cards = () => Array.from(document.querySelectorAll("#cards .card"));
  let current = 0;
  let pending = Promise.resolve();

  function say(text, bad) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("bad", Boolean(bad));
  }

  function select(i) {
    const list = cards();
    if (!list.length) return;
    current = Math.max(0, Math.min(i, list.length - 1));
    list.forEach((c, j) => c.classList.toggle("selected", j === current));
    list[current].focus({ preventScroll: true });
    list[current].scrollIntoView({ block: "nearest" });
  }

  async function send(card, decision, extra) {
    const body = new URLSearchParams({ creative_id: card.dataset.id, decision, ...extra });
    const resp = await fetch("/decisions", {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" },
    });
    const text = await resp.text();
    if (!resp.ok) {
      card.classList.add("failed");
      say(`${decision} ${card.dataset.id.slice(0, 8)}: ${text}`, true);
      return;
    }
    const data = JSON.parse(text);
    card.classList.remove("failed");
    card.className = card.className.replace(/\bstate-\S+/, `state-${data.state}`);
    card.querySelector(".badge").textContent = data.state;
    card.dataset.decided = decision === "undo" ? "" : decision;
    say(`${decision}: ${card.dataset.id.slice(0, 8)} is now ${data.state}` +
        (decision === "undo" ? "" : " (u to undo)"));
  }

  function decide(card, decision, extra = {}) {
    pending = pending.then(() => send(card, decision, extra)).catch((e) => say(String(e), true));
    return pending;
  }

  function openReject(card) {
    if (!dialog) return;
    const form = dialog.querySelector("form");
    form.elements.creative_id.value = card.dataset.id;
    form.reset();
    form.elements.creative_id.value = card.dataset.id;
    dialog.showModal();
    form.querySelector('input[name="reason_code"]').focus();
  }

  if (dialog) {
    const form = dialog.querySelector("form");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const card = cards().find((c) => c.dataset.id === form.elements.creative_id.value);
      const reason = form.querySelector('input[name="reason_code"]:checked');
      dialog.close();
      if (!card || !reason) return;
      decide(card, "reject", { reason_code: reason.value,
                                reason_text: form.elements.reason_text.value });
      select(current + 1);
    });
    dialog.querySelector(".cancel").addEventListener("click", () => dialog.close());
    dialog.addEventListener("keydown", (ev) => {
      if (ev.target.tagName === "TEXTAREA") return;
      const radios = dialog.querySelectorAll('input[name="reason_code"]');
      const n = Number(ev.key);
      if (n >= 1 && n <= radios.length) {
        radios[n - 1].checked = true;
        radios[n - 1].focus();
        ev.preventDefault();
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
  }

  document.querySelectorAll("form[data-decision]").forEach((form) => {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const card = form.closest(".card");
      decide(card, form.dataset.decision);
      select(cards().indexOf(card));
    });
  });
  document.querySelectorAll(".reject-open").forEach((btn) => {
    btn.addEventListener("click", () => {
      const card = btn.closest(".card");
      select(cards().indexOf(card));
      openReject(card);
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });
  cards().forEach((card, i) => card.addEventListener("click", () => select(i)));

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (dialog && dialog.open) return;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName)) return;
    const list = cards();
    const card = list[current];
    const canDecide = Boolean(dialog);
    switch (ev.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "a":
        if (!card || !canDecide) return;
        decide(card, "approve");
        select(current + 1);
        break;
      case "r":
        if (!card || !canDecide) return;
        openReject(card);
        break;
      case "u":
        if (!card || !canDecide) return;
        decide(card, "undo");
        break;
      case "n":
        // The next batch: wait for decisions in flight, then reload (decided ones drop out).
        pending.then(() => { window.location.reload(); });
        break;
      default: return;
    }
    ev.preventDefault();
  });

  select(0);
  document.body.dataset.ready = "1";
})();
