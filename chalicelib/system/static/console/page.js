// What every console view shares: the page's main area and flash line, links and cells, and a way to draw the
// current page again after an action (the router in console.js registers itself: views never import it).
import { el } from "./common.js";

export const main = document.getElementById("main");
const flash = document.getElementById("flash");
export const enc = encodeURIComponent;

export function say(message) {
  flash.textContent = message;
  setTimeout(() => { if (flash.textContent === message) flash.textContent = ""; }, 4000);
}

export const link = (hash, text) => el("a", { href: hash }, text);
export const cell = (field, value, cls) => el("td", { dataset: { field }, class: cls }, value);

let redrawWith = async () => {};  // console.js sets its router before the first page is drawn

export function setRedraw(draw) {
  redrawWith = draw;
}

export function redraw() {
  return redrawWith();
}
