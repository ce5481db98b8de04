// Chat frame rendering: one transcript frame → DOM nodes, built with textContent and
// HelpdeskMarkdown only (never innerHTML). Buttons call back `onPress(action, button, group)`.
(function (root) {
  "use strict";

  function node(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = text;
    return element;
  }

  function markdown(text, className) {
    const body = node("div", className || "body");
    body.appendChild(window.HelpdeskMarkdown.render(text || "", document));
    return body;
  }

  function who(text, visible) {
    return node("span", visible ? "who" : "who visually-hidden", text);
  }

  function renderFrame(frame, onPress) {
    switch (frame.type) {
      case "message": return renderMessage(frame, onPress);
      case "agent": return renderAgent(frame);
      case "confirm": return renderConfirm(frame, onPress);
      case "notice": case "handoff": return renderNotice(frame);
      case "error": return renderError(frame, onPress);
      default: return null;
    }
  }

  function renderMessage(frame, onPress) {
    const item = node("div", "msg msg-assistant" + (frame.degraded ? " degraded" : ""));
    item.appendChild(who("Assistant:", false));
    item.appendChild(markdown(frame.text));
    const sources = (frame.sources || []).filter((s) => s && s.title);
    if (sources.length) {
      const box = node("div", "sources");
      box.appendChild(node("p", "sources-title", "Sources"));
      const list = node("ol");
      for (const source of sources) {
        const li = node("li");
        const href = window.HelpdeskMarkdown.safeUrl(source.url);
        if (href) {
          const a = node("a", "", source.title);
          a.href = href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          li.appendChild(a);
        } else {
          li.textContent = source.title;
        }
        list.appendChild(li);
      }
      box.appendChild(list);
      item.appendChild(box);
    }
    const actions = renderActions(frame.actions, frame.feedback, onPress);
    if (actions) item.appendChild(actions);
    return item;
  }

  function renderAgent(frame) {
    const item = node("div", "msg msg-agent");
    item.appendChild(who((frame.name || "Agent") + " · Agent", true));
    item.appendChild(markdown(frame.text));
    return item;
  }

  function renderConfirm(frame, onPress) {
    const item = node("div", "msg msg-confirm");
    item.setAttribute("role", "group");
    item.setAttribute("aria-label", frame.title || "Please confirm");
    if (frame.title) {
      item.appendChild(node("p", "confirm-title", frame.title));
      const fields = node("dl", "fields");
      for (const field of frame.fields || []) {
        fields.appendChild(node("dt", "", field.label));
        const value = node("dd");
        value.appendChild(window.HelpdeskMarkdown.render(field.value || "", document));
        fields.appendChild(value);
      }
      item.appendChild(fields);
      for (const notice of frame.notices || []) item.appendChild(markdown(notice, "confirm-notice"));
    } else {
      item.appendChild(markdown(frame.text));
    }
    const actions = renderActions(frame.actions, null, onPress);
    if (actions) item.appendChild(actions);
    return item;
  }

  function renderNotice(frame) {
    const item = node("div", "msg msg-notice" + (frame.type === "handoff" ? " handoff" : ""));
    item.appendChild(markdown(frame.text));
    return item;
  }

  function renderError(frame, onPress) {
    const item = node("div", "msg msg-error");
    item.appendChild(markdown(frame.text));
    const actions = renderActions(frame.actions, null, onPress);
    if (actions) item.appendChild(actions);
    return item;
  }

  // A thumb drawn inline (SVG elements, no markup parsing), pointing down when `down`.
  const SVG = "http://www.w3.org/2000/svg";
  const THUMB = "M2 10h4v11H2z M8 21h9.2a2 2 0 0 0 2-1.6l1.6-7.2A2 2 0 0 0 18.8 10H14" +
    "l.8-4.2A2 2 0 0 0 12.9 3.5L8 10z";

  function thumbIcon(down) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.classList.add("icon");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", THUMB);
    path.setAttribute("fill", "currentColor");
    if (down) path.setAttribute("transform", "rotate(180 12 12)");
    svg.appendChild(path);
    return svg;
  }

  function renderActions(actions, feedback, onPress) {
    if (!actions || !actions.length) return null;
    const group = node("div", "actions");
    for (const action of actions) {
      if (action.kind === "link") {
        const href = window.HelpdeskMarkdown.safeUrl(action.url);
        if (!href) continue;
        const a = node("a", "button-link", action.label);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        group.appendChild(a);
        continue;
      }
      const button = node("button", "action" + (action.style === "primary" ? " primary" : ""),
        action.label);
      button.type = "button";
      if (action.kind === "feedback") {
        button.classList.add("feedback");
        button.textContent = "";  // an icon, not an emoji: many desktops have no emoji font
        button.appendChild(thumbIcon(action.value === "down"));
        button.setAttribute("aria-label", action.value === "up" ? "👍 Helpful" : "👎 Not helpful");
        button.setAttribute("aria-pressed", String(feedback === action.value));
      } else if (action.kind === "rating") {
        button.setAttribute("aria-label", "Rate " + action.label + " out of 5");
      }
      button.addEventListener("click", () => onPress(action, button, group));
      group.appendChild(button);
    }
    return group;
  }


  root.HelpdeskRender = { node: node, who: who, markdown: markdown, renderFrame: renderFrame };
})(window);
