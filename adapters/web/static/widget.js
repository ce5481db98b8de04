// The embed script: <script src="{BOT_PUBLIC_URL}/widget.js" async></script>
//
// Adds a launcher button (in an open shadow root, so the page's CSS cannot restyle it) that
// opens a dialog holding the chat iframe, served from the bot's own origin. The page never
// sees the chat, the sign-in form or the session cookie. API, once the script has loaded:
//   HelpdeskWidget.init({accessToken, open})  sign the user in silently (helpdesk portal)
//   HelpdeskWidget.open() / HelpdeskWidget.close()
// A page that runs before the script loads may set window.HelpdeskWidgetSettings = {...}.
(function () {
  "use strict";
  if (window.HelpdeskWidget && window.HelpdeskWidget.loaded) return;

  const script = document.currentScript ||
    document.querySelector('script[src$="/widget.js"], script[src*="/widget.js?"]');
  const base = new URL(script ? script.src : "/widget.js", location.href).origin;
  const PANEL_ID = "helpdesk-widget-panel";

  let host = null;
  let launcher = null;
  let badge = null;
  let panel = null;
  let frame = null;
  let frameReady = false;
  let isOpen = false;
  let refused = false;
  // Opening waits for the config answer: on a refused site no frame is ever created, so
  // the panel shows the refusal instead of a frame the browser blocks (a blank panel).
  let configLoaded = Promise.resolve();
  let accessToken = null;
  let name = "IT Helpdesk";

  function build() {
    if (host) return;
    host = document.createElement("div");
    host.id = "helpdesk-widget";
    const root = host.attachShadow({ mode: "open" });
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = base + "/widget/launcher.css";
    root.appendChild(css);

    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "launcher";
    launcher.setAttribute("aria-label", "Open chat");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", PANEL_ID);
    launcher.setAttribute("aria-haspopup", "dialog");
    launcher.appendChild(icon());
    badge = document.createElement("span");
    badge.className = "badge";
    badge.hidden = true;
    launcher.appendChild(badge);
    launcher.addEventListener("click", () => (isOpen ? close() : open()));

    panel = document.createElement("div");
    panel.id = PANEL_ID;
    panel.className = "panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-label", "Chat with " + name);
    panel.hidden = true;
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });

    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(host);
    window.addEventListener("message", fromFrame);
    configLoaded = loadConfig();
  }

  function icon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6" +
      "a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  async function loadConfig() {
    let response;
    try {
      response = await fetch(base + "/widget/config", { credentials: "omit" });
    } catch (_) {
      return;  // offline or blocked: the frame itself will say what is wrong
    }
    if (response.status === 403) {
      refused = true;
      return;
    }
    if (!response.ok) return;
    const config = await response.json().catch(() => ({}));
    if (typeof config.name === "string" && config.name) {
      name = config.name;
      panel.setAttribute("aria-label", "Chat with " + name);
      if (frame) frame.title = name + " chat";
    }
    const primary = config.colors && config.colors.primary;
    if (typeof primary === "string" && /^#[0-9a-fA-F]{3,6}$/.test(primary)) {
      host.style.setProperty("--hdw-primary", primary);
    }
  }

  function ensureFrame() {
    if (frame || refused) return;
    frame = document.createElement("iframe");
    frame.title = name + " chat";
    frame.name = "helpdesk-widget-frame";
    const hash = "host=" + encodeURIComponent(location.origin) + (accessToken ? "&sso=1" : "");
    frame.src = base + "/widget/frame#" + hash;
    panel.appendChild(frame);
  }

  function showRefusal() {
    if (panel.querySelector(".refused")) return;
    const note = document.createElement("p");
    note.className = "refused";
    note.tabIndex = -1;
    note.textContent = "This site is not allowed to use the chat.";
    panel.appendChild(note);
  }

  async function open() {
    build();
    await configLoaded;
    ensureFrame();
    if (refused) showRefusal();
    panel.hidden = false;
    isOpen = true;
    badge.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat");
    if (frame) {
      frame.focus();
      if (frameReady) post({ type: "focus" });
    } else {
      panel.querySelector(".refused").focus();
    }
  }

  function close() {
    if (!panel || !isOpen) return;
    panel.hidden = true;
    isOpen = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat");
    launcher.focus();
  }

  function post(message) {
    if (frame && frame.contentWindow) {
      message.source = "helpdesk-widget-host";
      frame.contentWindow.postMessage(message, base);
    }
  }

  function fromFrame(event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== base) return;
    const data = event.data;
    if (!data || data.source !== "helpdesk-widget") return;
    if (data.type === "ready") {
      frameReady = true;
      if (accessToken) post({ type: "init", accessToken: accessToken });
      if (isOpen) post({ type: "focus" });
    } else if (data.type === "close") {
      close();
    } else if (data.type === "activity" && !isOpen) {
      badge.hidden = false;
      launcher.setAttribute("aria-label", "Open chat (new messages)");
    }
  }

  function init(options) {
    options = options || {};
    if (typeof options.accessToken === "string" && options.accessToken) {
      accessToken = options.accessToken;
      if (frameReady) post({ type: "init", accessToken: accessToken });
    }
    if (options.open) whenReady(open);
  }

  function whenReady(callback) {
    if (document.body) callback();
    else document.addEventListener("DOMContentLoaded", callback, { once: true });
  }

  window.HelpdeskWidget = {
    loaded: true,
    init: init,
    open: () => whenReady(open),
    close: close,
  };
  whenReady(build);
  if (window.HelpdeskWidgetSettings) init(window.HelpdeskWidgetSettings);
})();
