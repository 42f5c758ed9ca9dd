// npm run build:server: the server compiled once to plain JavaScript (dist/server/index.js and
// its chunks/), so that `npm start` runs no TypeScript loader. One bundle of our own code
// (shared/ included, path aliases resolved); packages stay in node_modules as they are.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry hashes: start clean, so no stale chunk lingers.
rmSync('dist/server', { recursive: true, force: true });

await build({
  entryPoints: ['server/src/index.ts'],
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
