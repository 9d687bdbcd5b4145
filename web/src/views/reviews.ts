// Review packages of a module: create one, move it along its status graph (signing with password and meaning
// where the module requires an e-signature), assign reviewers, vote, and see the package's signatures, each
// verifiable against the package as it is now.

import type { ESignature, PackageStatus, ReviewAssignment, ReviewPackage, Vote, VotingSummary } from "../api/types";
import { h, replace } from "../lib/dom";
import { formatTime, shortId } from "../lib/format";
import { busy, button, empty, field, hasRole, loading, moduleCrumbs, type Ctx } from "../ui/common";
import { toast } from "../ui/toast";

/** The package status graph of the contract (the server enforces it; the UI offers only these moves). */
export const MOVES: Record<PackageStatus, PackageStatus[]> = {
  draft: ["open"],
  open: ["in_review", "draft"],
  in_review: ["approved", "rejected", "open"],
  approved: ["closed"],
  rejected: ["draft", "closed"],
  closed: [],
};
const VOTES: Vote[] = ["approved", "rejected", "abstained"];

/** Whether the module's signature_config requires an e-signature for this move. */
export function needsSignature(config: { require_signature_transitions?: string[] } | null | undefined, from: string, to: string): boolean {
  return (config?.require_signature_transitions ?? []).includes(`${from}->${to}`);
}

interface Screen {
  ctx: Ctx;
  moduleId: string;
  signatureConfig: { require_signature_transitions?: string[]; require_four_eyes?: boolean } | null | undefined;
  users: Map<string, string>;
  reload: () => Promise<void>;
}

/** A small form asking for the password again and what the signature means; resolves on submit or cancel. */
export function signDialog(what: string): { element: HTMLElement; result: Promise<{ password: string; meaning: string } | null> } {
  const password = h("input", { type: "password", name: "password", required: true, autocomplete: "current-password" });
  const meaning = h("input", { name: "meaning", required: true, maxlength: 500, value: "Approved" });
  const sign = h("button", { type: "submit", class: "primary" }, "Sign");
  const cancel = h("button", { type: "button" }, "Cancel");
  const form = h(
    "form",
    { class: "inline-form sign-dialog", "aria-label": `Sign: ${what}` },
    h("p", null, h("strong", null, `E-signature: ${what}`), h("br"), h("small", { class: "muted" }, "Your password is checked again; the signature is bound to the package as it is now.")),
    field("Password", password),
    field("Meaning", meaning),
    h("div", { class: "toolbar" }, sign, cancel),
  );
  const result = new Promise<{ password: string; meaning: string } | null>((resolve) => {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!password.value || !meaning.value.trim()) return void toast("Both password and meaning are needed", "error");
      resolve({ password: password.value, meaning: meaning.value.trim() });
    });
    cancel.addEventListener("click", () => resolve(null));
  });
  return { element: form, result };
}

async function move(s: Screen, pkg: ReviewPackage, to: PackageStatus, slot: HTMLElement, trigger: HTMLElement): Promise<void> {
  let signature: { password: string; meaning: string } | null = null;
  if (needsSignature(s.signatureConfig, pkg.status, to)) {
    const dialog = signDialog(`${pkg.name}: ${pkg.status} → ${to}`);
    replace(slot, dialog.element);
    dialog.element.querySelector<HTMLInputElement>("input[name=password]")?.focus();
    signature = await dialog.result;
    replace(slot);
    if (!signature) return;
  }
  const done = await busy(trigger, () => s.ctx.api.transitionPackage(s.moduleId, pkg.id, { status: to, ...(signature ?? {}) }), "Review package");
  if (done) {
    toast(`${pkg.name} is now ${done.status}${signature ? " (signed)" : ""}`, "success");
    await s.reload();
  }
}

function assignmentRow(s: Screen, pkg: ReviewPackage, a: ReviewAssignment): HTMLElement {
  const me = s.ctx.api.session?.user.id;
  const mayVote = a.reviewer_id === me || hasRole(s.ctx, "admin");
  const votes = mayVote && pkg.status === "in_review"
    ? VOTES.map((v) => button(v === "approved" ? "Approve" : v === "rejected" ? "Reject" : "Abstain", async (ev) => {
        if (await busy(ev.currentTarget as HTMLElement, () => s.ctx.api.vote(pkg.id, a.id, v), "Vote")) await s.reload();
      }, { class: "small", "aria-pressed": String(a.status === v) }))
    : [];
  return h(
    "li",
    { class: `assignment vote-${a.status}`, dataset: { assignment: a.id } },
    h("span", null, a.reviewer_id ? s.users.get(a.reviewer_id) ?? shortId(a.reviewer_id) : "anyone"),
    " ",
    h("span", { class: `badge vote-${a.status}` }, a.status),
    a.signed_at ? h("small", { class: "muted" }, ` ${formatTime(a.signed_at)}`) : null,
    " ",
    votes,
  );
}

