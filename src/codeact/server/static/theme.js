// codeact chat: apply the saved theme before the page paints (no inline scripts: CSP).
// No saved choice: the page follows the system setting (prefers-color-scheme).
"use strict";
(function () {
  try {
    const saved = localStorage.getItem("codeact-theme");
    if (saved === "dark" || saved === "light") document.documentElement.dataset.theme = saved;
  } catch (e) { /* storage blocked: follow the system */ }
})();
