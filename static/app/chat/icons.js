// Line icons for the chat's buttons, drawn here as SVG so they look the same on every system
// (emoji fonts differ, and some have none). Decorative: every button that shows one also has
// a text label or an aria-label.

const PATHS = {
  bell: ['M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z', 'M10 20a2 2 0 0 0 4 0'],
  search: ['M10.5 4a6.5 6.5 0 1 1 0 13a6.5 6.5 0 0 1 0-13z', 'M15.5 15.5L21 21'],
  settings: ['M4 6h16', 'M4 12h16', 'M4 18h16', 'M9 4v4', 'M15 10v4', 'M7 16v4'],
  attach: ['M20 11l-8.5 8.5a5 5 0 0 1-7-7L13 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L14 7'],
  mic: ['M12 3a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z', 'M5 11a7 7 0 0 0 14 0', 'M12 18v3'],
  smile: ['M12 3a9 9 0 1 1 0 18a9 9 0 0 1 0-18z', 'M8 14a5 5 0 0 0 8 0', 'M9 9.5v.5', 'M15 9.5v.5'],
  reply: ['M4 5h16v11H9l-5 4z'],
  pin: ['M9 3h6l-1 6 4 4H6l4-4z', 'M12 13v8'],
  edit: ['M4 20h4L19 9l-4-4L4 16z', 'M13 7l4 4'],
  trash: ['M4 7h16', 'M9 7V4h6v3', 'M6 7l1 13h10l1-13'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  more: ['M5 12h.01', 'M12 12h.01', 'M19 12h.01'],
  lock: ['M6 11h12v9H6z', 'M8 11V8a4 4 0 0 1 8 0v3'],
  people: ['M9 11a3 3 0 1 0 0-6a3 3 0 0 0 0 6z', 'M3 20a6 6 0 0 1 12 0', 'M16 5a3 3 0 0 1 0 6', 'M18 14a6 6 0 0 1 3 6'],
  plus: ['M12 5v14', 'M5 12h14'],
  back: ['M19 12H5', 'M11 6l-6 6 6 6'],
  file: ['M6 3h8l4 4v14H6z', 'M14 3v4h4'],
  stop: ['M7 7h10v10H7z'],
};

const SVG = 'http://www.w3.org/2000/svg';

/** @param {keyof typeof PATHS} name @returns {SVGSVGElement} */
export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of PATHS[name] || []) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
