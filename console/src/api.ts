/**
 * The console's only way to the service: the REST API (POST /v1/<service>/<Method>, JSON),
 * with the same authentication as any REST caller: the bearer token the user pasted (kept in
 * this tab's sessionStorage, sent as Authorization), or the connection's client certificate.
 */
const TOKEN_KEY = 'imprint-console-token';

/** An error answer of the API: its HTTP status and body ({code, message, field?}). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function savedToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function saveToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export type Service = 'publisher' | 'consumer' | 'operator';

/** One RPC: its answer, or an ApiError. Relative to the page (/console/), so a path prefix in front of the service works. */
export async function call<T>(service: Service, method: string, body: object = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = savedToken();
  if (token) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`../v1/${service}/${method}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    throw new ApiError(res.status, 'UNKNOWN', `the service answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) throw new ApiError(res.status, String(json['code'] ?? 'UNKNOWN'), String(json['message'] ?? res.statusText), typeof json['field'] === 'string' ? json['field'] : undefined);
  return json as T;
}

/** An error as one line for the page. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.code} (${err.status}): ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
