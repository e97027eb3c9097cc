/**
 * `GET /` on the local stack: what is here and where to look. Browsers get a small HTML page; other
 * clients the same links as JSON. Local only (the deployed API has no `/` route).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { escapeHtml } from '../lambdas/presentation/html';
import type { Mount } from './http-api';
import { OUTBOX_PATH } from './outbox';

export const DOCS_PATH = '/_local/docs';
const ROOT = resolve(__dirname, '..');

/** The checkout's documents: README.md and docs/*.md. */
function documents(): string[] {
  const docs = existsSync(join(ROOT, 'docs')) ? readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')) : [];
  return ['README.md', ...docs.sort().map((f) => `docs/${f}`)];
}

/** `GET /_local/docs/<README.md | docs/x.md>`: the checkout's documents as plain text. */
export function docsMount(): Mount {
  return {
    prefix: DOCS_PATH,
    handle: async (req: IncomingMessage, res: ServerResponse) => {
      await Promise.resolve();
      const name = decodeURIComponent((req.url ?? '').split('?')[0].slice(DOCS_PATH.length + 1));
      if (!documents().includes(name)) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error_code: 'PoolGate.0404',
            error_msg: `no document ${name}; known: ${documents().join(', ')}`,
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(readFileSync(join(ROOT, name), 'utf8'));
    },
  };
}

export interface IndexLinks {
  readonly api: string;
  readonly modelArts: string;
  readonly outboxDir: string;
}

export function indexLinks(links: IndexLinks): Array<{ rel: string; href: string; title: string }> {
  return [
    ...documents().map((name) => ({
      rel: name === 'README.md' ? 'docs' : `docs:${name.slice(5, -3)}`,
      href: `${links.api}${DOCS_PATH}/${name}`,
      title: name === 'README.md' ? 'The README: start here' : `${name} (checkout)`,
    })),
    { rel: 'openapi', href: `${links.api}/openapi.json`, title: 'The HTTP API (OpenAPI 3.1)' },
    { rel: 'health', href: `${links.api}/health`, title: 'Liveness' },
    {
      rel: 'outbox',
      href: `${links.api}${OUTBOX_PATH}`,
      title: `The e-mails poolgate sent, newest first, with decoded links (files in ${links.outboxDir}; or: npx poolgate outbox)`,
    },
    {
      rel: 'simulator',
      href: `${links.modelArts}/_sim/nodepools`,
      title: 'The node pools in the ModelArts simulator (no signature needed)',
    },
  ];
}

export function indexMount(links: () => IndexLinks): Mount {
  return {
    prefix: '/',
    exact: true,
    handle: async (req: IncomingMessage, res: ServerResponse) => {
      await Promise.resolve();
      const list = indexLinks(links());
      if (!String(req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ service: 'poolgate (local stack)', links: list }));
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      });
      res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>poolgate (local stack)</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;overflow-wrap:anywhere}</style>
</head><body><main>
<h1>poolgate (local stack)</h1>
<p>An approval gate in front of ModelArts node-pool creation. Submit with
<code>POST /v2/{project_id}/pools/{pool_name}/nodepools</code> or <code>npx poolgate submit</code>.</p>
<ul>
${list.map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.rel)}</a>: ${escapeHtml(l.title)}</li>`).join('\n')}
</ul>
</main></body></html>`);
    },
  };
}
