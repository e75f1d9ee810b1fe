/**
 * @module adapters/consul/catalog/intentions-watch
 * Follows Consul's intentions: a blocking query on `/v1/config/service-intentions` (every entry, as
 * `consul config read` returns them), each entry validated by the bridge's parser, the set compiled
 * by `consulAuthzPolicy` into one ordered IR policy (Consul's precedence and default), and handed to
 * `onChange` — the host puts it into the proxies' rbac config. An entry that fails validation is
 * reported and left out; the others still apply.
 */
import type { AuthzPolicy } from "../../../core/ir/model.ts";
import { consulAuthzPolicy, type Loss } from "../conversion.ts";
import { parseEntry } from "../entries.ts";
import type { IntentionOptions } from "../intentions.ts";
import type { ConsulEntry } from "../schema.ts";
import { startBlockingWatch, type BlockingWatchOptions, type WatchState } from "./blocking-watch.ts";
import type { ConsulClient } from "./client.ts";

export interface IntentionsView {
  policy: AuthzPolicy;
  losses: Loss[];
  /** Entries Consul returned that weft could not read, with why. */
  rejected: { name: string; message: string }[];
  entries: number;
  index: number;
}

const LEGACY = ["LegacyID", "LegacyMeta", "LegacyCreateTime", "LegacyUpdateTime"];

/**
 * An entry as Consul returns it, minus the fields Consul itself fills in for intentions made with the
 * legacy API or `consul intention create` (`Legacy*`): Consul refuses them on write, so the write-side
 * validator would too, but on read they are Consul's bookkeeping, not the user's config.
 */
export function readBack(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null || !Array.isArray((raw as { Sources?: unknown }).Sources)) return raw;
  const e = raw as { Sources: unknown[] };
  return { ...e, Sources: e.Sources.map((s) => (typeof s === "object" && s !== null ? Object.fromEntries(Object.entries(s).filter(([k]) => !LEGACY.includes(k))) : s)) };
}

export interface IntentionsWatch {
  current(): IntentionsView | undefined;
  ready: Promise<void>;
  state(): WatchState;
  stop(): void;
}

export function watchIntentions(client: ConsulClient, onChange: (view: IntentionsView) => void, opts: {
  options?: IntentionOptions | (() => IntentionOptions);
  waitMs?: number;
  watch?: Pick<BlockingWatchOptions<unknown>, "minIntervalMs" | "backoff" | "now" | "random" | "sleep">;
  log?: (l: string) => void;
} = {}): IntentionsWatch {
  let view: IntentionsView | undefined;
  let lastKey = "";
  const w = startBlockingWatch<unknown[]>({
    ...opts.watch,
    name: "config/service-intentions",
    fetch: async (index, signal) => {
      const r = await client.get<unknown[]>("/v1/config/service-intentions", { index, waitMs: opts.waitMs ?? 300_000, signal });
      return { index: r.index, value: r.body };
    },
    onChange: (raw, index) => {
      const list = Array.isArray(raw) ? raw : [];
      const key = JSON.stringify(list.map((e) => ({ ...(e as object), CreateIndex: 0, ModifyIndex: 0 })));
      if (key === lastKey) return;
      lastKey = key;
      const entries: ConsulEntry[] = [];
      const rejected: IntentionsView["rejected"] = [];
      for (const e of list) {
        const { entry, diagnostics } = parseEntry(readBack(e));
        if (entry) entries.push(entry);
        else rejected.push({ name: String((e as { Name?: unknown }).Name), message: diagnostics.map((d) => d.message).join("; ") });
      }
      const options = typeof opts.options === "function" ? opts.options() : (opts.options ?? {});
      const { policy, losses } = consulAuthzPolicy(entries, options);
      view = { policy, losses, rejected, entries: entries.length, index };
      onChange(view);
    },
    onError: (err, n) => {
      if (n === 1) opts.log?.(`consul: intentions: ${(err as Error).message}; keeping the last good policy`);
    },
  });
  return { current: () => view, ready: w.ready, state: w.state, stop: w.stop };
}
