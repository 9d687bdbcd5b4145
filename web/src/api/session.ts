// The login session lives in sessionStorage: it survives reloads of the tab but not
// closing it, and is never shared with other tabs or written to disk by a cookie.

import type { AppUser, LoginResponse } from "./types";

export interface Session {
  token: string;
  refresh_token: string | null;
  user: AppUser;
  expires_at: string | number | null;
}

export interface SessionStore {
  get(): Session | null;
  set(session: Session): void;
  clear(): void;
}

const KEY = "req1.session";

/** A SessionStore on top of a Web Storage object (sessionStorage in the app). */
export class StorageSessionStore implements SessionStore {
  constructor(private readonly storage: Storage, private readonly key: string = KEY) {}

  get(): Session | null {
    const raw = this.storage.getItem(this.key);
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as Session;
      return typeof parsed.token === "string" && parsed.user ? parsed : null;
    } catch {
      return null;
    }
  }

  set(session: Session): void {
    this.storage.setItem(this.key, JSON.stringify(session));
  }

  clear(): void {
    this.storage.removeItem(this.key);
  }
}

/** Keeps a session in memory (tests, or when storage is unavailable). */
export class MemorySessionStore implements SessionStore {
  private session: Session | null = null;
  get(): Session | null {
    return this.session;
  }
  set(session: Session): void {
    this.session = session;
  }
  clear(): void {
    this.session = null;
  }
}

export function sessionFromLogin(res: LoginResponse): Session {
  return { token: res.token, refresh_token: res.refresh_token, user: res.user, expires_at: res.expires_at };
}
