// `npm run check:size`: builds the client into a scratch directory and fails when the
// JavaScript a first visit loads before the app can start (index.html's module scripts and
// modulepreloads, and everything they import statically) is over the budget, gzip -9.
// Lazy chunks (dynamic import()) are not counted: they load after the app has started.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

/** 87 KB (1 KB = 1000 bytes, as Vite reports them) of gzip. */
const BUDGET_BYTES = 87_000;

const root = path.resolve(fileURLToPath(import.meta.url), '../..');
const outDir = mkdtempSync(path.join(tmpdir(), 'mj-size-'));
try {
  await build({
    configFile: path.join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  const files = initialScripts(outDir);
  const sizes = files.map((file) => ({
    file,
    gzip: gzipSync(readFileSync(path.join(outDir, file)), { level: 9 }).length,
  }));
  const total = sizes.reduce((sum, { gzip }) => sum + gzip, 0);
  for (const { file, gzip } of sizes) console.log(`  ${kb(gzip).padStart(9)}  ${file}`);
  console.log(`Initial JavaScript: ${kb(total)} gzip (${total} bytes), budget ${kb(BUDGET_BYTES)}`);
  if (total > BUDGET_BYTES) {
    console.error(`Over budget by ${total - BUDGET_BYTES} bytes: load the newcomer lazily, or make it smaller.`);
    process.exitCode = 1;
  }
} finally {
  rmSync(outDir, { recursive: true, force: true });
}

/** index.html's module scripts and modulepreloads, then their static imports, transitively. */
function initialScripts(dir) {
  const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
  const tags = html.match(/<(?:script|link)\b[^>]*>/g) ?? [];
  const entries = tags
    .filter((tag) => /type="module"/.test(tag) || /rel="modulepreload"/.test(tag))
    .map((tag) => /(?:src|href)="([^"]+)"/.exec(tag)?.[1])
    .filter((url) => url?.endsWith('.js'));
  const seen = new Set();
  const queue = entries.map((url) => url.replace(/^\//, ''));
  while (queue.length > 0) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(path.join(dir, file), 'utf8');
    // Static `import … from "./x.js"`, `import "./x.js"`, `export … from`; a dynamic import("./x.js") has a parenthesis.
    for (const [, specifier] of code.matchAll(
      /\b(?:import|export)\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"']+\.js)["']/g,
    )) {
      queue.push(path.posix.join(path.posix.dirname(file), specifier));
    }
  }
  return [...seen];
}

function kb(bytes) {
  return `${(bytes / 1000).toFixed(1)} KB`;
}
