// paperlens: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // CSRF token on every htmx request (forms also carry it as a field).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // Render LaTeX in titles and abstracts with the vendored KaTeX.
  function renderMath(root) {
    if (!window.renderMathInElement) return;
    root.querySelectorAll(".math").forEach(function (el) {
      if (el.dataset.mathDone || !/[$\\]/.test(el.textContent)) return;
      el.dataset.mathDone = "1";
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "$", right: "$", display: false },
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true }
        ],
        throwOnError: false,
        strict: "ignore",
        trust: false
      });
    });
  }

  // Copy buttons: data-copy="#selector".
  function wireCopy(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (button.dataset.wired) return;
      button.dataset.wired = "1";
      button.addEventListener("click", function () {
        var source = document.querySelector(button.dataset.copy);
        if (!source) return;
        var text = source.value || source.textContent;
        var done = function () {
          var label = button.textContent;
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done);
        } else {
          source.select && source.select();
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  // Confirm destructive forms: data-confirm="question".
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  // The date picker jumps as soon as a date is chosen.
  function wireDateJump(root) {
    root.querySelectorAll("[data-date-jump] input").forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.value) window.location.href = "/papers/date/" + input.value;
      });
    });
  }

  // Keyboard: "/" focuses search; j/k move between papers; Enter opens (native link).
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "/") {
      var search = document.getElementById("q") || document.getElementById("site-q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key === "j" || event.key === "k") {
      var links = Array.prototype.slice.call(document.querySelectorAll("[data-card] .card-title a"));
      if (!links.length) return;
      var index = links.indexOf(document.activeElement);
      index = event.key === "j" ? Math.min(index + 1, links.length - 1) : Math.max(index - 1, 0);
      links[index].focus();
      links[index].closest("[data-card]").scrollIntoView({ block: "nearest" });
      event.preventDefault();
    }
  });

  function enhance(root) {
    renderMath(root);
    wireCopy(root);
    wireDateJump(root);
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });
})();
