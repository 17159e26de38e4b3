// A tiny auto-escaping HTML template tag.
//
//   html`<p title="${title}">${message}</p>`
//
// Every interpolated value is escaped (text and attribute safe: & < > " ' are replaced) unless it
// is a SafeHtml produced by another html`` call. Arrays are rendered item by item; null,
// undefined and false render nothing, so `${cond && html`…`}` works.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function render(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (v === null || v === undefined || v === false || v === true) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Trusted markup, inserted as is. Never pass user data. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * A URL for an href: relative URLs and any scheme except script-capable ones (`javascript:`,
 * `vbscript:`, `data:`) pass; the others become `#`. Custom schemes (`cozydrive://…`) are allowed
 * because OAuth redirect URIs of mobile apps use them.
 */
export function safeHref(url: string | null | undefined): string {
  if (!url) return '#';
  // Browsers ignore ASCII control characters and whitespace inside a scheme.
  // eslint-disable-next-line no-control-regex
  const compact = url.replace(/[\u0000-\u0020]/g, '').toLowerCase();
  if (/^(javascript|vbscript|data):/.test(compact)) return '#';
  return url;
}
