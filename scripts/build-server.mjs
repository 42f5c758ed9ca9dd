// npm run build:server: the server compiled once to plain JavaScript (dist/server/index.js), so
// that `npm start` runs no TypeScript loader. One bundle of our own code (shared/ included, path
// aliases resolved); packages stay in node_modules and are imported as they are.
import { build } from 'esbuild';

await build({
  entryPoints: ['server/src/index.ts'],
  outfile: 'dist/server/index.js',
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