function signatureRow(s: Screen, sig: ESignature): HTMLElement {
  const verdict = h("span", { class: "verdict", role: "status" });
  const verify = button("Verify", async (ev) => {
    const r = await busy(ev.currentTarget as HTMLElement, () => s.ctx.api.verifySignature(sig.id), "Signature");
    if (!r) return;
    verdict.textContent = !r.valid ? "✗ signature invalid" : r.entity_changed ? "valid; the package changed since" : "✓ valid, package unchanged";
    verdict.className = `verdict ${r.valid ? "ok" : "broken"}`;
  }, { class: "small" });
  return h(
    "li",
    { class: "signature", dataset: { signature: sig.id } },
    h("strong", null, sig.meaning),
    ` by ${sig.signer_name} <${sig.signer_email}> at ${formatTime(sig.created_at)} `,
    h("code", { title: sig.signature_hash }, sig.signature_hash.slice(0, 12) + "…"),
    " ",
    verify,
    " ",
    verdict,
  );
}

async function packageCard(s: Screen, pkg: ReviewPackage, summary: VotingSummary | undefined): Promise<HTMLElement> {
  const [assignments, signatures] = await Promise.all([
    s.ctx.api.listAssignments(pkg.id),
    s.ctx.api.signaturesOf("review_package", pkg.id),
  ]);
  const slot = h("div", { class: "sign-slot" });
  const moves = hasRole(s.ctx, "reviewer")
    ? MOVES[pkg.status].map((to) => {
        const signed = needsSignature(s.signatureConfig, pkg.status, to);
        const b = button(`→ ${to}${signed ? " ✍" : ""}`, (ev) => void move(s, pkg, to, slot, ev.currentTarget as HTMLElement), { class: "small", title: signed ? "needs an e-signature" : `move to ${to}` });
        return b;
      })
    : [];
  const assigned = new Set(assignments.items.map((a) => a.reviewer_id));
  const pick = h("select", { name: "reviewer", "aria-label": `Reviewer for ${pkg.name}` },
    h("option", { value: "" }, "Assign a reviewer…"),
    [...s.users].filter(([id]) => !assigned.has(id)).map(([id, email]) => h("option", { value: id }, email)));
  pick.addEventListener("change", async () => {
    if (!pick.value) return;
    if (await busy(pick, () => s.ctx.api.assignReviewer(pkg.id, pick.value), "Assign")) await s.reload();
  });
  const tally = summary ? `${summary.approved} approved · ${summary.rejected} rejected · ${summary.abstained} abstained · ${summary.pending} pending` : "";
  return h(
    "section",
    { class: `review-package status-${pkg.status}`, dataset: { package: pkg.id } },
    h("h2", null, pkg.name, h("span", { class: `badge status-${pkg.status}` }, pkg.status)),
    pkg.description ? h("p", null, pkg.description) : null,
    h("p", { class: "muted" }, `Created ${formatTime(pkg.created_at)}${pkg.created_by ? ` by ${s.users.get(pkg.created_by) ?? shortId(pkg.created_by)}` : ""}. ${tally}`),
    moves.length ? h("div", { class: "toolbar", role: "group", "aria-label": "Move to" }, moves) : null,
    slot,
    h("h3", null, "Reviewers"),
    assignments.items.length ? h("ul", { class: "assignments" }, assignments.items.map((a) => assignmentRow(s, pkg, a))) : empty("No reviewers yet."),
    hasRole(s.ctx, "editor") && pkg.status !== "closed" ? pick : null,
    h("h3", null, "Signatures"),
    signatures.length ? h("ul", { class: "signatures" }, signatures.map((sig) => signatureRow(s, sig))) : empty("Not signed."),
  );
}

export async function renderReviews(ctx: Ctx, root: HTMLElement, ws: string, p: string, m: string): Promise<void> {
  replace(root, loading());
  const [workspace, project, module, packages, summary, users] = await Promise.all([
    ctx.api.getWorkspace(ws),
    ctx.api.getProject(ws, p),
    ctx.api.getModule(m),
    ctx.api.listReviewPackages(m),
    ctx.api.votingSummary(m),
    ctx.api.listUsers().catch(() => ({ items: [] as { id: string; email: string }[] })),
  ]);
  const s: Screen = {
    ctx, moduleId: m, signatureConfig: module.signature_config,
    users: new Map(users.items.map((u) => [u.id, u.email])),
    reload: () => renderReviews(ctx, root, ws, p, m),
  };
  const cards = await Promise.all(packages.items.map((pkg) => packageCard(s, pkg, summary.find((x) => x.package_id === pkg.id))));
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const description = h("input", { name: "description", autocomplete: "off" });
  const submit = h("button", { type: "submit", class: "primary" }, "Create package");
  const form = h("form", { class: "inline-form create-package" }, h("h2", null, "New review package"), field("Name", name), field("Description", description), submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const made = await busy(submit, () => ctx.api.createReviewPackage(m, { name: name.value.trim(), description: description.value.trim() || null }), "Review package");
    if (made) {
      toast(`Created ${made.name}`, "success");
      await s.reload();
    }
  });
  const signed = module.signature_config?.require_signature_transitions ?? [];
  replace(
    root,
    moduleCrumbs({ ws, p, m }, { workspace: workspace.name, project: project.name, module: module.name }, "Reviews"),
    h("h1", null, `Reviews of ${module.name}`),
    h("p", { class: "lead" }, signed.length
      ? `Moves that need an e-signature here: ${signed.join(", ")}${module.signature_config?.require_four_eyes ? " (four-eyes: not by the package's creator)" : ""}.`
      : "No move of this module needs an e-signature."),
    cards.length ? cards : empty("No review packages yet."),
    hasRole(ctx, "editor") ? form : null,
  );
}
