// The build goes into the Python package, with file names that depend only on the sources
// (no content hashes), so a rebuild of unchanged sources leaves the committed bundle unchanged
// byte for byte. The server revalidates these files (ETag) instead of caching them forever.
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const outDir = fileURLToPath(new URL("../src/wakelog/server/static", import.meta.url));

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        entryFileNames: "assets/app.js",
        chunkFileNames: "assets/[name].js",
        assetFileNames: "assets/[name][extname]",
        manualChunks(id: string) {
          if (id.includes("node_modules/echarts") || id.includes("node_modules/zrender")) return "echarts";
          if (id.includes("node_modules/uplot")) return "uplot";
          // Media viewers' libraries: each in its own chunk, loaded with the first viewer that needs it.
          if (id.includes("node_modules/three")) return "three";
          if (id.includes("node_modules/3dmol")) return "3dmol";
          if (id.includes("node_modules/plotly.js-dist-min")) return "plotly";
          if (id.includes("node_modules/react") || id.includes("node_modules/scheduler")) return "react";
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:8399", changeOrigin: false } },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
