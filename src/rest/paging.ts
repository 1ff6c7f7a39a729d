import type { Params } from "./params.js";
import { invalidParam } from "./errors.js";

/**
 * Twilio's paging: `PageSize`, `Page` and `PageToken` in the query, and a `meta` block in the answer
 * whose `next_page_url` the SDK's `.list()`, `.each()` and `.page()` follow until it is null.
 * https://www.twilio.com/docs/usage/twilios-response#pagination
 */

export const PAGING_PARAMS = { PageSize: "integer", Page: "integer", PageToken: "string" } as const;

/** Twilio's default and largest page sizes. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export interface PageQuery {
  page: number;
  pageSize: number;
  pageToken: string | null;
}

export function pageQuery(p: Params<typeof PAGING_PARAMS>): PageQuery {
  // The SDK asks for `limit` rows at once (`.list({ limit: 5000 })`): larger sizes are capped, not refused;
  // meta.page_size says what a page holds, and next_page_url fetches the rest.
  const asked = p.PageSize ?? DEFAULT_PAGE_SIZE;
  if (asked < 1) throw invalidParam("PageSize", `must be from 1 to ${MAX_PAGE_SIZE}`);
  const pageSize = Math.min(asked, MAX_PAGE_SIZE);
  const page = p.Page ?? 0;
  if (page < 0) throw invalidParam("Page", "must be 0 or more");
  return { page, pageSize, pageToken: p.PageToken || null };
}

/** One page of a list held in memory (services, rate limits, buckets): `Page` × `PageSize` rows in. */
export function slicePage<T>(all: T[], q: PageQuery): { items: T[]; hasNext: boolean } {
  const start = q.page * q.pageSize;
  return { items: all.slice(start, start + q.pageSize), hasNext: all.length > start + q.pageSize };
}

export interface ListMeta {
  /** Absolute URL of the list without a query (base URL + path). */
  url: string;
  /** The list's filters, repeated on every page URL. */
  filters?: Record<string, string>;
  q: PageQuery;
  /** Page size actually used (a resource may cap it lower than asked). */
  pageSize?: number;
  /** Set when another page follows; `token` is its PageToken (keyset lists), if any. */
  next: { token?: string } | null;
}

/** A list answer: `{ [key]: items, meta: { page, page_size, first_page_url, … , key } }`. */
export function listJson(key: string, items: unknown[], m: ListMeta): Record<string, unknown> {
  const pageSize = m.pageSize ?? m.q.pageSize;
  const link = (page: number, token?: string | null): string => {
    const qs = new URLSearchParams({ ...m.filters, PageSize: String(pageSize), Page: String(page) });
    if (token) qs.set("PageToken", token);
    return `${m.url}?${qs.toString()}`;
  };
  // Keyset lists (a PageToken) cannot page backwards; offset lists can.
  const previous = m.q.page > 0 && !m.q.pageToken ? link(m.q.page - 1) : null;
  return {
    [key]: items,
    meta: {
      page: m.q.page,
      page_size: pageSize,
      first_page_url: link(0),
      previous_page_url: previous,
      url: link(m.q.page, m.q.pageToken),
      next_page_url: m.next ? link(m.q.page + 1, m.next.token) : null,
      key,
    },
  };
}
