/**
 * Accessibility checks run inside the page: accessible names of form fields,
 * buttons and images, and WCAG 2 contrast of every visible text node. Each
 * returns the offenders, described well enough to find and fix them.
 */
import type { Page } from 'playwright-core';

export interface Offender {
  selector: string;
  problem: string;
}

export interface ContrastOffender extends Offender {
  text: string;
  color: string;
  background: string;
  ratio: number;
  required: number;
  fontSize: string;
  fontWeight: string;
}

/**
 * A short CSS path to `el` (tag, id, test id, classes; four levels), and the
 * accessible name as the checks see it: labels, aria-labelledby, aria-label,
 * title, and for buttons their text or value. Installed on `window` so each
 * check can use them.
 */
function installHelpers(): void {
  const w = window as unknown as Record<string, unknown>;
  if (w.__a11y) return;
  const selectorOf = (start: Element): string => {
    const parts: string[] = [];
    for (
      let el: Element | null = start;
      el && parts.length < 4 && el !== document.body;
      el = el.parentElement
    ) {
      let part = el.tagName.toLowerCase();
      if (el.id) part += `#${el.id}`;
      const testId = el.getAttribute('data-testid');
      if (testId) part += `[data-testid="${testId}"]`;
      const classes =
        typeof el.className === 'string' ? el.className.trim().split(/\s+/).filter(Boolean) : [];
      if (classes.length > 0) part += `.${classes.slice(0, 2).join('.')}`;
      parts.unshift(part);
      if (el.id) break;
    }
    return parts.join(' > ');
  };
  const byIds = (el: Element, attr: string): string =>
    (el.getAttribute(attr) ?? '')
      .split(/\s+/)
      .map((id) => (id ? (document.getElementById(id)?.textContent ?? '') : ''))
      .join(' ')
      .trim();
  const nameOf = (el: Element): string => {
    const labelled = byIds(el, 'aria-labelledby');
    if (labelled) return labelled;
    const aria = el.getAttribute('aria-label')?.trim();
    if (aria) return aria;
    const labels = (el as HTMLInputElement).labels;
    if (labels && labels.length > 0) {
      const text = Array.from(labels)
        .map((l) => l.textContent ?? '')
        .join(' ')
        .trim();
      if (text) return text;
    }
    const tag = el.tagName.toLowerCase();
    if (tag === 'button' || el.getAttribute('role') === 'button' || tag === 'a') {
      // biome-ignore lint/performance/useDomNodeTextContent: the name a user perceives leaves out hidden descendants, as innerText does
      const text = (el as HTMLElement).innerText?.trim() || el.textContent?.trim();
      if (text) return text;
      // An icon button named by its image's alt text or the svg's title.
      const img = el.querySelector('img[alt]:not([alt=""]), svg[aria-label], svg title');
      if (img)
        return img.getAttribute('alt') ?? img.getAttribute('aria-label') ?? img.textContent ?? '';
    }
    if (tag === 'input' && ['submit', 'button', 'reset'].includes((el as HTMLInputElement).type))
      return (el as HTMLInputElement).value.trim();
    return el.getAttribute('title')?.trim() ?? '';
  };
  w.__a11y = { selectorOf, nameOf };
}

type Helpers = { selectorOf(el: Element): string; nameOf(el: Element): string };

/** Form fields (input, select, textarea) without an accessible name. */
export async function unnamedFields(page: Page): Promise<Offender[]> {
  await page.evaluate(installHelpers);
  return page.locator('input:not([type="hidden"]), select, textarea').evaluateAll((els) => {
    const h = (window as unknown as { __a11y: Helpers }).__a11y;
    return els
      .filter((el) => !h.nameOf(el))
      .map((el) => ({
        selector: h.selectorOf(el),
        problem: `<${el.tagName.toLowerCase()}${(el as HTMLInputElement).type ? ` type=${(el as HTMLInputElement).type}` : ''}> has no label, aria-label or aria-labelledby`,
      }));
  });
}

