// The session a front end holds with Latchkey, and the calls that use it.
//
// The access token lives in this object's memory only: never in
// localStorage, sessionStorage or a cookie a script can read. The refresh
// token lives in the HttpOnly latchkey_refresh cookie (over TLS
// __Host-latchkey_refresh), which the browser sends by itself, so the
// refresh_token member of token answers is dropped unread. Only a client
// given a refreshTokenStore (a page on another origin than Latchkey, a
// server, a test) keeps it, there.
//
// A call answered 401 refreshes once and is retried once. Calls failing
// together share one refresh in flight, and the tabs of one browser take
// turns (Web Locks), so each presents the token the previous one got and
// none looks like reuse. When the refresh itself is refused the session
// has ended: listeners hear "ended" and calls throw SessionEndedError.
import { LatchkeyError, SessionEndedError } from "./errors.js";
import { emailRoutes, mfaRoutes, passkeyRoutes, passwordRoutes, query, taskRoutes } from "./routes.js";
/** A store that keeps the refresh token in memory: it is gone on reload. */
export function memoryStore() {
    let token = null;
    return {
        get: () => token,
        set: (t) => {
            token = t;
        },
    };
}
// NO_SESSION is the code a SessionEndedError carries when there was no
// refresh token to send: a cookie refresh without a cookie answers 400
// validation_failed on refresh_token; there simply was no session.
const NO_SESSION = "no_session";
/** createClient makes the one client a front end holds. */
export function createClient(options = {}) {
    return new LatchkeyClient(options);
}
export class LatchkeyClient {
    baseUrl;
    #fetch;
    #store;
    #lockName;
    #channel;
    #listeners = new Set();
    #trusted;
    #refreshTimeout;
    #held = null;
    #refreshing = null;
    // ended counts the times the session was ended here; a refresh that
    // began before the latest end must not bring the session back.
    #ended = 0;
    /** The signed-in user's tasks: /api/{user_id}/tasks. */
    tasks = taskRoutes(this);
    /** Forgotten passwords: a mailed link or code. */
    password = passwordRoutes(this);
    /** Verifying and changing the email address. */
    email = emailRoutes(this);
    /** Two-factor sign-in (TOTP) and recovery codes. */
    mfa = mfaRoutes(this);
    /** Passkeys: the JSON side of the WebAuthn ceremonies. */
    passkeys = passkeyRoutes(this);
    constructor(options = {}) {
        this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
        const f = options.fetch ?? globalThis.fetch;
        this.#fetch = (input, init) => f(input, init); // unbound window.fetch throws
        this.#store = options.refreshTokenStore ?? null;
        this.#trusted = new Set((options.trustedOrigins ?? []).map((o) => new URL(o).origin));
        this.#refreshTimeout = options.refreshTimeout ?? 15_000;
        const name = options.channel === undefined ? "latchkey" : options.channel;
        this.#lockName = name === null ? null : name + "-refresh";
        this.#channel = name !== null && typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
        if (this.#channel) {
            // Node keeps a process alive while a channel is open.
            this.#channel.unref?.();
            this.#channel.onmessage = (e) => this.#heard(e.data);
        }
    }
    /** The signed-in user, or null. */
    get user() {
        return this.#held ? this.#held.user : null;
    }
    /** The session's id (the access token's sid), or null. */
    get sessionId() {
        return this.#held ? this.#held.sessionId : null;
    }
    /** onAuthChange calls fn at each change; the function returned stops it. */
    onAuthChange(fn) {
        this.#listeners.add(fn);
        return () => this.#listeners.delete(fn);
    }
    /** close stops listening to the other tabs. */
    close() {
        this.#channel?.close();
        this.#listeners.clear();
    }
    // emit tells the listeners. One that throws is reported as uncaught, and
    // neither stops the others nor fails the call that changed the session.
    #emit(type, code) {
        const change = code === undefined ? { type, user: this.user } : { type, user: this.user, code };
        for (const fn of [...this.#listeners]) {
            try {
                fn(change);
            }
            catch (e) {
                report(e);
            }
        }
    }
    // heard is another tab's news. A sign-out names its session: tabs with a
    // refresh-token store each hold their own, and one's sign-out is not the
    // others'. (A message without one is taken as any session's.)
    #heard(msg) {
        const m = (msg ?? {});
        const held = this.#held;
        if (m.type === "signout" && held && (!m.sessionId || m.sessionId === held.sessionId)) {
            this.#held = null;
            this.#ended++;
            this.#emit("remote-signout");
        }
        else if (m.type === "signin" && (!held || held.user.id !== m.userId)) {
            this.#emit("remote-signin");
        }
    }
    #broadcast(msg) {
        this.#channel?.postMessage(msg);
    }
    /**
     * url resolves a path of Latchkey's API ("/api/…") against baseUrl. With
     * absolute, an absolute URL is taken too, when its origin is Latchkey's
     * or a trusted one; anything else throws TypeError, so that the access
     * token never goes where the app did not say it may.
     */
    url(path, absolute = false) {
        if (path.startsWith("/") && !path.startsWith("//"))
            return this.baseUrl + path;
        let origin = "";
        try {
            origin = new URL(path).origin;
        }
        catch {
            // not an absolute URL
        }
        if (!absolute || !origin || !(origin === this.#origin() || this.#trusted.has(origin))) {
            throw new TypeError(`@latchkey/client: ${JSON.stringify(path)} is not a path of Latchkey's API or a trusted origin's URL`);
        }
        return path;
    }
    // origin is Latchkey's: baseUrl's, or the page's when baseUrl is "".
    #origin() {
        if (this.baseUrl)
            return new URL(this.baseUrl).origin;
        const loc = globalThis.location;
        return loc?.origin ?? "";
    }
    /**
     * send makes one request and decodes the answer (null for 204). It never
     * refreshes and never retries; a refusal throws LatchkeyError.
     */
    async send(method, path, { body, token, timeout } = {}) {
        const headers = { Accept: "application/json, application/problem+json" };
        const init = { method, headers, credentials: "same-origin", cache: "no-store" };
        if (body !== undefined) {
            headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(body);
        }
        if (token)
            headers.Authorization = "Bearer " + token;
        if (timeout !== undefined && typeof AbortSignal.timeout === "function")
            init.signal = AbortSignal.timeout(timeout);
        const url = this.url(path);
        let res;
        try {
            res = await this.#fetch(url, init);
        }
        catch {
            throw new LatchkeyError(0, {
                title: "Network error",
                detail: "Could not reach Latchkey. Check your connection and try again.",
            });
        }
        const data = await decode(res);
        if (!res.ok)
            throw new LatchkeyError(res.status, data, retryAfter(res));
        return data;
    }
    // adopt takes a token answer as the session and says what it was to the
    // client: a session it did not hold, another user's, or the same user's.
    async #adopt(g) {
        const previous = this.#held;
        this.#held = {
            token: g.access_token,
            user: g.user,
            sessionId: g.session_id,
            expiresAt: Date.now() + g.expires_in * 1000,
            lifetime: g.expires_in * 1000,
        };
        if (this.#store)
            await this.#store.set(g.refresh_token ?? null);
        if (!previous)
            return "restored";
        return previous.user.id !== g.user.id ? "user-changed" : null;
    }
    /**
     * signInWith posts to a route that answers a token response (sign-in,
     * its second step, a passkey sign-in) and takes the session.
     */
    async signInWith(path, body) {
        const g = await this.send("POST", path, { body });
        await this.#adopt(g);
        this.#broadcast({ type: "signin", userId: g.user.id });
        this.#emit("signedin");
        return g.user;
    }
    /**
     * replaceSession takes the token answer of a route that ended this
     * session and began a new one for this device (turning two-factor
     * sign-in on revokes every session). The user stays; no event.
     */
    async replaceSession(g) {
        await this.#adopt(g);
    }
    /**
     * signUp creates the account and signs in. A server that requires a
     * verified address answers the account alone: signedIn is then false.
     */
    async signUp(input) {
        const g = await this.send("POST", "/api/auth/signup", { body: input });
        if (!g.access_token)
            return { user: g.user, signedIn: false };
        await this.#adopt(g);
        this.#broadcast({ type: "signin", userId: g.user.id });
        this.#emit("signedin");
        return { user: g.user, signedIn: true };
    }
    /**
     * signIn with email and password. A user with a second factor gets a
     * LatchkeyError with code "mfa_required" instead, whose problem holds
     * mfa_token and methods for signInMFA.
     */
    signIn(input) {
        return this.signInWith("/api/auth/signin", input);
    }
    /** signInMFA is a sign-in's second step: a TOTP, a recovery code or a passkey. */
    signInMFA(step) {
        return this.signInWith("/api/auth/signin/mfa", step);
    }
    /**
     * restore resumes a session from the refresh token, as at page load:
     * user is null when there is none; ended says one existed and is over.
     */
    async restore() {
        try {
            return { user: await this.refresh(), ended: false };
        }
        catch (e) {
            if (e instanceof SessionEndedError)
                return { user: null, ended: e.code !== NO_SESSION };
            throw e;
        }
    }
    /**
     * refresh gets a new access token. Concurrent callers share one request;
     * tabs take turns. A refused refresh ends the session.
     */
    refresh() {
        if (!this.#refreshing) {
            this.#refreshing = this.#refresh().finally(() => {
                this.#refreshing = null;
            });
        }
        return this.#refreshing;
    }
    async #refresh() {
        const ended = this.#ended;
        let g;
        try {
            g = await this.#exclusive(async () => {
                // Read inside the lock: the tab before may have rotated it.
                const stored = this.#store ? await this.#store.get() : null;
                if (this.#store && !stored)
                    throw new SessionEndedError(NO_SESSION);
                const timeout = this.#refreshTimeout;
                return this.send("POST", "/api/auth/refresh", stored ? { body: { refresh_token: stored }, timeout } : { timeout });
            });
        }
        catch (e) {
            const code = endedBy(e);
            if (code === null)
                throw e;
            const ending = e instanceof SessionEndedError ? e : new SessionEndedError(code, e.problem);
            if (this.#ended !== ended)
                throw ending; // already ended here meanwhile
            const had = this.#held !== null;
            this.#held = null;
            if (this.#store)
                await this.#store.set(null);
            if (had)
                this.#emit("ended", code);
            throw ending;
        }
        // Signed out meanwhile, here or in another tab: the answer must not
        // bring the session back.
        if (this.#ended !== ended)
            throw new SessionEndedError(NO_SESSION);
        const change = await this.#adopt(g);
        if (change)
            this.#emit(change);
        return g.user;
    }
    // exclusive runs fn under the tabs' shared lock, where there is one.
    #exclusive(fn) {
        const locks = typeof navigator === "object" ? navigator.locks : undefined;
        return this.#lockName && locks ? locks.request(this.#lockName, fn) : fn();
    }
    /**
     * accessToken resolves to a token that has a while to live (10 s, or a
     * quarter of its life when that is shorter), refreshing first when it is
     * missing or nearer its end: for a call this client does not make itself
     * (a WebSocket, a form).
     */
    async accessToken() {
        const h = this.#held;
        if (!h || h.expiresAt - Date.now() < Math.min(10_000, h.lifetime / 4))
            await this.refresh();
        return this.#token();
    }
    #token() {
        if (!this.#held)
            throw new SessionEndedError();
        return this.#held.token;
    }
    /**
     * request makes an authenticated call and decodes the answer (null for
     * 204). On a 401 it refreshes, or waits for the refresh in flight, and
     * retries once. Rejects with LatchkeyError, or SessionEndedError when
     * the session is over.
     */
    async request(method, path, body) {
        const send = (token) => this.send(method, path, body === undefined ? { token } : { body, token });
        try {
            return await this.#withRefresh(send, (e) => e instanceof LatchkeyError && e.status === 401);
        }
        catch (e) {
            if (e instanceof LatchkeyError && e.status === 401 && !(e instanceof SessionEndedError)) {
                // A brand-new token refused: the session ended in between.
                await this.#end("ended", e.code);
                throw new SessionEndedError(e.code, e.problem);
            }
            throw e;
        }
    }
    /**
     * fetch is fetch with the access token: path is Latchkey's (resolved
     * against baseUrl) or an absolute URL of Latchkey or of one of the
     * trustedOrigins (a backend that trusts Latchkey's tokens); any other
     * throws TypeError. On a 401 it refreshes and sends once more, so the
     * body must be one fetch can send twice (a string, Blob, FormData,
     * URLSearchParams). The second answer is returned whatever it is.
     */
    async fetch(path, init = {}) {
        const url = this.url(path, true);
        const send = async (token) => {
            const headers = new Headers(init.headers);
            headers.set("Authorization", "Bearer " + token);
            return this.#fetch(url, { ...init, headers });
        };
        return this.#withRefresh(send, (res) => res instanceof Response && res.status === 401, true);
    }
    // withRefresh sends with the current token; when refused (an error or an
    // answer) it refreshes, unless another call already did since this one
    // began, and sends once more.
    async #withRefresh(send, refused, answers = false) {
        if (!this.#held && this.#refreshing)
            await this.#refreshing.catch(() => { });
        const used = this.#token();
        try {
            const r = await send(used);
            if (!answers || !refused(r))
                return r;
        }
        catch (e) {
            if (answers || !refused(e))
                throw e;
        }
        if (this.#held && this.#held.token === used)
            await this.refresh();
        return send(this.#token());
    }
    /**
     * signOut ends this session ("local", the default), every other one
     * ("others": this device stays signed in) or all ("global"). Except with
     * "others" it forgets the session here and in the other tabs, even when
     * Latchkey cannot be reached or the session was already over.
     */
    async signOut({ scope = "local" } = {}) {
        if (scope === "others") {
            await this.request("POST", "/api/auth/signout", { scope });
            return;
        }
        try {
            if (this.#held)
                await this.request("POST", "/api/auth/signout", { scope });
        }
        catch (e) {
            if (!(e instanceof LatchkeyError))
                throw e;
        }
        finally {
            await this.forget();
        }
    }
    /** forget drops the session here and in the other tabs ("signedout"). */
    async forget() {
        await this.#end("signedout");
    }
    /**
     * drop forgets the session here and in the other tabs without an event:
     * for when Latchkey has ended every session (a password reset) and the
     * page says so itself.
     */
    async drop() {
        await this.#end(null);
    }
    async #end(event, code) {
        const had = this.#held;
        this.#held = null;
        this.#ended++;
        if (this.#store)
            await this.#store.set(null);
        if (event === "ended") {
            if (had)
                this.#emit("ended", code);
            return;
        }
        if (event === null && !had)
            return;
        this.#broadcast(had ? { type: "signout", sessionId: had.sessionId } : { type: "signout" });
        if (event)
            this.#emit(event);
    }
    /** me asks Latchkey for the user, and keeps the answer. */
    async me() {
        const r = await this.request("GET", "/api/auth/me");
        this.setUser(r.user);
        return r.user;
    }
    /** sessions lists the user's live sessions, newest first, a page at a time. */
    sessions(options = {}) {
        return this.request("GET", "/api/auth/sessions" + query(options));
    }
    /**
     * revokeSession ends one of the user's sessions. Ending this one is
     * signing out here: a local sign-out, which also clears the cookie, and
     * which, unlike signOut(), fails when Latchkey does not confirm it.
     */
    async revokeSession(id) {
        if (id !== this.sessionId) {
            await this.request("DELETE", "/api/auth/sessions/" + encodeURIComponent(id));
            return;
        }
        await this.request("POST", "/api/auth/signout", { scope: "local" });
        await this.forget();
    }
    /** changePassword changes it and ends every other session. */
    async changePassword(input) {
        await this.request("POST", "/api/auth/password", input);
    }
    /**
     * setUser replaces the cached user (a route answered it); listeners hear
     * "user-updated" when its name, email or verification changed.
     */
    setUser(user) {
        const held = this.#held;
        if (!held || !user || user.id !== held.user.id)
            return;
        const before = held.user;
        held.user = user;
        if (before.name !== user.name || before.email !== user.email || before.email_verified !== user.email_verified) {
            this.#emit("user-updated");
        }
    }
}
// report hands an error to the page's error handling (window's "error"
// event) without throwing it here; where there is no reportError (Node 20),
// it is thrown from a timer, as an uncaught exception.
function report(e) {
    const g = globalThis;
    if (typeof g.reportError === "function")
        g.reportError(e);
    else
        setTimeout(() => {
            throw e;
        });
}
// endedBy returns the code of a refresh refusal that ends the session, or
// null for any other failure (the network, a 429, a 503): those leave the
// session as it was, to try again. A 400 validation_failed is a refresh
// token missing (no cookie came) or malformed (a store holding junk):
// either way there is no session.
function endedBy(e) {
    if (e instanceof SessionEndedError)
        return e.code;
    if (!(e instanceof LatchkeyError))
        return null;
    if (e.status === 401)
        return e.code;
    if (e.status === 400 && e.code === "validation_failed")
        return NO_SESSION;
    return null;
}
async function decode(res) {
    const text = res.status === 204 ? "" : await res.text();
    if (!text)
        return null;
    try {
        return JSON.parse(text);
    }
    catch {
        return null;
    }
}
function retryAfter(res) {
    const n = Number.parseInt(res.headers.get("Retry-After") ?? "", 10);
    return Number.isFinite(n) ? n : null;
}
