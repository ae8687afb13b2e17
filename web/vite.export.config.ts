// The offline report viewer (report-export.html): a second build, after the app's, into one file with
// every script, style and asset inlined, so the server can embed a report's data in it and hand it out
// as a single file that opens from disk with no network. `inlineIntoHtml` is the whole of the
// single-file step: Rollup writes one chunk (no dynamic imports) and one stylesheet, and the plugin
// moves them into the page before anything is written.
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const outDir = fileURLToPath(new URL("../src/wakelog/server/static", import.meta.url));

/** Script text that cannot end the inline `<script>` it is put in (`</script` and `<!--` escaped the
 * way a JavaScript string, template or regex reads them unchanged). */
export function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "\\x3C!--");
}

function inlineIntoHtml(): Plugin {
  return {
    name: "wakelog-inline-into-html",
    enforce: "post",
    generateBundle(_options, bundle) {
      const page = bundle["report-export.html"];
      if (!page || page.type !== "asset") throw new Error("report-export.html was not built");
      let html = String(page.source);
      for (const [name, item] of Object.entries(bundle)) {
        if (item.type === "chunk") {
          const tag = new RegExp(`<script type="module" crossorigin src="/${name.replace(/[.]/g, "\\.")}"></script>`);
          if (!tag.test(html)) throw new Error(`no script tag for ${name}`);
          // A function replacement: `$` in the code must not be read as a replacement pattern.
          html = html.replace(tag, () => `<script type="module">${scriptSafe(item.code)}</script>`);
          delete bundle[name];
        } else if (name.endsWith(".css")) {
          const tag = new RegExp(`<link rel="stylesheet" crossorigin href="/${name.replace(/[.]/g, "\\.")}">`);
          if (!tag.test(html)) throw new Error(`no stylesheet link for ${name}`);
          html = html.replace(tag, () => `<style>${String(item.source).replace(/<\/(style)/gi, "<\\/$1")}</style>`);
          delete bundle[name];
        }
      }
      page.source = html;
    },
  };
}

export default defineConfig({
  plugins: [react(), inlineIntoHtml()],
  base: "/",
  build: {
    outDir,
    // The app's build has just written this folder: add the one file, remove nothing.
    emptyOutDir: false,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4000,
    modulePreload: false,
    cssCodeSplit: false,
    // Everything the CSS refers to (none today) would become a data: URL.
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    rollupOptions: {
      input: fileURLToPath(new URL("./report-export.html", import.meta.url)),
      output: { inlineDynamicImports: true, entryFileNames: "export.js", assetFileNames: "[name][extname]" },
    },
  },
});
