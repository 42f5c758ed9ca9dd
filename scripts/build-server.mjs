// npm run build:server: the server compiled once to plain JavaScript (dist/server/index.js, the
// simulator's render worker dist/server/render-worker.js, and their chunks/), so that `npm start`
// runs no TypeScript loader. One bundle of our own code (shared/ included, path aliases
// resolved); packages stay in node_modules as they are.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry hashes: start clean, so no stale chunk lingers.
rmSync('dist/server', { recursive: true, force: true });

await build({
  // The simulator's render worker (server/src/simulator/render-pool.ts) starts from a file of its
  // own, next to index.js; what it shares with the server goes in shared chunks.
  entryPoints: { index: 'server/src/index.ts', 'render-worker': 'server/src/simulator/render-worker.ts' },
  outdir: 'dist/server',
  // What is loaded only on demand (the built-in simulator) goes in chunks of its own.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  tsconfig: 'tsconfig.json',
  // For stack traces on the server (node --enable-source-maps); never served to anyone.
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
