// The chat frame: sign-in, the WebSocket session (resume, outbox, replay) and rendering.
//
// Runs on the bot's own origin inside the widget iframe. Protocol: adapters/web/socket.py.
// Every piece of text from the server is shown with textContent or HelpdeskMarkdown (DOM
// nodes), never innerHTML. The only messages exchanged with the host page are "ready",
// "close", "activity" (to it) and "init" (an access token) and "focus" (from it).
(function () {
  "use strict";

  const MAX_BYTES = 4096;
  const PING_EVERY_MS = 20000;
  const PONG_WITHIN_MS = 10000;
  const OUTBOX_KEY = "helpdesk-widget-outbox";
  const LOCKING_KINDS = ["confirm", "cancel", "comment_instead", "create_ticket",
    "talk_to_human", "cancel_handoff", "rating"];

  const { node, who, renderFrame } = window.HelpdeskRender;
  const $ = (id) => document.getElementById(id);
  const el = {
    title: $("title"), handoff: $("handoff-status"), signOut: $("sign-out"), close: $("close"),
    connection: $("connection"), loading: $("loading"), signin: $("signin"),
    signinReason: $("signin-reason"), signinForm: $("signin-form"), email: $("email"),
    password: $("password"), signinError: $("signin-error"), signinButton: $("signin-button"),
    chat: $("chat"), messages: $("messages"), typing: $("typing"), notice: $("composer-notice"),
    composer: $("composer"), message: $("message"),
  };

  const params = new URLSearchParams(location.hash.slice(1));
  const hostOrigin = originOf(params.get("host"));
  const state = {
    view: "loading", conversation: null, name: "", ws: null, ready: false, lastSeq: 0,
    seen: new Set(), outbox: loadOutbox(), streams: new Map(), backoff: 1000,
    reconnectTimer: null, pingTimer: null, pongTimer: null, pendingToken: null,
    waitingForToken: params.get("sso") === "1", sessionKnown: false, signedIn: false,
  };

  // --- host page --------------------------------------------------------------------------

  function originOf(value) {
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
    } catch (_) {
      return null;
    }
  }

  function toHost(type) {
    if (window.parent !== window && hostOrigin) {
      window.parent.postMessage({ source: "helpdesk-widget", type: type }, hostOrigin);
    }
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    const data = event.data;
    if (!data || data.source !== "helpdesk-widget-host") return;
    if (data.type === "init" && typeof data.accessToken === "string" && data.accessToken) {
      state.pendingToken = data.accessToken;
      state.waitingForToken = false;
      if (state.sessionKnown && !state.signedIn) signInWithToken();
    } else if (data.type === "focus") {
      focusView();
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      toHost("close");
    }
  });
  el.close.addEventListener("click", () => toHost("close"));

  // --- HTTP -------------------------------------------------------------------------------

  async function request(method, path, body) {
    const options = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    try {
      const response = await fetch(path, options);
      let data = {};
      try { data = await response.json(); } catch (_) { /* not JSON */ }
      return { ok: response.ok, status: response.status, data: data };
    } catch (_) {
      return { ok: false, status: 0, data: {} };
    }
  }

  async function loadConfig() {
    const result = await request("GET", "/widget/config");
    if (!result.ok) return;
    const name = result.data.name;
    if (typeof name === "string" && name) {
      el.title.textContent = name;
      document.title = name + " chat";
    }
    const colors = result.data.colors || {};
    for (const key of ["primary", "secondary", "accent", "text"]) {
      if (typeof colors[key] === "string" && /^#[0-9a-fA-F]{3,6}$/.test(colors[key])) {
        document.documentElement.style.setProperty("--hdw-" + key, colors[key]);
      }
    }
  }

  // --- views ------------------------------------------------------------------------------

  function show(view) {
    state.view = view;
    el.loading.hidden = view !== "loading";
    el.signin.hidden = view !== "signin";
    el.chat.hidden = view !== "chat";
    el.signOut.hidden = !state.signedIn;
  }

  function focusView() {
    if (state.view === "signin") (el.email.value ? el.password : el.email).focus();
    else if (state.view === "chat") el.message.focus();
    else el.close.focus();
  }

  function showSignIn(reason) {
    el.signinReason.textContent = reason || "Use your helpdesk account.";
    show("signin");
    if (document.hasFocus()) focusView();
  }

  el.signinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = el.email.value.trim();
    const password = el.password.value;
    if (!email || !password) {
      el.signinError.textContent = "Please enter your email and password.";
      (email ? el.password : el.email).focus();
      return;
    }
    el.signinError.textContent = "";
    el.signinButton.disabled = true;
    const result = await request("POST", "/widget/session", { email: email, password: password });
    el.signinButton.disabled = false;
    el.password.value = "";
    if (result.ok) {
      signedIn(result.data);
      el.message.focus();
    } else {
      el.signinError.textContent = result.data.message ||
        "Signing in didn't work. Please check your connection and try again.";
      el.password.focus();
    }
  });

  async function signInWithToken() {
    const token = state.pendingToken;
    state.pendingToken = null;
    if (!token) return;
    const result = await request("POST", "/widget/session", { access_token: token });
    if (result.ok) signedIn(result.data);
    else showSignIn(result.data.message);
  }

  el.signOut.addEventListener("click", async () => {
    el.signOut.disabled = true;
    await request("DELETE", "/widget/session");
    el.signOut.disabled = false;
    signedOut("You signed out.");
  });

  function signedOut(reason) {
    state.signedIn = false;
    disconnect();
    resetTranscript(null);
    showSignIn(reason);
  }

  // --- transcript state -------------------------------------------------------------------

  function resetTranscript(conversation) {
    state.conversation = conversation;
    state.lastSeq = 0;
    state.seen.clear();
    state.streams.clear();
    state.outbox = [];
    saveOutbox();
    el.messages.replaceChildren();
    setHandoffStatus(null);
  }

  function signedIn(session) {
    disconnect();  // a socket opened before belongs to the previous session
    startChat(session);
  }

  function startChat(session) {
    state.signedIn = true;
    state.name = session.name || "";
    if (session.conversation !== state.conversation) {
      const keep = state.conversation === null ? state.outbox : [];
      resetTranscript(session.conversation);
      state.outbox = keep.filter((frame) => frame.type === "message");
      saveOutbox();
    }
    show("chat");
    connect();
  }

  function loadOutbox() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(OUTBOX_KEY) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (_) {
      return [];
    }
  }

  function saveOutbox() {
    try { sessionStorage.setItem(OUTBOX_KEY, JSON.stringify(state.outbox)); } catch (_) { /* private mode */ }
  }

  function newClientId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- connection -------------------------------------------------------------------------

  function setConnection(text) {
    el.connection.textContent = text || "";
    el.connection.hidden = !text;
  }

  function connect() {
    clearTimeout(state.reconnectTimer);
    if (!state.signedIn || (state.ws && state.ws.readyState <= 1)) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/widget/ws");
    state.ws = ws;
    state.ready = false;
    ws.addEventListener("open", () => {
      if (state.ws !== ws) return;
      wsSend({ type: "hello", last_seq: state.lastSeq });
      startPing(ws);
    });
    ws.addEventListener("message", (event) => {
      if (state.ws !== ws) return;
      clearTimeout(state.pongTimer);
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      if (frame && typeof frame.type === "string") onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (state.ws !== ws) return;
      dropSocket();
      reconnectSoon(event.code === 4401);
    });
  }

  function dropSocket() {
    clearInterval(state.pingTimer);
    clearTimeout(state.pongTimer);
    const ws = state.ws;
    state.ws = null;
    state.ready = false;
    if (ws && ws.readyState <= 1) ws.close();
  }

  function disconnect() {
    clearTimeout(state.reconnectTimer);
    dropSocket();
  }

  async function reconnectSoon(sessionEnded) {
    setConnection("Reconnecting…");
    // A refused handshake looks like any other close: ask whether the session still lives.
    // It may also have been replaced (another tab signed in again): then continue at once.
    const status = await request("GET", "/widget/session");
    if (!state.signedIn) return;
    if (status.ok && !status.data.signed_in) {
      signedOut(sessionEnded ? "You were signed out." : "Your session ended. Please sign in again.");
      return;
    }
    if (status.ok && (sessionEnded || status.data.conversation !== state.conversation)) {
      setConnection(null);
      startChat(status.data);
      return;
    }
    const delay = state.backoff + Math.random() * 500;
    state.backoff = Math.min(state.backoff * 2, 15000);
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function startPing(ws) {
    clearInterval(state.pingTimer);
    state.pingTimer = setInterval(() => {
      if (state.ws !== ws) return;
      wsSend({ type: "ping" });
      clearTimeout(state.pongTimer);
      state.pongTimer = setTimeout(() => {  // asleep or offline: start over
        if (state.ws === ws) { dropSocket(); reconnectSoon(); }
      }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  window.addEventListener("online", () => { state.backoff = 1000; connect(); });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.signedIn && !state.ws) { state.backoff = 1000; connect(); }
  });

  function wsSend(frame) {
    if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(frame));
  }

  function enqueue(frame) {
    state.outbox.push(frame);
    saveOutbox();
    if (state.ready) wsSend(frame);
  }

  function settle(clientId) {
    const before = state.outbox.length;
    state.outbox = state.outbox.filter((frame) => frame.client_id !== clientId);
    if (state.outbox.length !== before) saveOutbox();
  }

  // --- frames -----------------------------------------------------------------------------

  function onFrame(frame) {
    switch (frame.type) {
      case "ready":
        state.ready = true;
        state.backoff = 1000;
        setHandoffStatus(frame.handoff || null);
        setConnection(null);
        if (typeof frame.last_seq === "number") {
          state.lastSeq = Math.max(state.lastSeq, frame.last_seq);
        }
        for (const pending of state.outbox) {
          if (pending.type === "message" && !findUser(pending.client_id)) {
            appendUser(pending.client_id, pending.text, null);
          }
          wsSend(pending);
        }
        return;
      case "pong":
        return;
      case "ack":
        settle(frame.client_id);
        markUser(frame.client_id, "sent");
        return;
      case "rejected":
        settle(frame.client_id);
        rejectUser(frame);
        return;
      case "typing":
        el.typing.textContent = "The assistant is typing…";
        return;
      case "delta":
        appendDelta(frame.reply_to, frame.text);
        return;
      case "done":
        el.typing.textContent = "";
        dropStream(frame.reply_to);
        return;
      case "signed_out":
        return;  // the close (4401) that follows says what to do
      case "error":
        if (frame.code === "bad_frame") { console.warn("helpdesk widget:", frame.text); return; }
        break;
      default:
        break;
    }
    addTranscriptFrame(frame);
  }

  function addTranscriptFrame(frame) {
    if (typeof frame.seq === "number") {
      if (state.seen.has(frame.seq)) return;
      state.seen.add(frame.seq);
      state.lastSeq = Math.max(state.lastSeq, frame.seq);
    }
    if (frame.type === "user") {
      settle(frame.client_id);
      const existing = frame.client_id && findUser(frame.client_id);
      if (existing) {
        existing.dataset.seq = String(frame.seq);
        markUser(frame.client_id, "sent");
      } else {
        appendUser(frame.client_id, frame.text, frame.seq);
      }
      return;
    }
    if (frame.type === "signin_required") {
      showSignIn(frame.text);
      return;
    }
    const item = renderFrame(frame, press);
    if (!item) return;
    if (typeof frame.seq === "number") item.dataset.seq = String(frame.seq);
    const stream = frame.reply_to && state.streams.get(frame.reply_to);
    if (stream && frame.type === "message") {
      stream.replaceWith(item);
      state.streams.delete(frame.reply_to);
    } else {
      el.messages.appendChild(item);
    }
    if (frame.type === "message" || frame.type === "agent") el.typing.textContent = "";
    if (frame.type === "handoff") setHandoffStatus(frame);
    scrollToEnd();
    toHost("activity");
  }

  function scrollToEnd() {
    el.messages.scrollTop = el.messages.scrollHeight;
  }

  function setHandoffStatus(frame) {
    const live = frame && (frame.state === "queued" || frame.state === "joined");
    el.handoff.textContent = live ? frame.label : "";
    el.handoff.hidden = !live;
  }

  // --- rendering (frame_render.js builds the transcript nodes) -------------------------------

  function findUser(clientId) {
    if (!clientId) return null;
    for (const item of el.messages.querySelectorAll(".msg-user")) {
      if (item.dataset.clientId === clientId) return item;
    }
    return null;
  }

  function appendUser(clientId, text, seq) {
    const item = node("div", "msg msg-user");
    if (clientId) item.dataset.clientId = clientId;
    if (typeof seq === "number") item.dataset.seq = String(seq);
    item.appendChild(who("You:", false));
    item.appendChild(node("div", "body plain", text));
    item.appendChild(node("span", "delivery", seq === null ? "Sending…" : ""));
    el.messages.appendChild(item);
    scrollToEnd();
    return item;
  }

  function markUser(clientId, status) {
    const item = findUser(clientId);
    if (!item) return;
    item.classList.remove("failed");
    const delivery = item.querySelector(".delivery");
    if (delivery && status === "sent") delivery.textContent = "";
  }

  function rejectUser(frame) {
    let item = findUser(frame.client_id);
    if (!item) {
      el.notice.textContent = frame.text || "That was not sent.";
      return;
    }
    item.classList.add("failed");
    const delivery = item.querySelector(".delivery");
    delivery.replaceChildren(node("span", "", (frame.text || "Not sent.") + " "));
    const text = item.querySelector(".body").textContent;
    if (frame.reason !== "too_large") {
      const retry = node("button", "text-button", "Retry");
      retry.type = "button";
      retry.addEventListener("click", () => {
        delivery.textContent = "Sending…";
        item.classList.remove("failed");
        enqueue({ type: "message", client_id: frame.client_id, text: text });
      });
      delivery.appendChild(retry);
    }
    el.notice.textContent = frame.text || "";
  }

  function appendDelta(replyTo, text) {
    if (!replyTo || typeof text !== "string") return;
    let stream = state.streams.get(replyTo);
    if (!stream) {
      stream = node("div", "msg msg-assistant streaming");
      stream.setAttribute("aria-hidden", "true");  // announced once, when complete
      stream.appendChild(node("div", "body plain", ""));
      el.messages.appendChild(stream);
      state.streams.set(replyTo, stream);
    }
    stream.querySelector(".body").textContent += text;
    el.typing.textContent = "";
    scrollToEnd();
  }

  function dropStream(replyTo) {
    const stream = state.streams.get(replyTo);
    if (stream) stream.remove();
    state.streams.delete(replyTo);
  }

  function press(action, button, group) {
    if (action.kind === "feedback") {
      for (const other of group.querySelectorAll("button.feedback")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
    } else if (LOCKING_KINDS.includes(action.kind)) {
      for (const other of group.querySelectorAll("button")) other.disabled = true;
      button.classList.add("chosen");
      el.message.focus();
    }
    enqueue({ type: "action", client_id: newClientId(), action_id: action.id,
      value: action.value === undefined ? null : action.value });
  }

  // --- composer ---------------------------------------------------------------------------

  el.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = el.message.value;
    if (!text.trim()) return;
    if (new TextEncoder().encode(text).length > MAX_BYTES) {
      el.notice.textContent = "That message is too long for the chat (the limit is about " +
        "4,000 characters). Please shorten it.";
      return;
    }
    el.notice.textContent = "";
    const clientId = newClientId();
    appendUser(clientId, text, null);
    el.message.value = "";
    grow();
    enqueue({ type: "message", client_id: clientId, text: text });
  });

  el.message.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.composer.requestSubmit();
    }
  });

  function grow() {
    el.message.style.height = "auto";
    el.message.style.height = Math.min(el.message.scrollHeight, 120) + "px";
  }
  el.message.addEventListener("input", grow);

  // --- start ------------------------------------------------------------------------------

  async function boot() {
    loadConfig();
    toHost("ready");
    const status = await request("GET", "/widget/session");
    state.sessionKnown = true;
    if (status.ok && status.data.signed_in) {
      startChat(status.data);
      if (document.hasFocus()) focusView();
    } else if (state.pendingToken) {
      signInWithToken();
    } else if (state.waitingForToken) {
      setTimeout(() => { if (state.view === "loading") showSignIn(); }, 3000);
    } else {
      showSignIn(location.hash.includes("signin") ? "Please sign in again." : null);
    }
  }

  boot();
})();
