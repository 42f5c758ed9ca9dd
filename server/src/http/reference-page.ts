// The API reference page at /api/docs: Swagger UI (swagger-ui-dist, served as files from
// node_modules) started by a small script of our own, served as a file too, so the page holds
// nothing inline and lives with the app's page CSP (script-src 'self', style-src 'self').
import { createRequire } from 'node:module';
import path from 'node:path';

/** Where swagger-ui-dist is installed (its package.json, not its index, which loads the bundle). */
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export const DOCUMENT_PATH = '/api/openapi.json';

/** What the page loads, by the name it is served under (/api/docs/<name>): a file, or our own text. */
export const REFERENCE_FILES = {
  'swagger-ui-bundle.js': {
    type: 'text/javascript; charset=utf-8',
    file: path.join(SWAGGER_UI_DIR, 'swagger-ui-bundle.js'),
  },
  'swagger-ui.css': { type: 'text/css; charset=utf-8', file: path.join(SWAGGER_UI_DIR, 'swagger-ui.css') },
  'reference.js': { type: 'text/javascript; charset=utf-8', text: startScript() },
  'reference.css': { type: 'text/css; charset=utf-8', text: pageStyles() },
} as const satisfies Record<string, { type: string } & ({ file: string } | { text: string })>;
export type ReferenceFile = keyof typeof REFERENCE_FILES;
export const REFERENCE_FILE_NAMES = Object.keys(REFERENCE_FILES) as [ReferenceFile, ...ReferenceFile[]];

export const REFERENCE_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="description" content="The mj-studio HTTP API: every route, its parameters, bodies, answers and errors" />
    <link rel="icon" href="data:," />
    <title>mj-studio API reference</title>
    <link rel="stylesheet" href="/api/docs/swagger-ui.css" />
    <link rel="stylesheet" href="/api/docs/reference.css" />
  </head>
  <body>
    <header class="reference-top">
      <a href="/">mj-studio</a>
      <span>API reference</span>
      <a href="${DOCUMENT_PATH}">openapi.json</a>
    </header>
    <main id="reference"></main>
    <script src="/api/docs/swagger-ui-bundle.js"></script>
    <script src="/api/docs/reference.js"></script>
  </body>
</html>
`;

/**
 * Swagger UI on our document, in its plain layout (the standalone preset's top bar draws its
 * logo with an inline style element). No configuration from the page's URL (?url=, ?configUrl=),
 * no remote validator: the page shows our document and nothing else.
 */
function startScript(): string {
  return `// Starts Swagger UI on this server's OpenAPI document (see server/src/http/reference-page.ts).
'use strict';
window.ui = window.SwaggerUIBundle({
  url: ${JSON.stringify(DOCUMENT_PATH)},
  dom_id: '#reference',
  layout: 'BaseLayout',
  presets: [window.SwaggerUIBundle.presets.apis],
  deepLinking: true,
  queryConfigEnabled: false,
  validatorUrl: null,
  displayOperationId: true,
  defaultModelsExpandDepth: 0,
  docExpansion: 'list',
});
`;
}

function pageStyles(): string {
  return `.reference-top {
  display: flex;
  gap: 1rem;
  align-items: baseline;
  max-width: 1460px;
  margin: 0 auto;
  padding: 0.75rem 20px;
  font-family: system-ui, sans-serif;
  border-bottom: 1px solid #d8d8d8;
}
.reference-top a:first-child {
  font-weight: 700;
}
.reference-top span {
  flex: 1;
  color: #3b4151;
}
`;
}
