// Firmscout web app: live task pages and the criteria editor. Every page works without this file; it only
// saves reloads. No dependencies: the page's Content-Security-Policy allows scripts from this server alone.
"use strict";

// A running task's page: each server event (status, progress, result) re-renders its progress and results.
function followTask(live) {
  const source = new EventSource(live.dataset.eventsUrl);
  let timer = null;
  let busy = false;
  const refresh = async () => {
    timer = null;
    if (busy) { schedule(); return; }
    busy = true;
    try {
      const response = await fetch(live.dataset.liveUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["progress", "results"]) {
        const old = document.getElementById(id);
        const now = fresh.getElementById(id);
        if (!old || !now) continue;
        // Rows the reader opened stay open; focus stays where it was when its element still exists.
        for (const open of old.querySelectorAll("details[open][data-result]")) {
          const same = now.querySelector(`details[data-result="${open.dataset.result}"]`);
          if (same) same.open = true;
        }
        old.replaceWith(document.adoptNode(now));
      }
    } finally {
      busy = false;
    }
  };
  const schedule = () => { if (timer === null) timer = setTimeout(refresh, 250); };
  for (const type of ["status", "progress", "result"]) source.addEventListener(type, schedule);
  source.addEventListener("end", () => {
    source.close();
    delete live.dataset.running;
    clearTimeout(timer);
    timer = null;
    refresh();
  });
}

// The criteria editor's Add and Remove buttons, in place (without scripts they post the form and come back).
function editCriteria(form) {
  const list = form.querySelector("#criteria");
  const template = form.querySelector("#criterion-template");
  if (!list || !template) return;
  let next = list.children.length;
  form.addEventListener("click", (event) => {
    const add = event.target.closest("[data-add-criterion]");
    const remove = event.target.closest("[data-remove-criterion]");
    if (add) {
      event.preventDefault();
      const html = template.innerHTML.replaceAll("__i__", String(next++));
      list.insertAdjacentHTML("beforeend", html);
      list.lastElementChild.querySelector("input").focus();
    } else if (remove) {
      event.preventDefault();
      const row = remove.closest("[data-criterion]");
      const after = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      (after ? after.querySelector("input") : form.querySelector("[data-add-criterion]")).focus();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live && live.dataset.running !== undefined) followTask(live);
  const search = document.querySelector("form.search-form");
  if (search) editCriteria(search);
});
