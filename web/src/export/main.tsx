/**
 * The offline report: one HTML file, every script and style inlined, its data (a report Bundle)
 * embedded by the server in `<script id="wakelog-bundle">`. It draws with the in-app viewer's
 * components and adds each run's config, environment and summary: the archive an auditor keeps.
 * It makes no request (the file's CSP forbids any).
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "uplot/dist/uPlot.min.css";
import "../styles.css";
import { initI18n } from "../i18n";
import { ExportView } from "./ExportView";
import { readBundle } from "./readBundle";

initI18n();
const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <ExportView bundle={readBundle(document.getElementById("wakelog-bundle")?.textContent ?? "")} />
    </StrictMode>,
  );
}
