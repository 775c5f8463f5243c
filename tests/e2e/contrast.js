// WCAG 2.1 contrast in the page: success criteria 1.4.3 (text) and 1.4.11 (focus ring).
//
// Evaluated by Playwright as one function of one argument, {mode, ...}:
//   {mode: "ratio", pairs: [[fg, bg], ...]}  the ratios of CSS colours (opaque bg)
//   {mode: "text", root: selector, minPx: n}  every visible text under root that fails
//                                            (and, in "small", those under minPx)
//   {mode: "focus"}                           the focused element's ring, measured
//
// Colours are composited as the browser paints them: an element's background over its
// parent's, each element's opacity applied to its whole subtree (a group), on the white
// canvas. The layers are the ancestors, and the tint Vuetify paints in a box of its own
// inside an ancestor (its "__underlay" and "__overlay": a tonal alert, a hovered button);
// another box painted behind the text from elsewhere in the page is not seen. A background image or gradient
// under the text cannot be reduced to one colour: such text is listed as skipped, with
// the reason, never passed silently.
(arg) => {
  const CANVAS = [255, 255, 255, 1];

  const parse = (css) => {
    const m = /^rgba?\(([^)]*)\)$/.exec(String(css).trim());
    if (m) {
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(parseFloat);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    // a hex colour (the unit pairs), through the browser's own parser
    const probe = document.createElement("span");
    probe.style.color = css;
    document.body.appendChild(probe);
    const out = getComputedStyle(probe).color;
    probe.remove();
    return out === String(css) ? null : parse(out);
  };

  // premultiplied [r, g, b, a]: a over b
  const premul = (c) => [c[0] * c[3], c[1] * c[3], c[2] * c[3], c[3]];
  const over = (a, b) => a.map((v, i) => v + b[i] * (1 - a[3]));
  const scale = (c, k) => c.map((v) => v * k);
  const opaque = (c) => {
    const flat = over(c, premul(CANVAS));
    return [flat[0], flat[1], flat[2]];
  };

  const luminance = (rgb) => {
    const lin = rgb.map((v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = (rgb) =>
    "#" + rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");

  if (arg.mode === "ratio") {
    return arg.pairs.map(([fg, bg]) =>
      ratio(opaque(premul(parse(fg))), opaque(premul(parse(bg)))),
    );
  }

  // The element and its ancestors, outermost first.
  const chain = (el) => {
    const out = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) out.unshift(e);
    return out;
  };
  // What is seen at el with `top` (a premultiplied colour, or null) painted in el.
  const paint = (path, top) => {
    let inner = top ?? [0, 0, 0, 0];
    for (let i = path.length - 1; i >= 0; i--) {
      const style = getComputedStyle(path[i]);
      let own = premul(parse(style.backgroundColor) ?? [0, 0, 0, 0]);
      for (const tint of path[i].children) {
        if (tint !== path[i + 1] && [...tint.classList].some((c) => /__(underlay|overlay)$/.test(c))) {
          const t = getComputedStyle(tint);
          const colour = premul(parse(t.backgroundColor) ?? [0, 0, 0, 0]);
          own = over(scale(colour, parseFloat(t.opacity)), own);
        }
      }
      inner = scale(over(inner, own), parseFloat(style.opacity));
    }
    return opaque(inner);
  };
  const imageUnder = (path) =>
    path.find((e) => getComputedStyle(e).backgroundImage !== "none");
  const name = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
      const cls = [...e.classList].filter((c) => !c.startsWith("v-theme")).slice(0, 2);
      parts.unshift(e.tagName.toLowerCase() + cls.map((c) => "." + c).join(""));
    }
    return parts.join(" > ");
  };

  if (arg.mode === "focus") {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const ring = parse(style.outlineColor);
    const behind = paint(chain(el.parentElement), null);
    return {
      where: name(el),
      style: style.outlineStyle,
      width: parseFloat(style.outlineWidth),
      ring: ring && hex(opaque(premul(ring))),
      behind: hex(behind),
      ratio: ring ? ratio(opaque(premul(ring)), behind) : 0,
    };
  }

  const root = document.querySelector(arg.root ?? "body");
  const inactive =
    "[disabled], [aria-disabled='true'], .v-btn--disabled, .v-input--disabled";
  const seen = new Set();
  const texts = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (node.textContent.trim() && el && !seen.has(el)) {
      seen.add(el);
      texts.push([el, node.textContent.trim()]);
    }
  }
  for (const el of root.querySelectorAll("input, textarea")) {
    if (el.value && el.type !== "hidden" && el.type !== "checkbox" && el.type !== "radio")
      texts.push([el, el.value]);
  }

  const failures = [];
  const skipped = [];
  const small = [];
  const minPx = arg.minPx || 0;
  let checked = 0;
  for (const [el, text] of texts) {
    const box = el.getBoundingClientRect();
    const shown = el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
    if (!shown || box.width * box.height <= 1) continue;
    if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(el.tagName)) continue;
    const label = text.replace(/\s+/g, " ").slice(0, 60);
    if (el.closest(inactive)) {
      skipped.push({ where: name(el), text: label, why: "inactive control (exempt)" });
      continue;
    }
    const path = chain(el);
    const image = imageUnder(path);
    if (image) {
      skipped.push({ where: name(el), text: label, why: `background image on ${name(image)}` });
      continue;
    }
    const style = getComputedStyle(el);
    const colour = parse(style.color);
    const size = parseFloat(style.fontSize);
    const bold = parseFloat(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const need = large ? 3 : 4.5;
    const fg = paint(path, colour && premul(colour));
    const bg = paint(path, null);
    const r = colour ? ratio(fg, bg) : 0;
    checked += 1;
    if (size < minPx) small.push({ where: name(el), text: label, size });
    if (r < need) {
      failures.push({
        where: name(el),
        text: label,
        colour: colour ? hex(fg) : style.color,
        background: hex(bg),
        ratio: Math.round(r * 100) / 100,
        need,
        size: `${size}px${bold ? " bold" : ""}`,
      });
    }
  }
  return { checked, failures, skipped, small };
};
