import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { App } from "./App";
import { initI18n } from "./i18n";
import { initTheme } from "./lib/theme";

initI18n();
initTheme();
const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </StrictMode>,
  );
}