/** Buttons with neither text nor aria-label. */
export async function unnamedButtons(page: Page): Promise<Offender[]> {
  await page.evaluate(installHelpers);
  return page
    .locator(
      'button, [role="button"], input[type="submit"], input[type="button"], input[type="reset"]',
    )
    .evaluateAll((els) => {
      const h = (window as unknown as { __a11y: Helpers }).__a11y;
      return els
        .filter((el) => !h.nameOf(el))
        .map((el) => ({
          selector: h.selectorOf(el),
          problem: 'button without text or aria-label',
        }));
    });
}

/**
 * Images without a text alternative: an `img` needs `alt` (empty for a
 * decorative one); an outermost `svg` needs a role and a name (aria-label,
 * aria-labelledby or a title), unless it is hidden from assistive technology.
 */
export async function unnamedImages(page: Page): Promise<Offender[]> {
  await page.evaluate(installHelpers);
  return page.locator('img, svg, [role="img"]').evaluateAll((els) => {
    const h = (window as unknown as { __a11y: Helpers }).__a11y;
    const out: { selector: string; problem: string }[] = [];
    for (const el of els) {
      if (el.closest('[aria-hidden="true"]')) continue;
      const tag = el.tagName.toLowerCase();
      if (tag === 'img') {
        if (!el.hasAttribute('alt') && !el.getAttribute('aria-label'))
          out.push({ selector: h.selectorOf(el), problem: 'img without alt' });
        continue;
      }
      if (tag === 'svg' && el.parentElement?.closest('svg')) continue; // nested in a drawing: part of it
      const role = el.getAttribute('role');
      if (role === 'presentation' || role === 'none') continue;
      const name =
        el.getAttribute('aria-label')?.trim() ||
        el.getAttribute('aria-labelledby') ||
        (tag === 'svg' ? el.querySelector(':scope > title')?.textContent?.trim() : '');
      if (!role && tag === 'svg')
        out.push({
          selector: h.selectorOf(el),
          problem: `svg without a role (role="img", "group" or "application"), not aria-hidden${name ? '' : ', and without aria-label'}`,
        });
      else if (!name)
        out.push({
          selector: h.selectorOf(el),
          problem: `${tag}${role ? ` role=${role}` : ''} without aria-label, aria-labelledby or title`,
        });
    }
    return out;
  });
}

/**
 * WCAG 2 contrast of every visible text node in `main` (the page's body if it
 * has none): text against the first opaque background found walking up
 * (semi-transparent ones composited on the way), ≥ 4.5, or ≥ 3 for large text
 * (24 px, or 18.66 px bold). Text in an SVG is its `fill` against the shape
 * drawn under it. Disabled controls are exempt, as WCAG exempts them.
 */
