// The portal's small behaviours, in one static file: the Content-Security-Policy allows
// no inline script (aid_portal/settings.py), so pages mark elements with data-
// attributes and this file gives them their behaviour.
(function () {
  "use strict";

  // A drop-down of the top bar closes when one clicks elsewhere or presses Escape.
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.navgroup[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
    if (event.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      document.querySelectorAll("details.navgroup[open]").forEach((m) => m.removeAttribute("open"));
    }
  });

  // A select marked data-autosubmit sends its form when it changes (language, year).
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-autosubmit]");
    if (select) select.form.submit();
  });

  // Success and information banners can be dismissed and fade after a few seconds;
  // warnings and errors stay until the page changes.
  function banners(root) {
    root.querySelectorAll(".message[data-fades]:not([data-ready])").forEach((banner) => {
      banner.dataset.ready = "1";
      const remove = () => {
        banner.classList.add("fading");
        setTimeout(() => banner.remove(), 400);
      };
      banner.querySelector("button.dismiss").addEventListener("click", remove);
      // Not while someone is reading it with the pointer or the keyboard.
      const fade = () => (banner.matches(":hover, :focus-within") ? setTimeout(fade, 2000) : remove());
      setTimeout(fade, 8000);
    });
  }

  // The last day of a public notice, shown as its first day is chosen: the <output>
  // inside an element marked data-notice-days="7", in the form of the notice step
  // (cases/casework/_action.html).
  function noticeEnds(root) {
    root.querySelectorAll("[data-notice-days] output").forEach((out) => {
      const days = out.closest("[data-notice-days]").dataset.noticeDays;
      const start = out.closest("form").querySelector("input[name=starts_on]");
      if (!start) return;
      const d = new Date(start.value + "T00:00:00Z");
      if (isNaN(d)) {
        out.textContent = "—";
        return;
      }
      d.setUTCDate(d.getUTCDate() + Number(days) - 1);
      out.textContent = d.toISOString().slice(0, 10);
    });
  }
  document.addEventListener("input", (event) => {
    if (event.target.matches("input[name=starts_on]")) noticeEnds(event.target.form);
  });

  function ready(root) {
    banners(root);
    noticeEnds(root);
  }
  document.addEventListener("DOMContentLoaded", () => ready(document));
  // Sections htmx swaps in get the same behaviours.
  document.addEventListener("htmx:afterSettle", (event) => ready(event.target));
})();
