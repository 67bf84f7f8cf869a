// The review page's keyboard: one key per track, Enter saves and moves on, U undoes,
// N writes a note, / finds a subcode, D shows the definitions, Esc leaves a field.
// Everything also works with the mouse, and without this script (plain forms).
"use strict";
(function () {
  const form = document.getElementById("decide") || document.getElementById("settle");
  const picker = document.getElementById("picker");
  const definitions = document.getElementById("definitions");
  const toggle = document.getElementById("defs-toggle");

  function boxes() { return form ? Array.from(form.querySelectorAll("input[name=codes]")) : []; }

  // A subcode given means its track is given; a track taken away takes its subcodes with it.
  function tie(box) {
    if (box.dataset.track && box.checked) {
      const track = boxes().find((b) => b.value === box.dataset.track);
      if (track) track.checked = true;
    }
    if (box.dataset.key && !box.checked) {
      boxes().filter((b) => b.dataset.track === box.value).forEach((b) => { b.checked = false; });
    }
  }
  boxes().forEach((box) => box.addEventListener("change", () => tie(box)));

  function showDefinitions() {
    if (!definitions) return;
    definitions.hidden = !definitions.hidden;
    if (toggle) toggle.setAttribute("aria-expanded", String(!definitions.hidden));
    if (!definitions.hidden) definitions.scrollIntoView({ block: "nearest" });
  }
  if (toggle) toggle.addEventListener("click", showDefinitions);

  function filterSubcodes() {
    const wanted = picker.value.trim().toLowerCase();
    form.querySelectorAll("label.sub").forEach((label) => {
      label.parentElement.classList.toggle("hidden", wanted !== "" && !label.dataset.search.includes(wanted));
    });
  }
  function pickFirst() {
    const first = Array.from(form.querySelectorAll("label.sub"))
      .find((label) => !label.parentElement.classList.contains("hidden"));
    if (first && picker.value.trim() !== "") {
      const box = first.querySelector("input");
      box.checked = !box.checked;
      tie(box);
    }
    picker.value = "";
    filterSubcodes();
    picker.blur();
  }
  if (picker) picker.addEventListener("input", filterSubcodes);

  // Adjudication: take one side's codes in one click.
  document.querySelectorAll("button.take").forEach((button) => {
    button.addEventListener("click", () => {
      const codes = new Set(button.dataset.codes.split(" ").filter(Boolean));
      boxes().forEach((box) => { box.checked = codes.has(box.value); });
    });
  });

  function submit(target) { if (target) target.requestSubmit ? target.requestSubmit() : target.submit(); }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target.matches && target.matches("input[type=text], input[type=search], input[type=password], textarea");
    if (event.key === "Escape") { if (target.blur) target.blur(); return; }
    if (typing) {
      if (target === picker && event.key === "Enter") { event.preventDefault(); pickFirst(); }
      else if (target.id === "note" && event.key === "Enter" && !event.shiftKey) { event.preventDefault(); submit(form); }
      return;
    }
    if (!form) return;
    const key = event.key;
    if (/^[1-9]$/.test(key)) {
      const box = boxes().find((b) => b.dataset.key === key);
      if (box) { event.preventDefault(); box.checked = !box.checked; tie(box); }
    } else if (key === "Enter" && form.id === "decide") {
      if (target.tagName === "BUTTON" || target.tagName === "A") return;
      event.preventDefault(); submit(form);
    } else if (key === "u" || key === "U") {
      event.preventDefault(); submit(document.getElementById("undo"));
    } else if (key === "n" || key === "N") {
      const note = document.getElementById("note");
      if (note) { event.preventDefault(); note.focus(); }
    } else if (key === "/") {
      if (picker) { event.preventDefault(); picker.focus(); }
    } else if (key === "d" || key === "D" || key === "?") {
      event.preventDefault(); showDefinitions();
    }
  });
})();
