// Every call the page makes goes through here: the admin API, relative to
// /dashboard (so a global prefix in a host app keeps working), with the
// admin token as a header. The token lives in sessionStorage (this tab only)
// and is never put into a URL, so no access log or history can hold it.

const TOKEN_KEY = 'longlink.adminToken';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let token: string | null = sessionStorage.getItem(TOKEN_KEY);
/** One prompt at a time: every call that got a 401 waits for the same answer. */
let asking: Promise<void> | null = null;
const tokenListeners: Array<(hasToken: boolean) => void> = [];

export function onTokenChange(listener: (hasToken: boolean) => void): void {
  tokenListeners.push(listener);
  listener(token !== null);
}

export function authHeaders(): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function forgetToken(): void {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const l of tokenListeners) l(false);
}

/** Shows the sign-in dialog (once, however many calls were refused) and resolves with the new token set. */
export function askToken(reason: string): Promise<void> {
  if (asking) return asking;
  const dialog = document.getElementById('login') as HTMLDialogElement;
  const form = document.getElementById('login-form') as HTMLFormElement;
  const input = document.getElementById('login-token') as HTMLInputElement;
  const error = document.getElementById('login-error') as HTMLElement;
  // Without a token the question is simply "which one"; with one it was wrong.
  error.textContent = token ? reason : '';
  input.value = '';
  asking = new Promise<void>((resolve) => {
    const submit = (event: Event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      form.removeEventListener('submit', submit);
      token = value;
      sessionStorage.setItem(TOKEN_KEY, value);
      dialog.close();
      asking = null;
      for (const l of tokenListeners) l(true);
      resolve();
    };
    form.addEventListener('submit', submit);
  });
  // A dialog without a way out would trap the operator; Escape just asks again on the next call.
  dialog.addEventListener('cancel', (e) => e.preventDefault(), { once: true });
  if (!dialog.open) dialog.showModal();
  input.focus();
  return asking;
}

async function errorMessage(res: Response): Promise<string> {
  const body = (await res.json().catch(() => null)) as { message?: unknown } | null;
  return typeof body?.message === 'string' ? body.message : `${res.status} ${res.statusText}`;
}

/**
 * fetch with the token, JSON in and out. A 401 asks for the token and tries
 * again; any other error status throws an ApiError with the API's message.
 */
export async function request<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<{ status: number; body: T }> {
  for (;;) {
    const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
      cache: 'no-store',
    });
    if (res.status === 401) {
      await askToken(await errorMessage(res));
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
    return { status: res.status, body: (await res.json()) as T };
  }
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request<T>(path, { signal })).body;
}

/** `?a=1&b=x` from the defined, non-empty values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
