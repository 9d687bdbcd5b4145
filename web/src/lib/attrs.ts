// Typed attribute values: turn form input into the JSON the API validates (§4.5)
// and back, so each data type gets the right control and the right wire type.

import type { AttributeDefinition, AttrValue } from "../api/types";

export class AttrInputError extends Error {}

/** Raw form value → wire value. Empty input means "unset" (null). */
export function coerceAttr(def: AttributeDefinition, raw: string | string[]): AttrValue {
  const type = def.data_type === "boolean" ? "bool" : def.data_type;
  if (Array.isArray(raw)) {
    if (type === "enum" && def.multi_select) return raw.length ? raw : null;
    raw = raw[0] ?? "";
  }
  const text = raw.trim();
  if (text === "") return null;
  switch (type) {
    case "integer": {
      if (!/^[-+]?\d+$/.test(text)) throw new AttrInputError(`${def.name} must be a whole number`);
      return Number.parseInt(text, 10);
    }
    case "float": {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new AttrInputError(`${def.name} must be a number`);
      return n;
    }
    case "bool":
      if (["true", "yes", "1"].includes(text.toLowerCase())) return true;
      if (["false", "no", "0"].includes(text.toLowerCase())) return false;
      throw new AttrInputError(`${def.name} must be yes or no`);
    case "enum":
      return def.multi_select ? [text] : text;
    default:
      return raw; // string, rich_text, user_ref, date: sent as typed
  }
}

/** Wire value → the string(s) a form control shows. */
export function attrToInput(def: AttributeDefinition, value: AttrValue | undefined): string | string[] {
  if (value === undefined || value === null) return def.multi_select ? [] : "";
  if (Array.isArray(value)) return def.multi_select ? value.map(String) : String(value[0] ?? "");
  if (typeof value === "boolean") return value ? "true" : "false";
  if ((def.data_type === "date") && typeof value === "string") return value.slice(0, 10);
  return def.multi_select ? [String(value)] : String(value);
}

/**
 * Merge edited values into the object's attribute map. PATCH `attributes` replaces
 * the whole map, so keys without a definition (unknown to the form) are kept as they were.
 */
export function mergeAttributes(
  original: Record<string, AttrValue> | null,
  edited: Record<string, AttrValue>,
): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = { ...(original ?? {}) };
  for (const [k, v] of Object.entries(edited)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}
