import { readFile } from 'node:fs/promises'
import type { Logger } from '@conduit/core'
import type { Hono } from 'hono'

// Swagger UI's files come from the swagger-ui-dist npm package and are served by the gateway
// itself, so the page works offline and behind a strict Content-Security-Policy. They are
// looked up and read on the first request for the page, never when the gateway is built: a
// process or Lambda function that never serves /docs never touches them.
const ASSET_PACKAGE = 'swagger-ui-dist'
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Swagger UI (React) sets style attributes on elements.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

// Runs in the browser: relative URLs keep the page working wherever the gateway is mounted.
const INITIALIZER = `window.addEventListener('load', function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: new URL(root.getAttribute('data-spec-url'), window.location.href).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    displayOperationId: true,
  });
});
`

function pageHtml(title: string, docsPath: string, specPath: string): string {
  const base = `.${docsPath.slice(docsPath.lastIndexOf('/'))}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" type="image/png" href="${base}/favicon-32x32.png">
<link rel="stylesheet" href="${base}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url=".${escapeHtml(specPath.slice(specPath.lastIndexOf('/')))}"></div>
<script src="${base}/swagger-ui-bundle.js"></script>
<script src="${base}/init.js"></script>
</body>
</html>
`
}

/**
 * Where swagger-ui-dist is installed, resolved from this module like an import would be. A
 * bundle deployed without node_modules (a Lambda function built with esbuild) has none: the
 * page then answers 404 and says why in the log, once.
 */
function locateAssets(logger: Logger): URL | undefined {
  try {
    return new URL('./', import.meta.resolve(`${ASSET_PACKAGE}/package.json`))
  } catch (error) {
    logger.warn(
      { reason: (error as Error).message },
      `no docs page: ${ASSET_PACKAGE} cannot be found next to @conduit/http (deploy it with the code, or set docs: false); /openapi.json is served`,
    )
    return undefined
  }
}

/**
 * Serves the docs page at `docsPath` (e.g. `/docs`) and its assets below it. The page and the
 * OpenAPI document must share a parent path, which is how the gateway mounts them.
 */
export function mountDocsPage(
  app: Hono<any>,
  options: { docsPath: string; specPath: string; title: string; logger: Logger },
): void {
  const html = pageHtml(options.title, options.docsPath, options.specPath)
  let assetDirectory: { url: URL | undefined } | undefined
  const assets = () => {
    assetDirectory ??= { url: locateAssets(options.logger) }
    return assetDirectory.url
  }
  const cache = new Map<string, Promise<Buffer>>()

  app.get(options.docsPath, (c) => {
    if (!assets()) return c.notFound()
    c.header('content-security-policy', CONTENT_SECURITY_POLICY)
    return c.html(html)
  })
  // One parameterised route for every asset: a static sibling (`/docs/init.js`) would push Hono
  // from its RegExpRouter to the slower TrieRouter for every route of the gateway.
  app.get(`${options.docsPath}/:asset`, async (c) => {
    const name = c.req.param('asset')
    if (name === 'init.js') {
      c.header('content-type', 'text/javascript; charset=utf-8')
      return c.body(INITIALIZER)
    }
    const type = ASSETS[name]
    const directory = assets()
    // Only the listed files: the name never reaches the file system otherwise.
    if (type === undefined || !directory) return c.notFound()
    let file = cache.get(name)
    if (!file) {
      file = readFile(new URL(name, directory))
      // A failed read is answered as a 500 (and logged) now; the next request tries again.
      file.catch(() => cache.delete(name))
      cache.set(name, file)
    }
    c.header('content-type', type)
    c.header('cache-control', 'public, max-age=86400')
    return c.body(new Uint8Array(await file))
  })
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
