// Safe Markdown for the chat frame: builds DOM nodes with textContent, never parses HTML.
//
// Supported: paragraphs (single newlines become <br>), **bold**, *italic* / _italic_,
// `code`, ``` fenced code ```, "- " / "* " bullets, "1. " numbered lists, "> " quotes,
// "#" headings (shown bold), [text](url) and bare http(s) URLs. Links are made only for
// absolute http(s) URLs and always open in a new tab with rel="noopener noreferrer".
// Anything else (HTML tags, javascript: links, images) stays visible as plain text.
(function (root) {
  "use strict";

  const MAX_DEPTH = 6;
  const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
  const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
  const QUOTE = /^\s{0,3}>\s?(.*)$/;
  const HEADING = /^\s{0,3}#{1,6}\s+(.*)$/;
  const FENCE = /^\s{0,3}```/;
  const BARE_URL = /^https?:\/\/[^\s<>"'`]+/i;

  function safeUrl(raw) {
    if (typeof raw !== "string") return null;
    let url;
    try {
      url = new URL(raw.trim());
    } catch (_) {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.href;
  }

  function link(doc, href) {
    const a = doc.createElement("a");
    a.setAttribute("href", href);
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", "noopener noreferrer");
    return a;
  }

  function isBlockStart(line) {
    return BULLET.test(line) || NUMBERED.test(line) || QUOTE.test(line) ||
      HEADING.test(line) || FENCE.test(line);
  }

  // --- inline ---------------------------------------------------------------------------

  function findClosing(text, marker, from) {
    let index = text.indexOf(marker, from);
    while (index !== -1) {
      const inner = text.slice(from, index);
      if (inner.length > 0 && inner.trim() === inner) return index;
      index = text.indexOf(marker, index + 1);
    }
    return -1;
  }

  function wordChar(ch) {
    return ch !== undefined && /[A-Za-z0-9]/.test(ch);
  }

  function linkEnd(text, start) {
    // The ")" closing "[label](url", skipping balanced pairs inside the URL.
    let depth = 0;
    for (let j = start; j < text.length; j += 1) {
      const c = text[j];
      if (c === "\n") return -1;
      if (c === "(") depth += 1;
      else if (c === ")") {
        if (depth === 0) return j;
        depth -= 1;
      }
    }
    return -1;
  }

  function trimUrl(url) {
    // Trailing punctuation belongs to the sentence, and an unmatched ")" to the prose.
    let end = url.length;
    while (end > 0 && ".,;:!?".includes(url[end - 1])) end -= 1;
    let trimmed = url.slice(0, end);
    const opens = (trimmed.match(/\(/g) || []).length;
    let closes = (trimmed.match(/\)/g) || []).length;
    while (closes > opens && trimmed.endsWith(")")) {
      trimmed = trimmed.slice(0, -1);
      closes -= 1;
    }
    return trimmed;
  }

  function inline(doc, text, parent, depth) {
    let buffer = "";
    const flush = () => {
      if (buffer) parent.appendChild(doc.createTextNode(buffer));
      buffer = "";
    };
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === "\\" && i + 1 < text.length && /[\\`*_[\]()#>+\-.!]/.test(text[i + 1])) {
        buffer += text[i + 1];
        i += 2;
        continue;
      }
      if (ch === "\n") {
        flush();
        parent.appendChild(doc.createElement("br"));
        i += 1;
        continue;
      }
      if (ch === "`") {
        const end = text.indexOf("`", i + 1);
        if (end > i + 1) {
          flush();
          const code = doc.createElement("code");
          code.textContent = text.slice(i + 1, end);
          parent.appendChild(code);
          i = end + 1;
          continue;
        }
      }
      if (depth < MAX_DEPTH && (text.startsWith("**", i) || text.startsWith("__", i))) {
        const marker = text.slice(i, i + 2);
        const end = findClosing(text, marker, i + 2);
        if (end !== -1) {
          flush();
          const strong = doc.createElement("strong");
          inline(doc, text.slice(i + 2, end), strong, depth + 1);
          parent.appendChild(strong);
          i = end + 2;
          continue;
        }
      }
      if (depth < MAX_DEPTH && (ch === "*" || ch === "_") && !(ch === "_" && wordChar(text[i - 1]))) {
        const end = findClosing(text, ch, i + 1);
        if (end !== -1 && !(ch === "_" && wordChar(text[end + 1]))) {
          flush();
          const em = doc.createElement("em");
          inline(doc, text.slice(i + 1, end), em, depth + 1);
          parent.appendChild(em);
          i = end + 1;
          continue;
        }
      }
      if (ch === "[" && depth < MAX_DEPTH) {
        const close = text.indexOf("](", i + 1);
        const end = close === -1 ? -1 : linkEnd(text, close + 2);
        if (close > i + 1 && end !== -1) {
          const label = text.slice(i + 1, close);
          const href = safeUrl(text.slice(close + 2, end));
          flush();
          if (href) {
            const a = link(doc, href);
            inline(doc, label, a, depth + 1);
            parent.appendChild(a);
          } else {
            inline(doc, label, parent, depth + 1);  // an unsafe link keeps only its words
          }
          i = end + 1;
          continue;
        }
      }
      if ((ch === "h" || ch === "H") && !wordChar(text[i - 1])) {
        const match = BARE_URL.exec(text.slice(i));
        const url = match ? trimUrl(match[0]) : "";
        const href = url ? safeUrl(url) : null;
        if (href) {
          flush();
          const a = link(doc, href);
          a.textContent = url;
          parent.appendChild(a);
          i += url.length;
          continue;
        }
      }
      buffer += ch;
      i += 1;
    }
    flush();
  }

  // --- blocks ---------------------------------------------------------------------------

  function list(doc, lines, start, pattern, ordered) {
    const element = doc.createElement(ordered ? "ol" : "ul");
    const items = [];
    let i = start;
    while (i < lines.length) {
      const match = pattern.exec(lines[i]);
      if (match) {
        if (ordered && items.length === 0 && match[1] !== "1") element.setAttribute("start", match[1]);
        items.push(ordered ? match[2] : match[1]);
      } else if (items.length > 0 && lines[i].trim() !== "" && /^\s+/.test(lines[i]) &&
                 !isBlockStart(lines[i])) {
        items[items.length - 1] += "\n" + lines[i].trim();  // a continuation line
      } else {
        break;
      }
      i += 1;
    }
    for (const text of items) {
      const li = doc.createElement("li");
      inline(doc, text, li, 0);
      element.appendChild(li);
    }
    return [element, i];
  }

  function render(text, doc) {
    doc = doc || root.document;
    const fragment = doc.createDocumentFragment();
    const lines = String(text == null ? "" : text).replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (line.trim() === "") {
        i += 1;
        continue;
      }
      if (FENCE.test(line)) {
        const body = [];
        i += 1;
        while (i < lines.length && !FENCE.test(lines[i])) body.push(lines[i++]);
        i += 1;
        const pre = doc.createElement("pre");
        const code = doc.createElement("code");
        code.textContent = body.join("\n");
        pre.appendChild(code);
        fragment.appendChild(pre);
        continue;
      }
      if (BULLET.test(line) || NUMBERED.test(line)) {
        const ordered = !BULLET.test(line);
        const [element, next] = list(doc, lines, i, ordered ? NUMBERED : BULLET, ordered);
        fragment.appendChild(element);
        i = next;
        continue;
      }
      if (QUOTE.test(line)) {
        const body = [];
        while (i < lines.length && QUOTE.test(lines[i])) body.push(QUOTE.exec(lines[i++])[1]);
        const quote = doc.createElement("blockquote");
        quote.appendChild(render(body.join("\n"), doc));
        fragment.appendChild(quote);
        continue;
      }
      if (HEADING.test(line)) {
        const p = doc.createElement("p");
        const strong = doc.createElement("strong");
        inline(doc, HEADING.exec(line)[1], strong, 1);
        p.appendChild(strong);
        fragment.appendChild(p);
        i += 1;
        continue;
      }
      const body = [line];
      i += 1;
      while (i < lines.length && lines[i].trim() !== "" && !isBlockStart(lines[i])) {
        body.push(lines[i++]);
      }
      const p = doc.createElement("p");
      inline(doc, body.join("\n"), p, 0);
      fragment.appendChild(p);
    }
    return fragment;
  }

  root.HelpdeskMarkdown = { render: render, safeUrl: safeUrl };
})(typeof window !== "undefined" ? window : globalThis);
