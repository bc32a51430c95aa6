// How the compare page writes a param's or metric's value: in the parallel coordinates' ticks and caption and in
// the scatter's hover labels.
import { asNumber } from "./parcoords.js";

/** Four significant digits, like the server's number filter (ui/format.py). */
export function formatNumber(value) {
  if (typeof value !== "number") return String(value);
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  const magnitude = Math.abs(value);
  if (Number.isInteger(value) && magnitude < 1e15) return value.toLocaleString("en-US");
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(3).replace(/\.?0+e/, "e");
  return value.toLocaleString("en-US", { maximumSignificantDigits: 4 });
}

/** The value of `dimension` for the run at `index`, as text ("—" where that run has none). */
export function describe(dimension, index) {
  const value = dimension.values[index];
  if (value === null || value === undefined) return "—";
  const number = asNumber(value);
  return number === null ? String(value) : formatNumber(number);
}