export async function lowContrastText(page: Page): Promise<{
  offenders: ContrastOffender[];
  checked: number;
  root: string;
  lowest: { selector: string; text: string; ratio: number; required: number }[];
}> {
  await page.evaluate(installHelpers);
  return page.evaluate(() => {
    const h = (window as unknown as { __a11y: Helpers }).__a11y;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    type RGBA = [number, number, number, number];
    /** Any CSS colour (rgb, hex, oklch, color-mix…) as sRGB 0–255 and alpha 0–1, through the canvas. */
    const rgba = (css: string): RGBA | null => {
      if (!css || css === 'none' || css.startsWith('url(')) return null;
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = '#000';
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r!, g!, b!, a! / 255];
    };
    const over = (top: RGBA, below: RGBA): RGBA => {
      const a = top[3];
      return [
        top[0] * a + below[0] * (1 - a),
        top[1] * a + below[1] * (1 - a),
        top[2] * a + below[2] * (1 - a),
        1,
      ];
    };
    const luminance = ([r, g, b]: RGBA) => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
    };
    const ratioOf = (a: RGBA, b: RGBA) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
      return (hi + 0.05) / (lo + 0.05);
    };
    const show = (c: RGBA) => `rgb(${Math.round(c[0])}, ${Math.round(c[1])}, ${Math.round(c[2])})`;
    const WHITE: RGBA = [255, 255, 255, 1];

    /** The CSS background under `el`: layers composited from the first opaque one down to `el`. */
    const cssBackground = (el: Element | null): { color: RGBA; image: boolean } => {
      const layers: RGBA[] = [];
      let image = false;
      for (let e = el; e; e = e.parentElement) {
        const style = getComputedStyle(e);
        if (style.backgroundImage && style.backgroundImage !== 'none') image = true;
        const c = rgba(style.backgroundColor);
        if (c && c[3] > 0) layers.push(c);
        if (c && c[3] >= 1) break;
      }
      let color = WHITE;
      for (const layer of layers.reverse()) color = over(layer, color);
      return { color, image };
    };
    /** In an SVG: the last filled shape drawn before `textEl` whose box holds the text's centre. */
    const svgBackground = (textEl: Element): RGBA => {
      const box = textEl.getBoundingClientRect();
      const cx = box.left + box.width / 2;
      const cy = box.top + box.height / 2;
      const svg = textEl.closest('svg')!;
      const shapes = Array.from(svg.querySelectorAll('rect, circle, ellipse, path, polygon'));
      let under: RGBA | null = null;
      for (const s of shapes) {
        if (s.compareDocumentPosition(textEl) & Node.DOCUMENT_POSITION_PRECEDING) continue; // drawn after the text
        const r = s.getBoundingClientRect();
        if (cx < r.left || cx > r.right || cy < r.top || cy > r.bottom) continue;
        const fill = rgba(getComputedStyle(s).fill);
        if (fill && fill[3] > 0) under = over(fill, under ?? cssBackground(svg).color);
      }
      return under ?? cssBackground(svg).color;
    };

    const root = document.querySelector('main') ?? document.body;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const offenders: ContrastOffender[] = [];
    const seen = new Set<string>();
    const all: { selector: string; text: string; ratio: number; required: number }[] = [];
    let checked = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.replace(/\s+/g, ' ').trim() ?? '';
      const el = node.parentElement;
      if (!text || !el) continue;
      if (el.closest('script, style, noscript, template, select, option, title')) continue;
      if (el.closest(':disabled, [aria-disabled="true"]')) continue;
      if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const rect = range.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const style = getComputedStyle(el);
      let opacity = 1;
      for (let e: Element | null = el; e; e = e.parentElement)
        opacity *= Number(getComputedStyle(e).opacity);
      const inSvg = el instanceof SVGElement;
      const fg = rgba(inSvg ? style.fill : style.color);
      if (!fg) continue;
      let bg: RGBA;
      if (inSvg) bg = svgBackground(el);
      else {
        const found = cssBackground(el);
        if (found.image) continue; // a gradient or picture: no single background colour to measure against
        bg = found.color;
      }
      const text1 = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
      const ratio = ratioOf(text1, bg);
      const size = parseFloat(style.fontSize);
      const bold = Number(style.fontWeight) >= 700;
      const large = size >= 24 || (bold && size >= 18.66);
      const required = large ? 3 : 4.5;
      checked++;
      const selector = h.selectorOf(el);
      all.push({
        selector,
        text: text.slice(0, 40),
        ratio: Math.round(ratio * 100) / 100,
        required,
      });
      if (ratio + 1e-9 >= required) continue;
      const key = `${selector}|${show(text1)}|${show(bg)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      offenders.push({
        selector,
        problem: `contrast ${ratio.toFixed(2)} < ${required}`,
        text: text.slice(0, 60),
        color: show(text1),
        background: show(bg),
        ratio: Math.round(ratio * 100) / 100,
        required,
        fontSize: style.fontSize,
        fontWeight: style.fontWeight,
      });
    }
    // The closest calls, relative to what each needs: for reports.
    const lowest = all.sort((a, b) => a.ratio / a.required - b.ratio / b.required).slice(0, 5);
    return {
      offenders,
      checked,
      lowest,
      root: root === document.body ? 'body (no <main>)' : 'main',
    };
  });
}

/** The accessible name of the focused element, and its tag. */
export async function focused(page: Page): Promise<{ name: string; tag: string }> {
  await page.evaluate(installHelpers);
  return page.evaluate(() => {
    const h = (window as unknown as { __a11y: Helpers }).__a11y;
    const el = document.activeElement;
    return el && el !== document.body
      ? { name: h.nameOf(el).replace(/\s+/g, ' ').trim(), tag: el.tagName.toLowerCase() }
      : { name: '', tag: 'body' };
  });
}
