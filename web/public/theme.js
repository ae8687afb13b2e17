// Runs before the first paint (a classic script in <head>; the CSP allows scripts from this origin
// only, so it cannot be inline): puts the chosen theme, or the system's, on <html data-theme>, so a
// dark page never flashes white. web/src/lib/theme.ts owns the choice after that (same key).
(function () {
  var choice = null;
  try {
    choice = localStorage.getItem("wakelog.theme");
  } catch {
    // storage blocked: follow the system
  }
  var dark = choice === "dark" || (choice !== "light" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
})();
