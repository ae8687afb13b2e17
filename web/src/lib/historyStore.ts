/**
 * Chart panels ask for (runs × one key); the store answers them in batches: every request made
 * in the same tick with the same runs, x axis, stream, resolution and zoom becomes one POST to
 * the history endpoint with all their keys (one server round trip for a screen of panels).
 */
import { history } from "../api/endpoints";
import type { SeriesData } from "./series";

export interface HistoryAsk {
  runs: string[];
  key: string;
  stream: "history" | "system";
  xAxis: string;
  points: number;
  range: [number, number] | null;
}

interface Pending {
  ask: HistoryAsk;
  resolve: (series: SeriesData[]) => void;
  reject: (error: unknown) => void;
}

/** Most keys one request carries (the server's limit is 200 keys and 5000 series). */
const MAX_KEYS = 50;

export class HistoryStore {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly entity: string,
    private readonly project: string,
  ) {}

  load(ask: HistoryAsk): Promise<SeriesData[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ask, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setTimeout(() => this.flush(), 0);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    const groups = new Map<string, Pending[]>();
    for (const p of batch) {
      const { runs, stream, xAxis, points, range } = p.ask;
      const id = JSON.stringify([runs, stream, xAxis, points, range]);
      const list = groups.get(id);
      if (list) list.push(p);
      else groups.set(id, [p]);
    }
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += MAX_KEYS) this.send(group.slice(i, i + MAX_KEYS));
    }
  }

  private send(group: Pending[]): void {
    const first = group[0];
    if (!first) return;
    const { runs, stream, xAxis, points, range } = first.ask;
    const keys = [...new Set(group.map((p) => p.ask.key))];
    const runLimit = Math.max(1, Math.floor(5000 / keys.length));
    history(this.entity, this.project, {
      runs: runs.slice(0, Math.min(runLimit, 1000)),
      keys,
      points,
      x_axis: xAxis,
      stream,
      x_min: range ? range[0] : null,
      x_max: range ? range[1] : null,
    })
      .then((series) => {
        const byKey = new Map<string, SeriesData[]>();
        for (const s of series) {
          const list = byKey.get(s.key);
          if (list) list.push(s);
          else byKey.set(s.key, [s]);
        }
        for (const p of group) p.resolve(byKey.get(p.ask.key) ?? []);
      })
      .catch((error: unknown) => group.forEach((p) => p.reject(error)));
  }
}
